//! Command line: `monitor run` and `monitor check`. Parsing only; `main` wires the rest.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "monitor",
    version,
    about = "Kernel-level API traffic monitor (eBPF)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Capture TCP traffic on this host and write JSON lines.
    Run(Box<RunArgs>),
    /// Report what this kernel offers and whether the monitor can run here.
    Check,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// One JSON line per connection open, connection close, data chunk and gap.
    #[arg(long)]
    pub raw: bool,
    /// Write JSON lines to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Stop by itself after SECS seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// Capture only these processes (thread-group ids); repeatable.
    #[arg(long = "pid", value_name = "PID")]
    pub pids: Vec<u32>,
    /// Capture only connections with this local or remote port; repeatable.
    #[arg(long = "port", value_name = "PORT")]
    pub ports: Vec<u16>,
    /// Capture only processes in this cgroup v2 directory; repeatable.
    #[arg(long = "cgroup", value_name = "DIR")]
    pub cgroups: Vec<PathBuf>,
    /// Ring buffer size (bytes; K, M, G suffixes), a power of two.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub ring_buffer_size: Option<u32>,
    /// Payload bytes per data event (at most 16K).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub chunk_size: Option<u32>,
    /// Payload bytes captured per syscall; the rest is counted as truncated.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_call_bytes: Option<u32>,
    /// Seconds between stats events (0: only the final one).
    #[arg(long, value_name = "SECS")]
    pub stats_interval: Option<u64>,
    /// Connections tracked at once.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Close connections idle for this many seconds.
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<u64>,
    /// How long a hole in a stream waits for late bytes, milliseconds.
    #[arg(long, value_name = "MS")]
    pub reorder_timeout_ms: Option<u64>,
}

impl RunArgs {
    /// The configuration these flags describe, on top of the defaults.
    pub fn to_config(&self) -> Config {
        let mut c = Config::default();
        c.output.raw = true; // the only output mode for now; `--raw` is accepted for forward use
        c.output.path = self.output.clone();
        c.filters.pids = self.pids.clone();
        c.filters.ports = self.ports.clone();
        c.filters.cgroups = self.cgroups.clone();
        if let Some(v) = self.ring_buffer_size {
            c.capture.ring_buffer_bytes = v;
        }
        if let Some(v) = self.chunk_size {
            c.capture.chunk_bytes = v;
        }
        if let Some(v) = self.max_call_bytes {
            c.capture.max_call_bytes = v;
        }
        if let Some(v) = self.stats_interval {
            c.output.stats_interval_secs = v;
        }
        if let Some(v) = self.max_connections {
            c.streams.max_connections = v;
        }
        if let Some(v) = self.idle_timeout {
            c.streams.idle_timeout_secs = v;
        }
        if let Some(v) = self.reorder_timeout_ms {
            c.streams.reorder_timeout_ms = v;
        }
        c
    }
}

/// Parses a byte size: a number with an optional K, M or G suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u32, String> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    };
    let n: u64 = digits.parse().map_err(|_| format!("'{s}' is not a size"))?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("'{s}' has an unknown unit (use K, M or G)")),
    };
    n.checked_mul(mult)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format!("'{s}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("8G").is_err());
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn flags_fill_config() {
        let cli = Cli::try_parse_from([
            "monitor",
            "run",
            "--raw",
            "--port",
            "80",
            "--port",
            "443",
            "--pid",
            "7",
            "--ring-buffer-size",
            "8M",
            "--duration",
            "3",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        let c = args.to_config();
        assert_eq!(c.filters.ports, vec![80, 443]);
        assert_eq!(c.filters.pids, vec![7]);
        assert_eq!(c.capture.ring_buffer_bytes, 8 << 20);
        assert_eq!(args.duration, Some(3));
    }
}
