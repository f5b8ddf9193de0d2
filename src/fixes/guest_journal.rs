//! What undoing a fix made inside a guest needs, kept on this machine: the
//! guest keeps no record of its own, and the helper journals only host
//! changes. One small JSON file per applied guest fix in
//! `$XDG_STATE_HOME/vmnet-doctor/guest-transactions/`, named by its
//! transaction id (`guest-<unix time>-<kind>`), which `vmnet-doctor revert`
//! takes like the helper's ids.

use std::io;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use vmnet_doctor_libvirt::{
    ChangedDefinition, DISABLE_IPV6_CONTENTS, DISABLE_IPV6_PATH, FORCE_IPV4_CONTENTS, FORCE_IPV4_PATH,
    FixReport, LibvirtFix,
};

/// Every guest transaction id starts with this.
pub const PREFIX: &str = "guest-";

/// One applied guest fix, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestTransaction {
    pub id: String,
    /// The libvirt connection the VM is on.
    pub uri: String,
    pub vm: String,
    /// The fix's kind, as in `check --json` (`disable-guest-ipv6`, …).
    pub kind: String,
    /// The guest file as it was before (`None`: it did not exist).
    pub previous: Option<String>,
    pub reverted: bool,
}

impl GuestTransaction {
    /// The fix that undoes it.
    pub fn revert_fix(&self) -> Option<LibvirtFix> {
        let vm = self.vm.clone();
        let previous = self.previous.clone();
        match self.kind.as_str() {
            "disable-guest-ipv6" => Some(LibvirtFix::RevertDisableGuestIpv6 { vm, previous }),
            "force-apt-ipv4" => Some(LibvirtFix::RevertForceAptIpv4 { vm, previous }),
            "create-guest-dhcp-profile" => Some(LibvirtFix::RemoveGuestDhcpProfile { vm }),
            _ => None,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "uri": self.uri,
            "vm": self.vm,
            "kind": self.kind,
            "previous": self.previous,
            "reverted": self.reverted,
        })
    }

    fn from_json(value: &Value) -> Option<Self> {
        let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            id: text("id")?,
            uri: text("uri")?,
            vm: text("vm")?,
            kind: text("kind")?,
            previous: text("previous"),
            reverted: value.get("reverted").and_then(Value::as_bool).unwrap_or(false),
        })
    }
}

fn directory() -> io::Result<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|dir| !dir.is_empty()) {
            Some(home) => PathBuf::from(home).join(".local/state"),
            None => return Err(io::Error::other("neither XDG_STATE_HOME nor HOME is set")),
        },
    };
    Ok(base.join("vmnet-doctor/guest-transactions"))
}

/// Ids are made here; anything else (a path, `..`) is refused.
fn is_valid_id(id: &str) -> bool {
    id.starts_with(PREFIX) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The kind, the guest file it changes and that file's text after the fix.
fn kind_of(fix: &LibvirtFix) -> Option<(&'static str, Option<(&'static str, &'static str)>)> {
    match fix {
        LibvirtFix::DisableGuestIpv6 { .. } => {
            Some(("disable-guest-ipv6", Some((DISABLE_IPV6_PATH, DISABLE_IPV6_CONTENTS))))
        }
        LibvirtFix::ForceAptIpv4 { .. } => {
            Some(("force-apt-ipv4", Some((FORCE_IPV4_PATH, FORCE_IPV4_CONTENTS))))
        }
        LibvirtFix::CreateGuestDhcpProfile { .. } => Some(("create-guest-dhcp-profile", None)),
        _ => None,
    }
}

/// Records an applied guest fix; `Ok(None)` when there is nothing to undo
/// (it changed nothing, or it is not a fix made inside a guest).
pub fn record(uri: &str, fix: &LibvirtFix, report: &FixReport) -> io::Result<Option<String>> {
    let (Some((kind, file)), Some(vm)) = (kind_of(fix), fix.vm()) else {
        return Ok(None);
    };
    if report.done.is_empty() {
        return Ok(None);
    }
    // The file's text before the fix; when the fix did not write it, it
    // already held the fix's own text. Empty counts as absent.
    let previous = file.and_then(|(path, contents)| {
        let change = report.changes.iter().find(|change| {
            matches!(&change.definition, ChangedDefinition::GuestFile { path: changed, .. } if changed == path)
        });
        match change {
            Some(change) => Some(change.before.clone()).filter(|before| !before.is_empty()),
            None => Some(contents.to_owned()),
        }
    });
    let directory = directory()?;
    std::fs::create_dir_all(&directory)?;
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs());
    // Two fixes of one kind within a second get distinct ids.
    for attempt in 0..100u32 {
        let id = if attempt == 0 {
            format!("{PREFIX}{seconds}-{kind}")
        } else {
            format!("{PREFIX}{seconds}-{kind}-{attempt}")
        };
        let transaction = GuestTransaction {
            id: id.clone(),
            uri: uri.to_owned(),
            vm: vm.to_owned(),
            kind: kind.to_owned(),
            previous: previous.clone(),
            reverted: false,
        };
        let path = directory.join(format!("{id}.json"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => {
                serde_json::to_writer_pretty(file, &transaction.to_json())?;
                return Ok(Some(id));
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
    }
    Err(io::Error::other("no free transaction id"))
}

/// The recorded transaction `id`; `Ok(None)` when there is none.
pub fn load(id: &str) -> io::Result<Option<GuestTransaction>> {
    if !is_valid_id(id) {
        return Ok(None);
    }
    let path = directory()?.join(format!("{id}.json"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let value: Value = serde_json::from_str(&text).map_err(io::Error::other)?;
    GuestTransaction::from_json(&value)
        .map(Some)
        .ok_or_else(|| io::Error::other(format!("{}: not a guest transaction", path.display())))
}

/// Marks `transaction` as reverted, so a second revert does nothing.
pub fn mark_reverted(transaction: &GuestTransaction) -> io::Result<()> {
    let path = directory()?.join(format!("{}.json", transaction.id));
    let reverted = GuestTransaction { reverted: true, ..transaction.clone() };
    std::fs::write(path, serde_json::to_vec_pretty(&reverted.to_json()).map_err(io::Error::other)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_made_here_name_files() {
        assert!(is_valid_id("guest-1700000000-force-apt-ipv4"));
        assert!(!is_valid_id("guest-../../etc/passwd"));
        assert!(!is_valid_id("1700000000-ufw-allow-bridge"));
    }

    #[test]
    fn a_transaction_reads_back_as_written() {
        let transaction = GuestTransaction {
            id: "guest-1-disable-guest-ipv6".into(),
            uri: "qemu:///system".into(),
            vm: "debian13".into(),
            kind: "disable-guest-ipv6".into(),
            previous: None,
            reverted: false,
        };
        assert_eq!(GuestTransaction::from_json(&transaction.to_json()), Some(transaction.clone()));
        assert_eq!(
            transaction.revert_fix(),
            Some(LibvirtFix::RevertDisableGuestIpv6 { vm: "debian13".into(), previous: None })
        );
    }
}
