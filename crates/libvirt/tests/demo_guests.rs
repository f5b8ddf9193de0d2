//! The demo's recorded guests (`data/demo/guests/`, replayed by
//! `agent/recorded.rs`) through libvirt's real test driver: each recording
//! is the lab's captures unchanged, a demo VM that names one answers its
//! agent's commands from it with its own card, and anything it holds no
//! answer to (every change among them) is refused as a recording.

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use vmnet_doctor_core::{AddressSource, Fact};
use vmnet_doctor_libvirt::agent::AgentError;
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError, LibvirtFix};

mod support;

type TestResult = Result<(), Box<dyn Error>>;

const OFFICE_MAC: &str = "52:54:00:8e:31:5a";

fn read_json(relative: &str) -> Result<Value, Box<dyn Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

fn is_recorded(result: &Result<impl std::fmt::Debug, LibvirtError>) -> bool {
    matches!(result, Err(LibvirtError::GuestAgent { error: AgentError::Recorded { .. }, .. }))
}

/// Nothing in a recording is edited: `tools/demo-guests.py` copies each
/// capture whole. Run it again after capturing the fixtures again.
#[test]
fn each_recording_is_the_labs_captures_unchanged() -> TestResult {
    for name in ["debian13-static-profile", "debian13-no-profile"] {
        let recording = read_json(&format!("../../data/demo/guests/{name}.json"))?;
        assert_eq!(recording["schema"], "vmnet-doctor-demo-guest/1", "{name}");
        let entries = recording["recorded"].as_array().ok_or("recorded")?;
        assert!(entries.len() >= 4, "{name}: info, osinfo, interfaces and the probe");
        for entry in entries {
            let fixture = entry["fixture"].as_str().ok_or("fixture")?;
            let mut copy = entry.clone();
            let fields = copy.as_object_mut().ok_or("entry")?;
            fields.remove("fixture");
            fields.remove("execute");
            let captured = read_json(&format!("../core/tests/fixtures/guest/{fixture}"))?;
            assert_eq!(
                copy, captured,
                "{name}: {fixture} differs from its capture: run tools/demo-guests.py"
            );
        }
    }
    Ok(())
}

#[test]
fn a_recorded_guest_answers_as_its_agent_did_with_the_vms_own_card() -> TestResult {
    let hypervisor = Hypervisor::open_blocking(&support::demo_uri())?;
    let snapshot = hypervisor.snapshot_blocking()?;
    let office = snapshot.domain("debian13-office").ok_or("debian13-office")?;
    let channel = office.config.guest_agent_channel.as_ref().ok_or("agent channel")?;
    assert_eq!(channel.state.as_deref(), Some("connected"), "the recording answers as a connected agent");
    let (_, agent) =
        office.addresses.iter().find(|(source, _)| *source == AddressSource::Agent).ok_or("agent")?;
    let card = agent
        .as_ref()
        .map_err(String::as_str)?
        .iter()
        .find(|iface| iface.name == "enp1s0")
        .ok_or("enp1s0")?;
    assert_eq!(card.mac.as_deref(), Some(OFFICE_MAC), "the recorded card is the VM's card");
    assert_eq!(card.addresses.first().map(|a| a.ip.to_string()).as_deref(), Some("192.168.1.50"));
    // The test driver would invent a lease; the recording holds none.
    for source in [AddressSource::Lease, AddressSource::Arp] {
        let (_, answer) = office.addresses.iter().find(|(s, _)| *s == source).ok_or("source")?;
        assert!(answer.is_err(), "{source:?}: {answer:?}");
    }

    let facts = hypervisor.inspect_guest_blocking("debian13-office")?;
    let Fact::Known(network) = &facts.network else {
        return Err(format!("probe: {:?}", facts.network).into());
    };
    let profiles = network.profiles.known().ok_or("profiles")?;
    assert!(profiles.iter().any(|profile| profile.name == "office"), "{profiles:?}");
    assert!(matches!(&facts.os, Fact::Known(_)), "{:?}", facts.os);
    let interfaces = hypervisor.guest_interfaces_blocking("debian13-office")?;
    assert!(interfaces.iter().any(|iface| iface.mac.as_deref() == Some(OFFICE_MAC)), "{interfaces:?}");

    // A VM of the demo without a recording is still the test driver's:
    // no agent at all.
    let fedora = hypervisor.inspect_guest_blocking("fedora-workstation");
    assert!(matches!(fedora, Err(LibvirtError::GuestAgent { .. })) && !is_recorded(&fedora), "{fedora:?}");
    Ok(())
}

#[test]
fn a_recorded_guest_refuses_what_it_holds_no_answer_to_and_changes_nothing() -> TestResult {
    let hypervisor = Hypervisor::open_blocking(&support::demo_uri())?;
    let ping = hypervisor.run_in_guest_blocking(
        "debian13-office",
        vec!["ping".into(), "-c".into(), "1".into(), "192.168.1.1".into()],
        Duration::from_secs(5),
    );
    assert!(is_recorded(&ping), "{ping:?}");
    for fix in [
        LibvirtFix::CreateGuestDhcpProfile { vm: "debian13-office".into(), interface: "enp1s0".into() },
        LibvirtFix::CreateGuestDhcpProfile { vm: "debian13-minimal".into(), interface: "enp1s0".into() },
        LibvirtFix::DisableGuestIpv6 { vm: "debian13-minimal".into() },
    ] {
        let planned = hypervisor.preview_fix_blocking(fix.clone());
        assert!(is_recorded(&planned), "{fix:?}: {planned:?}");
    }
    Ok(())
}
