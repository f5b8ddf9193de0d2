//! The JSON report; its schema is documented in `docs/check-json.md` and
//! versioned by the `schema` field.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use vmnet_doctor_core::datapath::{DataPath, data_path};
use vmnet_doctor_core::{Fact, Finding, Fix, Severity, Snapshot, Subject, Verdict};

use super::Outcome;

/// Bumped on any incompatible change of the document below.
pub const SCHEMA: &str = "vmnet-doctor-check/1";

/// The document of several connections: one [`SCHEMA`] document each.
pub const FLEET_SCHEMA: &str = "vmnet-doctor-fleet/1";

/// One connection's document, or the fleet's around several.
pub fn write_all(out: &mut dyn Write, outcomes: &[Outcome]) -> io::Result<()> {
    let document = match outcomes {
        [outcome] => document(outcome),
        _ => fleet_document(outcomes),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

pub fn fleet_document(outcomes: &[Outcome]) -> Value {
    let count = |severity| {
        outcomes.iter().flat_map(|outcome| &outcome.findings).filter(|f| f.severity == severity).count()
    };
    json!({
        "schema": FLEET_SCHEMA,
        "exit_status": super::worst_status(outcomes),
        "summary": {
            "connections": outcomes.len(),
            "checked": outcomes.iter().filter(|outcome| outcome.failure.is_none()).count(),
            "errors": count(Severity::Error),
            "warnings": count(Severity::Warning),
            "info": count(Severity::Info),
        },
        "connections": outcomes.iter().map(document).collect::<Vec<_>>(),
    })
}

pub fn document(outcome: &Outcome) -> Value {
    let count = |severity| outcome.findings.iter().filter(|f| f.severity == severity).count();
    let host = match outcome.snapshot.as_ref().map(|s| &s.host) {
        // The demo's host is a recording, said so that no one takes it for this machine's.
        Some(Fact::Known(_)) if crate::connections::is_demo(&outcome.uri) => {
            json!({ "checked": true, "recorded": true })
        }
        Some(Fact::Known(_)) => json!({ "checked": true }),
        Some(Fact::Unknown(reason)) => json!({ "checked": false, "reason": reason }),
        None => json!({ "checked": false, "reason": null }),
    };
    json!({
        "schema": SCHEMA,
        "uri": outcome.uri,
        "hostname": outcome.snapshot.as_ref().and_then(|s| s.hostname.clone()),
        "checked": outcome.failure.is_none(),
        "failure": outcome.failure,
        "host": host,
        "vms": outcome.snapshot.as_ref().map(|s| s.domains.len()),
        "networks": outcome.snapshot.as_ref().map(|s| s.networks.len()),
        "summary": {
            "errors": count(Severity::Error),
            "warnings": count(Severity::Warning),
            "info": count(Severity::Info),
        },
        "findings": outcome
            .findings
            .iter()
            .zip(outcome.causes())
            .map(|(found, cause)| {
                let mut value = finding(found);
                value["caused_by"] = json!(cause);
                value
            })
            .collect::<Vec<_>>(),
        "data_paths": outcome.snapshot.as_ref().map(|snapshot| data_paths(snapshot, &outcome.findings)),
        "verdict": outcome.verdict().map(|(_, verdict)| verdict_value(&outcome.findings, verdict)),
    })
}

/// The named VM's verdict; a cause is named by its index in `findings`.
fn verdict_value(findings: &[Finding], verdict: Verdict<'_>) -> Value {
    match verdict {
        Verdict::Broken { cause, others } => json!({
            "state": "broken",
            "cause": findings.iter().position(|finding| std::ptr::eq(finding, cause)),
            "others": others,
        }),
        Verdict::Works { warnings } => json!({ "state": "works", "warnings": warnings }),
        Verdict::Healthy { host_checked, notes } => {
            json!({ "state": "healthy", "host_checked": host_checked, "notes": notes })
        }
    }
}

/// Every card's data path, as the app draws it: each hop's status is the
/// colour it gets.
fn data_paths(snapshot: &Snapshot, findings: &[Finding]) -> Vec<Value> {
    // Each VM's cards are given its own findings and the shared ones
    // (networks, host), not every VM's: a thousand VMs' paths each
    // searching every finding took a fifth of `check --json`.
    let mut own: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut shared = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        match &finding.subject {
            Subject::Vm { name } | Subject::Nic { vm: name, .. } => {
                own.entry(name.as_str()).or_default().push(index);
            }
            _ => shared.push(index),
        }
    }
    let mut paths = Vec::new();
    for domain in &snapshot.domains {
        // In the diagnosis's order, as the whole list gave them.
        let mut indices = own.remove(domain.name()).unwrap_or_default();
        indices.extend(&shared);
        indices.sort_unstable();
        let relevant: Vec<Finding> = indices.into_iter().map(|index| findings[index].clone()).collect();
        for nic in domain.interfaces() {
            paths.push(path(&data_path(snapshot, domain, nic, &relevant)));
        }
    }
    paths
}

fn path(path: &DataPath) -> Value {
    json!({
        "vm": path.vm,
        "mac": path.mac,
        "hops": path.hops.iter().map(|hop| json!({
            "hop": hop.kind.as_str(),
            "name": hop.name,
            "status": hop.status.as_str(),
            "details": hop.details,
            "unknown": hop.unknown,
            "findings": hop.findings.iter().map(|finding| finding.id).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "ends": path.ends,
    })
}

pub fn finding(finding: &Finding) -> Value {
    json!({
        "id": finding.id,
        "severity": finding.severity.as_str(),
        "subject": subject(&finding.subject),
        "title": finding.title,
        "explanation": finding.explanation,
        "evidence": finding.evidence.iter().map(|e| json!({ "what": e.what, "value": e.value })).collect::<Vec<_>>(),
        "fix": finding.fix.as_ref().map(fix),
    })
}

pub fn subject(subject: &Subject) -> Value {
    match subject {
        Subject::Connection => json!({ "kind": "connection" }),
        Subject::Host => json!({ "kind": "host" }),
        Subject::Network { name } => json!({ "kind": "network", "network": name }),
        Subject::Vm { name } => json!({ "kind": "vm", "vm": name }),
        Subject::Nic { vm, mac } => json!({ "kind": "nic", "vm": vm, "mac": mac }),
    }
}

pub fn fix(fix: &Fix) -> Value {
    match fix {
        Fix::DefineNetwork { name, xml } => json!({ "kind": "define-network", "network": name, "xml": xml }),
        Fix::MoveNetworkSubnet { name, from, to } => {
            json!({ "kind": "move-network-subnet", "network": name, "from": from.to_string(), "to": to.to_string() })
        }
        Fix::StartNetwork { name } => json!({ "kind": "start-network", "network": name }),
        Fix::AutostartNetwork { name } => json!({ "kind": "autostart-network", "network": name }),
        Fix::SetLinkUp { vm, mac } => json!({ "kind": "set-link-up", "vm": vm, "mac": mac }),
        Fix::SetNicModel { vm, mac, model } => {
            json!({ "kind": "set-nic-model", "vm": vm, "mac": mac, "model": model })
        }
        Fix::MoveNicToNetwork { vm, mac, network } => {
            json!({ "kind": "move-nic-to-network", "vm": vm, "mac": mac, "network": network })
        }
        Fix::AddGuestAgentChannel { vm } => json!({ "kind": "add-guest-agent-channel", "vm": vm }),
        Fix::EnableIpv4Forwarding => json!({ "kind": "enable-ipv4-forwarding" }),
        Fix::UfwAllowBridge { bridge, uplink } => {
            json!({ "kind": "ufw-allow-bridge", "bridge": bridge, "uplink": uplink })
        }
        Fix::AcceptForward { bridge, uplink } => {
            json!({ "kind": "accept-forward", "bridge": bridge, "uplink": uplink })
        }
        Fix::ClampMss { bridge, uplink } => {
            json!({ "kind": "clamp-mss", "bridge": bridge, "uplink": uplink })
        }
        Fix::AcceptBridged { bridge } => json!({ "kind": "accept-bridged", "bridge": bridge }),
        Fix::AllowQemuBridge { bridge } => json!({ "kind": "allow-qemu-bridge", "bridge": bridge }),
        Fix::FirewalldZone { bridge, zone } => {
            json!({ "kind": "firewalld-zone", "bridge": bridge, "zone": zone })
        }
        Fix::DisableGuestIpv6 { vm } => json!({ "kind": "disable-guest-ipv6", "vm": vm }),
        Fix::ForceAptIpv4 { vm } => json!({ "kind": "force-apt-ipv4", "vm": vm }),
        Fix::CreateGuestDhcpProfile { vm, interface } => {
            json!({ "kind": "create-guest-dhcp-profile", "vm": vm, "interface": interface })
        }
    }
}
