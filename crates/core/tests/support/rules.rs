//! Snapshots for the rule tests, built from the captured libvirt XML under
//! `tests/fixtures/{domains,networks}` and the demo hypervisor's node file.
//!
//! Included by each `rules_*.rs` test with `#[path = "rules_support.rs"]`;
//! compiled on its own it is an empty test binary.
//!
//! What libvirt's test driver cannot produce is set by hand and says so:
//! run state, network active/autostart, the agent channel's live
//! `state='connected'`, the address sources' answers, and the host facts
//! (plain data that `vmnet-doctor-host` reads from /sys and netlink).

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::net::IpAddr;
use std::path::Path;

use vmnet_doctor_core::host::{BridgeNfCall, Dnsmasq, Link, Route};
use vmnet_doctor_core::{
    AddressSource, DomainConfig, DomainSnapshot, DomainState, Fact, Finding, GuestAddress, GuestAgentChannel,
    GuestInterface, HostFacts, NetworkConfig, NetworkSnapshot, Severity, Snapshot, SourceResult, Subject,
    parse_domain_xml, parse_network_xml,
};

pub type Error = Box<dyn std::error::Error>;
pub type TestResult = Result<(), Error>;

/// Every id the libvirt-side rules emit (the firewall rules have their own).
pub use vmnet_doctor_core::rules::LIBVIRT_RULE_IDS as LIBVIRT_SIDE_IDS;

fn read(relative: &str) -> Result<String, Error> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()).into())
}

/// `tests/fixtures/domains/<name>` (captured `virsh dumpxml`).
pub fn domain_xml(name: &str) -> Result<DomainConfig, Error> {
    Ok(parse_domain_xml(&read(&format!("tests/fixtures/domains/{name}"))?)?)
}

/// `tests/fixtures/networks/<name>` (captured `virsh net-dumpxml`).
pub fn network_xml(name: &str) -> Result<NetworkConfig, Error> {
    Ok(parse_network_xml(&read(&format!("tests/fixtures/networks/{name}"))?)?)
}

/// A VM in `state`, persistent, with no addresses asked for.
pub fn vm(config: DomainConfig, state: DomainState) -> DomainSnapshot {
    DomainSnapshot {
        config,
        state,
        persistent: true,
        autostart: false,
        addresses: Vec::new(),
        guest: Fact::Unknown("not inspected in this test".to_owned()),
    }
}

/// A running VM whose every source (agent, lease, ARP) reports `ips` for the
/// NIC with that MAC, as `virsh domifaddr` does; the agent channel, if any,
/// is `connected` as in live QEMU XML.
pub fn running_with_ips(mut config: DomainConfig, ips: &[(&str, &str)]) -> Result<DomainSnapshot, Error> {
    if let Some(channel) = &mut config.guest_agent_channel {
        channel.state = Some("connected".to_owned());
    }
    let mut interfaces = Vec::new();
    for (index, (mac, ip)) in ips.iter().enumerate() {
        interfaces.push(guest_interface(&format!("vnet{index}"), mac, &[ip])?);
    }
    let mut agent_interfaces = interfaces.clone();
    for (index, iface) in agent_interfaces.iter_mut().enumerate() {
        iface.name = format!("enp{}s0", index + 1);
    }
    Ok(DomainSnapshot {
        config,
        state: DomainState::Running,
        persistent: true,
        autostart: false,
        addresses: vec![
            (AddressSource::Agent, Ok(agent_interfaces)),
            (AddressSource::Lease, Ok(interfaces.clone())),
            (AddressSource::Arp, Ok(interfaces)),
        ],
        guest: Fact::Unknown("not inspected in this test".to_owned()),
    })
}

/// One interface as an address source reports it; `ips` as `a.b.c.d/24`.
pub fn guest_interface(name: &str, mac: &str, ips: &[&str]) -> Result<GuestInterface, Error> {
    let mut addresses = Vec::new();
    for ip in ips {
        let (address, prefix) = ip.split_once('/').ok_or("ip/prefix")?;
        addresses.push(GuestAddress { ip: address.parse()?, prefix: prefix.parse()? });
    }
    Ok(GuestInterface { name: name.to_owned(), mac: Some(mac.to_owned()), addresses })
}

pub fn with_sources(
    mut domain: DomainSnapshot,
    sources: Vec<(AddressSource, SourceResult)>,
) -> DomainSnapshot {
    domain.addresses = sources;
    domain
}

pub fn agent_state(mut config: DomainConfig, state: Option<&str>) -> DomainConfig {
    config.guest_agent_channel = Some(GuestAgentChannel { state: state.map(str::to_owned) });
    config
}

pub fn renamed(mut config: DomainConfig, name: &str) -> DomainConfig {
    config.name = name.to_owned();
    config
}

pub fn net(config: NetworkConfig, active: bool, autostart: bool) -> NetworkSnapshot {
    NetworkSnapshot {
        config,
        active,
        autostart,
        persistent: true,
        leases: Fact::Unknown("not read in this test".to_owned()),
    }
}

/// The guide's `default` network (captured), active and autostarted.
pub fn healthy_default() -> Result<NetworkSnapshot, Error> {
    Ok(net(network_xml("default-guide.xml")?, true, true))
}

pub fn snapshot(uri: &str, domains: Vec<DomainSnapshot>, networks: Vec<NetworkSnapshot>) -> Snapshot {
    Snapshot {
        uri: uri.to_owned(),
        hostname: Some("workstation".to_owned()),
        domains,
        networks,
        unreadable: Vec::new(),
        host: Fact::Unknown("libvirt runs on another machine".to_owned()),
    }
}

pub fn system(domains: Vec<DomainSnapshot>, networks: Vec<NetworkSnapshot>) -> Snapshot {
    snapshot("qemu:///system", domains, networks)
}

pub fn link(name: &str, kind: &str, up: bool, operstate: &str, addresses: &[&str]) -> Result<Link, Error> {
    let mut parsed = Vec::new();
    for address in addresses {
        let (ip, prefix) = address.split_once('/').ok_or("ip/prefix")?;
        parsed.push((ip.parse::<IpAddr>()?, prefix.parse::<u8>()?));
    }
    Ok(Link {
        name: name.to_owned(),
        kind: kind.to_owned(),
        up,
        operstate: operstate.to_owned(),
        mac: None,
        master: None,
        addresses: parsed,
        mtu: Some(1500),
    })
}

/// `destination/prefix dev D` (`default` for 0.0.0.0/0).
pub fn route(destination: &str, dev: &str) -> Result<Route, Error> {
    let (ip, prefix) = match destination {
        "default" => ("0.0.0.0", "0"),
        other => other.split_once('/').ok_or("ip/prefix")?,
    };
    Ok(Route::main(ip.parse()?, prefix.parse()?, None, dev))
}

/// A workstation as `vmnet-doctor-host` sees it with the guide's setup:
/// enp3s0 with the default route, virbr0 up with 192.168.122.1/24, dnsmasq
/// running for `default`. Firewall facts are left unknown: they belong to
/// the firewall rules' tests.
pub fn workstation() -> Result<HostFacts, Error> {
    Ok(HostFacts {
        ipv4_forward: Fact::Known(true),
        links: Fact::Known(vec![
            link("lo", "", true, "unknown", &["127.0.0.1/8"])?,
            link("enp3s0", "", true, "up", &["192.168.1.23/24"])?,
            link("virbr0", "bridge", true, "up", &["192.168.122.1/24"])?,
            link("vnet0", "tun", true, "unknown", &[])?,
        ]),
        routes: Fact::Known(vec![
            route("default", "enp3s0")?,
            route("192.168.1.0/24", "enp3s0")?,
            route("192.168.122.0/24", "virbr0")?,
        ]),
        rules: Fact::Unknown("not read in this test".to_owned()),
        ufw: Fact::Unknown("not read in this test".to_owned()),
        libvirt_firewall_backend: Fact::Unknown("not read in this test".to_owned()),
        firewalld: Fact::Unknown("not read in this test".to_owned()),
        netfilter: Fact::Unknown("needs the helper or root".to_owned()),
        dnsmasq: Fact::Known(vec![Dnsmasq { network: "default".to_owned(), running: true }]),
        leases: Fact::Unknown("not read in this test".to_owned()),
        listeners: Fact::Known(Vec::new()),
        bridge_acl: Fact::Unknown("not read in this test".to_owned()),
        bridge_helper: Fact::Unknown("not read in this test".to_owned()),
        bridge_nf_call: Fact::Known(BridgeNfCall::default()),
    })
}

/// [`workstation`] with virbr0 gone (its link and its route) and `routes`
/// added: whatever else holds 192.168.122.0/24 now.
pub fn workstation_without_virbr0(routes: Vec<Route>) -> Result<HostFacts, Error> {
    let mut host = workstation()?;
    if let Fact::Known(known) = &mut host.routes {
        known.retain(|route| route.dev != "virbr0");
        known.extend(routes);
    }
    if let Fact::Known(links) = &mut host.links {
        links.retain(|link| link.name != "virbr0");
    }
    Ok(host)
}

pub fn with_host(mut snapshot: Snapshot, host: HostFacts) -> Snapshot {
    snapshot.host = Fact::Known(Box::new(host));
    snapshot
}

/// The findings of rule `id`, as (severity, subject).
/// One table row: a case name, the snapshot, and the (severity, subject)
/// of every finding the rule under test must return for it.
pub type Case = (&'static str, Snapshot, Vec<(Severity, Subject)>);

/// Runs `diagnose` on every case and compares the findings with id `id`.
pub fn run_table(id: &str, cases: Vec<Case>) -> TestResult {
    for (name, snapshot, expected) in cases {
        let findings = vmnet_doctor_core::diagnose(&snapshot);
        assert_eq!(of(&findings, id), expected, "{id}: {name}");
    }
    Ok(())
}

pub fn of(findings: &[Finding], id: &str) -> Vec<(Severity, Subject)> {
    findings.iter().filter(|f| f.id == id).map(|f| (f.severity, f.subject.clone())).collect()
}

pub fn find<'f>(findings: &'f [Finding], id: &str) -> Result<&'f Finding, Error> {
    findings.iter().find(|f| f.id == id).ok_or_else(|| format!("no {id} finding in {findings:#?}").into())
}

/// The libvirt-side findings, without the firewall rules' ones.
pub fn libvirt_side(findings: Vec<Finding>) -> Vec<Finding> {
    findings.into_iter().filter(|f| LIBVIRT_SIDE_IDS.contains(&f.id)).collect()
}

pub fn nic(vm: &str, mac: &str) -> Subject {
    Subject::Nic { vm: vm.to_owned(), mac: mac.to_owned() }
}

pub fn network(name: &str) -> Subject {
    Subject::Network { name: name.to_owned() }
}

pub fn vm_subject(name: &str) -> Subject {
    Subject::Vm { name: name.to_owned() }
}

/// The MAC of the only (or first) NIC of a parsed domain.
pub fn first_mac(config: &DomainConfig) -> Result<String, Error> {
    Ok(config.interfaces.first().and_then(|nic| nic.mac.clone()).ok_or("a NIC with a MAC")?)
}

// --- the demo hypervisor -------------------------------------------------

/// The top-level `<open …>…</close>` blocks of `text`, in order.
fn blocks<'t>(text: &'t str, open: &str, close: &str) -> Vec<&'t str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let Some(length) = rest[start..].find(close) else {
            break;
        };
        let end = start + length + close.len();
        found.push(&rest[start..end]);
        rest = &rest[end..];
    }
    found
}

fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

fn attribute<'t>(element: &'t str, name: &str) -> Option<&'t str> {
    let start = element.find(&format!("{name}='"))? + name.len() + 2;
    let length = element[start..].find('\'')?;
    Some(&element[start..start + length])
}

/// What `domifaddr` returns on the demo (README "Addresses on the running
/// domains as loaded", real output of libvirt 11.3's test driver): the
/// same for the agent, lease and ARP sources, one IPv4 per NIC.
const DEMO_ADDRESSES: &[(&str, &[&str])] = &[
    ("fedora-workstation", &["192.168.122.3/24"]),
    ("win11", &["192.168.122.23/24"]),
    ("ubuntu-server", &["192.168.122.43/24"]),
    ("debian12", &["192.168.0.1/24"]),
    ("archlinux", &["192.168.0.1/24"]),
    ("kali-linux", &["192.168.150.103/24"]),
    ("rocky9", &["192.168.122.123/24"]),
    ("home-assistant", &["192.168.0.1/24"]),
    ("k3s-node1", &["192.168.122.163/24", "192.168.100.164/24", "192.168.0.3/24"]),
    ("postgres-lab", &["192.168.100.183/24"]),
];

/// `data/demo/demo-hypervisor.xml` as the app sees it after applying its
/// `demo:state` metadata: each `<network>` and `<domain>` parsed with the
/// real parsers, run state from `<test:runstate>`, addresses as the test
/// driver reports them, no host facts (the demo has no host of its own).
pub fn demo_snapshot() -> Result<Snapshot, Error> {
    let text = without_comments(&read("../../data/demo/demo-hypervisor.xml")?);
    let mut networks = Vec::new();
    for block in blocks(&text, "<network>", "</network>") {
        let state = blocks(block, "<demo:state", "/>").into_iter().next().ok_or("demo:state")?;
        networks.push(NetworkSnapshot {
            config: parse_network_xml(block)?,
            active: attribute(state, "active") == Some("yes"),
            autostart: attribute(state, "autostart") == Some("yes"),
            persistent: true,
            // libvirt's test driver does not implement virNetworkGetDHCPLeases.
            leases: Fact::Unknown("not supported by the test driver".to_owned()),
        });
    }
    let mut domains = Vec::new();
    for block in blocks(&text, "<domain type=", "</domain>") {
        let config = parse_domain_xml(block)?;
        let runstate =
            blocks(block, "<test:runstate>", "</test:runstate>").into_iter().next().ok_or("runstate")?;
        let running = runstate.contains(">1<");
        let mut domain = vm(config, if running { DomainState::Running } else { DomainState::ShutOff });
        if running && let Some(recording) = attribute(block, "recording") {
            domain.addresses = recorded_guest_addresses(recording, &first_mac(&domain.config)?)?;
            if let Some(channel) = domain.config.guest_agent_channel.as_mut() {
                channel.state = Some("connected".to_owned());
            }
        } else if running {
            let ips = DEMO_ADDRESSES
                .iter()
                .find(|(name, _)| *name == domain.name())
                .map(|(_, ips)| *ips)
                .ok_or("demo addresses")?;
            let mut interfaces = Vec::new();
            for (index, (nic, ip)) in domain.interfaces().iter().zip(ips).enumerate() {
                let mac = nic.mac.as_deref().ok_or("demo NIC MAC")?;
                interfaces.push(guest_interface(&format!("testnet{index}"), mac, &[ip])?);
            }
            domain.addresses = vec![
                (AddressSource::Agent, Ok(interfaces.clone())),
                (AddressSource::Lease, Ok(interfaces.clone())),
                (AddressSource::Arp, Ok(interfaces)),
            ];
        }
        domains.push(domain);
    }
    let mut demo = snapshot("test:///work/main/data/demo/demo-hypervisor.xml", domains, networks);
    demo.host = Fact::Unknown("The demo hypervisor has no host network of its own.".to_owned());
    Ok(demo)
}

/// A demo VM's recorded guest (`data/demo/guests/`), as the app's libvirt
/// layer replays it: the agent's interfaces with the recorded card given
/// the VM's MAC, and no lease or neighbour.
fn recorded_guest_addresses(recording: &str, mac: &str) -> Result<Vec<(AddressSource, SourceResult)>, Error> {
    let document: serde_json::Value = serde_json::from_str(&read(&format!("../../data/demo/{recording}"))?)?;
    let recorded_mac = document["mac"].as_str().ok_or("recorded mac")?;
    let answer = document["recorded"]
        .as_array()
        .ok_or("recorded")?
        .iter()
        .find(|entry| entry["execute"] == "guest-network-get-interfaces")
        .ok_or("no recorded interfaces")?;
    let mut interfaces = Vec::new();
    for interface in answer["answer"].as_array().ok_or("interfaces")? {
        let hardware = interface["hardware-address"].as_str().ok_or("hardware-address")?;
        let ips: Vec<String> = interface["ip-addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|ip| format!("{}/{}", ip["ip-address"].as_str().unwrap_or_default(), ip["prefix"]))
            .collect();
        let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
        let card = if hardware == recorded_mac { mac } else { hardware };
        interfaces.push(guest_interface(interface["name"].as_str().ok_or("name")?, card, &ips)?);
    }
    let unrecorded = || Err("not part of the demo guest's recording".to_owned());
    Ok(vec![
        (AddressSource::Agent, Ok(interfaces)),
        (AddressSource::Lease, unrecorded()),
        (AddressSource::Arp, unrecorded()),
    ])
}

/// The same VM with its network NICs moved to `network`, as `virsh edit`
/// changing `<source network=…>` would.
pub fn plugged_into(mut config: DomainConfig, network: &str) -> DomainConfig {
    for nic in &mut config.interfaces {
        if let vmnet_doctor_core::InterfaceSource::Network { network: name, .. } = &mut nic.source {
            *name = network.to_owned();
        }
    }
    config
}
