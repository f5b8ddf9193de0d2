//! The JSON result of `vmnet-doctor fix --json` and `revert --json`; the
//! schema is documented in `docs/fix-json.md` and versioned by `schema`.

use std::io::{self, Write};

use serde_json::{Value, json};
use vmnet_doctor_host::firewalld_zone::ZoneStep;
use vmnet_doctor_host::helper_api::{Action, ApplyResult, FixRequest, Plan, Step, StepResult};
use vmnet_doctor_libvirt::{ChangedDefinition, Effect, FixPreview, FixReport, FixStep, XmlChange};

use super::FixRun;
use crate::cli::check::json::{fix as fix_json, subject};
use crate::fixes::describe::{self as fix_text, Advice};
use crate::fixes::{FixApplied, FixError, FixPlan, FixRoute, ManualReason};

/// Bumped on any incompatible change of the document below.
pub const SCHEMA: &str = "vmnet-doctor-fix/1";

pub fn write(out: &mut impl Write, run: &FixRun) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(run))?;
    writeln!(out)
}

pub fn document(run: &FixRun) -> Value {
    let results: Vec<Value> = (0..run.items.len()).filter_map(|index| result(run, index)).collect();
    json!({
        "schema": SCHEMA,
        "uri": run.uri,
        "dry_run": run.dry_run,
        "failure": run.failure,
        "stopped_after": run.stopped_after,
        "results": results,
    })
}

fn result(run: &FixRun, index: usize) -> Option<Value> {
    let item = run.items.get(index)?;
    let source = run.source(index)?;
    let route = item.route().map(|route| match route {
        FixRoute::Libvirt(_) => "libvirt",
        FixRoute::Helper(_) => "helper",
        FixRoute::Firewalld { .. } => "firewalld",
    });
    let applied = source.applied.as_ref();
    let effect = match applied {
        Some(Ok(applied)) => Some(effect_name(applied.effect())),
        _ => None,
    };
    let error = match (&source.plan, applied) {
        (Some(Err(error)), _) | (_, Some(Err(error))) => Some(error_json(error)),
        _ => None,
    };
    let manual = match &source.plan {
        Some(Ok(FixPlan::Manual { commands, reason })) => Some(manual_json(commands, reason)),
        _ => None,
    };
    Some(json!({
        "finding": {
            "id": item.finding.id,
            "subject": subject(&item.finding.subject),
            "title": item.finding.title,
        },
        "fix": item.finding.fix.as_ref().map(fix_json),
        "route": route,
        "same_fix_as": item.same_fix_as,
        "status": run.status(index).as_str(),
        "plan": match &source.plan { Some(Ok(plan)) => plan_json(plan), _ => Value::Null },
        "effect": effect,
        "applied": match applied { Some(Ok(applied)) => applied_json(applied), _ => Value::Null },
        "transaction": applied.and_then(|a| a.as_ref().ok()).and_then(|a| a.transaction()),
        "error": error,
        "manual": manual,
        "gone_after": item.gone_after,
    }))
}

pub fn effect_name(effect: Effect) -> &'static str {
    match effect {
        Effect::Now => "now",
        Effect::NextBoot => "next-boot",
    }
}

fn plan_json(plan: &FixPlan) -> Value {
    match plan {
        FixPlan::Libvirt { preview, .. } => libvirt_plan(preview),
        FixPlan::Helper { request, plan, host } => {
            let mut value = helper_plan(request, plan);
            value["host"] = json!(host);
            value
        }
        FixPlan::Firewalld(plan) => json!({
            "kind": "firewalld",
            "bridge": plan.bridge,
            "zone": plan.zone,
            "steps": plan.steps.iter().map(|step| zone_step(step, &plan.zone)).collect::<Vec<_>>(),
        }),
        FixPlan::Manual { .. } => json!({ "kind": "manual" }),
    }
}

fn libvirt_plan(preview: &FixPreview) -> Value {
    json!({
        "kind": "libvirt",
        "steps": preview.steps.iter().map(step_json).collect::<Vec<_>>(),
        "changes": preview.changes.iter().map(change_json).collect::<Vec<_>>(),
        "effect": effect_name(preview.effect),
    })
}

fn step_json(step: &FixStep) -> Value {
    match step {
        FixStep::DefineNetwork { network } => json!({ "call": "virNetworkDefineXML", "network": network }),
        FixStep::StopNetwork { network } => json!({ "call": "virNetworkDestroy", "network": network }),
        FixStep::StartNetwork { network } => json!({ "call": "virNetworkCreate", "network": network }),
        FixStep::AutostartNetwork { network } => {
            json!({ "call": "virNetworkSetAutostart", "network": network })
        }
        FixStep::RedefineVm { vm } => json!({ "call": "virDomainDefineXML", "vm": vm }),
        FixStep::UpdateRunningNic { vm, mac } => {
            json!({ "call": "virDomainUpdateDeviceFlags", "flags": "VIR_DOMAIN_AFFECT_LIVE", "vm": vm, "mac": mac })
        }
        FixStep::WriteGuestFile { vm, path } => {
            json!({ "call": "virDomainQemuAgentCommand", "agent": "guest-file-write", "vm": vm, "path": path })
        }
        FixStep::RunInGuest { vm, argv } => {
            json!({ "call": "virDomainQemuAgentCommand", "agent": "guest-exec", "vm": vm, "argv": argv })
        }
    }
}

fn change_json(change: &XmlChange) -> Value {
    let definition = match &change.definition {
        ChangedDefinition::Network { name } => json!({ "kind": "network", "network": name }),
        ChangedDefinition::VmPersistent { vm } => json!({ "kind": "vm-persistent", "vm": vm }),
        ChangedDefinition::VmRunning { vm } => json!({ "kind": "vm-running", "vm": vm }),
        ChangedDefinition::GuestFile { vm, path } => json!({ "kind": "guest-file", "vm": vm, "path": path }),
    };
    json!({
        "definition": definition,
        "before": change.before,
        "after": change.after,
        "diff": change.diff("before", "after"),
    })
}

fn helper_plan(request: &FixRequest, plan: &Plan) -> Value {
    let wire = request.to_wire();
    json!({
        "kind": "helper",
        "request": { "kind": wire.kind, "args": wire.args },
        "id": plan.id,
        "summary": plan.summary,
        "steps": plan.steps.iter().map(helper_step).collect::<Vec<_>>(),
    })
}

fn helper_step(step: &Step) -> Value {
    let mut value = json!({ "description": step.description });
    let fields = match &step.action {
        Action::Run { argv } => json!({ "action": "run", "argv": argv }),
        Action::WriteFile { path, contents } => {
            json!({ "action": "write-file", "path": path, "contents": contents })
        }
        Action::RemoveFile { path } => json!({ "action": "remove-file", "path": path }),
    };
    if let (Some(value), Value::Object(fields)) = (value.as_object_mut(), fields) {
        value.extend(fields);
    }
    value
}

fn applied_json(applied: &FixApplied) -> Value {
    match applied {
        FixApplied::Libvirt(report) => libvirt_applied(report),
        FixApplied::Guest { report, transaction, journal_error } => {
            let mut value = libvirt_applied(report);
            if let Some(object) = value.as_object_mut() {
                object.insert("transaction".to_owned(), json!(transaction));
                object.insert("journal_error".to_owned(), json!(journal_error));
            }
            value
        }
        FixApplied::Helper(result) => helper_result(result),
        FixApplied::Firewalld(done) => json!({
            "kind": "firewalld",
            "done": done.iter().map(|step| zone_step(step, "")).collect::<Vec<_>>(),
        }),
    }
}

/// A firewalld call; `zone` is the zone the bridge goes into.
fn zone_step(step: &ZoneStep, zone: &str) -> Value {
    match step {
        ZoneStep::ChangeRuntimeZone { from } => {
            json!({ "call": "org.fedoraproject.FirewallD1.zone.changeZoneOfInterface", "from": from, "zone": zone })
        }
        ZoneStep::RemovePermanent { from } => {
            json!({ "call": "org.fedoraproject.FirewallD1.config.zone.removeInterface", "zone": from })
        }
        ZoneStep::AddPermanent => {
            json!({ "call": "org.fedoraproject.FirewallD1.config.zone.addInterface", "zone": zone })
        }
    }
}

pub fn libvirt_applied(report: &FixReport) -> Value {
    json!({
        "kind": "libvirt",
        "done": report.done.iter().map(step_json).collect::<Vec<_>>(),
        "effect": effect_name(report.effect),
        "running_vm_refused": report.running_vm_refused,
    })
}

/// What the helper answered to `Apply` or `Revert`.
pub fn helper_result(result: &ApplyResult) -> Value {
    let steps = |steps: &[StepResult]| -> Vec<Value> {
        steps
            .iter()
            .map(|step| {
                let mut value = helper_step(&step.step);
                if let Some(object) = value.as_object_mut() {
                    object.insert("exit_status".to_owned(), json!(step.exit_status));
                    object.insert("message".to_owned(), json!(step.message));
                }
                value
            })
            .collect()
    };
    json!({
        "kind": "helper",
        "transaction": result.transaction,
        "outcome": result.outcome.to_string(),
        "steps": steps(&result.steps),
        "rollback": steps(&result.rollback),
    })
}

fn error_json(error: &FixError) -> Value {
    let failed_step = match error {
        FixError::Libvirt(failure) => failure.failed.as_ref().map(step_json),
        FixError::Helper(vmnet_doctor_host::helper_api::ClientError::FixFailed(failure)) => {
            Some(helper_step(&failure.failed.step))
        }
        FixError::Firewalld(failure) => Some(zone_step(&failure.failed, "")),
        _ => None,
    };
    let Advice { message, hint } = fix_text::fix_error(error);
    json!({ "message": message, "advice": hint, "failed_step": failed_step })
}

fn manual_json(commands: &[String], reason: &ManualReason) -> Value {
    let Advice { message, hint } = fix_text::manual_reason(reason);
    let why = match reason {
        ManualReason::HelperUnavailable(_) => "helper-unavailable",
        ManualReason::FirewalldUnavailable(_) => "firewalld-unavailable",
        ManualReason::NoGuestAgent { .. } => "guest-agent-unavailable",
        ManualReason::RemoteHost { .. } => "remote-host",
        ManualReason::DemoHost => "demo-host",
        ManualReason::DemoGuest { .. } => "demo-guest",
    };
    json!({ "reason": why, "message": message, "advice": hint, "commands": commands })
}
