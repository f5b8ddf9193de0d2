//! The guide's "Verification Checklist (Inside VM)" run inside a guest
//! through its agent — an IPv4 address on each card, the gateway and a
//! public address answering ping, a name resolving, an HTTP fetch, the
//! package manager's update — each step with its own timeout, told to a
//! [`Sink`] as it completes. Before it, what the guest says about itself:
//! its OS, each card's name (found by MAC), its network stack and the
//! guest-side findings. When the agent cannot run it (no channel, not
//! running, guest-exec refused) the sink hears which, with the commands
//! to type in the guest.
//!
//! `vmnet-doctor verify` (`crate::cli::verify`) and the setup wizard's
//! Guest and Verify steps (`crate::ui::wizard`) both run it.

pub mod words;

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gettextrs::gettext;
use vmnet_doctor_core::guest::checklist::{self, Status, Step, StepKind, Targets, Verdict};
use vmnet_doctor_core::guest::{GuestFacts, GuestNetwork};
use vmnet_doctor_core::rules::GUEST_INSPECTION_IDS;
use vmnet_doctor_core::{AddressSource, DomainSnapshot, Fact, Finding, GuestInterface, Snapshot, diagnose};
use vmnet_doctor_libvirt::agent::AgentError;
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError};

use crate::i18n::fill;

/// Why the agent cannot run the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    NoChannel,
    NotRunning(String),
    /// guest-exec is refused (RHEL's `--allow-rpcs` filter).
    ExecDisabled,
    /// Anything else the agent answered (e.g. a driver without agents).
    Other(String),
}

impl Unavailable {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NoChannel => "no-channel",
            Self::NotRunning(_) => "not-running",
            Self::ExecDisabled => "exec-disabled",
            Self::Other(_) => "error",
        }
    }

    pub fn message(&self, vm: &str) -> String {
        let values = [("vm", vm)];
        match self {
            Self::NoChannel => fill(
                &gettext("“{vm}” has no guest agent channel, so nothing can be run inside it from here."),
                &values,
            ),
            Self::NotRunning(detail) => fill(
                &gettext(
                    "The guest agent of “{vm}” does not answer: it is not installed or not running in the guest ({detail}).",
                ),
                &[("vm", vm), ("detail", detail)],
            ),
            Self::ExecDisabled => fill(
                &gettext(
                    "The guest agent of “{vm}” refuses to run programs (guest-exec is disabled, as RHEL's qemu-guest-agent ships with --allow-rpcs).",
                ),
                &values,
            ),
            Self::Other(detail) => fill(
                &gettext("The guest agent of “{vm}” cannot be used: {detail}"),
                &[("vm", vm), ("detail", detail)],
            ),
        }
    }

    pub fn advice(&self) -> String {
        match self {
            Self::NoChannel => gettext(
                "Add the channel (“vmnet-doctor fix guest-agent-missing”), shut the VM down and start it again, and install qemu-guest-agent in the guest.",
            ),
            Self::NotRunning(_) => gettext(
                "In the guest: “sudo apt install -y qemu-guest-agent” (dnf, pacman: the same package), then “sudo systemctl enable --now qemu-guest-agent”.",
            ),
            Self::ExecDisabled => gettext(
                "Allow guest-exec and guest-exec-status in the agent's configuration (/etc/sysconfig/qemu-ga on RHEL), or run the commands below in the guest.",
            ),
            Self::Other(_) => gettext("Run the commands below in the guest."),
        }
    }
}

/// What the guest said about itself, shown before the checklist.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub facts: GuestFacts,
    /// Each card of the VM: MAC, libvirt network (if any), the guest's name.
    pub cards: Vec<(String, Option<String>, Option<String>)>,
    /// The guest-side findings about this VM.
    pub findings: Vec<Finding>,
}

/// One finished step.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub kind: StepKind,
    pub target: String,
    pub argv: Vec<String>,
    pub timeout: Duration,
    pub verdict: Verdict,
    pub elapsed: Duration,
}

/// Where the events go as they happen: the terminal or JSON lines.
pub trait Sink {
    fn started(&mut self, uri: &str, vm: &str);
    fn discovered(&mut self, discovery: &Discovery);
    fn step(&mut self, result: &StepResult);
    fn unavailable(&mut self, vm: &str, why: &Unavailable, commands: &[(StepKind, String)]);
    fn failed(&mut self, message: &str);
    fn finished(&mut self, summary: &Summary);
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    /// Passed, but slowly: a warning, not a failure (exit status 0).
    pub slow: usize,
    pub failed: usize,
    pub skipped: usize,
    pub exit: u8,
}

impl Summary {
    pub fn status(&self) -> &'static str {
        match self.exit {
            0 if self.slow > 0 => "slow",
            0 => "pass",
            1 => "fail",
            3 => "agent-unavailable",
            _ => "error",
        }
    }
}

/// Tells `sink` the run is over, and returns its summary.
pub fn finish(sink: &mut dyn Sink, summary: Summary) -> Summary {
    sink.finished(&summary);
    summary
}

/// The checklist on `vm` of an open connection, each event told to `sink`
/// as it happens (the CLI's report, or the setup wizard's page). Once
/// `cancel` is set it stops before the next step: a step already running
/// in the guest ends by its own timeout.
pub fn verify_vm(
    hypervisor: &Hypervisor,
    vm: &str,
    targets: &Targets,
    sink: &mut dyn Sink,
    cancel: &AtomicBool,
) -> Summary {
    let failed = |sink: &mut dyn Sink, message: String| {
        sink.failed(&message);
        finish(sink, Summary { exit: 2, ..Summary::default() })
    };
    let mut snapshot = match hypervisor.snapshot_blocking() {
        Ok(snapshot) => snapshot,
        Err(error) => return failed(sink, error.to_string()),
    };
    let Some(index) = snapshot.domains.iter().position(|domain| domain.name() == vm) else {
        return failed(
            sink,
            fill(&gettext("There is no VM named “{vm}” on this connection."), &[("vm", vm)]),
        );
    };
    if !snapshot.domains[index].state.is_active() {
        return failed(sink, fill(&gettext("“{vm}” is not running: start it, then verify."), &[("vm", vm)]));
    }
    let facts = match agent_facts(hypervisor, &snapshot.domains[index]) {
        Ok(facts) => facts,
        Err(why) => return by_hand(sink, &snapshot, index, &why, None, targets),
    };
    let network = facts.network.known().cloned();
    let exec = facts.agent.known().is_some_and(|info| info.allows_exec());
    snapshot.domains[index].guest = Fact::Known(Box::new(facts));
    let discovery = discover(&snapshot, index);
    sink.discovered(&discovery);
    if !exec {
        return by_hand(sink, &snapshot, index, &Unavailable::ExecDisabled, network.as_ref(), targets);
    }
    let Some(network) = network else {
        let reason = match &discovery.facts.network {
            Fact::Unknown(reason) => reason.clone(),
            Fact::Known(_) => String::new(),
        };
        return by_hand(sink, &snapshot, index, &Unavailable::Other(reason), None, targets);
    };

    let mut summary = Summary::default();
    let mut count = |sink: &mut dyn Sink, result: StepResult| {
        match result.verdict.status {
            Status::Pass => summary.passed += 1,
            Status::Slow => summary.slow += 1,
            Status::Skip => summary.skipped += 1,
            Status::Fail | Status::Timeout | Status::Error => summary.failed += 1,
        }
        sink.step(&result);
    };
    for (mac, _, _) in &discovery.cards {
        if cancel.load(Ordering::Relaxed) {
            return finish(sink, Summary { exit: 2, ..summary });
        }
        count(sink, address_step(hypervisor, vm, mac));
    }
    for step in checklist::plan(&network, targets) {
        if cancel.load(Ordering::Relaxed) {
            return finish(sink, Summary { exit: 2, ..summary });
        }
        count(sink, run_step(hypervisor, vm, &step));
    }
    summary.exit = u8::from(summary.failed > 0);
    finish(sink, summary)
}

/// What the guest says about itself through its agent (the setup wizard's
/// Guest step): the account `verify` prints before its checklist.
pub fn inspect(hypervisor: &Hypervisor, snapshot: &Snapshot, vm: &str) -> Result<Discovery, Unavailable> {
    let Some(index) = snapshot.domains.iter().position(|domain| domain.name() == vm) else {
        return Err(Unavailable::Other(fill(
            &gettext("There is no VM named “{vm}” on this connection."),
            &[("vm", vm)],
        )));
    };
    let facts = agent_facts(hypervisor, &snapshot.domains[index])?;
    let mut snapshot = snapshot.clone();
    snapshot.domains[index].guest = Fact::Known(Box::new(facts));
    Ok(discover(&snapshot, index))
}

/// The agent's own account of the guest; the error says why it cannot run
/// the checklist.
fn agent_facts(hypervisor: &Hypervisor, domain: &DomainSnapshot) -> Result<GuestFacts, Unavailable> {
    if domain.config.guest_agent_channel.is_none() {
        return Err(Unavailable::NoChannel);
    }
    match hypervisor.inspect_guest_blocking(domain.name()) {
        Ok(facts) => Ok(facts),
        Err(LibvirtError::GuestAgent { error, .. }) => Err(match error {
            AgentError::NoChannel => Unavailable::NoChannel,
            AgentError::NotRunning { detail } => Unavailable::NotRunning(detail),
            AgentError::Disabled { .. } => Unavailable::ExecDisabled,
            other => Unavailable::Other(other.to_string()),
        }),
        Err(other) => Err(Unavailable::Other(other.to_string())),
    }
}

/// Guest-side findings that the agent's addresses alone can raise.
const GUEST_AGENT_IDS: &[&str] = &["guest-ipv6-unrouted", "guest-address-outside-subnet"];

fn discover(snapshot: &Snapshot, index: usize) -> Discovery {
    let domain = &snapshot.domains[index];
    let vm = domain.name();
    let cards = domain
        .interfaces()
        .iter()
        .filter_map(|nic| {
            let mac = nic.mac.clone()?;
            let name = domain.guest_interface_name(&mac).map(str::to_owned);
            Some((mac, nic.network_name().map(str::to_owned), name))
        })
        .collect();
    // The guest-side findings (those the inspection adds, and IPv6).
    let findings = diagnose(snapshot)
        .into_iter()
        .filter(|finding| {
            finding.subject.concerns_vm(vm, &[])
                && (GUEST_INSPECTION_IDS.contains(&finding.id) || GUEST_AGENT_IDS.contains(&finding.id))
        })
        .collect();
    let facts = match &domain.guest {
        Fact::Known(facts) => (**facts).clone(),
        Fact::Unknown(reason) => GuestFacts {
            agent: Fact::Unknown(reason.clone()),
            os: Fact::Unknown(reason.clone()),
            network: Fact::Unknown(reason.clone()),
        },
    };
    Discovery { facts, cards, findings }
}

/// Step 1 for one card: its IPv4 addresses, as the agent reports them now.
fn address_step(hypervisor: &Hypervisor, vm: &str, mac: &str) -> StepResult {
    let started = Instant::now();
    let (target, verdict) = match hypervisor.guest_interfaces_blocking(vm) {
        Ok(interfaces) => {
            let found: Option<&GuestInterface> = interfaces
                .iter()
                .find(|iface| iface.mac.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(mac)));
            let target = found.map_or_else(|| mac.to_owned(), |iface| iface.name.clone());
            let addresses = found.map(|iface| iface.addresses.as_slice()).unwrap_or_default();
            (target, checklist::judge_address(found.map(|iface| iface.name.as_str()), addresses))
        }
        Err(error) => (mac.to_owned(), Verdict { status: Status::Error, detail: error.to_string() }),
    };
    StepResult {
        kind: StepKind::Address,
        target,
        argv: Vec::new(),
        timeout: StepKind::Address.timeout(),
        verdict,
        elapsed: started.elapsed(),
    }
}

fn run_step(hypervisor: &Hypervisor, vm: &str, step: &Step) -> StepResult {
    let started = Instant::now();
    let verdict = if step.decided.is_some() {
        checklist::judge(step, None, "", "")
    } else {
        // The guest's own `timeout` ends it first; this is the backstop.
        match hypervisor.run_in_guest_blocking(vm, step.argv.clone(), step.timeout + Duration::from_secs(5)) {
            Ok(output) => checklist::judge(step, output.exit_code, &output.stdout, &output.stderr),
            // A demo VM's recorded guest: not run, so not passed either.
            Err(LibvirtError::GuestAgent { error: AgentError::Recorded { .. }, .. }) => Verdict {
                status: Status::Error,
                detail: gettext(
                    "The demo's guest is a recording of a real guest, which holds no answer to this step.",
                ),
            },
            Err(LibvirtError::GuestAgent { error: AgentError::Timeout { .. }, .. }) => Verdict {
                status: Status::Timeout,
                detail: fill(
                    &gettext("No answer within {seconds} s."),
                    &[("seconds", &step.timeout.as_secs().to_string())],
                ),
            },
            Err(error) => Verdict { status: Status::Error, detail: error.to_string() },
        }
    };
    let elapsed = started.elapsed();
    StepResult {
        kind: step.kind,
        target: step.target.clone(),
        argv: step.argv.clone(),
        timeout: step.timeout,
        verdict: checklist::judge_time(step.kind, verdict, elapsed),
        elapsed,
    }
}

/// The checklist as commands to type in the guest.
fn by_hand(
    sink: &mut dyn Sink,
    snapshot: &Snapshot,
    index: usize,
    why: &Unavailable,
    network: Option<&GuestNetwork>,
    targets: &Targets,
) -> Summary {
    let domain = &snapshot.domains[index];
    // The first card's guest name, when the agent reported it.
    let card = domain.interfaces().iter().find_map(|nic| nic.mac.as_deref());
    let interface = card.and_then(|mac| domain.guest_interface_name(mac));
    let agent_answered =
        domain.addresses.iter().any(|(source, result)| *source == AddressSource::Agent && result.is_ok());
    // The guest's own gateway if known, else its libvirt network's address.
    let gateway: Option<IpAddr> = network.and_then(GuestNetwork::ipv4_gateway).or_else(|| {
        let network = domain.interfaces().iter().find_map(|nic| nic.network_name())?;
        snapshot.network(network)?.config.ips.iter().map(|ip| ip.address).find(IpAddr::is_ipv4)
    });
    let os = domain.guest.known().and_then(|facts| facts.os.known()).and_then(|os| os.id.clone());
    let commands =
        checklist::manual_commands(interface.filter(|_| agent_answered), gateway, os.as_deref(), targets);
    sink.unavailable(domain.name(), why, &commands);
    finish(sink, Summary { exit: 3, ..Summary::default() })
}
