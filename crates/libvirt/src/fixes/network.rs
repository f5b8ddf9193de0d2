//! Virtual network fixes: define (then start and autostart), start,
//! autostart.

use virt::connect::Connect;
use virt::error::ErrorNumber;
use virt::network::Network;
use vmnet_doctor_core::parse_network_xml;

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
                _ => Err(LibvirtError::Other { detail: "a network definition needs its XML".to_owned() }),
            },
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
