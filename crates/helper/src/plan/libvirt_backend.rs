//! Planning the libvirt firewall backend fix: the edit of network.conf and
//! the restart of the daemon that runs libvirt's network driver, as far as
//! the host's service manager allows it.

use vmnet_doctor_core::host::FirewallBackend;
use vmnet_doctor_helper_api::LibvirtFirewallBackend;

use super::{PlanError, Planned, check_plain_file, with_steps};
use crate::changes::{self, Change};
use crate::exec::{self, Ran};
use crate::host::{self, Host, NetworkDaemon, NetworkStatus};

/// What libvirt's network driver is doing, for the backend fix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DriverState {
    /// systemd is the service manager: the only way the helper restarts a
    /// daemon.
    systemd: bool,
    daemon: Option<NetworkDaemon>,
    /// systemd says the daemon's unit is active (only asked under systemd).
    daemon_active: bool,
    networks: Vec<NetworkStatus>,
}

fn read_driver_state(host: &Host, ran: &Ran) -> Result<DriverState, PlanError> {
    let systemd = host.systemd_booted();
    let daemon = host.network_daemon();
    let daemon_active = match daemon {
        Some(daemon) if systemd => {
            let systemctl = changes::tool("systemctl").map_err(PlanError::HostCheck)?;
            // Exit status 0 only for an active unit; stdout names the state.
            let state = exec::run(&[systemctl, "is-active".to_owned(), daemon.unit().to_owned()], ran).stdout;
            matches!(state.trim(), "active" | "reloading" | "activating" | "refreshing")
        }
        _ => false,
    };
    let networks = host.libvirt_networks().map_err(PlanError::Failed)?.unwrap_or_default();
    Ok(DriverState { systemd, daemon, daemon_active, networks })
}

pub(super) fn plan_libvirt_backend(
    host: &Host,
    backend: LibvirtFirewallBackend,
    ran: &Ran,
) -> Result<Planned, PlanError> {
    // libvirt's network driver fails to start without its backend's tool.
    let needed = match backend {
        LibvirtFirewallBackend::Iptables => "iptables",
        LibvirtFirewallBackend::Nftables => "nft",
    };
    changes::tool(needed).map_err(|_| {
        PlanError::HostCheck(format!("libvirt's {backend} backend needs {needed}, which is not installed"))
    })?;
    let path = host.libvirt_network_conf();
    check_plain_file(&path, "change it by hand")?;
    let previous = host::read_optional(&path, changes::FILE_LIMIT).map_err(PlanError::Failed)?;
    let state = read_driver_state(host, ran)?;
    let (summary, changes) = libvirt_backend_changes(&path.to_string_lossy(), backend, previous, &state);
    with_steps(host, summary, changes)
}

/// The backend fix's changes and summary for a host in `state`.
fn libvirt_backend_changes(
    path: &str,
    backend: LibvirtFirewallBackend,
    previous: Option<String>,
    state: &DriverState,
) -> (String, Vec<Change>) {
    let wanted = match backend {
        LibvirtFirewallBackend::Iptables => FirewallBackend::Iptables,
        LibvirtFirewallBackend::Nftables => FirewallBackend::Nftables,
    };
    let configured = previous
        .as_deref()
        .map_or(Ok(FirewallBackend::Default), vmnet_doctor_host::libvirt::parse_firewall_backend);
    let file_in_place = configured == Ok(wanted);
    // Networks whose rules libvirt made with the other backend.
    let stale: Vec<String> = state
        .networks
        .iter()
        .filter_map(|network| {
            let used = network.firewall_backend.as_deref()?;
            (used != backend.as_str()).then(|| format!("“{}” ({used})", network.name))
        })
        .collect();
    let mut changes = Vec::new();
    let mut summary = if file_in_place {
        format!("{path} already sets firewall_backend = \"{backend}\".")
    } else {
        changes.push(Change::LibvirtNetworkConf { backend, previous });
        format!(
            "Sets libvirt's firewall backend to {backend}: firewall_backend = \"{backend}\" in {path}, every \
             other line of the file kept as it is. Reverting restores the file exactly as it was (or removes \
             it if it did not exist)."
        )
    };
    let needs_restart = !file_in_place || !stale.is_empty();
    let stale_text = if stale.is_empty() {
        String::new()
    } else {
        format!(" Active networks whose rules are from another backend now: {}.", stale.join(", "))
    };
    match state.daemon {
        _ if !needs_restart => {}
        Some(daemon) if state.systemd && state.daemon_active => {
            changes.push(Change::RestartNetworkDriver { daemon });
            summary.push_str(&format!(
                " Then restarts {} (systemctl try-restart {}): as it starts, libvirt removes its networks' \
                 firewall rules and makes them again with {backend}. Running VMs keep running.{stale_text}",
                daemon.name(),
                daemon.unit()
            ));
        }
        Some(daemon) if state.systemd => summary.push_str(&format!(
            " {} is not running now: it uses {backend} when it next starts.{stale_text}",
            daemon.unit()
        )),
        None => summary.push_str(&format!(
            " No libvirt daemon is running: libvirt uses {backend} when it starts.{stale_text}"
        )),
        Some(daemon) => summary.push_str(&format!(
            " This host is not run by systemd (there is no /run/systemd/system), so the helper does not restart \
             {0}: it restarts daemons only through systemd, never by signalling or starting them itself. \
             Restart {0} yourself (with your init system's service command); until then libvirt keeps its \
             networks' current firewall rules.{stale_text}",
            daemon.name()
        )),
    }
    (summary, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(name: &str, backend: Option<&str>) -> NetworkStatus {
        NetworkStatus {
            name: name.to_owned(),
            bridge: Some("virbr0".to_owned()),
            has_ipv6: false,
            firewall_backend: backend.map(str::to_owned),
            forward_mode: Some("nat".to_owned()),
            written: None,
        }
    }

    const CONF: &str = "/etc/libvirt/network.conf";

    #[test]
    fn under_systemd_an_active_network_daemon_is_restarted_after_the_edit() {
        let nftables = LibvirtFirewallBackend::Nftables;
        for daemon in [NetworkDaemon::Libvirtd, NetworkDaemon::Virtnetworkd] {
            let state = DriverState {
                systemd: true,
                daemon: Some(daemon),
                daemon_active: true,
                networks: vec![network("default", Some("iptables"))],
            };
            let (summary, changes) = libvirt_backend_changes(CONF, nftables, None, &state);
            assert_eq!(
                changes,
                [
                    Change::LibvirtNetworkConf { backend: nftables, previous: None },
                    Change::RestartNetworkDriver { daemon }
                ]
            );
            assert!(summary.contains(&format!("systemctl try-restart {}", daemon.unit())), "{summary}");
            // In place, but the networks still run the old backend: only the restart.
            let written = Some("firewall_backend = \"nftables\"\n".to_owned());
            let (_, changes) = libvirt_backend_changes(CONF, nftables, written.clone(), &state);
            assert_eq!(changes, [Change::RestartNetworkDriver { daemon }]);
            // Restarted: nothing left.
            let done = DriverState { networks: vec![network("default", Some("nftables"))], ..state.clone() };
            let (summary, changes) = libvirt_backend_changes(CONF, nftables, written, &done);
            assert!(changes.is_empty(), "{changes:?}");
            assert!(summary.contains("already sets"), "{summary}");
        }
    }

    #[test]
    fn a_daemon_systemd_does_not_run_now_is_not_restarted() {
        let state = DriverState {
            systemd: true,
            daemon: Some(NetworkDaemon::Virtnetworkd),
            daemon_active: false,
            networks: vec![network("default", Some("nftables"))],
        };
        let (summary, changes) =
            libvirt_backend_changes(CONF, LibvirtFirewallBackend::Iptables, Some(String::new()), &state);
        assert_eq!(
            changes,
            [Change::LibvirtNetworkConf {
                backend: LibvirtFirewallBackend::Iptables,
                previous: Some(String::new())
            }]
        );
        assert!(summary.contains("virtnetworkd.service is not running now"), "{summary}");
        assert!(summary.contains("“default” (nftables)"), "{summary}");
    }

    #[test]
    fn without_systemd_the_plan_says_to_restart_by_hand() {
        let state = DriverState {
            systemd: false,
            daemon: Some(NetworkDaemon::Libvirtd),
            daemon_active: false,
            networks: vec![network("default", Some("iptables")), network("other", None)],
        };
        let (summary, changes) =
            libvirt_backend_changes(CONF, LibvirtFirewallBackend::Nftables, None, &state);
        assert_eq!(changes.len(), 1, "only the file: {changes:?}");
        assert!(
            summary.contains("not run by systemd") && summary.contains("Restart libvirtd yourself"),
            "{summary}"
        );
        assert!(summary.contains("“default” (iptables)") && !summary.contains("“other”"), "{summary}");
    }
}
