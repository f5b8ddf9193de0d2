//! Whether IPv4 forwarding, which a fix turned on, may be turned off again
//! when the fix is reverted.
//!
//! libvirt turns forwarding on whenever it starts a NAT, routed or open
//! network, and Docker whenever its daemon starts; neither turns it off
//! again. So when one of them started after the helper's change, the
//! forwarding that is on now is also theirs, and turning it off would cut
//! their networks off: the helper leaves it on (its sysctl file still goes).
//! Read from libvirt's status files and Docker's PID file, whose times are
//! those starts (a status file is also rewritten when libvirt updates the
//! network: then forwarding stays on, the safe side).

use crate::host::{self, Host};

/// Who set IPv4 forwarding on again at or after `applied` (seconds since
/// the epoch), if anyone; `None`: only the helper did, it may go back off.
pub fn set_again_since(host: &Host, applied: u64) -> Option<String> {
    let networks = host.libvirt_networks().ok().flatten().unwrap_or_default();
    let started: Vec<String> = networks
        .into_iter()
        .filter(|network| network.needs_forwarding() && network.written.is_some_and(|time| time >= applied))
        .map(|network| format!("libvirt network “{}”", network.name))
        .collect();
    let docker = host::modified(&host.run.join("docker.pid"))
        .filter(|time| *time >= applied)
        .map(|_| "Docker".to_owned());
    let users: Vec<String> = started.into_iter().chain(docker).collect();
    (!users.is_empty()).then(|| users.join(", "))
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::{Duration, SystemTime};

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const STATUS: &str = include_str!("../tests/fixtures/libvirt-11.3-network-status-default.xml");

    fn now() -> Result<u64, Box<dyn std::error::Error>> {
        Ok(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_secs())
    }

    #[test]
    fn a_nat_network_or_docker_started_after_the_fix_keeps_forwarding_on() -> TestResult {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        fs::create_dir_all(host.run.join("libvirt/network"))?;
        let status = host.run.join("libvirt/network/default.xml");
        fs::write(&status, STATUS)?;
        let now = now()?;
        // Started an hour before the fix: forwarding is the helper's.
        let hour_ago = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options().write(true).open(&status)?.set_modified(hour_ago)?;
        assert_eq!(set_again_since(&host, now), None);
        // Started (its status written) after the fix.
        fs::File::options().write(true).open(&status)?.set_modified(SystemTime::now())?;
        assert_eq!(set_again_since(&host, now).as_deref(), Some("libvirt network “default”"));
        // An isolated network does not forward.
        fs::write(
            &status,
            STATUS
                .replace("<forward mode='nat'>", "<forwarding-off>")
                .replace("</forward>", "</forwarding-off>"),
        )?;
        assert_eq!(set_again_since(&host, now), None);
        fs::write(host.run.join("docker.pid"), "42\n")?;
        assert_eq!(set_again_since(&host, now).as_deref(), Some("Docker"));
        Ok(())
    }
}
