//! What detection learned, kept across restarts in `--state-dir`: the baselines and the actors
//! it knows (their addresses and user agents). One versioned JSON file, replaced atomically;
//! a file that cannot be read back is one warning and a fresh start, never a refusal to run.

use std::{
    fs, io,
    net::IpAddr,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

use super::learned::Saved;
use crate::session::actor::ActorKind;

/// Bumped when the file's meaning changes; other versions are ignored (with a warning).
pub const STATE_VERSION: u32 = 1;
pub const STATE_FILE: &str = "detection-state.json";

/// One actor known from earlier runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownActor {
    /// The actor id (16 hex digits, as in events).
    pub id: String,
    pub kind: ActorKind,
    pub first_seen_unix_ns: u64,
    pub last_seen_unix_ns: u64,
    /// Client addresses it used (at most 4).
    pub ips: Vec<IpAddr>,
    /// Hashes of the user agents it sent (at most 4).
    pub agents: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateFile {
    pub version: u32,
    /// Fingerprint of the key actor ids were made with: known actors only carry over when the
    /// key is the same (`--redaction-key-file`); baselines always do.
    pub key_fingerprint: String,
    pub saved_unix_ns: u64,
    pub baselines: Vec<Saved>,
    pub actors: Vec<KnownActor>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not a detection state file: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path} has state version {found}, this monitor writes version {STATE_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// The saved state, None when there is none yet.
pub fn load(dir: &Path) -> Result<Option<StateFile>, StateError> {
    let path = path_in(dir);
    let text = match fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StateError::Read { path, source }),
    };
    #[derive(Deserialize)]
    struct Version {
        version: u32,
    }
    let version: Version = serde_json::from_slice(&text).map_err(|e| StateError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if version.version != STATE_VERSION {
        return Err(StateError::Version {
            path,
            found: version.version,
        });
    }
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| StateError::Corrupt {
            path,
            message: e.to_string(),
        })
}

/// Writes `state` to `dir` in one rename, so a reader (or a crash) never sees half a file.
pub fn save(dir: &Path, state: &StateFile) -> Result<(), StateError> {
    let path = path_in(dir);
    let write = || -> io::Result<()> {
        fs::create_dir_all(dir)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let text = serde_json::to_vec(state).map_err(io::Error::other)?;
        fs::write(&tmp, text)?;
        fs::rename(&tmp, &path)
    };
    write().map_err(|source| StateError::Write { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> StateFile {
        StateFile {
            version: STATE_VERSION,
            key_fingerprint: "00".into(),
            saved_unix_ns: 5,
            baselines: Vec::new(),
            actors: vec![KnownActor {
                id: "0123456789abcdef".into(),
                kind: ActorKind::Jwt,
                first_seen_unix_ns: 1,
                last_seen_unix_ns: 2,
                ips: vec!["10.0.0.1".parse().unwrap()],
                agents: vec![9],
            }],
        }
    }

    #[test]
    fn round_trip_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        save(dir.path(), &state()).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(state()));
    }

    #[test]
    fn corrupt_and_foreign_versions_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(path_in(dir.path()), b"{\"version\":1,\"baselines\":").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(STATE_FILE) && err.contains("not a detection state"),
            "{err}"
        );
        fs::write(path_in(dir.path()), b"{\"version\":99}").unwrap();
        let err = load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("version 99"), "{err}");
    }
}
