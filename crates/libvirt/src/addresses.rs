//! A running guest's addresses, from each source libvirt offers.

use std::net::IpAddr;

use crate::agent::{AgentError, RecordedGuest};
use virt::domain::Domain;
use virt::sys;
use vmnet_doctor_core::{AddressSource, DomainConfig, GuestAddress, GuestInterface, SourceResult};

/// Asks every address source; each answer (or its failure) is kept, because
/// "the agent does not answer" is itself a finding. The agent is skipped
/// when libvirt already knows it is absent, so a VM without one costs no
/// round trip. A demo VM's `recorded` guest answers from its recording.
pub(crate) fn guest_addresses(
    domain: &Domain,
    config: &DomainConfig,
    recorded: Option<Result<RecordedGuest, AgentError>>,
) -> Vec<(AddressSource, SourceResult)> {
    if let Some(recording) = recorded {
        // The test driver would invent a lease and a neighbour for every
        // card; the recording holds neither, so neither is claimed.
        let unrecorded = || Err("not part of the demo guest's recording".to_owned());
        return vec![
            (AddressSource::Agent, recording.map(|guest| guest.interfaces()).map_err(|e| e.to_string())),
            (AddressSource::Lease, unrecorded()),
            (AddressSource::Arp, unrecorded()),
        ];
    }
    let mut results = Vec::with_capacity(3);
    let agent = match &config.guest_agent_channel {
        None => Err("no guest agent channel".to_owned()),
        Some(channel) if channel.state.as_deref() == Some("disconnected") => {
            Err("the guest agent is not connected".to_owned())
        }
        Some(_) => query(domain, sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT),
    };
    results.push((AddressSource::Agent, agent));
    results.push((AddressSource::Lease, query(domain, sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE)));
    results.push((AddressSource::Arp, query(domain, sys::VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP)));
    results
}

pub(crate) fn query(domain: &Domain, source: sys::virDomainInterfaceAddressesSource) -> SourceResult {
    let interfaces = domain.interface_addresses(source, 0).map_err(|e| e.message().to_owned())?;
    Ok(interfaces
        .into_iter()
        .map(|iface| GuestInterface {
            name: iface.name,
            mac: iface.hwaddr.map(|mac| mac.to_ascii_lowercase()),
            addresses: iface
                .addrs
                .into_iter()
                // An address libvirt cannot print as an IP is skipped, not fatal.
                .filter_map(|a| {
                    Some(GuestAddress {
                        ip: a.addr.parse::<IpAddr>().ok()?,
                        prefix: u8::try_from(a.prefix).ok()?,
                    })
                })
                .collect(),
        })
        .collect())
}
