//! The demo hypervisor's host. libvirt's test driver has no host network,
//! so the demo's host is a recording: `data/demo/host-facts.json`, what
//! `vmnet-doctor facts` read on a real host built in the firewall lab
//! with the demo's own networks, bridge, Docker rules and VPN
//! (`tests/firewall-lab/demo-host.sh`). The host's rules then judge it as
//! they judge any host, so the demo shows the host's situations too. Its
//! fixes are shown, never made ([`crate::fixes::ManualReason::DemoHost`]).

use std::sync::OnceLock;

use gettextrs::gettext;
use vmnet_doctor_core::{Fact, HostFacts};

use crate::config;
use crate::i18n::fill;

/// The recording, read once: it never changes while the app runs.
pub fn facts() -> Fact<Box<HostFacts>> {
    static FACTS: OnceLock<Result<HostFacts, String>> = OnceLock::new();
    match FACTS.get_or_init(read) {
        Ok(facts) => Fact::Known(Box::new(facts.clone())),
        Err(why) => Fact::Unknown(why.clone()),
    }
}

/// What the demo's host is, said wherever its host network is shown.
pub fn recording_note() -> String {
    gettext(
        "The demo's host network is a recording of a real host, with a VPN, Docker and a LAN bridge: its findings are real, and its fixes are shown, not made.",
    )
}

fn read() -> Result<HostFacts, String> {
    let path = config::demo_host_facts_path();
    let unreadable = |detail: String| {
        fill(
            &gettext("The demo's recorded host network ({path}) cannot be read: {detail}"),
            &[("path", &path.display().to_string()), ("detail", &detail)],
        )
    };
    let text = std::fs::read_to_string(&path).map_err(|error| unreadable(error.to_string()))?;
    crate::remote_host::parse_facts(&text).map_err(unreadable)
}

#[cfg(test)]
mod tests {
    use vmnet_doctor_core::{Fact, Finding, Subject, diagnose};
    use vmnet_doctor_libvirt::Hypervisor;

    /// The demo's findings, with its recorded host.
    fn demo_findings() -> Vec<Finding> {
        let mut snapshot = Hypervisor::open_blocking(&crate::connections::demo_uri())
            .and_then(|hypervisor| hypervisor.snapshot_blocking())
            .unwrap_or_else(|error| panic!("the demo hypervisor did not open: {error}"));
        snapshot.host = super::facts();
        diagnose(&snapshot)
    }

    fn about<'f>(findings: &'f [Finding], id: &str, subject: &Subject) -> Option<&'f Finding> {
        findings.iter().find(|finding| finding.id == id && &finding.subject == subject)
    }

    #[test]
    fn the_recording_is_read_whole() {
        let Fact::Known(host) = super::facts() else {
            panic!("the recording did not read: {:?}", super::facts())
        };
        let json = serde_json::to_string(&host).unwrap_or_default();
        // Every fact was known where it was recorded (root, the lab's host).
        assert!(!json.contains("\"Unknown\""), "a fact of the recording is unknown: {json}");
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
