//! `verify --json`: one JSON object per line as each event happens (the
//! guest, each step, the summary); documented in `docs/verify-json.md`.

use std::io::Write;

use serde_json::{Value, json};
use vmnet_doctor_core::Fact;
use vmnet_doctor_core::guest::checklist::StepKind;
use vmnet_doctor_core::guest::{GuestNetwork, ServiceState};

use crate::guest_checklist::{Discovery, Sink, StepResult, Summary, Unavailable};

/// Bumped on any incompatible change.
pub const SCHEMA: &str = "vmnet-doctor-verify/1";

pub struct Lines<'a> {
    out: &'a mut dyn Write,
}

impl<'a> Lines<'a> {
    pub fn new(out: &'a mut dyn Write) -> Self {
        Self { out }
    }

    fn emit(&mut self, mut value: Value) {
        if let Some(object) = value.as_object_mut() {
            object.insert("schema".to_owned(), json!(SCHEMA));
        }
        // A closed pipe loses the rest; the exit status still tells.
        let _ = writeln!(self.out, "{value}");
        let _ = self.out.flush();
    }
}

fn service(state: ServiceState) -> &'static str {
    match state {
        ServiceState::Absent => "absent",
        ServiceState::Stopped => "stopped",
        ServiceState::Running => "running",
        ServiceState::Unknown => "unknown",
    }
}

fn network_json(network: &GuestNetwork) -> Value {
    json!({
        "stacks": network.stacks().iter().map(|stack| stack.as_str()).collect::<Vec<_>>(),
        "network_manager": service(network.network_manager),
        "networkd": service(network.networkd),
        "netplan": network.netplan,
        "ifupdown": network.ifupdown.iter().map(|iface| json!({ "name": iface.name, "family": iface.family, "method": iface.method })).collect::<Vec<_>>(),
        "profiles": network.profiles.known().map(|profiles| profiles.iter().map(|profile| json!({
            "name": profile.name,
            "uuid": profile.uuid,
            "type": profile.kind,
            "interface_name": profile.interface_name,
            "mac": profile.mac,
            "device": profile.device,
            "autoconnect": profile.autoconnect,
            "autoconnect_priority": profile.autoconnect_priority,
            "ipv4_method": profile.ipv4_method,
            "ipv4_addresses": profile.ipv4_addresses,
            "ipv4_gateway": profile.ipv4_gateway,
        })).collect::<Vec<_>>()),
        "default_routes": network.default_routes.iter().map(|route| json!({
            "family": if route.ipv6 { "ipv6" } else { "ipv4" },
            "gateway": route.gateway.map(|gateway| gateway.to_string()),
            "dev": route.dev,
        })).collect::<Vec<_>>(),
        "ipv6_disabled": network.ipv6_disabled,
        "apt_force_ipv4": network.apt_force_ipv4,
        "tools": network.tools,
        "busybox": network.busybox,
    })
}

fn fact<T>(fact: &Fact<T>, known: impl FnOnce(&T) -> Value) -> Value {
    match fact {
        Fact::Known(value) => known(value),
        Fact::Unknown(reason) => json!({ "unknown": reason }),
    }
}

impl Sink for Lines<'_> {
    fn started(&mut self, uri: &str, vm: &str) {
        self.emit(json!({ "event": "start", "uri": uri, "vm": vm }));
    }

    fn discovered(&mut self, discovery: &Discovery) {
        let facts = &discovery.facts;
        self.emit(json!({
            "event": "guest",
            "agent": fact(&facts.agent, |info| json!({ "version": info.version, "disabled": info.disabled })),
            "os": fact(&facts.os, |os| json!({
                "id": os.id,
                "pretty_name": os.pretty_name,
                "version_id": os.version_id,
                "kernel_release": os.kernel_release,
                "machine": os.machine,
            })),
            "network": fact(&facts.network, network_json),
            "cards": discovery.cards.iter().map(|(mac, network, name)| json!({ "mac": mac, "network": network, "interface": name })).collect::<Vec<_>>(),
            "findings": discovery.findings.iter().map(crate::cli::check::json::finding).collect::<Vec<_>>(),
        }));
    }

    fn step(&mut self, result: &StepResult) {
        self.emit(json!({
            "event": "step",
            "step": result.kind.as_str(),
            "target": result.target,
            "command": if result.argv.is_empty() { Value::Null } else { json!(result.argv) },
            "status": result.verdict.status.as_str(),
            "detail": result.verdict.detail,
            "seconds": (result.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            "timeout": result.timeout.as_secs(),
        }));
    }

    fn unavailable(&mut self, vm: &str, why: &Unavailable, commands: &[(StepKind, String)]) {
        self.emit(json!({
            "event": "agent-unavailable",
            "reason": why.as_str(),
            "message": why.message(vm),
            "advice": why.advice(),
            "commands": commands.iter().map(|(kind, command)| json!({ "step": kind.as_str(), "command": command })).collect::<Vec<_>>(),
        }));
    }

    fn failed(&mut self, message: &str) {
        self.emit(json!({ "event": "error", "message": message }));
    }

    fn finished(&mut self, summary: &Summary) {
        self.emit(json!({
            "event": "summary",
            "status": summary.status(),
            "passed": summary.passed,
            "slow": summary.slow,
            "failed": summary.failed,
            "skipped": summary.skipped,
            "exit_code": summary.exit,
        }));
    }
}
