//! The demo hypervisor's host. libvirt's test driver has no host network,
//! so the demo's host is a recording: `data/demo/host-facts.json`, what
//! `vmnet-doctor facts` read on a real host built in the firewall lab
//! with the demo's own networks, bridge, Docker rules and VPN
//! (`tests/firewall-lab/demo-host.sh`). The host's rules then judge it as
//! they judge any host, so the demo shows the host's situations too. Its
//! fixes are shown, never made ([`crate::fixes::ManualReason::DemoHost`]).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use gettextrs::gettext;
use serde_json::Value;
use vmnet_doctor_core::{Fact, HostFacts};

use crate::config;
use crate::i18n::fill;

/// The schema of `host-facts.json`.
const SCHEMA: &str = "vmnet-doctor-demo-host/1";

/// The host as recorded with one set of running networks. A host's
/// bridges, dnsmasq and firewall rules follow its running networks, and
/// the demo's fixes start some: the host was recorded for each set they
/// can reach (`tests/firewall-lab/demo-host.sh`).
struct State {
    running: BTreeSet<String>,
    facts: HostFacts,
}

/// The demo host's network while the networks `running` run, or why it is
/// not known: the recording is read once, as it never changes.
pub fn facts<'n>(running: impl IntoIterator<Item = &'n str>) -> Fact<Box<HostFacts>> {
    static STATES: OnceLock<Result<Vec<State>, String>> = OnceLock::new();
    let states = match STATES.get_or_init(read) {
        Ok(states) => states,
        Err(why) => return Fact::Unknown(why.clone()),
    };
    let running: BTreeSet<String> = running.into_iter().map(str::to_owned).collect();
    match states.iter().find(|state| state.running == running) {
        Some(state) => Fact::Known(Box::new(state.facts.clone())),
        None => Fact::Unknown(fill(
            &gettext(
                "The demo's host network was recorded with other networks running than now ({running}), so it is not checked.",
            ),
            &[("running", &running.into_iter().collect::<Vec<_>>().join(", "))],
        )),
    }
}

/// What the demo's host is, said wherever its host network is shown.
pub fn recording_note() -> String {
    gettext(
        "The demo's host network is a recording of a real host, with a VPN, Docker and a LAN bridge: its findings are real, and its fixes are shown, not made.",
    )
}

fn read() -> Result<Vec<State>, String> {
    let path = config::demo_host_facts_path();
    let unreadable = |detail: String| {
        fill(
            &gettext("The demo's recorded host network ({path}) cannot be read: {detail}"),
            &[("path", &path.display().to_string()), ("detail", &detail)],
        )
    };
    let text = std::fs::read_to_string(&path).map_err(|error| unreadable(error.to_string()))?;
    let mut recording: Value = serde_json::from_str(&text).map_err(|error| unreadable(error.to_string()))?;
    match recording["schema"].as_str() {
        Some(SCHEMA) => {}
        other => return Err(unreadable(format!("schema {}, not {SCHEMA}", other.unwrap_or("missing")))),
    }
    let Some(states) = recording["states"].as_array_mut() else {
        return Err(unreadable("no states".to_owned()));
    };
    states
        .iter_mut()
        .map(|state| {
            let running = state["running"]
                .as_array()
                .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .ok_or_else(|| unreadable("a state without its running networks".to_owned()))?;
            // What `vmnet-doctor facts` printed there.
            let facts =
                crate::remote_host::facts_of_document(state["document"].take()).map_err(&unreadable)?;
            Ok(State { running, facts })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use vmnet_doctor_core::{Fact, Finding, Snapshot, Subject, diagnose};
    use vmnet_doctor_libvirt::Hypervisor;

    /// The demo as `--demo` opens it, before its host is attached.
    fn demo_snapshot() -> Snapshot {
        Hypervisor::open_blocking(&crate::connections::demo_uri())
            .and_then(|hypervisor| hypervisor.snapshot_blocking())
            .unwrap_or_else(|error| panic!("the demo hypervisor did not open: {error}"))
    }

    /// The demo's findings, with its recorded host.
    fn demo_findings() -> Vec<Finding> {
        let mut snapshot = demo_snapshot();
        snapshot.host = super::facts(running(&snapshot));
        diagnose(&snapshot)
    }

    fn about<'f>(findings: &'f [Finding], id: &str, subject: &Subject) -> Option<&'f Finding> {
        findings.iter().find(|finding| finding.id == id && &finding.subject == subject)
    }

    fn running(snapshot: &Snapshot) -> Vec<&str> {
        snapshot.networks.iter().filter(|network| network.active).map(|network| network.name()).collect()
    }

    #[test]
    fn every_recorded_state_is_read_whole() {
        let base = ["default", "isolated", "routed-lab"];
        for extra in [&[][..], &["lab-nat"], &["nat-copy"], &["lab-nat", "nat-copy"]] {
            let running: Vec<&str> = base.iter().chain(extra).copied().collect();
            let Fact::Known(host) = super::facts(running.iter().copied()) else {
                panic!("no recording for {running:?}: {:?}", super::facts(running.iter().copied()))
            };
            let json = serde_json::to_string(&host).unwrap_or_default();
            // Every fact was known where it was recorded (root, the lab's host).
            assert!(!json.contains("\"Unknown\""), "a fact of the recording is unknown: {json}");
        }
        let unrecorded = super::facts(["default"]);
        assert!(
            matches!(&unrecorded, Fact::Unknown(why) if why.contains("(default)")),
            "a state not recorded is not checked: {unrecorded:?}"
        );
    }

    /// The recording was made from the demo's networks as they are: the
    /// same networks, and each running one's bridge holds its address.
    /// Red when the demo's networks changed without `demo-host.sh` again.
    #[test]
    fn the_recording_matches_the_demos_networks() {
        let snapshot = demo_snapshot();
        let Fact::Known(host) = super::facts(running(&snapshot)) else {
            panic!("the demo as loaded has no host")
        };
        let recorded: BTreeSet<&str> =
            host.dnsmasq.known().into_iter().flatten().map(|dnsmasq| dnsmasq.network.as_str()).collect();
        let demo: BTreeSet<&str> = snapshot.networks.iter().map(|network| network.name()).collect();
        assert_eq!(recorded, demo, "the recording's networks are not the demo's");
        for network in snapshot.networks.iter().filter(|network| network.active) {
            let bridge = network.config.bridge_name().unwrap_or_default();
            let address = network.config.ips.iter().find(|ip| !ip.is_ipv6()).map(|ip| ip.address);
            let link = host.link(bridge);
            assert!(
                link.is_some_and(|link| link.addresses.iter().any(|(held, _)| Some(*held) == address)),
                "{}: the recorded {bridge} is {link:?}, not holding {address:?}",
                network.name()
            );
        }
    }

    /// lab-nat started by its fix: the recording with lab-nat running
    /// shows its bridge, dnsmasq and rules, so only what is true of it on
    /// this host is said: it does not start at boot, and the VPN's MTU.
    #[test]
    fn a_network_started_on_the_demo_meets_its_recorded_bridge() {
        let mut snapshot = demo_snapshot();
        for network in snapshot.networks.iter_mut().filter(|network| network.name() == "lab-nat") {
            network.active = true;
        }
        snapshot.host = super::facts(running(&snapshot));
        assert!(matches!(snapshot.host, Fact::Known(_)), "{:?}", snapshot.host);
        let lab_nat = Subject::Network { name: "lab-nat".to_owned() };
        let about: Vec<_> = diagnose(&snapshot)
            .into_iter()
            .filter(|finding| finding.subject == lab_nat)
            .map(|finding| finding.id)
            .collect();
        assert_eq!(
            about,
            ["network-not-autostarted", "uplink-mtu-smaller"],
            "a started lab-nat on the demo's host"
        );
    }

    /// Issue 19's host situations show on the demo's VMs and networks, and
    /// the healthy reference VM stays healthy.
    #[test]
    fn the_demo_host_shows_its_situations() {
        let findings = demo_findings();
        let network = |name: &str| Subject::Network { name: name.to_owned() };
        let bridged = findings
            .iter()
            .find(|finding| finding.id == "bridged-forward-dropped")
            .unwrap_or_else(|| panic!("no bridged-forward-dropped in {findings:#?}"));
        assert!(
            matches!(&bridged.subject, Subject::Nic { vm, .. } if vm == "home-assistant"),
            "{bridged:#?}"
        );
        assert!(bridged.fix.is_some(), "Docker's bridged drop has the DOCKER-USER fix");

        let tied = about(&findings, "forward-dropped", &network("routed-lab"))
            .unwrap_or_else(|| panic!("routed-lab's VPN routing is not found: {findings:#?}"));
        assert!(tied.title.contains("enp3s0") && tied.title.contains("wg0"), "{tied:#?}");
        assert!(tied.explanation.contains("virsh net-edit routed-lab"), "{tied:#?}");
        assert!(tied.fix.is_none(), "opening the firewall is not the fix for a network tied to enp3s0");

        let mtu = about(&findings, "uplink-mtu-smaller", &network("routed-lab"))
            .unwrap_or_else(|| panic!("routed-lab's MTU is not found: {findings:#?}"));
        assert!(mtu.explanation.contains("wg0"), "{mtu:#?}");

        for healthy in ["default", "isolated"] {
            let about_it: Vec<_> =
                findings.iter().filter(|finding| finding.subject == network(healthy)).collect();
            assert!(about_it.is_empty(), "{healthy} should be healthy: {about_it:#?}");
        }
        for host_wide in ["no-uplink", "ipv4-forwarding-off", "firewall-unknown"] {
            assert!(findings.iter().all(|finding| finding.id != host_wide), "{host_wide} on the demo's host");
        }
        let fedora: Vec<_> = findings
            .iter()
            .filter(|finding| {
                matches!(&finding.subject, Subject::Vm { name } | Subject::Nic { vm: name, .. } if name == "fedora-workstation")
            })
            .collect();
        assert!(fedora.is_empty(), "the healthy reference VM has findings: {fedora:#?}");
    }
}
