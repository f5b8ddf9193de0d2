//! The wizard's Guest and Verify steps run what `vmnet-doctor verify`
//! runs (`crate::guest_checklist`), on a blocking thread; this turns its events
//! into messages for the wizard page, one as each arrives.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use vmnet_doctor_core::Snapshot;
use vmnet_doctor_core::guest::checklist::{StepKind, Targets};
use vmnet_doctor_libvirt::Hypervisor;

use crate::guest_checklist::{self, Discovery, Sink, StepResult, Summary, Unavailable};

/// Why the agent cannot do it, in the words and the advice the CLI uses.
#[derive(Debug, Clone)]
pub struct AgentTrouble {
    /// `no-channel`, `not-running`, `exec-disabled` or `error`.
    pub reason: &'static str,
    pub message: String,
    pub advice: String,
}

impl AgentTrouble {
    pub fn new(vm: &str, why: &Unavailable) -> Self {
        Self { reason: why.as_str(), message: why.message(vm), advice: why.advice() }
    }
}

#[derive(Debug)]
pub enum CheckEvent {
    Discovered(Box<Discovery>),
    Step(StepResult),
    /// The checklist cannot run through the agent: the commands to type instead.
    ByHand {
        trouble: AgentTrouble,
        commands: Vec<(StepKind, String)>,
    },
    Failed(String),
    Finished(Summary),
}

/// Forwards `verify`'s events to the wizard.
struct Forward<F: FnMut(CheckEvent)> {
    send: F,
}

impl<F: FnMut(CheckEvent)> Sink for Forward<F> {
    fn started(&mut self, _uri: &str, _vm: &str) {}

    fn discovered(&mut self, discovery: &Discovery) {
        (self.send)(CheckEvent::Discovered(Box::new(discovery.clone())));
    }

    fn step(&mut self, result: &StepResult) {
        (self.send)(CheckEvent::Step(result.clone()));
    }

    fn unavailable(&mut self, vm: &str, why: &Unavailable, commands: &[(StepKind, String)]) {
        (self.send)(CheckEvent::ByHand { trouble: AgentTrouble::new(vm, why), commands: commands.to_vec() });
    }

    fn failed(&mut self, message: &str) {
        (self.send)(CheckEvent::Failed(message.to_owned()));
    }

    fn finished(&mut self, summary: &Summary) {
        (self.send)(CheckEvent::Finished(*summary));
    }
}

/// Runs the checklist in `vm`; blocks until it ends or `cancel` stops it.
pub fn run_checklist(
    hypervisor: &Hypervisor,
    vm: &str,
    targets: &Targets,
    cancel: &AtomicBool,
    send: impl FnMut(CheckEvent),
) {
    let mut sink = Forward { send };
    guest_checklist::verify_vm(hypervisor, vm, targets, &mut sink, cancel);
}

/// Looks inside `vm` through its agent; blocks.
pub fn inspect_guest(
    hypervisor: &Arc<Hypervisor>,
    snapshot: &Snapshot,
    vm: &str,
) -> Result<Discovery, AgentTrouble> {
    guest_checklist::inspect(hypervisor, snapshot, vm).map_err(|why| AgentTrouble::new(vm, &why))
}

/// The targets the user typed, the guide's where a field is empty or
/// the gateway is not an address.
pub fn targets(gateway: &str, ping: &str, dns: &str, http: &str) -> Targets {
    let mut targets = Targets { gateway: gateway.trim().parse::<IpAddr>().ok(), ..Targets::default() };
    for (field, value) in [(&mut targets.ping, ping), (&mut targets.dns, dns), (&mut targets.http, http)] {
        if !value.trim().is_empty() {
            value.trim().clone_into(field);
        }
    }
    targets
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_core::guest::checklist::{DEFAULT_DNS, DEFAULT_HTTP, DEFAULT_PING};

    use super::*;

    #[test]
    fn empty_fields_keep_the_guides_targets() {
        let targets = targets("", " ", "", "");
        assert_eq!(targets, Targets::default());
        assert_eq!((targets.ping.as_str(), targets.dns.as_str()), (DEFAULT_PING, DEFAULT_DNS));
        assert_eq!(targets.http, DEFAULT_HTTP);
    }

    #[test]
    fn typed_fields_replace_them() {
        let targets = targets("10.0.0.1", "192.0.2.1", "example.org ", "http://example.org/");
        assert_eq!(targets.gateway, Some(IpAddr::from([10, 0, 0, 1])));
        assert_eq!(targets.ping, "192.0.2.1");
        assert_eq!(targets.dns, "example.org");
        assert_eq!(targets.http, "http://example.org/");
    }

    #[test]
    fn without_an_agent_the_checklist_comes_as_commands() {
        // rocky9 in the demo has no guest agent channel.
        let uri = crate::connections::demo_uri();
        let hypervisor = Hypervisor::open_blocking(&uri)
            .unwrap_or_else(|error| panic!("the demo hypervisor did not open: {error}"));
        let mut events = Vec::new();
        run_checklist(&hypervisor, "rocky9", &Targets::default(), &AtomicBool::new(false), |event| {
            events.push(event);
        });
        let Some(CheckEvent::ByHand { trouble, commands }) = events.first() else {
            panic!("expected the commands to type, got {events:?}");
        };
        assert_eq!(trouble.reason, "no-channel");
        assert!(
            commands.iter().any(|(kind, command)| *kind == StepKind::Ping && command.contains(DEFAULT_PING))
        );
        assert!(matches!(events.last(), Some(CheckEvent::Finished(summary)) if summary.exit == 3));
    }
}
