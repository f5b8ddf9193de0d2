//! The JSON report; its schema is documented in `docs/check-json.md` and
//! versioned by the `schema` field.

use std::collections::HashMap;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
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
    match outcomes {
        [outcome] => serde_json::to_writer_pretty(&mut *out, &document(outcome))?,
        _ => serde_json::to_writer_pretty(&mut *out, &fleet_document(outcomes))?,
    }
    writeln!(out)
}

/// The document of several connections.
#[derive(Serialize)]
pub struct FleetDocument<'a> {
    connections: Vec<Document<'a>>,
    exit_status: u8,
    schema: &'static str,
    summary: FleetSummary,
}

#[derive(Serialize)]
struct FleetSummary {
    checked: usize,
    connections: usize,
    #[serde(flatten)]
    findings: Summary,
}

pub fn fleet_document(outcomes: &[Outcome]) -> FleetDocument<'_> {
    FleetDocument {
        connections: outcomes.iter().map(document).collect(),
        exit_status: super::worst_status(outcomes),
        schema: FLEET_SCHEMA,
        summary: FleetSummary {
            checked: outcomes.iter().filter(|outcome| outcome.failure.is_none()).count(),
            connections: outcomes.len(),
            findings: Summary::of(&outcomes.iter().flat_map(|outcome| &outcome.findings)),
        },
    }
}

/// One connection's document. Its fields are borrowed from the outcome and
/// written straight out: at 1000 VMs, building and dropping a `Value` tree
/// of the same document (5 MB of JSON) cost `check --json` 43 of its 560
/// ms. The fields of every object are in alphabetical order, as a
/// `serde_json::Value` writes them, so the document reads the same as
/// before.
#[derive(Serialize)]
pub struct Document<'a> {
    checked: bool,
    data_paths: Option<Vec<PathJson>>,
    failure: Option<&'a str>,
    findings: Vec<CausedFinding<'a>>,
    host: HostJson<'a>,
    hostname: Option<&'a str>,
    networks: Option<usize>,
    schema: &'static str,
    summary: Summary,
    uri: &'a str,
    verdict: Option<Value>,
    vms: Option<usize>,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    info: usize,
    warnings: usize,
}

impl Summary {
    fn of<'f, I: Iterator<Item = &'f Finding> + Clone>(findings: &I) -> Self {
        let count = |severity| findings.clone().filter(|f| f.severity == severity).count();
        Self {
            errors: count(Severity::Error),
            info: count(Severity::Info),
            warnings: count(Severity::Warning),
        }
    }
}

/// Whether the host's network was read; the demo's host is a recording,
/// said so that no one takes it for this machine's.
#[derive(Serialize)]
struct HostJson<'a> {
    checked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    recorded: bool,
}

impl<'a> HostJson<'a> {
    fn of(outcome: &'a Outcome) -> Self {
        match outcome.snapshot.as_ref().map(|s| &s.host) {
            Some(Fact::Known(_)) => {
                Self { checked: true, reason: None, recorded: crate::connections::is_demo(&outcome.uri) }
            }
            Some(Fact::Unknown(reason)) => {
                Self { checked: false, reason: Some(Some(reason)), recorded: false }
            }
            None => Self { checked: false, reason: Some(None), recorded: false },
        }
    }
}

/// A finding with the index of the finding that explains it.
#[derive(Serialize)]
struct CausedFinding<'a> {
    caused_by: Option<usize>,
    #[serde(flatten)]
    finding: FindingJson<'a>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    evidence: Vec<EvidenceJson<'a>>,
    explanation: &'a str,
    fix: Option<Value>,
    id: &'static str,
    severity: &'static str,
    subject: SubjectJson<'a>,
    title: &'a str,
}

impl<'a> FindingJson<'a> {
    fn of(finding: &'a Finding) -> Self {
        Self {
            evidence: finding
                .evidence
                .iter()
                .map(|e| EvidenceJson { value: &e.value, what: &e.what })
                .collect(),
            explanation: &finding.explanation,
            fix: finding.fix.as_ref().map(fix),
            id: finding.id,
            severity: finding.severity.as_str(),
            subject: SubjectJson(&finding.subject),
            title: &finding.title,
        }
    }
}

#[derive(Serialize)]
struct EvidenceJson<'a> {
    value: &'a str,
    what: &'a str,
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

/// The document of one connection, borrowing from it (see [`Document`]).
pub fn document(outcome: &Outcome) -> Document<'_> {
    let snapshot = outcome.snapshot.as_ref();
    Document {
        checked: outcome.failure.is_none(),
        data_paths: snapshot.map(|snapshot| data_paths(snapshot, &outcome.findings)),
        failure: outcome.failure.as_deref(),
        findings: outcome
            .findings
            .iter()
            .zip(outcome.causes())
            .map(|(found, caused_by)| CausedFinding { caused_by, finding: FindingJson::of(found) })
            .collect(),
        host: HostJson::of(outcome),
        hostname: snapshot.and_then(|s| s.hostname.as_deref()),
        networks: snapshot.map(|s| s.networks.len()),
        schema: SCHEMA,
        summary: Summary::of(&outcome.findings.iter()),
        uri: &outcome.uri,
        verdict: outcome.verdict().map(|(_, verdict)| verdict_value(&outcome.findings, verdict)),
        vms: snapshot.map(|s| s.domains.len()),
    }
}

/// Every card's data path, as the app draws it: each hop's status is the
/// colour it gets.
fn data_paths(snapshot: &Snapshot, findings: &[Finding]) -> Vec<PathJson> {
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
            paths.push(PathJson::of(data_path(snapshot, domain, nic, &relevant)));
        }
    }
    paths
}

/// A card's path, owned as `data_path` makes it; of a hop's findings only
/// their ids.
#[derive(Serialize)]
struct PathJson {
    ends: Option<String>,
    hops: Vec<HopJson>,
    mac: Option<String>,
    vm: String,
}

impl PathJson {
    fn of(path: DataPath) -> Self {
        Self {
            ends: path.ends,
            hops: path
                .hops
                .into_iter()
                .map(|hop| HopJson {
                    details: hop.details,
                    findings: hop.findings.iter().map(|finding| finding.id).collect(),
                    hop: hop.kind.as_str(),
                    name: hop.name,
                    status: hop.status.as_str(),
                    unknown: hop.unknown,
                })
                .collect(),
            mac: path.mac,
            vm: path.vm,
        }
    }
}

#[derive(Serialize)]
struct HopJson {
    details: Vec<String>,
    findings: Vec<&'static str>,
    hop: &'static str,
    name: Option<String>,
    status: &'static str,
    unknown: Option<String>,
}

/// A finding on its own (the verify document's), as [`Document`] writes it.
pub fn finding(finding: &Finding) -> Value {
    serde_json::to_value(FindingJson::of(finding)).unwrap_or_default()
}

/// What a finding is about: its kind and its names.
struct SubjectJson<'a>(&'a Subject);

impl Serialize for SubjectJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.0 {
            Subject::Connection => map.serialize_entry("kind", "connection")?,
            Subject::Host => map.serialize_entry("kind", "host")?,
            Subject::Network { name } => {
                map.serialize_entry("kind", "network")?;
                map.serialize_entry("network", name)?;
            }
            Subject::Vm { name } => {
                map.serialize_entry("kind", "vm")?;
                map.serialize_entry("vm", name)?;
            }
            Subject::Nic { vm, mac } => {
                map.serialize_entry("kind", "nic")?;
                map.serialize_entry("mac", mac)?;
                map.serialize_entry("vm", vm)?;
            }
        }
        map.end()
    }
}

pub fn subject(subject: &Subject) -> Value {
    serde_json::to_value(SubjectJson(subject)).unwrap_or_default()
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
