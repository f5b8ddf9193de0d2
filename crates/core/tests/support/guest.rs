//! The guest-side fixtures (`tests/fixtures/guest/`, captured from the
//! lab's real guests by tests/lab/capture_guest_fixtures.py) as the model:
//! agent answers, probe outputs, command outputs, and running VMs built
//! from the lab's own domain XML with those answers.
//!
//! What the lab does not record is set by hand and says so: the run state
//! and the agent channel's live `state='connected'` (QEMU's live XML).

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::net::IpAddr;
use std::path::Path;

use serde_json::Value;
use vmnet_doctor_core::guest::{AgentInfo, GuestFacts, GuestOs, parse_probe};
use vmnet_doctor_core::{
    AddressSource, DomainSnapshot, DomainState, Fact, GuestAddress, GuestAgentChannel, GuestInterface,
    parse_domain_xml,
};

pub type Error = Box<dyn std::error::Error>;

/// `tests/fixtures/guest/NAME.json`.
pub fn fixture(name: &str) -> Result<Value, Error> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/guest/{name}.json"));
    let text = std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// A captured command: its argv, exit status, stdout and stderr.
pub struct Output {
    pub argv: Vec<String>,
    pub exit: Option<i64>,
    pub stdout: String,
    pub stderr: String,
}

pub fn output(name: &str) -> Result<Output, Error> {
    let value = fixture(name)?;
    let text = |field: &str| value.get(field).and_then(Value::as_str).unwrap_or_default().to_owned();
    let argv = value
        .get("argv")
        .and_then(Value::as_array)
        .ok_or("argv")?
        .iter()
        .map(|arg| arg.as_str().map(str::to_owned).ok_or("argv item"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Output {
        argv,
        exit: value.get("exit").and_then(Value::as_i64),
        stdout: text("stdout"),
        stderr: text("stderr"),
    })
}

/// An agent answer (`answer` of a `*-info`, `*-osinfo`, `*-interfaces` fixture).
pub fn answer(name: &str) -> Result<Value, Error> {
    Ok(fixture(name)?.get("answer").cloned().ok_or("answer")?)
}

/// `guest-network-get-interfaces` as libvirt's agent source turns it into
/// interfaces (lower-case MAC, every address with its prefix).
pub fn interfaces(name: &str) -> Result<Vec<GuestInterface>, Error> {
    let mut interfaces = Vec::new();
    for iface in answer(name)?.as_array().ok_or("an array")? {
        let mut addresses = Vec::new();
        for address in iface.get("ip-addresses").and_then(Value::as_array).into_iter().flatten() {
            let ip: IpAddr =
                address.get("ip-address").and_then(Value::as_str).ok_or("ip-address")?.parse()?;
            let prefix = address.get("prefix").and_then(Value::as_u64).ok_or("prefix")?;
            addresses.push(GuestAddress { ip, prefix: u8::try_from(prefix)? });
        }
        interfaces.push(GuestInterface {
            name: iface.get("name").and_then(Value::as_str).ok_or("name")?.to_owned(),
            mac: iface.get("hardware-address").and_then(Value::as_str).map(str::to_ascii_lowercase),
            addresses,
        });
    }
    Ok(interfaces)
}

/// The inspection: `guest-info`, `guest-get-osinfo` and the probe's output.
pub fn facts(info: &str, osinfo: &str, probe: &str) -> Result<GuestFacts, Error> {
    Ok(GuestFacts {
        agent: Fact::Known(AgentInfo::from_agent(&answer(info)?)),
        os: Fact::Known(GuestOs::from_agent(&answer(osinfo)?)),
        network: Fact::Known(parse_probe(&output(probe)?.stdout)),
    })
}

/// The lab guest defined by `xml` (relative to the checkout), running,
/// its agent connected, reporting `interfaces`, inspected as `facts`.
pub fn lab_guest(
    xml: &str,
    interfaces: Vec<GuestInterface>,
    facts: Fact<Box<GuestFacts>>,
) -> Result<DomainSnapshot, Error> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(xml);
    let mut config = parse_domain_xml(&std::fs::read_to_string(&path)?)?;
    config.guest_agent_channel = Some(GuestAgentChannel { state: Some("connected".to_owned()) });
    Ok(DomainSnapshot {
        config,
        state: DomainState::Running,
        persistent: true,
        autostart: false,
        addresses: vec![
            (AddressSource::Agent, Ok(interfaces)),
            (AddressSource::Lease, Err("not read in this test".to_owned())),
            (AddressSource::Arp, Err("not read in this test".to_owned())),
        ],
        guest: facts,
    })
}

/// The Debian 13 guest (tests/lab/debian-guest/domain.xml).
pub fn debian(interfaces_fixture: &str, probe: &str) -> Result<DomainSnapshot, Error> {
    let facts = facts("debian13-info", "debian13-osinfo", probe)?;
    lab_guest(
        "tests/lab/debian-guest/domain.xml",
        interfaces(interfaces_fixture)?,
        Fact::Known(Box::new(facts)),
    )
}

/// The tiny busybox guest (tests/lab/guest.xml).
pub fn busybox(probe: &str) -> Result<DomainSnapshot, Error> {
    let facts = facts("busybox-info", "busybox-osinfo", probe)?;
    lab_guest("tests/lab/guest.xml", interfaces("busybox-interfaces")?, Fact::Known(Box::new(facts)))
}
