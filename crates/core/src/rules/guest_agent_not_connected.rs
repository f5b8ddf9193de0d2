//! `guest-agent-not-connected`: the VM runs and has the agent channel, but
//! no agent answers on it.

use gettextrs::gettext;

use super::common::is_running;
use crate::domain::GUEST_AGENT_CHANNEL_NAME;
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::snapshot::{AddressSource, Snapshot};

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let mut findings = Vec::new();
    for domain in snapshot.domains.iter().filter(|domain| is_running(domain)) {
        let Some(channel) = &domain.config.guest_agent_channel else {
            continue;
        };
        let state = channel.state.as_deref();
        let agent_error = domain.addresses.iter().find_map(|(source, result)| match result {
            Err(error) if *source == AddressSource::Agent => Some(error.as_str()),
            _ => None,
        });
        // "connected" means the agent opened its port: it runs, whatever one
        // command said. Without a state (older libvirt, the test driver) the
        // failed agent query is the only sign.
        let not_connected = match state {
            Some("connected") => false,
            Some("disconnected") => true,
            _ => agent_error.is_some(),
        };
        if !not_connected {
            continue;
        }
        let mut evidence = vec![Evidence::new(
            format!("channel {GUEST_AGENT_CHANNEL_NAME} state"),
            state.unwrap_or("unknown"),
        )];
        if let Some(error) = agent_error {
            evidence.push(Evidence::new("virsh domifaddr --source agent", error));
        }
        findings.push(Finding {
            id: "guest-agent-not-connected",
            severity: Severity::Warning,
            subject: Subject::Vm { name: domain.name().to_owned() },
            title: gettext("The guest agent does not answer"),
            explanation: gettext("The VM has the guest agent channel, but no agent answers on it: qemu-guest-agent is not installed or not running in the guest (or the guest is still booting). Until it answers, virt-manager shows no IP address for the VM and nothing can be checked inside the guest. Install and start it in the guest: “sudo apt install -y qemu-guest-agent” and “sudo systemctl enable --now qemu-guest-agent” (“sudo dnf install qemu-guest-agent” on Fedora; the virtio-win guest tools on Windows)."),
            evidence,
            fix: None,
        });
    }
    findings
}
