//! `dnsmasq-port-taken`: a stopped libvirt network whose dnsmasq could not
//! bind its ports, because another program already holds DNS (53) or the
//! DHCP server port (67) on every address — a second dnsmasq, BIND, a
//! resolver with an extra stub listener — so starting the network fails
//! ("failed to create listening socket … Address already in use").
//!
//! From the host's listening sockets (`/proc/net`), named by program when
//! they can be seen (the helper sees every process's).

use gettextrs::gettext;

use super::common::{has_ipv4_dhcp, host, libvirt_runs_bridge, users, users_evidence};
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::host::Listener;
use crate::i18n::fill;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot) -> Vec<Finding> {
    let Some(listeners) = host(snapshot).and_then(|facts| facts.listeners.known()) else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for network in snapshot.networks.iter().filter(|network| !network.active) {
        let config = &network.config;
        if !libvirt_runs_bridge(config) || config.ips.is_empty() {
            continue;
        }
        let dhcp = has_ipv4_dhcp(config);
        // dnsmasq binds DNS on the network's own addresses; a socket on
        // every address (0.0.0.0, or :: which takes IPv4 too unless v6only)
        // or on one of them leaves it nothing. Its DHCP socket is on
        // 0.0.0.0:67 and shared by every dnsmasq (each libvirt network has
        // one), so there only another program counts, and only when the
        // socket's owner can be seen.
        let foreign_dhcp =
            |socket: &Listener| socket.program.as_deref().is_some_and(|program| program != "dnsmasq");
        let blocking: Vec<&Listener> = listeners
            .iter()
            .filter(|socket| {
                socket.port == 53
                    || (dhcp && socket.port == 67 && socket.protocol == "udp" && foreign_dhcp(socket))
            })
            .filter(|socket| {
                socket.on_all_addresses() || config.ips.iter().any(|ip| ip.address == socket.address)
            })
            // Another running libvirt network on the same address (a copy
            // whose subnet was never changed) has its own dnsmasq there:
            // that is the subnet collision's matter, not a program to move.
            .filter(|socket| !held_by_another_network(snapshot, network.name(), socket))
            .collect();
        if blocking.is_empty() {
            continue;
        }
        let name = network.name();
        let holders: Vec<String> = blocking.iter().map(|socket| holder(socket)).collect();
        let mut unique: Vec<&String> = Vec::new();
        for holder in &holders {
            if !unique.contains(&holder) {
                unique.push(holder);
            }
        }
        let unique: Vec<&str> = unique.into_iter().map(String::as_str).collect();
        let holder_text = unique.join(", ");
        let users = users(snapshot, name);
        let values = [("name", name), ("holders", holder_text.as_str())];
        let mut evidence: Vec<Evidence> = blocking
            .iter()
            .zip(&holders)
            .map(|(socket, holder)| {
                Evidence::new(
                    format!("{} {}:{}", socket.protocol, socket.address, socket.port),
                    holder.clone(),
                )
            })
            .collect();
        if !users.is_empty() {
            evidence.push(users_evidence(&users));
        }
        findings.push(Finding {
            id: "dnsmasq-port-taken",
            severity: if network.autostart || !users.is_empty() { Severity::Error } else { Severity::Warning },
            subject: Subject::Network { name: name.to_owned() },
            title: fill(&gettext("Network “{name}” cannot start: its DNS or DHCP port is taken"), &values),
            explanation: fill(
                &gettext("libvirt starts a dnsmasq for the network that answers DNS (port 53) and DHCP (port 67) on the network’s own addresses, but {holders} already holds the port on every address, so dnsmasq fails (“Address already in use”) and the network does not start. Make that program listen on its own addresses only: a second dnsmasq with bind-interfaces (or bind-dynamic) and except-interface=virbr*, BIND with listen-on naming its addresses, systemd-resolved without an extra stub listener on 0.0.0.0. Then start the network."),
                &values,
            ),
            evidence,
            fix: None,
        });
    }
    findings
}

/// Whether `socket` is on an address of another running libvirt network
/// than `name`, whose own dnsmasq binds it.
fn held_by_another_network(snapshot: &Snapshot, name: &str, socket: &Listener) -> bool {
    !socket.on_all_addresses()
        && snapshot.networks.iter().any(|other| {
            other.active
                && other.name() != name
                && other.config.ips.iter().any(|ip| ip.address == socket.address)
        })
}

/// `dnsmasq (PID 812)`, or what is known when the owner cannot be seen.
fn holder(socket: &Listener) -> String {
    match (&socket.program, socket.pid) {
        (Some(program), Some(pid)) => {
            fill(&gettext("{program} (PID {pid})"), &[("program", program), ("pid", &pid.to_string())])
        }
        (Some(program), None) => program.clone(),
        _ => gettext("a program of another user (the helper can name it)"),
    }
}
