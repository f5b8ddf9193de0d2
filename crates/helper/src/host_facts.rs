//! `InspectHost`: every host fact the diagnosis reads, read here as root
//! with the app's own reader (`vmnet-doctor-host`), for an app that cannot
//! see the host (the Flatpak sandbox). Read-only; the tools it runs are the
//! reader's fixed list, by absolute path, each with a timeout.

use vmnet_doctor_helper_api::is_valid_network_name;
use vmnet_doctor_helper_api::{HOST_FACTS_FORMAT, HostReport, MAX_HOST_NETWORKS, MAX_HOST_REPORT_BYTES};
use vmnet_doctor_host::{FirewalldSource, HostPaths, Sources, Tools};

use crate::host::Host;

/// The network names of a request, checked: they become file names under
/// `/run/libvirt/network`.
pub fn parse_networks(networks: &[String]) -> Result<Vec<String>, String> {
    if networks.len() > MAX_HOST_NETWORKS {
        return Err(format!("at most {MAX_HOST_NETWORKS} networks, not {}", networks.len()));
    }
    match networks.iter().find(|name| !is_valid_network_name(name)) {
        Some(bad) => {
            Err(format!("{:?} is not a libvirt network name", bad.chars().take(70).collect::<String>()))
        }
        None => Ok(networks.to_vec()),
    }
}

/// Reads the host's facts as the app would as root. Blocking.
pub fn read(host: &Host, networks: &[String]) -> Result<HostReport, String> {
    let sources = Sources {
        paths: HostPaths {
            proc: host.proc.clone(),
            sys: host.sys.clone(),
            etc: host.etc.clone(),
            run: host.run.clone(),
            var_lib: HostPaths::default().var_lib,
            usr: HostPaths::default().usr,
        },
        tools: Tools::System { privileged: true },
        firewalld: FirewalldSource::SystemBus,
    };
    let facts = vmnet_doctor_host::read_host_facts_with(&sources, networks);
    let facts =
        serde_json::to_string(&facts).map_err(|error| format!("cannot encode the host facts: {error}"))?;
    if facts.len() > MAX_HOST_REPORT_BYTES {
        return Err(format!(
            "the host facts take {} bytes, more than the {MAX_HOST_REPORT_BYTES} a report may",
            facts.len()
        ));
    }
    Ok(HostReport { format: HOST_FACTS_FORMAT, facts })
}

#[cfg(test)]
mod tests {
    use super::parse_networks;

    #[test]
    fn network_names_are_checked_before_they_become_paths() {
        let names = |list: &[&str]| list.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>();
        assert_eq!(parse_networks(&names(&["default", "lab-nat"])), Ok(names(&["default", "lab-nat"])));
        assert!(parse_networks(&names(&["default", "../../etc/shadow"])).is_err());
        assert!(parse_networks(&names(&["x"; 65])).is_err());
    }
}
