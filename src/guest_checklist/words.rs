//! The checklist's words shared by `vmnet-doctor verify`'s report and the
//! setup wizard's pages: each step's title and label, and a guest's
//! network stack in a few words.

use gettextrs::{gettext, ngettext};
use vmnet_doctor_core::Fact;
use vmnet_doctor_core::guest::checklist::StepKind;
use vmnet_doctor_core::guest::{GuestFacts, GuestNetwork, NetworkStack, ServiceState};

use crate::i18n::fill;

/// The step's title: what it checks, with its target.
pub fn step_title(kind: StepKind, target: &str) -> String {
    let values = [("target", target)];
    match kind {
        StepKind::Address => fill(&gettext("IPv4 address on {target}"), &values),
        StepKind::Gateway if target.is_empty() => gettext("Ping the gateway"),
        StepKind::Gateway => fill(&gettext("Ping the gateway {target}"), &values),
        StepKind::Ping => fill(&gettext("Ping {target}"), &values),
        StepKind::Dns => fill(&gettext("Resolve {target}"), &values),
        StepKind::Http => fill(&gettext("Fetch {target}"), &values),
        StepKind::Packages if target.is_empty() => gettext("Update the package lists"),
        StepKind::Packages => fill(&gettext("Update the package lists ({target})"), &values),
    }
}

/// What a step checks, without its target: the by-hand list's comments.
pub fn step_label(kind: StepKind) -> String {
    match kind {
        StepKind::Address => gettext("An IPv4 address on the network card"),
        StepKind::Gateway => gettext("The gateway answers"),
        StepKind::Ping => gettext("A public address answers"),
        StepKind::Dns => gettext("A name resolves"),
        StepKind::Http => gettext("A web page loads"),
        StepKind::Packages => gettext("The package lists update"),
    }
}

/// The guest's system: "Debian GNU/Linux 13 (trixie), kernel 6.12…", or
/// why it is unknown. `verify` and the wizard show it alike.
pub fn os_text(facts: &GuestFacts) -> String {
    match &facts.os {
        Fact::Known(os) => {
            let name = os
                .pretty_name
                .clone()
                .unwrap_or_else(|| gettext("unknown distribution (no /etc/os-release)"));
            match &os.kernel_release {
                Some(kernel) => {
                    fill(&gettext("{name}, kernel {kernel}"), &[("name", &name), ("kernel", kernel)])
                }
                None => name,
            }
        }
        Fact::Unknown(reason) => fill(&gettext("unknown ({reason})"), &[("reason", reason)]),
    }
}

/// What configures the guest's network ([`stacks_text`]), or why it is
/// unknown.
pub fn network_text(facts: &GuestFacts) -> String {
    match &facts.network {
        Fact::Known(network) => stacks_text(network),
        Fact::Unknown(reason) => fill(&gettext("unknown ({reason})"), &[("reason", reason)]),
    }
}

/// "NetworkManager", or why none was found.
pub fn stacks_text(network: &GuestNetwork) -> String {
    let stacks = network.stacks();
    if stacks.is_empty() {
        let mut text = gettext("none of NetworkManager, systemd-networkd, netplan or ifupdown configures it");
        if network.has_tool("busybox") {
            text.push_str(&gettext(" (a busybox system)"));
        }
        return text;
    }
    let names: Vec<&str> = stacks.iter().map(|stack| stack.as_str()).collect();
    let mut text = names.join(", ");
    if stacks.contains(&NetworkStack::NetworkManager) {
        let count = network.profiles.known().map_or(0, Vec::len);
        text.push_str(&fill(
            &ngettext(
                " ({count} connection profile)",
                " ({count} connection profiles)",
                u32::try_from(count).unwrap_or(u32::MAX),
            ),
            &[("count", &count.to_string())],
        ));
    }
    if network.network_manager == ServiceState::Stopped && !stacks.contains(&NetworkStack::NetworkManager) {
        text.push_str(&gettext("; NetworkManager is installed but not running"));
    }
    text
}
