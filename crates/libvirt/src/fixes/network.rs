//! Virtual network fixes: define (then start and autostart), move to a
//! free subnet, start, autostart.

use std::net::Ipv4Addr;

use virt::connect::Connect;
use virt::error::ErrorNumber;
use virt::network::Network;
use virt::sys;
use vmnet_doctor_core::{edit, parse_network_xml};

use super::{ChangedDefinition, Effect, FixFailure, FixPreview, FixReport, FixStep, LibvirtFix, XmlChange};
use crate::error::LibvirtError;

/// A user fixing "`default` is missing" wants a working network: define it,
/// start it, start it at boot. Steps already in place are left out.
pub(super) fn plan_define(
    conn: &Connect,
    uri: &str,
    name: &str,
    xml: &str,
) -> Result<FixPreview, LibvirtError> {
    let config = parse_network_xml(xml).map_err(|error| LibvirtError::Other {
        detail: format!("the XML for network {name} is not valid: {error}"),
    })?;
    if config.name != name {
        return Err(LibvirtError::Other {
            detail: format!("the XML for network {name} defines a network named {}", config.name),
        });
    }
    let network = owned(name);
    let Some(existing) = lookup(conn, uri, name)? else {
        return Ok(FixPreview {
            steps: vec![
                FixStep::DefineNetwork { network: network.clone() },
                FixStep::StartNetwork { network: network.clone() },
                FixStep::AutostartNetwork { network: network.clone() },
            ],
            changes: vec![XmlChange {
                definition: ChangedDefinition::Network { name: network },
                before: String::new(),
                after: xml.trim().to_owned(),
            }],
            effect: Effect::Now,
        });
    };
    let mut steps = Vec::new();
    if !is_active(&existing, uri)? {
        steps.push(FixStep::StartNetwork { network: network.clone() });
    }
    if !is_autostarted(&existing, uri)? {
        steps.push(FixStep::AutostartNetwork { network });
    }
    Ok(FixPreview { steps, changes: Vec::new(), effect: Effect::Now })
}

/// A network moved to a free /24: its inactive XML with every address of
/// the old subnet renumbered (every other byte as libvirt wrote it), then
/// stopped, redefined and started when it runs; defined and started when
/// it does not (it could not start on the old subnet).
pub(super) fn plan_move(
    conn: &Connect,
    uri: &str,
    name: &str,
    from: Ipv4Addr,
    to: Ipv4Addr,
) -> Result<FixPreview, LibvirtError> {
    let network = existing(conn, uri, name)?;
    // The definition it starts from next time; the test driver keeps only
    // one and refuses the flag.
    let before = match network.xml_desc(sys::VIR_NETWORK_XML_INACTIVE) {
        Err(error) if error.code().is(ErrorNumber::InvalidArg) => network.xml_desc(0),
        other => other,
    }
    .map_err(|e| LibvirtError::from_call(&e))?;
    let root = vmnet_doctor_core::xml::parse(&before).map_err(|error| LibvirtError::Other {
        detail: format!("libvirt's XML for network {name} could not be read: {error}"),
    })?;
    let after = edit::renumbered(&before, &root, from, to)
        .map_err(|error| LibvirtError::Other { detail: format!("network {name}: {error}") })?;
    let Some(after) = after else {
        // Already moved (or never on that subnet): nothing to do.
        return Ok(FixPreview { steps: Vec::new(), changes: Vec::new(), effect: Effect::Now });
    };
    let owned_name = owned(name);
    let mut steps = Vec::new();
    if is_active(&network, uri)? {
        steps.push(FixStep::StopNetwork { network: owned_name.clone() });
    }
    steps.push(FixStep::DefineNetwork { network: owned_name.clone() });
    steps.push(FixStep::StartNetwork { network: owned_name.clone() });
    Ok(FixPreview {
        steps,
        changes: vec![XmlChange {
            definition: ChangedDefinition::Network { name: owned_name },
            before: before.trim().to_owned(),
            after: after.trim().to_owned(),
        }],
        effect: Effect::Now,
    })
}

pub(super) fn plan_start(conn: &Connect, uri: &str, name: &str) -> Result<FixPreview, LibvirtError> {
    let network = existing(conn, uri, name)?;
    let steps = if is_active(&network, uri)? {
        Vec::new()
    } else {
        vec![FixStep::StartNetwork { network: owned(name) }]
    };
    Ok(FixPreview { steps, changes: Vec::new(), effect: Effect::Now })
}

pub(super) fn plan_autostart(conn: &Connect, uri: &str, name: &str) -> Result<FixPreview, LibvirtError> {
    let network = existing(conn, uri, name)?;
    let steps = if is_autostarted(&network, uri)? {
        Vec::new()
    } else {
        vec![FixStep::AutostartNetwork { network: owned(name) }]
    };
    Ok(FixPreview { steps, changes: Vec::new(), effect: Effect::Now })
}

/// Makes the planned calls in order; the first failure stops, naming what
/// was already done (a defined network that did not start stays defined).
pub(super) fn run(
    conn: &Connect,
    uri: &str,
    preview: FixPreview,
    fix: &LibvirtFix,
) -> Result<FixReport, Box<FixFailure>> {
    let mut done = Vec::new();
    for step in preview.steps {
        let result = match &step {
            FixStep::DefineNetwork { .. } => match fix {
                LibvirtFix::DefineNetwork { xml, .. } => {
                    conn.define_network_xml(xml).map(drop).map_err(|e| LibvirtError::from_change(uri, &e))
                }
                // The planned definition: the XML the plan showed.
                LibvirtFix::MoveNetworkSubnet { .. } => match preview.changes.first() {
                    Some(change) => conn
                        .define_network_xml(&change.after)
                        .map(drop)
                        .map_err(|e| LibvirtError::from_change(uri, &e)),
                    None => Err(LibvirtError::Other { detail: "the move has no new definition".to_owned() }),
                },
                _ => Err(LibvirtError::Other { detail: "a network definition needs its XML".to_owned() }),
            },
            FixStep::StopNetwork { network } => existing(conn, uri, network)
                .and_then(|net| net.destroy().map_err(|e| LibvirtError::from_change(uri, &e))),
            FixStep::StartNetwork { network } => existing(conn, uri, network)
                .and_then(|net| net.create().map_err(|e| LibvirtError::from_change(uri, &e))),
            FixStep::AutostartNetwork { network } => existing(conn, uri, network).and_then(|net| {
                net.set_autostart(true).map(drop).map_err(|e| LibvirtError::from_change(uri, &e))
            }),
            FixStep::RedefineVm { .. }
            | FixStep::UpdateRunningNic { .. }
            | FixStep::WriteGuestFile { .. }
            | FixStep::RunInGuest { .. } => {
                Err(LibvirtError::Other { detail: "not a network step".to_owned() })
            }
        };
        if let Err(error) = result {
            return Err(Box::new(FixFailure { failed: Some(step), done, error }));
        }
        done.push(step);
    }
    Ok(FixReport { done, changes: preview.changes, effect: preview.effect, running_vm_refused: None })
}

fn lookup(conn: &Connect, uri: &str, name: &str) -> Result<Option<Network>, LibvirtError> {
    match conn.lookup_network_by_name(name) {
        Ok(network) => Ok(Some(network)),
        Err(error) if error.code().is(ErrorNumber::NoNetwork) => Ok(None),
        Err(error) => Err(LibvirtError::from_change(uri, &error)),
    }
}

fn existing(conn: &Connect, uri: &str, name: &str) -> Result<Network, LibvirtError> {
    lookup(conn, uri, name)?
        .ok_or_else(|| LibvirtError::NotFound { detail: format!("there is no virtual network named {name}") })
}

fn is_active(network: &Network, uri: &str) -> Result<bool, LibvirtError> {
    network.is_active().map_err(|e| LibvirtError::from_change(uri, &e))
}

fn is_autostarted(network: &Network, uri: &str) -> Result<bool, LibvirtError> {
    network.autostart().map_err(|e| LibvirtError::from_change(uri, &e))
}

fn owned(name: &str) -> String {
    name.to_owned()
}
