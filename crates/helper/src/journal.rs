//! The transaction journal: one JSON file per applied fix under
//! `/var/lib/vmnet-doctor-helper/transactions`, readable by root only, so
//! that `Revert` undoes exactly what the helper did.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use vmnet_doctor_helper_api::{FixKind, FixWire};

use crate::atomic_file::{self, NewFile};
use crate::changes::Change;
use crate::host;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Written before the first step runs: lists every planned change,
    /// some of which may not have happened (the helper stopped midway).
    Applying,
    Applied,
    /// A rollback or revert left some changes in place.
    Incomplete,
    Reverted,
}

impl State {
    /// As the journal writes it, and `TransactionStates` tells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applying => "applying",
            Self::Applied => "applied",
            Self::Incomplete => "incomplete",
            Self::Reverted => "reverted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub fix: FixWire,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub state: State,
    pub changes: Vec<Change>,
}

/// Transaction ids: `KIND-SECONDS-NANOS-COUNTER`, e.g.
/// `ufw-allow-bridge-1767225600-123456789-0`. The kind comes first so the
/// polkit action of a `Revert` is known before anything is read.
pub fn new_id(kind: FixKind) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{}-{:09}-{count}", kind.as_str(), now.as_secs(), now.subsec_nanos())
}

/// The fix kind of a well-formed transaction id; `None` for anything else
/// (so no id can name another file).
pub fn kind_of_id(id: &str) -> Option<FixKind> {
    if id.len() > 80 {
        return None;
    }
    FixKind::ALL.into_iter().find(|kind| {
        id.strip_prefix(kind.as_str()).and_then(|rest| rest.strip_prefix('-')).is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('-').collect();
            parts.len() == 3
                && parts.iter().all(|part| {
                    !part.is_empty() && part.len() <= 20 && part.bytes().all(|b| b.is_ascii_digit())
                })
        })
    })
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|since| since.as_secs()).unwrap_or_default()
}

fn path_of(dir: &Path, id: &str) -> Result<PathBuf, String> {
    kind_of_id(id)
        .map(|_| dir.join(format!("{id}.json")))
        .ok_or_else(|| format!("{id:?} is not a transaction id"))
}

/// Writes the record atomically (temporary file, then rename), creating
/// the directory with mode 0700.
pub fn save(dir: &Path, record: &Record) -> Result<(), String> {
    let path = path_of(dir, &record.id)?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
    let json =
        serde_json::to_vec_pretty(record).map_err(|error| format!("cannot encode the journal: {error}"))?;
    atomic_file::write(&path, &json, NewFile { mode: 0o600 })
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

/// Why a record could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    NotFound(String),
    Unreadable(String),
}

pub fn load(dir: &Path, id: &str) -> Result<Record, LoadError> {
    let path = path_of(dir, id).map_err(LoadError::NotFound)?;
    let text = match host::read_bounded(&path, 1024 * 1024) {
        Ok(text) => text,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(LoadError::NotFound(format!("no transaction {id}")));
        }
        Err(error) => return Err(LoadError::Unreadable(format!("cannot read {}: {error}", path.display()))),
    };
    let record: Record = serde_json::from_str(&text)
        .map_err(|error| LoadError::Unreadable(format!("{} is damaged: {error}", path.display())))?;
    // The file name decides the polkit action that was checked.
    if record.id != id || kind_of_id(id).map(FixKind::as_str) != Some(record.fix.kind.as_str()) {
        return Err(LoadError::Unreadable(format!("{} does not belong to transaction {id}", path.display())));
    }
    Ok(record)
}

pub fn remove(dir: &Path, id: &str) -> Result<(), String> {
    let path = path_of(dir, id)?;
    atomic_file::remove(&path).map_err(|error| format!("cannot remove {}: {error}", path.display()))
}

/// Every readable record, oldest first.
pub fn list(dir: &Path) -> Vec<Record> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut records: Vec<Record> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
        .filter_map(|id| load(dir, &id).ok())
        .collect();
    records.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    records
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use vmnet_doctor_helper_api::{FixRequest, IfaceName};

    use super::*;
    use crate::changes::UfwRuleKind;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn ids_carry_their_kind_and_nothing_else_passes() {
        let id = new_id(FixKind::UfwAllowBridge);
        assert_eq!(kind_of_id(&id), Some(FixKind::UfwAllowBridge), "{id}");
        assert_ne!(new_id(FixKind::UfwAllowBridge), id);
        for bad in [
            "",
            "ufw-allow-bridge",
            "ufw-allow-bridge-1-2",
            "ufw-allow-bridge-1-2-3-4",
            "ufw-allow-bridge-1-2-x",
            "ufw-allow-bridge-1-2-3/../../etc",
            "../ufw-allow-bridge-1-2-3",
            "rm-1-2-3",
            "ufw-allow-bridge--1-2-3",
        ] {
            assert_eq!(kind_of_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn records_round_trip_privately() -> TestResult {
        let dir = tempfile::tempdir()?;
        let journal = dir.path().join("transactions");
        let fix =
            FixRequest::UfwAllowBridge { bridge: IfaceName::new("virbr0")?, uplink: IfaceName::new("eth0")? };
        let record = Record {
            id: new_id(fix.kind()),
            fix: fix.to_wire(),
            created: now(),
            state: State::Applied,
            changes: vec![Change::UfwRule {
                rule: UfwRuleKind::AllowIn,
                bridge: IfaceName::new("virbr0")?,
                uplink: IfaceName::new("eth0")?,
            }],
        };
        save(&journal, &record)?;
        assert_eq!(load(&journal, &record.id), Ok(record.clone()));
        assert_eq!(fs::metadata(&journal)?.permissions().mode() & 0o777, 0o700);
        assert_eq!(list(&journal), vec![record.clone()]);
        assert!(matches!(load(&journal, "ufw-allow-bridge-1-2-3"), Err(LoadError::NotFound(_))));
        // A record under another kind's id is refused.
        let renamed = journal.join("enable-ipv4-forwarding-1-2-3.json");
        fs::copy(journal.join(format!("{}.json", record.id)), &renamed)?;
        assert!(matches!(load(&journal, "enable-ipv4-forwarding-1-2-3"), Err(LoadError::Unreadable(_))));
        remove(&journal, &record.id)?;
        assert!(matches!(load(&journal, &record.id), Err(LoadError::NotFound(_))));
        Ok(())
    }
}
