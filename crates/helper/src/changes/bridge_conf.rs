//! qemu-bridge-helper's access list with the `allow` line the helper adds:
//! the edit itself, byte for byte. Apart from the other changes because it
//! is text editing (every line the file had stays as it was).

use vmnet_doctor_helper_api::IfaceName;

/// The line the helper writes above each `allow` line it adds to
/// `/etc/qemu/bridge.conf`.
pub const BRIDGE_CONF_NOTE: &str = "\
# Added by VM Network Doctor (vmnet-doctor-helper). Reverting the fix in VM
# Network Doctor restores this file as it was before.
";

/// bridge.conf with `allow BRIDGE` appended under [`BRIDGE_CONF_NOTE`], on
/// a line of its own; every byte the file had stays.
pub fn bridge_conf_with_allow(previous: Option<&str>, bridge: &IfaceName) -> String {
    let mut edited = previous.unwrap_or_default().to_owned();
    if !edited.is_empty() && !edited.ends_with('\n') {
        edited.push('\n');
    }
    edited.push_str(BRIDGE_CONF_NOTE);
    edited.push_str(&format!("allow {bridge}\n"));
    edited
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use vmnet_doctor_core::host::Fact;

    use super::*;
    use crate::changes::tests::{TestResult, name};
    use crate::changes::{Change, execute};
    use crate::exec::Ran;
    use crate::host::Host;

    /// The list Fedora's QEMU packages install (qemu.spec's `bridge.conf`
    /// source): the default network's bridge only.
    const FEDORA_BRIDGE_CONF: &str = "allow virbr0\n";

    /// The list as qemu-bridge-helper reads it (crates/host's parser).
    fn allows(etc: &Path, bridge: &str) -> Result<bool, String> {
        match vmnet_doctor_host::qemu_bridge::read_bridge_acl(etc) {
            Fact::Known(acl) => Ok(acl.allows(bridge)),
            Fact::Unknown(why) => Err(why),
        }
    }

    #[test]
    fn the_line_is_appended_and_nothing_else_moves() -> TestResult {
        let br0 = name("br0")?;
        let edited = bridge_conf_with_allow(Some(FEDORA_BRIDGE_CONF), &br0);
        assert_eq!(edited, format!("{FEDORA_BRIDGE_CONF}{BRIDGE_CONF_NOTE}allow br0\n"));
        // No final newline: the line still starts a line of its own.
        let edited = bridge_conf_with_allow(Some("include /etc/qemu/mine.conf"), &br0);
        assert_eq!(edited, format!("include /etc/qemu/mine.conf\n{BRIDGE_CONF_NOTE}allow br0\n"));
        assert_eq!(bridge_conf_with_allow(None, &br0), format!("{BRIDGE_CONF_NOTE}allow br0\n"));
        Ok(())
    }

    #[test]
    fn qemu_bridge_helper_allows_the_bridge_until_the_revert() -> TestResult {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        fs::create_dir_all(dir.path().join("etc/qemu"))?;
        // What the helper's tmpfiles.d entry creates on a host without one.
        let created = "# qemu-bridge-helper's access list\n";
        fs::write(host.qemu_bridge_conf(), created)?;
        let ran = Ran::default();
        let change = Change::QemuBridgeAllow { bridge: name("br0")?, previous: Some(created.to_owned()) };
        assert!(!allows(&host.etc, "br0")?);
        assert!(execute(&change.step(&host)?, &host, &ran).succeeded());
        assert!(allows(&host.etc, "br0")? && !allows(&host.etc, "virbr0")?);
        let undo = change.undo_step(&host, &ran, 0)?.ok_or("no undo step")?;
        assert!(execute(&undo, &host, &ran).succeeded());
        assert_eq!(fs::read_to_string(host.qemu_bridge_conf())?, created);
        assert!(!allows(&host.etc, "br0")?);
        assert_eq!(change.undo_step(&host, &ran, 0)?, None, "restored: nothing left to undo");
        // Edited by the admin after the fix: theirs, it stays.
        assert!(execute(&change.step(&host)?, &host, &ran).succeeded());
        let mut theirs = fs::read_to_string(host.qemu_bridge_conf())?;
        theirs.push_str("allow br1\n");
        fs::write(host.qemu_bridge_conf(), &theirs)?;
        assert_eq!(change.undo_step(&host, &ran, 0)?, None, "the admin's own file stays");
        Ok(())
    }
}
