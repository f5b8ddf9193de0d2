//! Reads a whole connection into a [`Snapshot`].

use virt::connect::Connect;
use virt::domain::Domain;
use virt::network::Network;
use vmnet_doctor_core::{
    DomainSnapshot, Fact, NetworkSnapshot, Snapshot, Unreadable, parse_domain_xml, parse_network_xml,
};

use crate::addresses::guest_addresses;
use crate::agent::RecordedGuest;
use crate::domain_listing::{self, DomainListing};
use crate::error::LibvirtError;
use crate::leases::network_leases;

/// Lists every domain and network. One object that cannot be read (it
/// vanished meanwhile, or its XML is unexpected) is reported in
/// `Snapshot::unreadable`, never fails the rest.
pub(crate) fn take_snapshot(conn: &Connect) -> Result<Snapshot, LibvirtError> {
    let uri = conn.uri().map_err(|e| LibvirtError::from_call(&e))?;
    // The test driver reports this machine's name, resolving it first
    // (and logging a warning where it does not resolve); it has no host.
    let hostname = if uri.starts_with("test:") { None } else { conn.hostname().ok() };
    let mut unreadable = Vec::new();

    let mut domains = Vec::new();
    let all = conn.list_all_domains(0).map_err(|e| LibvirtError::from_call(&e))?;
    let listing = DomainListing::read(conn);
    for domain in all {
        match read_domain(&domain, &uri, listing.as_ref()) {
            Ok(snapshot) => domains.push(snapshot),
            Err(reason) => unreadable.push(Unreadable { name: domain.name().unwrap_or_default(), reason }),
        }
    }
    domains.sort_by(|a, b| a.name().cmp(b.name()));

    let mut networks = Vec::new();
    for network in conn.list_all_networks(0).map_err(|e| LibvirtError::from_call(&e))? {
        match read_network(&network) {
            Ok(snapshot) => networks.push(snapshot),
            Err(reason) => unreadable.push(Unreadable { name: network.name().unwrap_or_default(), reason }),
        }
    }
    networks.sort_by(|a, b| a.name().cmp(b.name()));

    // Host facts come from vmnet-doctor-host, and only for a local libvirt.
    let host = Fact::Unknown("the host's network stack was not read".to_owned());
    Ok(Snapshot { uri, hostname, domains, networks, unreadable, host })
}

/// One domain; its state, persistence and autostart from `listing` where
/// it has them, else asked of the domain.
fn read_domain(
    domain: &Domain,
    uri: &str,
    listing: Option<&DomainListing>,
) -> Result<DomainSnapshot, String> {
    let xml = domain.xml_desc(0).map_err(|e| e.message().to_owned())?;
    let mut config = parse_domain_xml(&xml).map_err(|e| e.to_string())?;
    let (state, persistent, autostart) = match listing.and_then(|listing| listing.of(&config.name)) {
        Some(listed) => listed,
        None => domain_listing::asked_of(domain)?,
    };
    let recorded = if state.is_active() && config.guest_agent_channel.is_some() {
        RecordedGuest::of(uri, || Some(xml.clone()))
    } else {
        None
    };
    // A demo VM's recording answers as a connected agent does (the test
    // driver keeps no channel state).
    if let (Some(Ok(_)), Some(channel)) = (&recorded, config.guest_agent_channel.as_mut()) {
        channel.state = Some("connected".to_owned());
    }
    let addresses = if state.is_active() { guest_addresses(domain, &config, recorded) } else { Vec::new() };
    // Looking inside a guest runs a program there: only on request.
    let guest = Fact::Unknown("the guest was not inspected".to_owned());
    Ok(DomainSnapshot { config, state, persistent, autostart, addresses, guest })
}

fn read_network(network: &Network) -> Result<NetworkSnapshot, String> {
    let xml = network.xml_desc(0).map_err(|e| e.message().to_owned())?;
    let config = parse_network_xml(&xml).map_err(|e| e.to_string())?;
    let active = network.is_active().map_err(|e| e.message().to_owned())?;
    // A stopped network serves no leases; libvirt would still read its old file.
    let leases =
        if active { network_leases(network) } else { Fact::Unknown("the network is not running".to_owned()) };
    Ok(NetworkSnapshot {
        config,
        active,
        autostart: network.autostart().unwrap_or(false),
        persistent: network.is_persistent().unwrap_or(true),
        leases,
    })
}
