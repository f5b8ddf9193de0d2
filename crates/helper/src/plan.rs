//! Planning a fix: the changes it still needs on this host, in order, and
//! what to tell the user about them.

use std::fs;
use std::path::PathBuf;

use vmnet_doctor_helper_api::{FixRequest, IfaceName, Plan, RULE_COMMENT, Step};

use crate::changes::{self, Backend, Chain, Change, ForwardRule, UfwRuleKind, UfwState};
use crate::exec::{self, Ran};
use crate::host::{self, Host};

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
    let network = host.check_bridge_and_uplink(bridge, uplink).map_err(PlanError::HostCheck)?;
    let ufw = changes::tool("ufw").map_err(|_| PlanError::HostCheck("UFW is not installed".to_owned()))?;
    let state = UfwState::read(&ufw, ran).map_err(PlanError::Failed)?;
    let mut changes: Vec<Change> = UfwRuleKind::ALL
        .into_iter()
        // A rule that exists already, with any comment, is left alone: adding
        // it again would make UFW replace its comment with ours.
        .filter(|rule| state.find(&changes::ufw_spec(*rule, bridge, uplink)).is_none())
        .map(|rule| Change::UfwRule { rule, bridge: bridge.clone(), uplink: uplink.clone() })
        .collect();
    if !changes.is_empty() && state.active {
        changes.push(Change::UfwReload);
    }
    let mut summary = format!(
        "Adds the UFW rules libvirt's network “{network}” needs: traffic between its VMs and the host on \
         {bridge} (DHCP, DNS), and their traffic routed from {bridge} out through {uplink}. Each rule \
         carries the comment “{RULE_COMMENT}”; reverting deletes only those rules."
    );
    if !state.active {
        summary.push_str(" UFW is not active now: the rules take effect when it is enabled.");
    }
    with_steps(host, summary, changes)
}

/// Picks where the accept rules go: the iptables (nft or legacy) that has
/// Docker's `DOCKER-USER` chain, else the one whose FORWARD policy drops,
/// else iptables-nft. Legacy iptables is only looked at when legacy tables
/// exist (running it would otherwise load its kernel modules).
fn select_iptables(host: &Host, ran: &Ran) -> Result<(Backend, Chain), String> {
    let mut candidates = Vec::new();
    for backend in [Backend::Nft, Backend::Legacy] {
        if backend == Backend::Legacy && !host.has_legacy_iptables_tables() {
            continue;
        }
        if let Some(path) = exec::find_program(backend.program()) {
            candidates.push((backend, path.to_string_lossy().into_owned()));
        }
    }
    if candidates.is_empty() {
        return Err("iptables is not installed".to_owned());
    }
    let mut probes = Vec::new();
    for (backend, program) in candidates {
        let list = |chain: &str| {
            exec::run(&[program.clone(), "-w".into(), "10".into(), "-S".into(), chain.into()], ran)
        };
        let docker_user = list("DOCKER-USER").success();
        let forward = list("FORWARD");
        if !forward.success() {
            return Err(format!("`{} -S FORWARD` failed: {}", backend.program(), forward.message()));
        }
        let drops = forward.stdout.lines().any(|line| line.trim() == "-P FORWARD DROP");
        probes.push((backend, docker_user, drops));
    }
    let chosen = probes
        .iter()
        .find(|(_, docker_user, _)| *docker_user)
        .map(|(backend, ..)| (*backend, Chain::DockerUser))
        .or_else(|| {
            probes.iter().find(|(_, _, drops)| *drops).map(|(backend, ..)| (*backend, Chain::Forward))
        })
        .or_else(|| probes.first().map(|(backend, ..)| (*backend, Chain::Forward)));
    chosen.ok_or_else(|| "iptables is not installed".to_owned())
}

fn plan_accept_forward(
    host: &Host,
    bridge: &IfaceName,
    uplink: &IfaceName,
    ran: &Ran,
) -> Result<Planned, PlanError> {
    let network = host.check_bridge_and_uplink(bridge, uplink).map_err(PlanError::HostCheck)?;
    let (backend, chain) = select_iptables(host, ran).map_err(PlanError::HostCheck)?;
    let program = changes::tool(backend.program()).map_err(PlanError::HostCheck)?;
    let mut changes = Vec::new();
    for rule in ForwardRule::ALL {
        let check = exec::run(&changes::iptables_argv(&program, "-C", chain, rule, bridge, uplink), ran);
        match check.status {
            0 => {}
            1 => changes.push(Change::Iptables {
                backend,
                chain,
                rule,
                bridge: bridge.clone(),
                uplink: uplink.clone(),
            }),
            _ => {
                return Err(PlanError::Failed(format!(
                    "cannot check the {} chain: {}",
                    chain.name(),
                    check.message()
                )));
            }
        }
    }
    let place = match chain {
        Chain::DockerUser => "Docker's DOCKER-USER chain, which FORWARD consults before Docker's own rules",
        Chain::Forward => "the FORWARD chain, ahead of the rule or policy that drops it",
    };
    let summary = format!(
        "Accepts the traffic of libvirt's network “{network}” from {bridge} out through {uplink}, and its replies, \
         in {place} ({}). Each rule carries the comment “{RULE_COMMENT}”; reverting deletes only those rules. \
         These rules are not saved: they are gone after a reboot (or a reload of the whole firewall). To keep \
         them, add the same rules to your firewall's saved configuration (e.g. iptables-persistent's \
         /etc/iptables/rules.v4), or apply the fix again after a reboot.",
        backend.program()
    );
    with_steps(host, summary, changes)
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
}
