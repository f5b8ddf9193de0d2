//! `guest-agent-missing`: no `org.qemu.guest_agent.0` channel — the guide's
//! "IP not shown in virt-manager" row.

use gettextrs::gettext;

use super::common::is_qemu_like;
use crate::domain::GUEST_AGENT_CHANNEL_NAME;
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    snapshot
        .domains
        .iter()
        .filter(|domain| is_qemu_like(domain) && domain.config.guest_agent_channel.is_none())
        .map(|domain| Finding {
            id: "guest-agent-missing",
            severity: Severity::Warning,
            subject: Subject::Vm { name: domain.name().to_owned() },
            title: gettext("The VM has no guest agent channel"),
            explanation: gettext("Without the org.qemu.guest_agent.0 channel libvirt cannot talk to qemu-guest-agent in the guest: virt-manager shows no IP address for the VM (the guide's “IP not shown in virt-manager”), the guest's own interface names stay unknown, and nothing can be checked inside the guest. The fix adds the channel; it takes effect at the next boot of the VM. Then install and start the agent in the guest: “sudo apt install -y qemu-guest-agent” and “sudo systemctl enable --now qemu-guest-agent”."),
            evidence: vec![Evidence::new(format!("channel {GUEST_AGENT_CHANNEL_NAME}"), "absent")],
            fix: Some(Fix::AddGuestAgentChannel { vm: domain.name().to_owned() }),
        })
        .collect()
}
