//! The agent's one typed configuration. The CLI fills it; defaults are written here once and
//! documented in the README.

use std::path::PathBuf;

use monitor_common::config::{MAX_CHUNK, MAX_STEPS};
use serde::{Deserialize, Serialize};

pub use crate::{
    detection::rules::DetectionConfig,
    discovery::inventory::DiscoveryConfig,
    session::{actor::ActorConfig, tracker::SessionConfig},
    transaction::redact::RedactionConfig,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub capture: CaptureConfig,
    pub streams: StreamConfig,
    pub output: OutputConfig,
    pub filters: Filters,
    pub http: HttpConfig,
    pub redaction: RedactionConfig,
    pub tls: TlsConfig,
    pub discovery: DiscoveryConfig,
    pub actors: ActorConfig,
    pub sessions: SessionConfig,
    pub detection: DetectionConfig,
    pub enforcement: crate::enforce::EnforceConfig,
}

/// TLS plaintext capture through uprobes on TLS libraries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// Find and hook TLS libraries (OpenSSL, BoringSSL, GnuTLS, Go crypto/tls).
    pub enabled: bool,
    /// Where the coverage picture (`monitor status`) is kept; none: not written.
    pub status_file: Option<PathBuf>,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            status_file: Some(PathBuf::from(crate::tls::status::DEFAULT_STATUS_FILE)),
        }
    }
}

/// Kernel-side capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptureConfig {
    /// Size of the BPF ring buffer, bytes: a power of two, at least one page.
    pub ring_buffer_bytes: u32,
    /// Payload bytes per data event, 1..=16384.
    pub chunk_bytes: u32,
    /// Payload bytes captured per syscall; the rest of the call is counted as truncated.
    pub max_call_bytes: u32,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self {
            ring_buffer_bytes: 32 * 1024 * 1024,
            chunk_bytes: MAX_CHUNK,
            max_call_bytes: 1024 * 1024,
        }
    }
}

/// Userspace stream reassembly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamConfig {
    /// Connections tracked at once; the least recently active one is evicted beyond this.
    pub max_connections: usize,
    /// Out-of-order bytes buffered per connection direction before the hole is declared lost.
    pub reorder_window_bytes: usize,
    /// Out-of-order bytes buffered across all connections.
    pub max_buffered_bytes: usize,
    /// How long a hole in a stream may wait for late bytes, milliseconds.
    pub reorder_timeout_ms: u64,
    /// A connection without events for this long is closed (reason `idle`), seconds.
    pub idle_timeout_secs: u64,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            max_connections: 16_384,
            reorder_window_bytes: 4 * 1024 * 1024,
            max_buffered_bytes: 256 * 1024 * 1024,
            reorder_timeout_ms: 1_000,
            idle_timeout_secs: 300,
        }
    }
}

/// HTTP/1 parsing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Longest message head (start line and fields) accepted; longer is flagged `header_too_large`.
    pub max_head_bytes: usize,
    /// Body bytes kept per message; the size is always counted in full.
    pub max_body_bytes: usize,
    /// Body bytes held across all transactions in progress; beyond it, bodies are cut and flagged.
    pub max_buffered_body_bytes: usize,
    /// A request without a response for this long is emitted with reason `response_timeout`.
    pub response_timeout_secs: u64,
    /// Requests waiting for a response on one connection (pipelining depth).
    pub max_pipeline: usize,
    /// Decoded (gzip, deflate, br) body bytes shown per message.
    pub max_decoded_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_head_bytes: 64 * 1024,
            max_body_bytes: 64 * 1024,
            max_buffered_body_bytes: 256 * 1024 * 1024,
            response_timeout_secs: 60,
            max_pipeline: 64,
            max_decoded_bytes: 256 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    /// Emit connection and data-chunk events instead of HTTP transactions.
    pub raw: bool,
    /// Where JSON lines go; standard output when absent.
    pub path: Option<PathBuf>,
    /// Seconds between `stats` events; 0 disables the periodic ones (a final one is still written).
    pub stats_interval_secs: u64,
    /// Printable preview bytes in each data event.
    pub preview_bytes: usize,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            raw: false,
            path: None,
            stats_interval_secs: 10,
            preview_bytes: 96,
        }
    }
}

/// Which traffic is captured. Empty lists mean "all". Pid and cgroup filters apply in the
/// kernel; the port filter applies in the kernel when the connection's addresses are known there,
/// and in userspace otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Filters {
    pub pids: Vec<u32>,
    pub ports: Vec<u16>,
    /// cgroup v2 directories (e.g. /sys/fs/cgroup/unified/system.slice/nginx.service).
    pub cgroups: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("ring buffer size {0} is not a power of two of at least 4096 bytes")]
    RingBufferSize(u32),
    #[error("chunk size {0} is outside 1..={MAX_CHUNK} bytes")]
    ChunkSize(u32),
    #[error(
        "max bytes per call {max} must be between the chunk size {chunk} and {limit} (chunk size x {steps})"
    )]
    MaxCallBytes {
        max: u32,
        chunk: u32,
        limit: u64,
        steps: u32,
    },
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    #[error("parameter threshold {0} must be at least 2")]
    ParamThreshold(usize),
    #[error("{0}")]
    Rules(String),
}

/// Half the capture loop's steps are kept for loading iovecs, so a call can always be walked to
/// its cap when its buffers are not tiny.
pub const CALL_STEPS_FOR_CHUNKS: u32 = MAX_STEPS / 2;

impl Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let c = &self.capture;
        if c.ring_buffer_bytes < 4096 || !c.ring_buffer_bytes.is_power_of_two() {
            return Err(ConfigError::RingBufferSize(c.ring_buffer_bytes));
        }
        if c.chunk_bytes == 0 || c.chunk_bytes > MAX_CHUNK {
            return Err(ConfigError::ChunkSize(c.chunk_bytes));
        }
        let limit = c.chunk_bytes as u64 * CALL_STEPS_FOR_CHUNKS as u64;
        if c.max_call_bytes < c.chunk_bytes || c.max_call_bytes as u64 > limit {
            return Err(ConfigError::MaxCallBytes {
                max: c.max_call_bytes,
                chunk: c.chunk_bytes,
                limit,
                steps: CALL_STEPS_FOR_CHUNKS,
            });
        }
        let s = &self.streams;
        if s.max_connections == 0 {
            return Err(ConfigError::Zero("max connections"));
        }
        if s.reorder_window_bytes == 0 {
            return Err(ConfigError::Zero("reorder window"));
        }
        if s.idle_timeout_secs == 0 {
            return Err(ConfigError::Zero("idle timeout"));
        }
        if self.sessions.idle_timeout_secs == 0 {
            return Err(ConfigError::Zero("session idle timeout"));
        }
        if self.sessions.max_actors == 0 {
            return Err(ConfigError::Zero("max actors"));
        }
        if self.discovery.param_threshold < 2 {
            return Err(ConfigError::ParamThreshold(self.discovery.param_threshold));
        }
        self.detection
            .rules
            .validate()
            .map_err(|e| ConfigError::Rules(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_bad_sizes() {
        let mut c = Config::default();
        c.capture.ring_buffer_bytes = 5000;
        assert_eq!(c.validate(), Err(ConfigError::RingBufferSize(5000)));
        let mut c = Config::default();
        c.capture.chunk_bytes = 0;
        assert_eq!(c.validate(), Err(ConfigError::ChunkSize(0)));
        let mut c = Config::default();
        c.capture.chunk_bytes = 1024;
        c.capture.max_call_bytes = 1024 * 1024;
        assert!(matches!(
            c.validate(),
            Err(ConfigError::MaxCallBytes { .. })
        ));
    }
}
