//! `monitor block|unblock|blocks` talking to the running monitor: one JSON request line and
//! one JSON reply line over a Unix socket only root can open. The server side reads requests
//! off the socket and hands them to the live loop, which owns the `Enforcer`.

use std::{
    io::{self, BufRead, BufReader, Write},
    os::unix::{fs::PermissionsExt, net::UnixStream},
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt},
    net::UnixListener,
    sync::{mpsc, oneshot},
};

use super::{
    Enforcer,
    decisions::{Decision, Target},
};

/// Longest request line read.
const MAX_REQUEST: usize = 4096;
/// A client that does not send its request in this time is dropped.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests waiting for the live loop.
const QUEUE: usize = 16;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ControlRequest {
    Block {
        target: Target,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_secs: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Unblock {
        target: Target,
    },
    List,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ControlReply {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `on` or `dry-run`.
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

impl ControlReply {
    fn failed(error: String, mode: &str) -> Self {
        Self {
            ok: false,
            error: Some(error),
            mode: mode.to_owned(),
            decisions: Vec::new(),
        }
    }
}

/// Carries out one request on the enforcer.
pub fn serve(enforcer: &mut Enforcer, request: ControlRequest, now_ns: u64) -> ControlReply {
    enforcer.count_control_request();
    let mode = enforcer.mode().name();
    let result = match request {
        ControlRequest::Block {
            target,
            ttl_secs,
            reason,
        } => enforcer
            .operator_block(target, ttl_secs, reason, now_ns)
            .map(|d| vec![d]),
        ControlRequest::Unblock { target } => {
            enforcer.operator_unblock(&target, now_ns).map(|d| vec![d])
        }
        ControlRequest::List => Ok(enforcer.decisions()),
    };
    match result {
        Ok(decisions) => ControlReply {
            ok: true,
            error: None,
            mode: mode.to_owned(),
            decisions,
        },
        Err(e) => ControlReply::failed(e, mode),
    }
}

/// One request from a client, with where its reply goes.
pub type Pending = (ControlRequest, oneshot::Sender<ControlReply>);

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("another monitor already answers on {0}")]
    InUse(PathBuf),
    #[error("cannot listen on {path}: {source}")]
    Listen { path: PathBuf, source: io::Error },
    #[error(
        "no monitor answers on {path} ({source}): is `monitor run --enforce on|dry-run` running, with the same --control-socket?"
    )]
    NotRunning { path: PathBuf, source: io::Error },
    #[error("talking to the monitor on {path}: {source}")]
    Talk { path: PathBuf, source: io::Error },
    #[error("the monitor's reply is not understood: {0}")]
    Reply(String),
}

/// The listening socket; removed when dropped.
pub struct ControlSocket {
    path: PathBuf,
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds `path` (root-only) and spawns the accept loop; requests arrive on the receiver.
pub fn listen(path: &Path) -> Result<(ControlSocket, mpsc::Receiver<Pending>), ControlError> {
    let listen_err = |source| ControlError::Listen {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(listen_err)?;
    }
    if path.exists() {
        // A socket left by a monitor that died is taken over; a live one is not.
        if UnixStream::connect(path).is_ok() {
            return Err(ControlError::InUse(path.to_owned()));
        }
        std::fs::remove_file(path).map_err(listen_err)?;
    }
    let listener = UnixListener::bind(path).map_err(listen_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(listen_err)?;
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(accept_loop(listener, tx));
    Ok((
        ControlSocket {
            path: path.to_owned(),
        },
        rx,
    ))
}

async fn accept_loop(listener: UnixListener, tx: mpsc::Sender<Pending>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            if let Err(err) = answer(stream, tx).await {
                log::debug!("control client: {err}");
            }
        });
    }
}

async fn answer(stream: tokio::net::UnixStream, tx: mpsc::Sender<Pending>) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(read).take(MAX_REQUEST as u64);
    tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request"))??;
    let reply = match serde_json::from_str::<ControlRequest>(line.trim_end()) {
        Ok(request) => {
            let (reply_tx, reply_rx) = oneshot::channel();
            if tx.send((request, reply_tx)).await.is_err() {
                ControlReply::failed("the monitor is stopping".into(), "")
            } else {
                reply_rx
                    .await
                    .unwrap_or_else(|_| ControlReply::failed("the monitor is stopping".into(), ""))
            }
        }
        Err(e) => ControlReply::failed(format!("bad request: {e}"), ""),
    };
    let mut text = serde_json::to_vec(&reply).map_err(io::Error::other)?;
    text.push(b'\n');
    write.write_all(&text).await
}

/// The client side (`monitor block` ...): sends `request`, waits for the reply.
pub fn request(path: &Path, request: &ControlRequest) -> Result<ControlReply, ControlError> {
    let talk = |source| ControlError::Talk {
        path: path.to_owned(),
        source,
    };
    let mut stream = UnixStream::connect(path).map_err(|source| ControlError::NotRunning {
        path: path.to_owned(),
        source,
    })?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(talk)?;
    let mut text = serde_json::to_vec(request).map_err(|e| ControlError::Reply(e.to_string()))?;
    text.push(b'\n');
    stream.write_all(&text).map_err(talk)?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).map_err(talk)?;
    serde_json::from_str(&line).map_err(|e| ControlError::Reply(e.to_string()))
}

/// The reply as lines for a person: one per decision (`verb` empty: the list).
pub fn describe(reply: &ControlReply, verb: &str, now_ns: u64) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if verb.is_empty() {
        let _ = writeln!(
            out,
            "{} block(s) in force (enforcement {})",
            reply.decisions.len(),
            reply.mode
        );
    }
    for d in &reply.decisions {
        let left = d.expires_unix_ns.saturating_sub(now_ns) / 1_000_000_000;
        let prefix = if verb.is_empty() {
            String::new()
        } else {
            format!("{verb} ")
        };
        let _ = write!(
            out,
            "{prefix}{}  id {}  expires {} (in {left}s)  {}: {}",
            d.target,
            d.id,
            crate::clock::rfc3339(d.expires_unix_ns),
            d.cause.origin.name(),
            d.cause.reason
        );
        if let Some(a) = &d.cause.alert_id {
            let _ = write!(out, "  alert {a}");
        }
        out.push('\n');
    }
    out
}
