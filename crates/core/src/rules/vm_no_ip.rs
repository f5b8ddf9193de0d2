//! `vm-no-ip`: a running VM whose NIC has no IPv4 address from any source
//! (guest agent, DHCP leases, ARP).
//!
//! Runs after every other rule, because it names the finding that explains
//! the missing address when there is one. NICs whose missing address another
//! finding already explains fully (link down, missing or stopped network) are
//! skipped, and so are NICs no source can speak for: without an agent, only a
//! libvirt network's DHCP leases can tell "no address" from "not known".

use gettextrs::gettext;

use super::common::{NicRef, has_ipv4_dhcp, ipv4_subnets, is_running, libvirt_runs_bridge};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::host::Fact;
use crate::i18n::fill;
use crate::interface::{InterfaceType, LinkState};
use crate::snapshot::{AddressSource, DomainSnapshot, Snapshot};

/// `virsh domifaddr --source` wording.
fn source_name(source: AddressSource) -> &'static str {
    match source {
        AddressSource::Agent => "agent",
        AddressSource::Lease => "lease",
        AddressSource::Arp => "arp",
    }
}

fn answered(domain: &DomainSnapshot, wanted: AddressSource) -> bool {
    domain.addresses.iter().any(|(source, result)| *source == wanted && result.is_ok())
}

/// Whether some source could have reported an address for this NIC, so
/// that silence means "none".
fn knowable(snapshot: &Snapshot, nic: NicRef<'_>) -> bool {
    if nic.nic.link_state == LinkState::Down {
        return false;
    }
    match &nic.nic.kind {
        InterfaceType::Network => {
            let Some(network) = nic.nic.network_name().and_then(|name| snapshot.network(name)) else {
                return false;
            };
            if !network.active {
                return false;
            }
            // A network with addresses, none of them IPv4: IPv6 only, by design.
            if !network.config.ips.is_empty() && ipv4_subnets(&network.config).is_empty() {
                return false;
            }
            answered(nic.domain, AddressSource::Agent)
                || (libvirt_runs_bridge(&network.config)
                    && has_ipv4_dhcp(&network.config)
                    && answered(nic.domain, AddressSource::Lease))
        }
        InterfaceType::Bridge
        | InterfaceType::Direct
        | InterfaceType::User
        | InterfaceType::Ethernet
        | InterfaceType::Hostdev
        | InterfaceType::VhostUser
        | InterfaceType::Vdpa => answered(nic.domain, AddressSource::Agent),
        // Tunnels, null, vds and unknown types: no address is expected.
        _ => false,
    }
}

/// Host findings that mean DHCP requests from a bridge are dropped.
const DHCP_BLOCKERS: &[&str] = &["ufw-blocks-dhcp-dns", "dhcp-dns-dropped", "firewalld-zone"];

/// Earlier findings that explain why this NIC has no address.
pub(super) fn causes<'f>(nic: NicRef<'_>, earlier: &'f [Finding]) -> Vec<&'f Finding> {
    let subject = nic.subject();
    let network = nic.nic.network_name();
    earlier
        .iter()
        .filter(|finding| match &finding.subject {
            Subject::Nic { .. } => finding.subject == subject && finding.severity == Severity::Error,
            Subject::Network { name } => {
                network == Some(name.as_str())
                    && (finding.severity == Severity::Error || finding.id == "network-no-dhcp")
            }
            // Only a firewall that drops DHCP on the host's input keeps an
            // address away (forwarding and routed drops do not); user-mode
            // traffic never meets the host firewall.
            Subject::Host => DHCP_BLOCKERS.contains(&finding.id) && nic.nic.kind != InterfaceType::User,
            Subject::Connection | Subject::Vm { .. } => false,
        })
        .collect()
}

pub(crate) fn check(snapshot: &Snapshot, earlier: &[Finding]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for domain in snapshot.domains.iter().filter(|domain| is_running(domain) && !domain.addresses.is_empty())
    {
        // This VM's own NICs only: walking every VM's NICs for each VM
        // made the rule quadratic in the size of the host.
        let considered: Vec<NicRef<'_>> = domain
            .interfaces()
            .iter()
            .enumerate()
            .map(|(index, nic)| NicRef { domain, nic, index })
            .filter(|nic| knowable(snapshot, *nic))
            .collect();
        let missing: Vec<NicRef<'_>> = considered
            .iter()
            .copied()
            .filter(|nic| {
                let mac = nic.nic.mac.as_deref().unwrap_or_default();
                !domain.addresses_for(mac).iter().any(|(_, address)| address.ip.is_ipv4())
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        let vm = domain.name();
        let first = missing.first().map(NicRef::label).unwrap_or_default();
        let values = [("vm", vm), ("mac", first.as_str())];
        let title = if missing.len() == considered.len() {
            fill(&gettext("The guest has no IPv4 address"), &values)
        } else if missing.len() == 1 {
            fill(&gettext("Network card {mac} has no IPv4 address"), &values)
        } else {
            fill(&gettext("Some network cards have no IPv4 address"), &values)
        };
        let labels: Vec<String> = missing.iter().map(NicRef::label).collect();
        let mut explanation = fill(
            &gettext(
                "“{vm}” is running, but neither the guest agent, nor libvirt's DHCP leases, nor the host's ARP table report an IPv4 address for {nics}.",
            ),
            &[("vm", vm), ("nics", &labels.join(", "))],
        );
        let mut evidence = Vec::new();
        let mut all_causes: Vec<&Finding> = Vec::new();
        for nic in &missing {
            let label = nic.label();
            evidence.push(Evidence::new(format!("ipv4 address of {label}"), "none"));
            if let Some(name) = domain.guest_interface_name(&label) {
                evidence.push(Evidence::new(format!("guest interface of {label}"), name));
            }
            for cause in causes(*nic, earlier) {
                if !all_causes.iter().any(|known| std::ptr::eq(*known, cause)) {
                    all_causes.push(cause);
                }
            }
        }
        for (source, result) in &domain.addresses {
            let value = match result {
                Ok(_) => "answered".to_owned(),
                Err(error) => error.clone(),
            };
            evidence.push(Evidence::new(format!("virsh domifaddr --source {}", source_name(*source)), value));
        }
        explanation.push(' ');
        if all_causes.is_empty() {
            match &snapshot.host {
                Fact::Known(_) => explanation.push_str(&gettext("Nothing on the host explains it.")),
                Fact::Unknown(reason) => explanation.push_str(&fill(
                    &gettext(
                        "The host itself was not checked ({reason}), so a cause there is not ruled out.",
                    ),
                    &[("reason", reason)],
                )),
            }
            explanation.push(' ');
            explanation.push_str(&gettext("Look inside the guest: is the interface up, and does it ask for DHCP? Find its name with “ip a” (never assume eth0), then with NetworkManager: “sudo nmcli connection add type ethernet ifname <interface> con-name kvm-dhcp ipv4.method auto” and “sudo nmcli connection up kvm-dhcp”. A guest with a static address shows up only through the guest agent, or once it has talked to the host."));
        } else {
            let titles: Vec<String> = all_causes.iter().map(|cause| format!("“{}”", cause.title)).collect();
            explanation.push_str(&fill(
                &gettext("Likely cause, found on the host: {causes}."),
                &[("causes", &titles.join("; "))],
            ));
            for cause in &all_causes {
                evidence.push(Evidence::new("explained by", format!("{} ({})", cause.id, cause.subject)));
            }
        }
        findings.push(Finding {
            id: "vm-no-ip",
            severity: Severity::Error,
            subject: Subject::Vm { name: vm.to_owned() },
            title,
            explanation,
            evidence,
            fix: None,
        });
    }
    findings
}
