//! Planning the IPv4 forwarding fix: the sysctl file and the setting now,
//! and a warning about sysctl files read after ours that set it back.

use std::fs;
use std::path::PathBuf;

use super::{PlanError, Planned, with_steps};
use crate::changes::{self, Change};
use crate::host::{self, Host};

pub(super) fn plan_ipv4_forwarding(host: &Host) -> Result<Planned, PlanError> {
    let file = host.sysctl_file();
    let mut changes = Vec::new();
    // Persistent first: a failure to turn it on now then undoes the file.
    let previous = host::read_optional(&file, 64 * 1024).map_err(PlanError::Failed)?;
    if previous.as_deref() != Some(changes::SYSCTL_CONTENTS) {
        changes.push(Change::SysctlFile { previous });
    }
    let now = host.ip_forward().map_err(PlanError::Failed)?;
    if now != "1" {
        changes::tool("sysctl").map_err(PlanError::HostCheck)?;
        changes.push(Change::Ipv4Forward { previous: now });
    }
    let mut summary = format!(
        "Turns IPv4 forwarding on now (sysctl -w net.ipv4.ip_forward=1) and at every boot ({}). \
         libvirt's NAT networks route the VMs' traffic through the host, which needs it.",
        file.display()
    );
    for later in later_sysctl_overrides(host) {
        summary.push_str(&format!(
            " Caution: {} also sets net.ipv4.ip_forward and is read after this file, so at boot its value wins.",
            later.display()
        ));
    }
    with_steps(host, summary, changes)
}

/// sysctl files that set `net.ipv4.ip_forward` and are read after ours:
/// systemd-sysctl reads all of them ordered by file name, and a name in an
/// earlier directory hides the same name in a later one.
fn later_sysctl_overrides(host: &Host) -> Vec<PathBuf> {
    let mut by_name: Vec<(String, PathBuf)> = Vec::new();
    for dir in &host.sysctl_dirs {
        let Ok(entries) = fs::read_dir(dir) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".conf") && !by_name.iter().any(|(known, _)| *known == name) {
                by_name.push((name, entry.path()));
            }
        }
    }
    let mut later: Vec<PathBuf> = by_name
        .into_iter()
        .filter(|(name, path)| name.as_str() > host::SYSCTL_FILE_NAME && sets_ip_forward(path))
        .map(|(_, path)| path)
        .collect();
    later.sort();
    later
}

fn sets_ip_forward(path: &std::path::Path) -> bool {
    let Ok(text) = host::read_bounded(path, 1024 * 1024) else { return false };
    text.lines().any(|line| {
        let key =
            line.trim().trim_start_matches('-').split('=').next().unwrap_or("").trim().replace('/', ".");
        key == "net.ipv4.ip_forward" || key == "net.ipv4.conf.all.forwarding"
    })
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_helper_api::Action;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn forwarding_plans_only_what_is_missing_and_warns_of_later_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        fs::create_dir_all(dir.path().join("proc/sys/net/ipv4"))?;
        fs::create_dir_all(dir.path().join("etc/sysctl.d"))?;
        fs::create_dir_all(dir.path().join("usr/lib/sysctl.d"))?;
        fs::write(host.ip_forward_path(), "0\n")?;
        let planned = plan_ipv4_forwarding(&host)?;
        let kinds: Vec<&Change> = planned.changes.iter().map(|(_, change)| change).collect();
        assert_eq!(
            kinds,
            [&Change::SysctlFile { previous: None }, &Change::Ipv4Forward { previous: "0".into() }]
        );
        assert!(!planned.summary.contains("Caution"));

        fs::write(host.sysctl_file(), changes::SYSCTL_CONTENTS)?;
        fs::write(host.ip_forward_path(), "1\n")?;
        assert!(plan_ipv4_forwarding(&host)?.changes.is_empty(), "already in place");

        fs::write(dir.path().join("usr/lib/sysctl.d/99-router.conf"), "net/ipv4/ip_forward = 0\n")?;
        fs::write(dir.path().join("usr/lib/sysctl.d/50-early.conf"), "net.ipv4.ip_forward = 0\n")?;
        let summary = plan_ipv4_forwarding(&host)?.summary;
        assert!(summary.contains("99-router.conf"), "{summary}");
        assert!(!summary.contains("50-early.conf"), "{summary}");
        Ok(())
    }

    #[test]
    fn forwarding_steps_are_a_file_write_then_an_absolute_sysctl() -> TestResult {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        fs::create_dir_all(dir.path().join("proc/sys/net/ipv4"))?;
        fs::write(host.ip_forward_path(), "0\n")?;
        let plan = plan_ipv4_forwarding(&host)?.to_plan();
        assert!(matches!(&plan.steps[0].action, Action::WriteFile { path, contents }
            if path.ends_with("etc/sysctl.d/90-vmnet-doctor.conf") && contents.contains("net.ipv4.ip_forward = 1")));
        let Action::Run { argv } = &plan.steps[1].action else { return Err("not a command".into()) };
        assert!(argv[0].starts_with('/') && argv[0].ends_with("/sysctl"), "{argv:?}");
        assert_eq!(&argv[1..], ["-w", "net.ipv4.ip_forward=1"]);
        Ok(())
    }
}
