//! `nic-user-mode`: user-mode networking (SLIRP or passt), which the guide
//! calls "slower, limited".

use gettextrs::gettext;

use super::common::{DEFAULT_NETWORK, is_session, nics};
use crate::finding::{Evidence, Finding, Fix, Severity};
use crate::i18n::fill;
use crate::interface::InterfaceType;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let session = is_session(&snapshot.uri);
    let default_exists = snapshot.network(DEFAULT_NETWORK).is_some();
    let mut findings = Vec::new();
    for nic in nics(snapshot).filter(|nic| nic.nic.kind == InterfaceType::User) {
        let label = nic.label();
        let values = [("mac", label.as_str()), ("vm", nic.vm())];
        let passt = nic.nic.uses_passt();
        let mut explanation = if passt {
            gettext(
                "User-mode networking through passt: faster and more complete than the old SLIRP, but still limited. The guest gets its network from a process on the host instead of a bridge: only the ports forwarded in the card's settings reach it from outside, and it is not on virbr0 with the other VMs.",
            )
        } else {
            gettext(
                "User-mode networking (SLIRP) is slower and limited: QEMU relays the guest's connections itself, so nothing on the host or the LAN can connect to the guest, ping often fails although the web works, and the guest is not on virbr0 with the other VMs.",
            )
        };
        explanation.push(' ');
        let fix = if session {
            explanation.push_str(&gettext("On a qemu:///session connection that is often the only choice: a libvirt run as your user cannot create bridges or NAT, and joining a bridge needs qemu-bridge-helper set up by an administrator. Use the qemu:///system connection for NAT or bridged networking."));
            None
        } else if default_exists {
            explanation.push_str(&gettext(
                "The guide recommends the “default” NAT network instead; the fix moves the card there.",
            ));
            nic.nic.mac.clone().map(|mac| Fix::MoveNicToNetwork {
                vm: nic.vm().to_owned(),
                mac,
                network: DEFAULT_NETWORK.to_owned(),
            })
        } else {
            explanation.push_str(&gettext("The guide recommends a NAT network (“default”) instead."));
            None
        };
        let mut evidence = vec![Evidence::new("interface type", "user")];
        if let Some(backend) = &nic.nic.backend {
            evidence.push(Evidence::new("interface backend type", backend.as_str()));
        }
        if session {
            evidence.push(Evidence::new("uri", snapshot.uri.as_str()));
        }
        findings.push(Finding {
            id: "nic-user-mode",
            severity: if session { Severity::Info } else { Severity::Warning },
            subject: nic.subject(),
            title: if passt {
                fill(&gettext("Network card {mac} uses user-mode networking (passt)"), &values)
            } else {
                fill(&gettext("Network card {mac} uses user-mode networking"), &values)
            },
            explanation,
            evidence,
            fix,
        });
    }
    findings
}
