//! Command line: `monitor run`, `record`, `replay`, `check`, `schema`, `status` and `openapi`. Parsing only; `main`
//! wires the rest.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::{
    config::Config,
    detection::{
        category::{Category, Severity},
        rules::{Rules, RulesError},
    },
    enforce::{decisions::Target, policy::Mode},
};

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
    /// Capture TCP traffic on this host and write one JSON line per HTTP transaction.
    Run(Box<RunArgs>),
    /// Capture raw events into a recording file, for `monitor replay`.
    Record(Box<RecordArgs>),
    /// Run a recording (or a `--raw` JSON-lines file) through the pipeline; no root needed.
    Replay(Box<ReplayArgs>),
    /// Report what this kernel offers and whether the monitor can run here.
    Check,
    /// Print the JSON Schema of the output lines (published in docs/schema/).
    Schema,
    /// Show what a running monitor covers: per process, the TLS library found and whether it
    /// is hooked; TLS traffic not covered and why.
    Status(StatusArgs),
    /// Print the discovered API as OpenAPI 3.1 (from a running monitor, or from a replay), or
    /// with --diff, what differs from a published spec.
    Openapi(Box<OpenapiArgs>),
    /// Print the effective detection rules (defaults, the rules file and flags) as TOML.
    Rules(RulesArgs),
    /// Block an address, a range or an actor now (a running monitor with --enforce).
    Block(BlockArgs),
    /// Lift a block (a running monitor with --enforce).
    Unblock(UnblockArgs),
    /// List the blocks in force: target, reason, alert, expiry.
    Blocks(BlocksArgs),
}

/// Mitigation (`--enforce`); see README, Enforcement.
#[derive(Debug, Args)]
pub struct EnforceArgs {
    /// Block what the rules' [enforcement] policy names: off (default), dry-run (write what
    /// would be blocked), on.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = Mode::Off)]
    pub enforce: Mode,
    /// Never block this address or range, whatever it does; repeatable (adds to
    /// enforcement.allow).
    #[arg(long = "allow", value_name = "CIDR", value_parser = parse_net)]
    pub allow: Vec<ipnet::IpNet>,
    /// The Unix socket `monitor block|unblock|blocks` talk to.
    #[arg(long, value_name = "PATH", default_value = crate::enforce::DEFAULT_CONTROL_SOCKET)]
    pub control_socket: PathBuf,
    /// Protect only the sockets of this cgroup v2 directory (default: the hierarchy's root,
    /// every socket of the host).
    #[arg(long, value_name = "DIR")]
    pub enforce_cgroup: Option<PathBuf>,
}

impl EnforceArgs {
    fn apply(&self, c: &mut Config) {
        c.enforcement.mode = self.enforce;
        c.enforcement.control_socket = self.control_socket.clone();
        c.enforcement.cgroup = self.enforce_cgroup.clone();
        for net in &self.allow {
            if !c.detection.rules.enforcement.allow.contains(net) {
                c.detection.rules.enforcement.allow.push(*net);
            }
        }
    }
}

/// What a block names: an address or range, or an actor id.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// An address (10.0.0.7) or a range (10.0.0.0/24, 2001:db8::/64).
    #[arg(long, value_name = "CIDR", value_parser = parse_net)]
    pub ip: Option<ipnet::IpNet>,
    /// An actor id as `http` and `alert` events name it (16 hex digits).
    #[arg(long, value_name = "ID", value_parser = parse_actor)]
    pub actor: Option<String>,
}

impl TargetArgs {
    pub fn target(&self) -> Target {
        match (&self.ip, &self.actor) {
            (Some(net), _) => Target::Ip(net.trunc()),
            (None, Some(id)) => Target::Actor(id.clone()),
            // clap's group makes one of them required.
            (None, None) => Target::Actor(String::new()),
        }
    }
}

fn parse_actor(s: &str) -> Result<String, String> {
    if s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "`{s}` is not an actor id (16 hex digits, as in `http` events' actor.id)"
        ))
    }
}

#[derive(Debug, Args)]
pub struct BlockArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How long (30s, 10m, 2h; default: the policy's enforcement.ttl_secs).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub ttl: Option<u64>,
    /// Why, for the `block` event and `monitor blocks`.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    #[arg(long, value_name = "PATH", default_value = crate::enforce::DEFAULT_CONTROL_SOCKET)]
    pub control_socket: PathBuf,
}

#[derive(Debug, Args)]
pub struct UnblockArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[arg(long, value_name = "PATH", default_value = crate::enforce::DEFAULT_CONTROL_SOCKET)]
    pub control_socket: PathBuf,
}

#[derive(Debug, Args)]
pub struct BlocksArgs {
    /// Print the decisions as JSON.
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_name = "PATH", default_value = crate::enforce::DEFAULT_CONTROL_SOCKET)]
    pub control_socket: PathBuf,
}

/// Seconds from `30`, `30s`, `10m`, `2h`, `1d`.
fn parse_duration(s: &str) -> Result<u64, String> {
    let secs = match s.parse::<u64>() {
        Ok(n) => n,
        Err(_) => humantime::parse_duration(s)
            .map_err(|e| format!("`{s}` is not a duration (30s, 10m, 2h): {e}"))?
            .as_secs(),
    };
    if secs == 0 {
        return Err("the TTL must be at least one second".into());
    }
    Ok(secs)
}

/// Abuse detection (live and in replay).
#[derive(Debug, Args)]
pub struct DetectionArgs {
    /// Do not judge transactions for abuse (no `alert` events).
    #[arg(long)]
    pub no_detection: bool,
    /// A TOML rules file: thresholds of the detectors over their defaults (`monitor rules`
    /// prints them all).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Keep baselines and known actors here across restarts.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Raise no alerts of this category (e.g. bot_cadence); repeatable.
    #[arg(long = "disable-category", value_name = "CATEGORY", value_parser = parse_category)]
    pub disabled: Vec<Category>,
    /// Raise no alerts below this severity (low, medium, high, critical).
    #[arg(long, value_name = "LEVEL", value_parser = parse_severity)]
    pub min_severity: Option<Severity>,
}

impl DetectionArgs {
    /// The rules file's tables over the defaults, then the flags.
    pub fn rules(&self) -> Result<Rules, RulesError> {
        let mut rules = match &self.rules {
            Some(path) => Rules::load(path)?,
            None => Rules::default(),
        };
        for c in &self.disabled {
            if !rules.alerts.disabled.contains(c) {
                rules.alerts.disabled.push(*c);
            }
        }
        if let Some(s) = self.min_severity {
            rules.alerts.min_severity = s;
        }
        Ok(rules)
    }

    fn apply(&self, c: &mut Config) -> Result<(), RulesError> {
        c.detection.enabled = !self.no_detection && c.discovery.enabled;
        c.detection.state_dir = self.state_dir.clone();
        c.detection.rules = self.rules()?;
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub detection: DetectionArgs,
}

fn parse_category(s: &str) -> Result<Category, String> {
    Category::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
        format!("`{s}` is not a category (one of {})", names.join(", "))
    })
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .into_iter()
    .find(|v| v.name() == s)
    .ok_or_else(|| format!("`{s}` is not a severity (low, medium, high or critical)"))
}

/// Where discovered OpenAPI documents are kept by default.
pub const DEFAULT_OPENAPI_FILE: &str = "/run/monitor/openapi.json";

#[derive(Debug, Args)]
pub struct OpenapiArgs {
    /// Build the inventory from this recording (or `--raw` JSON lines) instead of reading the
    /// running monitor's file.
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// The document a running monitor keeps (its --openapi-file).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_OPENAPI_FILE)]
    pub file: PathBuf,
    /// Only services whose label (`host (address:port)`) contains this text.
    #[arg(long, value_name = "TEXT")]
    pub service: Option<String>,
    /// Compare with this OpenAPI 3.x spec (YAML or JSON): print shadow endpoints (seen, not in
    /// the spec) and unused ones (in the spec, never seen) as JSON.
    #[arg(long, value_name = "SPEC")]
    pub diff: Option<PathBuf>,
    #[command(flatten)]
    pub discovery: DiscoveryArgs,
}

/// Sessions and discovery (live and in replay).
#[derive(Debug, Args)]
pub struct DiscoveryArgs {
    /// Do not track actors, sessions and endpoints (http events then carry none).
    #[arg(long)]
    pub no_discovery: bool,
    /// A proxy (address or CIDR) whose X-Forwarded-For / Forwarded headers are believed;
    /// repeatable.
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = parse_net)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A session ends after this many seconds without a transaction.
    #[arg(long, value_name = "SECS")]
    pub session_idle_timeout: Option<u64>,
    /// Seconds between reports of a lasting session (0: only when it ends).
    #[arg(long, value_name = "SECS")]
    pub session_report_interval: Option<u64>,
    /// Distinct words at one path position from which it may become a parameter.
    #[arg(long, value_name = "N")]
    pub param_threshold: Option<usize>,
}

impl DiscoveryArgs {
    fn apply(&self, c: &mut Config) {
        c.discovery.enabled = !self.no_discovery;
        c.actors.trusted_proxies = self.trusted_proxies.clone();
        if let Some(v) = self.session_idle_timeout {
            c.sessions.idle_timeout_secs = v;
        }
        if let Some(v) = self.session_report_interval {
            c.sessions.report_interval_secs = v;
        }
        if let Some(v) = self.param_threshold {
            c.discovery.param_threshold = v;
        }
    }
}

impl OpenapiArgs {
    pub fn to_config(&self) -> Config {
        let mut c = Config::default();
        self.discovery.apply(&mut c);
        c.discovery.enabled = true;
        // Only the inventory is wanted.
        c.detection.enabled = false;
        c
    }
}

/// An address (`10.0.0.1`) or a CIDR range (`10.0.0.0/8`).
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    if let Ok(net) = s.parse::<ipnet::IpNet>() {
        return Ok(net);
    }
    s.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| format!("`{s}` is not an IP address or CIDR range"))
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The status file the running monitor writes (its --status-file).
    #[arg(long, value_name = "FILE", default_value = crate::tls::status::DEFAULT_STATUS_FILE)]
    pub status_file: PathBuf,
    /// Print the status document as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub capture: CaptureArgs,
    #[command(flatten)]
    pub streams: StreamArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub discovery: DiscoveryArgs,
    #[command(flatten)]
    pub detection: DetectionArgs,
    #[command(flatten)]
    pub enforce: EnforceArgs,
    /// Where to keep the discovered API as OpenAPI 3.1, for `monitor openapi`.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_OPENAPI_FILE)]
    pub openapi_file: PathBuf,
    /// Also record the raw capture events to FILE (see `monitor replay`).
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// The recording file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A recording (`monitor record`) or a JSON-lines file written with `--raw`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub streams: StreamArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub discovery: DiscoveryArgs,
    #[command(flatten)]
    pub detection: DetectionArgs,
    /// `dry-run`: write the `block` events enforcement would make on this traffic.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = Mode::Off)]
    pub enforce: Mode,
}

/// What the kernel captures.
#[derive(Debug, Args)]
pub struct CaptureArgs {
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
    /// Do not hook TLS libraries (encrypted traffic is then only reported, not decoded).
    #[arg(long)]
    pub no_tls: bool,
    /// Where to keep the coverage picture that `monitor status` reads.
    #[arg(long, value_name = "FILE", default_value = crate::tls::status::DEFAULT_STATUS_FILE)]
    pub status_file: PathBuf,
}

/// How streams are reassembled (live and in replay).
#[derive(Debug, Args)]
pub struct StreamArgs {
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

/// What is written, and how.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write raw events (conn_open, data, gap, conn_close) instead of HTTP transactions.
    #[arg(long)]
    pub raw: bool,
    /// Write JSON lines to FILE instead of standard output ("-" names standard output).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Seconds between stats events (0: only the final one).
    #[arg(long, value_name = "SECS")]
    pub stats_interval: Option<u64>,
    /// Body bytes kept per HTTP message (K, M suffixes).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_body_size: Option<u32>,
    /// Seconds a request waits for its response before it is written without one.
    #[arg(long, value_name = "SECS")]
    pub response_timeout: Option<u64>,
    /// Show secrets (Authorization, cookies, API keys, password fields) instead of masking them.
    #[arg(long)]
    pub no_redact: bool,
    /// Also mask this header; repeatable.
    #[arg(long = "redact-header", value_name = "NAME")]
    pub redact_headers: Vec<String>,
    /// Also mask this query parameter; repeatable.
    #[arg(long = "redact-query-param", value_name = "NAME")]
    pub redact_query_params: Vec<String>,
    /// Also mask this JSON or form field; repeatable.
    #[arg(long = "redact-body-field", value_name = "NAME")]
    pub redact_body_fields: Vec<String>,
    /// Key for the fingerprints of masked secrets (a file of at least 16 bytes); without it a
    /// random key per run, so fingerprints compare only within one run.
    #[arg(long, value_name = "FILE")]
    pub redaction_key_file: Option<PathBuf>,
}

impl CaptureArgs {
    fn apply(&self, c: &mut Config) {
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
        c.tls.enabled = !self.no_tls;
        c.tls.status_file = Some(self.status_file.clone());
    }
}

impl StreamArgs {
    fn apply(&self, c: &mut Config) {
        if let Some(v) = self.max_connections {
            c.streams.max_connections = v;
        }
        if let Some(v) = self.idle_timeout {
            c.streams.idle_timeout_secs = v;
        }
        if let Some(v) = self.reorder_timeout_ms {
            c.streams.reorder_timeout_ms = v;
        }
    }
}

impl OutputArgs {
    fn apply(&self, c: &mut Config) {
        c.output.raw = self.raw;
        // "-" is standard output, as for most Unix tools, not a file named "-".
        c.output.path = self.output.clone().filter(|p| p.as_os_str() != "-");
        if let Some(v) = self.stats_interval {
            c.output.stats_interval_secs = v;
        }
        if let Some(v) = self.max_body_size {
            c.http.max_body_bytes = v as usize;
        }
        if let Some(v) = self.response_timeout {
            c.http.response_timeout_secs = v;
        }
        let r = &mut c.redaction;
        r.enabled = !self.no_redact;
        r.headers.extend(self.redact_headers.iter().cloned());
        r.query_params
            .extend(self.redact_query_params.iter().cloned());
        r.body_fields
            .extend(self.redact_body_fields.iter().cloned());
    }
}

impl RunArgs {
    /// The configuration these flags (and the rules file) describe, on top of the defaults.
    pub fn to_config(&self) -> Result<Config, RulesError> {
        let mut c = Config::default();
        self.capture.apply(&mut c);
        self.streams.apply(&mut c);
        self.output.apply(&mut c);
        self.discovery.apply(&mut c);
        self.detection.apply(&mut c)?;
        self.enforce.apply(&mut c);
        c.discovery.openapi_file = Some(self.openapi_file.clone());
        Ok(c)
    }
}

impl RecordArgs {
    pub fn to_config(&self) -> Config {
        let mut c = Config::default();
        self.capture.apply(&mut c);
        // A recording keeps the raw capture: detection runs when it is replayed.
        c.detection.enabled = false;
        c
    }
}

impl ReplayArgs {
    pub fn to_config(&self) -> Result<Config, RulesError> {
        let mut c = Config::default();
        self.streams.apply(&mut c);
        self.output.apply(&mut c);
        self.discovery.apply(&mut c);
        self.detection.apply(&mut c)?;
        c.enforcement.mode = self.enforce;
        Ok(c)
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
    fn detection_flags_fill_the_rules() {
        let cli = Cli::try_parse_from([
            "monitor",
            "replay",
            "f.rec",
            "--disable-category",
            "bot_cadence",
            "--min-severity",
            "medium",
            "--state-dir",
            "/tmp/s",
        ])
        .unwrap();
        let Command::Replay(args) = cli.command else {
            panic!("not replay")
        };
        let c = args.to_config().unwrap();
        assert!(!c.detection.rules.enabled(Category::BotCadence));
        assert_eq!(c.detection.rules.alerts.min_severity, Severity::Medium);
        assert_eq!(c.detection.state_dir, Some(PathBuf::from("/tmp/s")));
        for bad in [
            ["monitor", "replay", "f", "--disable-category", "nope"],
            ["monitor", "replay", "f", "--min-severity", "urgent"],
        ] {
            let err = Cli::try_parse_from(bad).unwrap_err().to_string();
            assert!(err.contains("is not a"), "{err}");
        }
        let cli = Cli::try_parse_from(["monitor", "replay", "f", "--no-discovery"]).unwrap();
        let Command::Replay(args) = cli.command else {
            panic!("not replay")
        };
        assert!(
            !args.to_config().unwrap().detection.enabled,
            "needs discovery"
        );
    }

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
            "--no-redact",
            "--redact-header",
            "x-secret-thing",
        ])
        .unwrap();
        let Command::Run(args) = cli.command else {
            panic!("not run")
        };
        let c = args.to_config().unwrap();
        assert_eq!(c.filters.ports, vec![80, 443]);
        assert_eq!(c.filters.pids, vec![7]);
        assert_eq!(c.capture.ring_buffer_bytes, 8 << 20);
        assert!(c.output.raw);
        assert!(!c.redaction.enabled);
        assert!(c.redaction.headers.iter().any(|h| h == "x-secret-thing"));
        assert_eq!(args.capture.duration, Some(3));

        let cli = Cli::try_parse_from(["monitor", "replay", "f.rec", "--output", "o"]).unwrap();
        let Command::Replay(args) = cli.command else {
            panic!("not replay")
        };
        let c = args.to_config().unwrap();
        assert!(!c.output.raw && c.redaction.enabled);
        assert!(c.detection.enabled && c.detection.state_dir.is_none());
        assert_eq!(c.output.path.as_deref(), Some(std::path::Path::new("o")));

        let cli = Cli::try_parse_from(["monitor", "replay", "f.rec", "--output", "-"]).unwrap();
        let Command::Replay(args) = cli.command else {
            panic!("not replay")
        };
        assert_eq!(args.to_config().unwrap().output.path, None, "- is stdout");
    }
}
