//! The setup wizard's steps and how each is judged: pure functions over a
//! snapshot and its diagnosis, so the wizard shows exactly what the rules
//! found and the tests can check it against the demo hypervisor.

use gettextrs::{gettext, ngettext};
use vmnet_doctor_core::rules::{CONNECTION_IDS, FIREWALL_RULE_IDS};
use vmnet_doctor_core::{Fact, Finding, Snapshot, Subject};

use crate::i18n::fill;

/// The `default` network every libvirt host ships with.
pub const DEFAULT_NETWORK: &str = "default";

/// The wizard's pages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepId {
    Connection,
    HostNetwork,
    Firewall,
    VmNic,
    Guest,
    Verify,
    Done,
}

impl StepId {
    pub const ALL: [StepId; 7] = [
        StepId::Connection,
        StepId::HostNetwork,
        StepId::Firewall,
        StepId::VmNic,
        StepId::Guest,
        StepId::Verify,
        StepId::Done,
    ];

    /// The stable name used in GSettings and in the reported events.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connection => "connection",
            Self::HostNetwork => "host-network",
            Self::Firewall => "firewall",
            Self::VmNic => "vm-nic",
            Self::Guest => "guest",
            Self::Verify => "verify",
            Self::Done => "done",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|step| step.as_str() == name)
    }

    /// 0-based position.
    pub fn index(self) -> usize {
        Self::ALL.iter().position(|step| *step == self).unwrap_or_default()
    }

    pub fn next(self) -> Option<Self> {
        Self::ALL.get(self.index() + 1).copied()
    }

    pub fn previous(self) -> Option<Self> {
        self.index().checked_sub(1).and_then(|i| Self::ALL.get(i).copied())
    }

    pub fn title(self) -> String {
        match self {
            Self::Connection => gettext("Connection"),
            Self::HostNetwork => gettext("Host Network"),
            Self::Firewall => gettext("Firewall"),
            Self::VmNic => gettext("VM Network Card"),
            Self::Guest => gettext("Guest"),
            Self::Verify => gettext("Verify"),
            Self::Done => gettext("Done"),
        }
    }

    /// What the step checks, in one or two plain sentences.
    pub fn purpose(self) -> String {
        match self {
            Self::Connection => gettext(
                "VM Network Doctor talks to libvirt, the service that runs your virtual machines. This step checks that the connection is open and readable.",
            ),
            Self::HostNetwork => gettext(
                "VMs get their address and their way out from a libvirt virtual network, usually “default”. It must exist, be running and start with the host.",
            ),
            Self::Firewall => gettext(
                "The host forwards the VMs' traffic to the internet. IP forwarding must be on, and no firewall (UFW, Docker, firewalld) may drop that traffic or the VMs' DHCP and DNS.",
            ),
            Self::VmNic => gettext(
                "Pick the VM to set up. Its network card must be connected to a running network, use the virtio model and have its link up.",
            ),
            Self::Guest => gettext(
                "Inside the VM: the QEMU guest agent lets this app look in. The guest's interface is found by its MAC address, and its connection profile, DHCP and IPv6 are checked.",
            ),
            Self::Verify => gettext(
                "The guide's checklist, run inside the guest: an address, the gateway, a public address, a name, a web page and the package manager.",
            ),
            Self::Done => gettext("What each step found, and what is left to do."),
        }
    }
}

/// How a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    Ok,
    Problem,
    /// Not looked at yet, or cannot be (the note says which).
    NotChecked,
    Skipped,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Problem => "problem",
            Self::NotChecked => "not-checked",
            Self::Skipped => "skipped",
        }
    }

    /// Icon, style class and the words for it.
    pub fn look(self) -> (&'static str, &'static str, String) {
        match self {
            Self::Ok => ("object-select-symbolic", "success", gettext("No problems found")),
            Self::Problem => ("dialog-warning-symbolic", "warning", gettext("Needs attention")),
            Self::NotChecked => ("content-loading-symbolic", "dim-label", gettext("Not checked")),
            Self::Skipped => ("media-skip-forward-symbolic", "dim-label", gettext("Skipped")),
        }
    }
}

/// A step as the diagnosis shows it.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub state: StepState,
    /// The findings that belong to this step, each with its Fix… when it has one.
    pub findings: Vec<Finding>,
    /// Why the step is not checked, or what to do next; may be empty.
    pub note: String,
}

const HOST_NETWORK_IDS: &[&str] = &[
    "default-network-missing",
    "network-inactive",
    "network-not-autostarted",
    "network-no-dhcp",
    "network-bridge-down",
    "dnsmasq-not-running",
    "dnsmasq-port-taken",
    "dhcp-range-exhausted",
    "dhcp-host-conflict",
    "network-subnet-collision",
];

const NIC_IDS: &[&str] = &[
    "nic-network-missing",
    "nic-network-inactive",
    "nic-link-down",
    "nic-host-link-down",
    "nic-model-not-virtio",
    "nic-user-mode",
    "nic-not-nat",
    "duplicate-mac",
    "session-bridge-not-allowed",
    "session-bridge-helper-unprivileged",
];

const GUEST_IDS: &[&str] = &[
    "guest-agent-missing",
    "guest-agent-not-connected",
    "vm-no-ip",
    "guest-ipv6-unrouted",
    "guest-profile-interface-missing",
    "guest-interface-no-profile",
    "guest-address-outside-subnet",
    "guest-gateway-wrong",
];

/// The networks whose state matters: `default`, and those `vm`'s cards use.
pub fn networks_of_interest<'a>(snapshot: &'a Snapshot, vm: Option<&str>) -> Vec<&'a str> {
    let mut names = vec![DEFAULT_NETWORK];
    if let Some(domain) = vm.and_then(|vm| snapshot.domain(vm)) {
        for name in domain.interfaces().iter().filter_map(|nic| nic.network_name()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// Whether `finding` concerns `vm`, or (with `mac`) only that card of it;
/// a finding about the whole VM counts for each of its cards.
fn about_vm(finding: &Finding, vm: &str, mac: Option<&str>) -> bool {
    match &finding.subject {
        Subject::Vm { name } => name == vm,
        Subject::Nic { vm: name, mac: card } => {
            name == vm && mac.is_none_or(|mac| mac.eq_ignore_ascii_case(card))
        }
        Subject::Connection | Subject::Host | Subject::Network { .. } => false,
    }
}

/// The findings of `step` among `findings` (the diagnosis of `snapshot`),
/// for the VM and card picked in the wizard.
pub fn findings_for(
    step: StepId,
    snapshot: &Snapshot,
    findings: &[Finding],
    vm: Option<&str>,
    mac: Option<&str>,
) -> Vec<Finding> {
    let networks = networks_of_interest(snapshot, vm);
    let keep = |finding: &&Finding| match step {
        StepId::Connection => CONNECTION_IDS.contains(&finding.id),
        StepId::HostNetwork => {
            HOST_NETWORK_IDS.contains(&finding.id)
                && match &finding.subject {
                    Subject::Network { name } => networks.contains(&name.as_str()),
                    _ => true,
                }
        }
        StepId::Firewall => {
            FIREWALL_RULE_IDS.contains(&finding.id)
                && match &finding.subject {
                    Subject::Network { name } => networks.contains(&name.as_str()),
                    _ => true,
                }
        }
        StepId::VmNic => NIC_IDS.contains(&finding.id) && vm.is_some_and(|vm| about_vm(finding, vm, mac)),
        StepId::Guest => GUEST_IDS.contains(&finding.id) && vm.is_some_and(|vm| about_vm(finding, vm, None)),
        StepId::Verify | StepId::Done => false,
    };
    findings.iter().filter(keep).cloned().collect()
}

/// How `step` stands from the snapshot alone. The Guest step also counts
/// the findings of an inspection (`inspected`, when one has run); Verify
/// and Done depend on what the wizard ran, not on the snapshot.
pub fn evaluate(
    step: StepId,
    snapshot: &Snapshot,
    findings: &[Finding],
    vm: Option<&str>,
    mac: Option<&str>,
    inspected: Option<&[Finding]>,
) -> Evaluation {
    let mut found = findings_for(step, snapshot, findings, vm, mac);
    let judged = |found: Vec<Finding>, note: String| {
        let note = if note.is_empty() && !found.is_empty() {
            fill(
                &ngettext(
                    "One problem, below with its fix.",
                    "{n} problems, below with their fixes.",
                    u32::try_from(found.len()).unwrap_or(u32::MAX),
                ),
                &[("n", &found.len().to_string())],
            )
        } else {
            note
        };
        Evaluation {
            state: if found.is_empty() { StepState::Ok } else { StepState::Problem },
            findings: found,
            note,
        }
    };
    let not_checked = |note: String| Evaluation { state: StepState::NotChecked, findings: Vec::new(), note };
    match step {
        StepId::Connection | StepId::HostNetwork => judged(found, String::new()),
        StepId::Firewall => match &snapshot.host {
            Fact::Known(_) => judged(found, String::new()),
            Fact::Unknown(reason) => not_checked(reason.clone()),
        },
        StepId::VmNic => match vm.and_then(|vm| snapshot.domain(vm)) {
            None => not_checked(gettext("Pick a virtual machine.")),
            Some(domain) if domain.interfaces().is_empty() => Evaluation {
                state: StepState::Problem,
                findings: found,
                note: gettext(
                    "This VM has no network card. Add one in virt-manager (Add Hardware → Network), then come back.",
                ),
            },
            Some(_) => judged(found, String::new()),
        },
        StepId::Guest => {
            let Some(domain) = vm.and_then(|vm| snapshot.domain(vm)) else {
                return not_checked(gettext("Pick a virtual machine in the previous step."));
            };
            // The inspection's version of a finding knows more (the guest's
            // profile, and so its fix): it replaces the snapshot's.
            for finding in inspected.into_iter().flatten() {
                match found.iter_mut().find(|f| f.id == finding.id && f.subject == finding.subject) {
                    Some(known) => *known = finding.clone(),
                    None => found.push(finding.clone()),
                }
            }
            if !found.is_empty() {
                judged(found, String::new())
            } else if !domain.state.is_active() {
                not_checked(gettext("The VM is not running: start it to look inside."))
            } else if inspected.is_none() {
                not_checked(gettext("Inspect the guest to look inside it."))
            } else {
                judged(found, String::new())
            }
        }
        StepId::Verify | StepId::Done => not_checked(String::new()),
    }
}

/// What the Done page says of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// It had a problem when first shown, and has none now.
    Fixed,
    Skipped,
    Problem,
    NotChecked,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Fixed => "fixed",
            Self::Skipped => "skipped",
            Self::Problem => "problem",
            Self::NotChecked => "not-checked",
        }
    }

    pub fn look(self) -> (&'static str, &'static str, String) {
        match self {
            Self::Ok => ("object-select-symbolic", "success", gettext("OK")),
            Self::Fixed => ("object-select-symbolic", "success", gettext("Fixed")),
            Self::Skipped => ("media-skip-forward-symbolic", "dim-label", gettext("Skipped")),
            Self::Problem => ("dialog-warning-symbolic", "warning", gettext("Still a problem")),
            Self::NotChecked => ("content-loading-symbolic", "dim-label", gettext("Not checked")),
        }
    }
}

/// The summary of a step: `first` is how it stood when first shown,
/// `now` how it stands now, `skipped` whether the user skipped it.
pub fn outcome(first: Option<StepState>, now: StepState, skipped: bool) -> Outcome {
    match now {
        StepState::Ok if first == Some(StepState::Problem) => Outcome::Fixed,
        StepState::Ok => Outcome::Ok,
        _ if skipped => Outcome::Skipped,
        StepState::Problem => Outcome::Problem,
        StepState::Skipped => Outcome::Skipped,
        StepState::NotChecked => Outcome::NotChecked,
    }
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_core::diagnose;
    use vmnet_doctor_libvirt::Hypervisor;

    use super::*;

    /// The demo hypervisor through libvirt's test driver, as `--demo` opens it.
    fn demo() -> (Snapshot, Vec<Finding>) {
        let uri = crate::connections::demo_uri();
        let snapshot = Hypervisor::open_blocking(&uri)
            .and_then(|hypervisor| hypervisor.snapshot_blocking())
            .unwrap_or_else(|error| panic!("the demo hypervisor did not open: {error}"));
        let findings = diagnose(&snapshot);
        (snapshot, findings)
    }

    fn ids(evaluation: &Evaluation) -> Vec<&'static str> {
        evaluation.findings.iter().map(|finding| finding.id).collect()
    }

    /// Every problem the diagnosis can find shows in exactly one step (a
    /// rule added without a step would be invisible in the wizard);
    /// `vm-no-ip`'s causes show in theirs.
    #[test]
    fn every_libvirt_side_id_belongs_to_one_step() {
        for id in vmnet_doctor_core::rules::LIBVIRT_RULE_IDS {
            let steps = [HOST_NETWORK_IDS, NIC_IDS, GUEST_IDS].iter().filter(|ids| ids.contains(id)).count();
            assert_eq!(steps, 1, "{id} is in {steps} wizard steps");
        }
    }

    #[test]
    fn steps_round_trip_through_their_names() {
        for step in StepId::ALL {
            assert_eq!(StepId::parse(step.as_str()), Some(step));
        }
        assert_eq!(StepId::parse("nonsense"), None);
        assert_eq!(StepId::Connection.previous(), None);
        assert_eq!(StepId::Verify.next(), Some(StepId::Done));
        assert_eq!(StepId::Done.next(), None);
    }

    #[test]
    fn the_demo_connection_and_default_network_are_fine() {
        let (snapshot, findings) = demo();
        let connection = evaluate(StepId::Connection, &snapshot, &findings, None, None, None);
        assert_eq!(connection.state, StepState::Ok);
        // `default` is active and autostarted in the demo; lab-nat is not,
        // but no VM is picked yet, so it is none of this step's business.
        let host = evaluate(StepId::HostNetwork, &snapshot, &findings, None, None, None);
        assert_eq!(host.state, StepState::Ok, "{:?}", ids(&host));
    }

    #[test]
    fn a_vm_brings_its_own_networks_into_the_host_network_step() {
        let (snapshot, findings) = demo();
        let host = evaluate(StepId::HostNetwork, &snapshot, &findings, Some("kali-linux"), None, None);
        assert_eq!(host.state, StepState::Problem);
        assert_eq!(ids(&host), ["network-inactive", "network-not-autostarted"]);
        assert!(host.findings.iter().all(|finding| finding.fix.is_some()));
    }

    #[test]
    fn without_host_facts_the_firewall_is_not_checked() {
        // libvirt's snapshot alone, as for a remote host or a test-driver file.
        let (snapshot, findings) = demo();
        let firewall = evaluate(StepId::Firewall, &snapshot, &findings, None, None, None);
        assert_eq!(firewall.state, StepState::NotChecked);
        assert!(!firewall.note.is_empty());
    }

    /// The demo's recorded host: Docker drops home-assistant's bridged
    /// frames and routed-lab is tied to the wrong device.
    #[test]
    fn the_demo_hosts_firewall_is_checked_and_has_problems() {
        let (mut snapshot, _) = demo();
        crate::probe::attach_host_facts(&mut snapshot);
        let findings = diagnose(&snapshot);
        let firewall = evaluate(StepId::Firewall, &snapshot, &findings, None, None, None);
        assert_eq!(firewall.state, StepState::Problem, "{:?}", ids(&firewall));
    }

    #[test]
    fn the_nic_step_needs_a_vm_and_shows_only_its_cards() {
        let (snapshot, findings) = demo();
        let none = evaluate(StepId::VmNic, &snapshot, &findings, None, None, None);
        assert_eq!(none.state, StepState::NotChecked);
        let win11 = evaluate(StepId::VmNic, &snapshot, &findings, Some("win11"), None, None);
        assert_eq!(ids(&win11), ["nic-model-not-virtio"]);
        let unplugged = evaluate(StepId::VmNic, &snapshot, &findings, Some("ubuntu-server"), None, None);
        assert!(ids(&unplugged).contains(&"nic-link-down"), "{:?}", ids(&unplugged));
        let other_card =
            evaluate(StepId::VmNic, &snapshot, &findings, Some("win11"), Some("00:00:00:00:00:00"), None);
        assert_eq!(other_card.state, StepState::Ok);
    }

    #[test]
    fn the_guest_step_asks_for_an_inspection_before_it_says_ok() {
        let (snapshot, findings) = demo();
        let rocky = evaluate(StepId::Guest, &snapshot, &findings, Some("rocky9"), None, None);
        assert_eq!(ids(&rocky), ["guest-agent-missing"]);
        let running = snapshot
            .domains
            .iter()
            .find(|domain| {
                domain.state.is_active()
                    && findings_for(StepId::Guest, &snapshot, &findings, Some(domain.name()), None).is_empty()
            })
            .map(|domain| domain.name().to_owned());
        let Some(vm) = running else { panic!("the demo has no running VM without guest findings") };
        let before = evaluate(StepId::Guest, &snapshot, &findings, Some(&vm), None, None);
        assert_eq!(before.state, StepState::NotChecked);
        let after = evaluate(StepId::Guest, &snapshot, &findings, Some(&vm), None, Some(&[]));
        assert_eq!(after.state, StepState::Ok);
    }

    /// debian13-office's address outside the subnet is found without the
    /// inspection, with no fix; the inspection finds the static profile
    /// that sets it, and the step offers that finding's fix.
    #[test]
    fn the_inspection_s_finding_replaces_the_snapshot_s() {
        let (snapshot, findings) = demo();
        let vm = Some("debian13-office");
        let before = evaluate(StepId::Guest, &snapshot, &findings, vm, None, None);
        let address = |evaluation: &Evaluation| {
            evaluation.findings.iter().find(|f| f.id == "guest-address-outside-subnet").map(|f| f.fix.clone())
        };
        assert_eq!(address(&before), Some(None), "{:?}", before.findings);
        let hypervisor = Hypervisor::open_blocking(&crate::connections::demo_uri())
            .unwrap_or_else(|error| panic!("the demo hypervisor did not open: {error}"));
        let discovery = crate::guest_checklist::inspect(&hypervisor, &snapshot, "debian13-office")
            .unwrap_or_else(|trouble| panic!("the recorded guest was not inspected: {trouble:?}"));
        let after = evaluate(StepId::Guest, &snapshot, &findings, vm, None, Some(&discovery.findings));
        assert_eq!(
            address(&after),
            Some(Some(vmnet_doctor_core::Fix::CreateGuestDhcpProfile {
                vm: "debian13-office".into(),
                interface: "enp1s0".into()
            })),
            "{:?}",
            after.findings
        );
        assert_eq!(after.findings.iter().filter(|f| f.id == "guest-address-outside-subnet").count(), 1);
    }

    #[test]
    fn outcomes_tell_fixed_from_ok_and_skipped() {
        assert_eq!(outcome(Some(StepState::Problem), StepState::Ok, false), Outcome::Fixed);
        assert_eq!(outcome(Some(StepState::Ok), StepState::Ok, false), Outcome::Ok);
        assert_eq!(outcome(Some(StepState::Problem), StepState::Problem, true), Outcome::Skipped);
        assert_eq!(outcome(None, StepState::Problem, false), Outcome::Problem);
        assert_eq!(outcome(None, StepState::NotChecked, false), Outcome::NotChecked);
    }
}
