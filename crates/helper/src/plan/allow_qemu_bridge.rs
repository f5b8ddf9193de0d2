//! Planning the allow-qemu-bridge fix: on a per-user libvirt connection
//! (`qemu:///session`) QEMU runs as the user and cannot plug a tap into a
//! host bridge itself; qemu-bridge-helper does it, for the bridges its
//! access list (`/etc/qemu/bridge.conf` and what it includes) allows. One
//! `allow BRIDGE` line lets every user's VMs join that bridge.

use vmnet_doctor_core::host::Fact;
use vmnet_doctor_helper_api::IfaceName;

use super::{PlanError, Planned, check_plain_file, with_steps};
use crate::changes::{self, Change};
use crate::host::{self, Host};

pub(super) fn plan_allow_qemu_bridge(host: &Host, bridge: &IfaceName) -> Result<Planned, PlanError> {
    // "allow all" is qemu-bridge-helper's word for every bridge: a bridge
    // called "all" cannot be named in the list.
    if bridge.as_str() == "all" {
        return Err(PlanError::HostCheck(
            "a bridge called “all” cannot be allowed alone: “allow all” in /etc/qemu/bridge.conf allows every bridge"
                .to_owned(),
        ));
    }
    host.check_host_bridge(bridge).map_err(PlanError::HostCheck)?;
    let path = host.qemu_bridge_conf();
    let acl = match vmnet_doctor_host::qemu_bridge::read_bridge_acl(&host.etc) {
        Fact::Known(acl) => acl,
        Fact::Unknown(why) => return Err(PlanError::Failed(why)),
    };
    let denied: Vec<String> = acl.denials(bridge.as_str()).map(|name| format!("“deny {name}”")).collect();
    if !denied.is_empty() {
        return Err(PlanError::HostCheck(format!(
            "qemu-bridge-helper's list ({} or a file it includes) has {}, which wins over any allow line: an \
             administrator denied it on purpose, and the helper does not override that. Remove that line by hand \
             if {bridge} should be allowed",
            path.display(),
            denied.join(", ")
        )));
    }
    if acl.allows(bridge.as_str()) {
        return Ok(Planned {
            summary: format!("{} already allows {bridge}.", path.display()),
            changes: Vec::new(),
        });
    }
    check_plain_file(&path, &format!("add “allow {bridge}” by hand"))?;
    let previous = host::read_optional(&path, changes::FILE_LIMIT).map_err(PlanError::Failed)?;
    let summary = format!(
        "Adds “allow {bridge}” to {}, qemu-bridge-helper's access list: the VMs that any user of this computer \
         runs on their own libvirt connection (qemu:///session) may then put their network cards on {bridge}. \
         Every other line of the file stays as it is. Start the VM again afterwards. Reverting restores the file \
         exactly as it was.",
        path.display()
    );
    with_steps(host, summary, vec![Change::QemuBridgeAllow { bridge: bridge.clone(), previous }])
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn name(text: &str) -> Result<IfaceName, Box<dyn std::error::Error>> {
        Ok(IfaceName::new(text)?)
    }

    fn host_with(
        files: &[(&str, &str)],
        bridges: &[&str],
    ) -> Result<(tempfile::TempDir, Host), std::io::Error> {
        let dir = tempfile::tempdir()?;
        for bridge in bridges {
            fs::create_dir_all(dir.path().join("sys/class/net").join(bridge).join("bridge"))?;
        }
        fs::create_dir_all(dir.path().join("sys/class/net/eth0"))?;
        for (path, text) in files {
            let path = dir.path().join(path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(path, text)?;
        }
        let host = Host::under(dir.path());
        Ok((dir, host))
    }

    #[test]
    fn a_bridge_the_list_lacks_gets_its_line() -> TestResult {
        let (_dir, host) = host_with(&[("etc/qemu/bridge.conf", "allow virbr0\n")], &["br0", "virbr0"])?;
        let planned = plan_allow_qemu_bridge(&host, &name("br0")?)?;
        assert_eq!(
            planned.changes.iter().map(|(_, change)| change.clone()).collect::<Vec<_>>(),
            [Change::QemuBridgeAllow { bridge: name("br0")?, previous: Some("allow virbr0\n".to_owned()) }]
        );
        assert!(planned.summary.contains("qemu:///session"), "{}", planned.summary);
        // Already allowed: nothing to do.
        assert!(plan_allow_qemu_bridge(&host, &name("virbr0")?)?.changes.is_empty());
        // No file at all (Debian's QEMU ships none): the helper writes one.
        let (_dir, bare) = host_with(&[], &["br0"])?;
        let planned = plan_allow_qemu_bridge(&bare, &name("br0")?)?;
        assert_eq!(
            planned.changes.iter().map(|(_, change)| change.clone()).collect::<Vec<_>>(),
            [Change::QemuBridgeAllow { bridge: name("br0")?, previous: None }]
        );
        Ok(())
    }

    #[test]
    fn refuses_what_is_no_bridge_a_deny_and_all() -> TestResult {
        let (_dir, host) = host_with(
            &[
                ("etc/qemu/bridge.conf", "allow virbr0\ninclude /etc/qemu/local.conf\n"),
                ("etc/qemu/local.conf", "deny br1\n"),
            ],
            &["br0", "br1", "all"],
        )?;
        for (bridge, why) in [
            ("eth0", "not a bridge"),
            ("nope0", "not a bridge"),
            ("br1", "“deny br1”"),
            ("all", "every bridge"),
        ] {
            let Err(PlanError::HostCheck(message)) = plan_allow_qemu_bridge(&host, &name(bridge)?) else {
                return Err(format!("{bridge} was planned").into());
            };
            assert!(message.contains(why), "{bridge}: {message}");
        }
        fs::write(host.etc.join("qemu/local.conf"), "deny all\n")?;
        assert!(plan_allow_qemu_bridge(&host, &name("br0")?).is_err());
        Ok(())
    }

    #[test]
    fn a_linked_list_is_not_edited() -> TestResult {
        let (dir, host) = host_with(&[("elsewhere.conf", "allow virbr0\n")], &["br0"])?;
        fs::create_dir_all(dir.path().join("etc/qemu"))?;
        std::os::unix::fs::symlink(dir.path().join("elsewhere.conf"), host.qemu_bridge_conf())?;
        let Err(PlanError::HostCheck(message)) = plan_allow_qemu_bridge(&host, &name("br0")?) else {
            return Err("a symbolic link was planned".into());
        };
        assert!(message.contains("not a regular file"), "{message}");
        Ok(())
    }
}
