//! Planning a fix: the changes it still needs on this host, in order, and
//! what to tell the user about them.

use std::fs;
use std::path::PathBuf;

use vmnet_doctor_core::host::FirewallBackend;
use vmnet_doctor_helper_api::{FixRequest, IfaceName, LibvirtFirewallBackend, Plan, RULE_COMMENT, Step};

use crate::changes::{self, Backend, Chain, Change, Family, ForwardRule, UfwRuleKind, UfwState};
use crate::exec::{self, Ran};
use crate::host::{self, Host, NetworkDaemon, NetworkStatus};

/// Why a fix cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The host does not allow it (names, missing tools).
    HostCheck(String),
    /// Reading the host's state failed.
    Failed(String),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::HostCheck(why) | Self::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for PlanError {}

/// A fix's remaining changes, each with the step that makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub summary: String,
    pub changes: Vec<(Step, Change)>,
}

impl Planned {
    pub fn steps(&self) -> Vec<Step> {
        self.changes.iter().map(|(step, _)| step.clone()).collect()
    }

    pub fn to_plan(&self) -> Plan {
        let steps = self.steps();
        Plan { id: plan_id(&steps), summary: self.summary.clone(), steps }
    }
}

/// Identifies a list of steps: FNV-1a (64 bit) over every field, with
/// separators. Stable across runs and builds, unlike std's hasher.
pub fn plan_id(steps: &[Step]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |text: &str| {
        for byte in text.bytes().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for step in steps {
        feed(&step.description);
        match &step.action {
            vmnet_doctor_helper_api::Action::Run { argv } => {
                feed("run");
                argv.iter().for_each(|arg| feed(arg));
            }
            vmnet_doctor_helper_api::Action::WriteFile { path, contents } => {
                feed("write");
                feed(path);
                feed(contents);
            }
            vmnet_doctor_helper_api::Action::RemoveFile { path } => {
                feed("remove");
                feed(path);
            }
        }
        feed("\n");
    }
    format!("{hash:016x}")
}

pub fn plan(fix: &FixRequest, host: &Host, ran: &Ran) -> Result<Planned, PlanError> {
    match fix {
        FixRequest::EnableIpv4Forwarding => plan_ipv4_forwarding(host),
        FixRequest::UfwAllowBridge { bridge, uplink } => plan_ufw(host, bridge, uplink, ran),
        FixRequest::AcceptForward { bridge, uplink } => plan_accept_forward(host, bridge, uplink, ran),
        FixRequest::SetLibvirtFirewallBackend { backend } => plan_libvirt_backend(host, *backend, ran),
    }
}

fn with_steps(host: &Host, summary: String, changes: Vec<Change>) -> Result<Planned, PlanError> {
    let changes = changes
        .into_iter()
        .map(|change| Ok((change.step(host).map_err(PlanError::HostCheck)?, change)))
        .collect::<Result<Vec<_>, PlanError>>()?;
    Ok(Planned { summary, changes })
}

fn plan_ipv4_forwarding(host: &Host) -> Result<Planned, PlanError> {
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

fn plan_ufw(host: &Host, bridge: &IfaceName, uplink: &IfaceName, ran: &Ran) -> Result<Planned, PlanError> {
    let network = host.check_bridge_and_uplink(bridge, uplink).map_err(PlanError::HostCheck)?.name;
    let ufw = changes::tool("ufw").map_err(|_| PlanError::HostCheck("UFW is not installed".to_owned()))?;
    let state = UfwState::read(&ufw, ran).map_err(PlanError::Failed)?;
    if !state.active {
        // `ufw status` says inactive when UFW's chains are not loaded. With
        // ENABLED=no in ufw.conf it filters nothing now or after a reboot,
        // and rules added now would only surprise whoever enables it later.
        // With ENABLED=yes it failed to start (or was flushed): adding rules
        // then would touch chains that are not there.
        let conf = host.etc.join("ufw/ufw.conf");
        let text = host::read_optional(&conf, changes::FILE_LIMIT).map_err(PlanError::Failed)?;
        let enabled = text
            .as_deref()
            .and_then(|text| vmnet_doctor_host::ufw::shell_var(text, "ENABLED"))
            .is_some_and(|value| value.eq_ignore_ascii_case("yes"));
        if enabled {
            return Err(PlanError::HostCheck(format!(
                "UFW is enabled in {} but its rules are not loaded (`ufw status`: inactive): start it \
                 (`ufw enable`, or check why it failed at boot), then plan this fix again",
                conf.display()
            )));
        }
        return Ok(Planned {
            summary: format!(
                "Nothing to do: UFW is installed but not enabled, so it blocks none of the traffic of \
                 libvirt's network “{network}” on {bridge}, now or after a reboot. If you enable UFW later, \
                 plan this fix again: it then adds the rules {bridge} needs."
            ),
            changes: Vec::new(),
        });
    }
    let mut changes: Vec<Change> = UfwRuleKind::ALL
        .into_iter()
        // A rule that exists already, with any comment, is left alone: adding
        // it again would make UFW replace its comment with ours.
        .filter(|rule| state.find(&changes::ufw_spec(*rule, bridge, uplink)).is_none())
        .map(|rule| Change::UfwRule { rule, bridge: bridge.clone(), uplink: uplink.clone() })
        .collect();
    if !changes.is_empty() {
        changes.push(Change::UfwReload);
    }
    let summary = format!(
        "Adds the UFW rules libvirt's network “{network}” needs: traffic between its VMs and the host on \
         {bridge} (DHCP, DNS), and their traffic routed from {bridge} out through {uplink}. Each rule \
         carries the comment “{RULE_COMMENT}”; reverting deletes only those rules."
    );
    with_steps(host, summary, changes)
}

/// One iptables backend of one address family, as found on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Probe {
    backend: Backend,
    /// Docker's `DOCKER-USER` chain exists.
    docker_user: bool,
    /// The FORWARD policy is DROP.
    drops: bool,
}

/// The iptables backends (nft, legacy) of `family` installed here, with
/// what their FORWARD chain holds. Legacy iptables is only looked at when
/// legacy tables of that family exist (running it would otherwise load its
/// kernel modules and create them).
fn probe_iptables(host: &Host, family: Family, ran: &Ran) -> Result<Vec<Probe>, String> {
    let mut probes = Vec::new();
    for backend in [Backend::Nft, Backend::Legacy] {
        let legacy_tables = match family {
            Family::Ipv4 => host.has_legacy_iptables_tables(),
            Family::Ipv6 => host.has_legacy_ip6tables_tables(),
        };
        if backend == Backend::Legacy && !legacy_tables {
            continue;
        }
        let Some(path) = exec::find_program(backend.program(family)) else { continue };
        let program = path.to_string_lossy().into_owned();
        let list = |chain: &str| {
            exec::run(&[program.clone(), "-w".into(), "10".into(), "-S".into(), chain.into()], ran)
        };
        let docker_user = list("DOCKER-USER").success();
        let forward = list("FORWARD");
        if !forward.success() {
            return Err(format!("`{} -S FORWARD` failed: {}", backend.program(family), forward.message()));
        }
        let drops = forward.stdout.lines().any(|line| line.trim() == "-P FORWARD DROP");
        probes.push(Probe { backend, docker_user, drops });
    }
    Ok(probes)
}

/// Where the IPv4 accept rules go: the iptables (nft or legacy) that has
/// Docker's `DOCKER-USER` chain, else the one whose FORWARD policy drops,
/// else iptables-nft.
fn select_iptables(probes: &[Probe]) -> Option<(Backend, Chain)> {
    probes
        .iter()
        .find(|probe| probe.docker_user)
        .map(|probe| (probe.backend, Chain::DockerUser))
        .or_else(|| probes.iter().find(|probe| probe.drops).map(|probe| (probe.backend, Chain::Forward)))
        .or_else(|| probes.first().map(|probe| (probe.backend, Chain::Forward)))
}

/// Where the IPv6 accept rules go, if anywhere: only an ip6tables whose
/// FORWARD policy drops (Docker's, with its ip6tables support on) needs
/// them — into its `DOCKER-USER` chain when it has one, else FORWARD.
fn select_ip6tables(probes: &[Probe]) -> Option<(Backend, Chain)> {
    let dropping = || probes.iter().filter(|probe| probe.drops);
    dropping()
        .find(|probe| probe.docker_user)
        .map(|probe| (probe.backend, Chain::DockerUser))
        .or_else(|| dropping().next().map(|probe| (probe.backend, Chain::Forward)))
}

/// The accept rules of one family not yet in `chain`.
fn missing_forward_rules(
    backend: Backend,
    family: Family,
    chain: Chain,
    bridge: &IfaceName,
    uplink: &IfaceName,
    ran: &Ran,
) -> Result<Vec<Change>, PlanError> {
    let program = changes::tool(backend.program(family)).map_err(PlanError::HostCheck)?;
    let mut changes = Vec::new();
    for rule in ForwardRule::ALL {
        let check = exec::run(&changes::iptables_argv(&program, "-C", chain, rule, bridge, uplink), ran);
        match check.status {
            0 => {}
            1 => changes.push(Change::Iptables {
                backend,
                family,
                chain,
                rule,
                bridge: bridge.clone(),
                uplink: uplink.clone(),
            }),
            _ => {
                return Err(PlanError::Failed(format!(
                    "cannot check the {} chain of {}: {}",
                    chain.name(),
                    backend.program(family),
                    check.message()
                )));
            }
        }
    }
    Ok(changes)
}

fn chain_place(chain: Chain) -> &'static str {
    match chain {
        Chain::DockerUser => "Docker's DOCKER-USER chain, which FORWARD consults before Docker's own rules",
        Chain::Forward => "the FORWARD chain, ahead of the rule or policy that drops it",
    }
}

fn plan_accept_forward(
    host: &Host,
    bridge: &IfaceName,
    uplink: &IfaceName,
    ran: &Ran,
) -> Result<Planned, PlanError> {
    let network = host.check_bridge_and_uplink(bridge, uplink).map_err(PlanError::HostCheck)?;
    let probes = probe_iptables(host, Family::Ipv4, ran).map_err(PlanError::HostCheck)?;
    let (backend, chain) = select_iptables(&probes)
        .ok_or_else(|| PlanError::HostCheck("iptables is not installed".to_owned()))?;
    let mut changes = missing_forward_rules(backend, Family::Ipv4, chain, bridge, uplink, ran)?;
    let name = &network.name;
    let mut summary = format!(
        "Accepts the traffic of libvirt's network “{name}” from {bridge} out through {uplink}, and its replies, \
         in {} ({}).",
        chain_place(chain),
        backend.program(Family::Ipv4)
    );
    if network.has_ipv6 {
        let probes = probe_iptables(host, Family::Ipv6, ran).map_err(PlanError::Failed)?;
        match select_ip6tables(&probes) {
            Some((backend, chain)) => {
                changes.extend(missing_forward_rules(backend, Family::Ipv6, chain, bridge, uplink, ran)?);
                summary.push_str(&format!(
                    " The network has IPv6 and ip6tables' FORWARD policy drops, so the same rules go into {} \
                     ({}).",
                    chain_place(chain),
                    backend.program(Family::Ipv6)
                ));
            }
            None if probes.is_empty() => summary.push_str(
                " The network has IPv6, but ip6tables is not installed: no IPv6 rules are added.",
            ),
            None => summary.push_str(
                " The network has IPv6; ip6tables' FORWARD policy does not drop, so no IPv6 rules are needed.",
            ),
        }
    }
    summary.push_str(&format!(
        " Each rule carries the comment “{RULE_COMMENT}”; reverting deletes only those rules. \
         These rules are not saved: they are gone after a reboot (or a reload of the whole firewall). To keep \
         them, add the same rules to your firewall's saved configuration (e.g. iptables-persistent's \
         /etc/iptables/rules.v4 and rules.v6), or apply the fix again after a reboot."
    ));
    with_steps(host, summary, changes)
}

/// What libvirt's network driver is doing, for the backend fix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DriverState {
    /// systemd is the service manager: the only way the helper restarts a
    /// daemon.
    systemd: bool,
    daemon: Option<NetworkDaemon>,
    /// systemd says the daemon's unit is active (only asked under systemd).
    daemon_active: bool,
    networks: Vec<NetworkStatus>,
}

fn read_driver_state(host: &Host, ran: &Ran) -> Result<DriverState, PlanError> {
    let systemd = host.systemd_booted();
    let daemon = host.network_daemon();
    let daemon_active = match daemon {
        Some(daemon) if systemd => {
            let systemctl = changes::tool("systemctl").map_err(PlanError::HostCheck)?;
            // Exit status 0 only for an active unit; stdout names the state.
            let state = exec::run(&[systemctl, "is-active".to_owned(), daemon.unit().to_owned()], ran).stdout;
            matches!(state.trim(), "active" | "reloading" | "activating" | "refreshing")
        }
        _ => false,
    };
    let networks = host.libvirt_networks().map_err(PlanError::Failed)?.unwrap_or_default();
    Ok(DriverState { systemd, daemon, daemon_active, networks })
}

fn plan_libvirt_backend(
    host: &Host,
    backend: LibvirtFirewallBackend,
    ran: &Ran,
) -> Result<Planned, PlanError> {
    // libvirt's network driver fails to start without its backend's tool.
    let needed = match backend {
        LibvirtFirewallBackend::Iptables => "iptables",
        LibvirtFirewallBackend::Nftables => "nft",
    };
    changes::tool(needed).map_err(|_| {
        PlanError::HostCheck(format!("libvirt's {backend} backend needs {needed}, which is not installed"))
    })?;
    let path = host.libvirt_network_conf();
    match fs::symlink_metadata(&path) {
        Ok(metadata) if !metadata.file_type().is_file() => {
            return Err(PlanError::HostCheck(format!(
                "{} is not a regular file (a symbolic link?): the helper edits only a plain file; change it by hand",
                path.display()
            )));
        }
        _ => {}
    }
    let previous = host::read_optional(&path, changes::FILE_LIMIT).map_err(PlanError::Failed)?;
    let state = read_driver_state(host, ran)?;
    let (summary, changes) = libvirt_backend_changes(&path.to_string_lossy(), backend, previous, &state);
    with_steps(host, summary, changes)
}

/// The backend fix's changes and summary for a host in `state`.
fn libvirt_backend_changes(
    path: &str,
    backend: LibvirtFirewallBackend,
    previous: Option<String>,
    state: &DriverState,
) -> (String, Vec<Change>) {
    let wanted = match backend {
        LibvirtFirewallBackend::Iptables => FirewallBackend::Iptables,
        LibvirtFirewallBackend::Nftables => FirewallBackend::Nftables,
    };
    let configured = previous
        .as_deref()
        .map_or(Ok(FirewallBackend::Default), vmnet_doctor_host::libvirt::parse_firewall_backend);
    let file_in_place = configured == Ok(wanted);
    // Networks whose rules libvirt made with the other backend.
    let stale: Vec<String> = state
        .networks
        .iter()
        .filter_map(|network| {
            let used = network.firewall_backend.as_deref()?;
            (used != backend.as_str()).then(|| format!("“{}” ({used})", network.name))
        })
        .collect();
    let mut changes = Vec::new();
    let mut summary = if file_in_place {
        format!("{path} already sets firewall_backend = \"{backend}\".")
    } else {
        changes.push(Change::LibvirtNetworkConf { backend, previous });
        format!(
            "Sets libvirt's firewall backend to {backend}: firewall_backend = \"{backend}\" in {path}, every \
             other line of the file kept as it is. Reverting restores the file exactly as it was (or removes \
             it if it did not exist)."
        )
    };
    let needs_restart = !file_in_place || !stale.is_empty();
    let stale_text = if stale.is_empty() {
        String::new()
    } else {
        format!(" Active networks whose rules are from another backend now: {}.", stale.join(", "))
    };
    match state.daemon {
        _ if !needs_restart => {}
        Some(daemon) if state.systemd && state.daemon_active => {
            changes.push(Change::RestartNetworkDriver { daemon });
            summary.push_str(&format!(
                " Then restarts {} (systemctl try-restart {}): as it starts, libvirt removes its networks' \
                 firewall rules and makes them again with {backend}. Running VMs keep running.{stale_text}",
                daemon.name(),
                daemon.unit()
            ));
        }
        Some(daemon) if state.systemd => summary.push_str(&format!(
            " {} is not running now: it uses {backend} when it next starts.{stale_text}",
            daemon.unit()
        )),
        None => summary.push_str(&format!(
            " No libvirt daemon is running: libvirt uses {backend} when it starts.{stale_text}"
        )),
        Some(daemon) => summary.push_str(&format!(
            " This host is not run by systemd (there is no /run/systemd/system), so the helper does not restart \
             {0}: it restarts daemons only through systemd, never by signalling or starting them itself. \
             Restart {0} yourself (with your init system's service command); until then libvirt keeps its \
             networks' current firewall rules.{stale_text}",
            daemon.name()
        )),
    }
    (summary, changes)
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_helper_api::Action;

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn step(argv: &[&str]) -> Step {
        Step {
            description: "d".into(),
            action: Action::Run { argv: argv.iter().map(|s| (*s).to_owned()).collect() },
        }
    }

    #[test]
    fn the_plan_id_follows_every_argument() {
        let one = plan_id(&[step(&["/usr/sbin/ufw", "allow", "in", "on", "virbr0"])]);
        assert_eq!(one, plan_id(&[step(&["/usr/sbin/ufw", "allow", "in", "on", "virbr0"])]));
        assert_ne!(one, plan_id(&[step(&["/usr/sbin/ufw", "allow", "in", "on", "virbr1"])]));
        // The separators keep argument boundaries apart.
        assert_ne!(one, plan_id(&[step(&["/usr/sbin/ufw", "allow", "in", "onvirbr0"])]));
        assert_ne!(plan_id(&[]), one);
        assert_eq!(one.len(), 16);
    }

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

    fn network(name: &str, backend: Option<&str>) -> NetworkStatus {
        NetworkStatus {
            name: name.to_owned(),
            bridge: Some("virbr0".to_owned()),
            has_ipv6: false,
            firewall_backend: backend.map(str::to_owned),
            forward_mode: Some("nat".to_owned()),
            written: None,
        }
    }

    const CONF: &str = "/etc/libvirt/network.conf";

    #[test]
    fn under_systemd_an_active_network_daemon_is_restarted_after_the_edit() {
        let nftables = LibvirtFirewallBackend::Nftables;
        for daemon in [NetworkDaemon::Libvirtd, NetworkDaemon::Virtnetworkd] {
            let state = DriverState {
                systemd: true,
                daemon: Some(daemon),
                daemon_active: true,
                networks: vec![network("default", Some("iptables"))],
            };
            let (summary, changes) = libvirt_backend_changes(CONF, nftables, None, &state);
            assert_eq!(
                changes,
                [
                    Change::LibvirtNetworkConf { backend: nftables, previous: None },
                    Change::RestartNetworkDriver { daemon }
                ]
            );
            assert!(summary.contains(&format!("systemctl try-restart {}", daemon.unit())), "{summary}");
            // In place, but the networks still run the old backend: only the restart.
            let written = Some("firewall_backend = \"nftables\"\n".to_owned());
            let (_, changes) = libvirt_backend_changes(CONF, nftables, written.clone(), &state);
            assert_eq!(changes, [Change::RestartNetworkDriver { daemon }]);
            // Restarted: nothing left.
            let done = DriverState { networks: vec![network("default", Some("nftables"))], ..state.clone() };
            let (summary, changes) = libvirt_backend_changes(CONF, nftables, written, &done);
            assert!(changes.is_empty(), "{changes:?}");
            assert!(summary.contains("already sets"), "{summary}");
        }
    }

    #[test]
    fn a_daemon_systemd_does_not_run_now_is_not_restarted() {
        let state = DriverState {
            systemd: true,
            daemon: Some(NetworkDaemon::Virtnetworkd),
            daemon_active: false,
            networks: vec![network("default", Some("nftables"))],
        };
        let (summary, changes) =
            libvirt_backend_changes(CONF, LibvirtFirewallBackend::Iptables, Some(String::new()), &state);
        assert_eq!(
            changes,
            [Change::LibvirtNetworkConf {
                backend: LibvirtFirewallBackend::Iptables,
                previous: Some(String::new())
            }]
        );
        assert!(summary.contains("virtnetworkd.service is not running now"), "{summary}");
        assert!(summary.contains("“default” (nftables)"), "{summary}");
    }

    #[test]
    fn without_systemd_the_plan_says_to_restart_by_hand() {
        let state = DriverState {
            systemd: false,
            daemon: Some(NetworkDaemon::Libvirtd),
            daemon_active: false,
            networks: vec![network("default", Some("iptables")), network("other", None)],
        };
        let (summary, changes) =
            libvirt_backend_changes(CONF, LibvirtFirewallBackend::Nftables, None, &state);
        assert_eq!(changes.len(), 1, "only the file: {changes:?}");
        assert!(
            summary.contains("not run by systemd") && summary.contains("Restart libvirtd yourself"),
            "{summary}"
        );
        assert!(summary.contains("“default” (iptables)") && !summary.contains("“other”"), "{summary}");
    }

    #[test]
    fn the_dropping_ip6tables_decides_where_ipv6_rules_go() {
        let probe = |backend, docker_user, drops| Probe { backend, docker_user, drops };
        // Docker on legacy (its chain, its policy), UFW's drop on nft.
        let mixed = [probe(Backend::Nft, false, true), probe(Backend::Legacy, true, true)];
        assert_eq!(select_iptables(&mixed), Some((Backend::Legacy, Chain::DockerUser)));
        assert_eq!(select_ip6tables(&mixed), Some((Backend::Legacy, Chain::DockerUser)));
        // Nothing drops IPv6: no IPv6 rules; IPv4 ones still go into FORWARD.
        let open = [probe(Backend::Nft, true, false)];
        assert_eq!(select_ip6tables(&open), None);
        assert_eq!(
            select_iptables(&[probe(Backend::Nft, false, false)]),
            Some((Backend::Nft, Chain::Forward))
        );
        assert_eq!(
            select_ip6tables(&[probe(Backend::Nft, false, true)]),
            Some((Backend::Nft, Chain::Forward))
        );
        assert_eq!(select_iptables(&[]), None);
    }
}
