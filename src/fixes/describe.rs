//! Fixes in words: each libvirt call, when a change is in effect, and each
//! failure with what the user can do about it. Shared by the command line
//! and the window.

use gettextrs::gettext;
use vmnet_doctor_host::firewalld_zone::{FirewalldError, ZoneStep};
use vmnet_doctor_host::helper_api::{Action, ClientError, Pending};
use vmnet_doctor_libvirt::agent::AgentError;
use vmnet_doctor_libvirt::{ChangedDefinition, Effect, FixFailure, FixStep, LibvirtError};

use super::{FixError, ManualReason};
use crate::i18n::fill;

/// A failure in words, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub message: String,
    pub hint: Option<String>,
}

impl Advice {
    fn new(message: String, hint: Option<String>) -> Self {
        Self { message, hint }
    }
}

/// One libvirt call, with the API it uses.
pub fn step(step: &FixStep) -> String {
    match step {
        FixStep::DefineNetwork { network } => fill(
            &gettext("Define the virtual network “{network}” (virNetworkDefineXML)"),
            &[("network", network)],
        ),
        FixStep::StopNetwork { network } => fill(
            &gettext(
                "Stop the virtual network “{network}”; its VMs lose it until it starts again (virNetworkDestroy)",
            ),
            &[("network", network)],
        ),
        FixStep::StartNetwork { network } => fill(
            &gettext("Start the virtual network “{network}” (virNetworkCreate)"),
            &[("network", network)],
        ),
        FixStep::AutostartNetwork { network } => fill(
            &gettext("Start the virtual network “{network}” at boot (virNetworkSetAutostart)"),
            &[("network", network)],
        ),
        FixStep::RedefineVm { vm } => fill(
            &gettext("Save the new persistent configuration of “{vm}” (virDomainDefineXML)"),
            &[("vm", vm)],
        ),
        FixStep::UpdateRunningNic { vm, mac } => fill(
            &gettext("Change the network card {mac} of the running “{vm}” (virDomainUpdateDeviceFlags)"),
            &[("vm", vm), ("mac", mac)],
        ),
        FixStep::WriteGuestFile { vm, path } => fill(
            &gettext("Write {path} inside “{vm}” (guest agent: guest-file-write)"),
            &[("vm", vm), ("path", path)],
        ),
        FixStep::RunInGuest { vm, argv } => fill(
            &gettext("Run “{command}” inside “{vm}” (guest agent: guest-exec)"),
            &[("vm", vm), ("command", &argv.join(" "))],
        ),
    }
}

/// Which definition an XML change is made to.
pub fn definition(definition: &ChangedDefinition) -> String {
    match definition {
        ChangedDefinition::Network { name } => {
            fill(&gettext("Definition of the virtual network “{network}”"), &[("network", name)])
        }
        ChangedDefinition::VmPersistent { vm } => {
            fill(&gettext("Persistent configuration of “{vm}” (what it boots with)"), &[("vm", vm)])
        }
        ChangedDefinition::VmRunning { vm } => fill(&gettext("The running “{vm}”"), &[("vm", vm)]),
        ChangedDefinition::GuestFile { vm, path } => {
            fill(&gettext("The file {path} inside “{vm}”"), &[("vm", vm), ("path", path)])
        }
    }
}

/// The labels of a diff's two sides.
pub fn diff_labels() -> (String, String) {
    (gettext("now"), gettext("after the fix"))
}

pub fn effect(effect: Effect) -> String {
    match effect {
        Effect::Now => gettext("In effect now."),
        Effect::NextBoot => gettext(
            "In effect at the next boot of the VM: shut it down and start it again (a reboot inside the guest is not enough). Until then the finding remains.",
        ),
    }
}

/// When a planned change would be in effect.
pub fn planned_effect(effect: Effect) -> String {
    match effect {
        Effect::Now => gettext("It would be in effect now."),
        Effect::NextBoot => gettext(
            "It would be in effect at the next boot of the VM: after a shutdown and start (a reboot inside the guest is not enough).",
        ),
    }
}

/// A helper step's action, e.g. the command it runs.
pub fn action(action: &Action) -> String {
    match action {
        Action::Run { argv } => argv.join(" "),
        Action::WriteFile { path, .. } => fill(&gettext("write the file {path}"), &[("path", path)]),
        Action::RemoveFile { path } => fill(&gettext("remove the file {path}"), &[("path", path)]),
    }
}

/// How to get the helper.
pub fn install_helper_hint() -> String {
    gettext(
        "Install the VM Network Doctor helper (vmnet-doctor-helper) to make host changes from here: your distribution's package, or from source “sudo meson install -C _build”. Meanwhile, run the commands above yourself.",
    )
}

pub fn manual_reason(reason: &ManualReason) -> Advice {
    match reason {
        ManualReason::HelperUnavailable(error) => {
            let why = match error {
                ClientError::NoSystemBus(detail) => fill(
                    &gettext("There is no system bus to reach the helper on: {detail}"),
                    &[("detail", detail)],
                ),
                other => fill(
                    &gettext("The VM Network Doctor helper is not installed here: {detail}"),
                    &[("detail", &other.to_string())],
                ),
            };
            Advice::new(why, Some(install_helper_hint()))
        }
        ManualReason::NoGuestAgent { vm, error } => {
            let advice = guest_agent_error(vm, error);
            let hint = gettext("Meanwhile, run the commands above in the guest yourself.");
            Advice::new(
                advice.message,
                Some(advice.hint.map_or_else(|| hint.clone(), |first| format!("{first} {hint}"))),
            )
        }
        ManualReason::RemoteHost { host } => Advice::new(
            fill(
                &gettext(
                    "This change is to {host}, where libvirt runs; VM Network Doctor changes the host of only the machine it runs on.",
                ),
                &[("host", host)],
            ),
            Some(fill(
                &gettext(
                    "Run the commands above on {host}, or “vmnet-doctor fix” there, which makes them through its helper.",
                ),
                &[("host", host)],
            )),
        ),
        ManualReason::DemoHost => Advice::new(
            gettext(
                "This host is not a real machine: the demo's host network is a recording, so its changes are shown, not made on this computer.",
            ),
            Some(gettext("On a host of your own, the same fix is made through the helper.")),
        ),
        ManualReason::DemoGuest { vm } => Advice::new(
            fill(
                &gettext(
                    "“{vm}” is not a real guest: the demo's guests are recordings of real ones, so changes inside them are shown, not made.",
                ),
                &[("vm", vm)],
            ),
            Some(gettext(
                "In a guest of your own with qemu-guest-agent, the same fix is made through the agent.",
            )),
        ),
        ManualReason::FirewalldUnavailable(error) => Advice::new(
            fill(&gettext("firewalld cannot be asked: {detail}"), &[("detail", &error.to_string())]),
            Some(gettext("Start firewalld, or run its commands above once it runs.")),
        ),
    }
}

pub fn fix_error(error: &FixError) -> Advice {
    match error {
        FixError::InvalidName(detail) => Advice::new(
            fill(
                &gettext("The finding names an interface the helper does not accept: {detail}"),
                &[("detail", detail)],
            ),
            None,
        ),
        FixError::LibvirtPlan(error) => libvirt_error(error),
        FixError::Libvirt(failure) => libvirt_failure(failure),
        FixError::Helper(error) => helper_error(error),
        FixError::FirewalldPlan(error) => firewalld_error(error),
        FixError::Firewalld(failure) => {
            let advice = firewalld_error(&failure.error);
            let mut message = fill(
                &gettext("“{step}” failed: {error}"),
                &[("step", &zone_step(&failure.failed, "")), ("error", &advice.message)],
            );
            if !failure.done.is_empty() {
                let done: Vec<String> = failure.done.iter().map(|step| zone_step(step, "")).collect();
                message.push(' ');
                message.push_str(&fill(
                    &gettext("Already done and kept: {steps}."),
                    &[("steps", &done.join("; "))],
                ));
            }
            Advice::new(message, advice.hint)
        }
        FixError::Manual => Advice::new(gettext("This fix has to be made by hand."), None),
    }
}

/// A failed libvirt call: which one, libvirt's words, what was already
/// done.
pub fn libvirt_failure(failure: &FixFailure) -> Advice {
    let advice = libvirt_error(&failure.error);
    let mut message = match &failure.failed {
        Some(failed) => {
            fill(&gettext("“{step}” failed: {error}"), &[("step", &step(failed)), ("error", &advice.message)])
        }
        None => advice.message,
    };
    if !failure.done.is_empty() {
        let done: Vec<String> = failure.done.iter().map(step).collect();
        message.push(' ');
        message.push_str(&fill(&gettext("Already done and kept: {steps}."), &[("steps", &done.join("; "))]));
    }
    Advice::new(message, advice.hint)
}

pub fn libvirt_error(error: &LibvirtError) -> Advice {
    match error {
        LibvirtError::PermissionDenied { detail, .. } => Advice::new(
            fill(&gettext("libvirt refused the change: {detail}"), &[("detail", detail)]),
            Some(gettext(
                "Changing VMs and virtual networks needs libvirt's permission (polkit action org.libvirt.unix.manage): be in the libvirt group (“sudo usermod -aG libvirt $USER”, then log in again), or run a polkit authentication agent.",
            )),
        ),
        LibvirtError::NotFound { detail } => Advice::new(
            fill(&gettext("libvirt does not know it: {detail}"), &[("detail", detail)]),
            Some(gettext("It may have been removed meanwhile; run “vmnet-doctor check” again.")),
        ),
        LibvirtError::NoSuchNic { vm, mac } => Advice::new(
            fill(
                &gettext("“{vm}” has no network card with the MAC address {mac}."),
                &[("vm", vm), ("mac", mac)],
            ),
            Some(gettext("It may have been removed meanwhile; run “vmnet-doctor check” again.")),
        ),
        LibvirtError::Unsupported { detail } => Advice::new(
            fill(&gettext("libvirt cannot make this change here: {detail}"), &[("detail", detail)]),
            Some(gettext("Make the change in virt-manager, or with virsh edit.")),
        ),
        LibvirtError::Disconnected => Advice::new(
            gettext("The connection to libvirt was closed."),
            Some(gettext("Run the command again.")),
        ),
        LibvirtError::GuestAgent { vm, error } => guest_agent_error(vm, error),
        LibvirtError::DaemonNotRunning { detail, .. }
        | LibvirtError::UnknownUri { detail, .. }
        | LibvirtError::Other { detail } => {
            Advice::new(fill(&gettext("libvirt failed: {detail}"), &[("detail", detail)]), None)
        }
    }
}

/// What the guest agent of `vm` could not do, and what to do instead.
fn guest_agent_error(vm: &str, error: &AgentError) -> Advice {
    let (message, hint) = match error {
        AgentError::NoChannel => (
            fill(&gettext("“{vm}” has no guest agent channel."), &[("vm", vm)]),
            Some(gettext("Add the channel (the fix for “guest-agent-missing”) and start the VM again.")),
        ),
        AgentError::NotRunning { detail } => (
            fill(
                &gettext("The guest agent in “{vm}” does not answer: {detail}"),
                &[("vm", vm), ("detail", detail)],
            ),
            Some(gettext(
                "Install and start qemu-guest-agent in the guest (e.g. “sudo apt install qemu-guest-agent”).",
            )),
        ),
        AgentError::Disabled { command, .. } => (
            fill(
                &gettext("The guest agent in “{vm}” does not allow {command}."),
                &[("vm", vm), ("command", command)],
            ),
            Some(gettext(
                "Some distributions (RHEL and its rebuilds) block the file and exec commands; allow them in the agent's configuration (--allow-rpcs), or make the change by hand.",
            )),
        ),
        AgentError::Timeout { command, .. } => (
            fill(
                &gettext("The guest agent in “{vm}” did not finish {command} in time."),
                &[("vm", vm), ("command", command)],
            ),
            Some(gettext("The guest may be busy; try again.")),
        ),
        AgentError::Recorded { command } => (
            fill(
                &gettext("“{vm}” is a recording of a real guest, which holds no answer to {command}."),
                &[("vm", vm), ("command", command)],
            ),
            Some(gettext(
                "The demo's guests answer only what was recorded; a guest of your own answers everything.",
            )),
        ),
        AgentError::Failed { command, detail } | AgentError::Protocol { command, detail } => (
            fill(
                &gettext("{command} failed inside “{vm}”: {detail}"),
                &[("vm", vm), ("command", command), ("detail", detail)],
            ),
            None,
        ),
    };
    Advice::new(message, hint)
}

/// One firewalld call, with the D-Bus method it uses; `zone` is the target
/// zone (empty in messages where the plan already names it).
pub fn zone_step(step: &ZoneStep, zone: &str) -> String {
    match step {
        ZoneStep::ChangeRuntimeZone { from: Some(from) } => fill(
            &gettext("Move the bridge from the zone “{from}” to “{zone}” now (changeZoneOfInterface)"),
            &[("from", from), ("zone", zone)],
        ),
        ZoneStep::ChangeRuntimeZone { from: None } => fill(
            &gettext("Put the bridge into the zone “{zone}” now (changeZoneOfInterface)"),
            &[("zone", zone)],
        ),
        ZoneStep::RemovePermanent { from } => fill(
            &gettext("Remove the bridge from the permanent zone “{from}” (config.zone.removeInterface)"),
            &[("from", from)],
        ),
        ZoneStep::AddPermanent => fill(
            &gettext("Add the bridge to the permanent zone “{zone}” (config.zone.addInterface)"),
            &[("zone", zone)],
        ),
    }
}

pub fn firewalld_error(error: &FirewalldError) -> Advice {
    match error {
        FirewalldError::NotAuthorized(detail) => Advice::new(
            fill(&gettext("firewalld did not allow the change: {detail}"), &[("detail", detail)]),
            Some(gettext(
                "Changing firewalld needs an administrator's password: run the command as a user who may administer this machine, with a polkit agent (a desktop session, or pkttyagent on a terminal), or with sudo.",
            )),
        ),
        other => Advice::new(fill(&gettext("firewalld: {detail}"), &[("detail", &other.to_string())]), None),
    }
}

pub fn helper_error(error: &ClientError) -> Advice {
    match error {
        ClientError::NotInstalled(_) | ClientError::NoSystemBus(_) => {
            let reason = ManualReason::HelperUnavailable(clone_unavailable(error));
            manual_reason(&reason)
        }
        ClientError::Dismissed => {
            Advice::new(gettext("The authentication was dismissed; nothing was changed."), None)
        }
        ClientError::NotAuthorized(detail) => Advice::new(
            fill(
                &gettext("polkit did not allow the change; nothing was changed: {detail}"),
                &[("detail", detail)],
            ),
            Some(gettext(
                "Host changes need an administrator's password: run the command as a user who may administer this machine, with a polkit agent (a desktop session, or pkttyagent on a terminal), or with sudo.",
            )),
        ),
        ClientError::InteractionRequired => Advice::new(
            gettext("The change needs authentication, and none could be asked for; nothing was changed."),
            Some(gettext("Run the command in a terminal or a desktop session, or with sudo.")),
        ),
        ClientError::Rejected(detail) => Advice::new(
            fill(
                &gettext("The helper refused the change; nothing was changed: {detail}"),
                &[("detail", detail)],
            ),
            None,
        ),
        ClientError::Outdated(detail) => Advice::new(
            fill(
                &gettext(
                    "The installed helper does not match this version of the app; nothing was changed: {detail}",
                ),
                &[("detail", detail)],
            ),
            Some(crate::helper_install::advice()),
        ),
        ClientError::PlanChanged(_) => Advice::new(
            gettext("The host changed since the plan was made; nothing was changed."),
            Some(gettext("Run the command again to see the new plan.")),
        ),
        ClientError::FixFailed(failure) => Advice::new(
            fill(
                &gettext("The helper's step “{step}” failed: {error}"),
                &[("step", &action(&failure.failed.step.action)), ("error", failure.failed.message.trim())],
            ),
            Some(if failure.undone {
                gettext("The steps before it were undone; nothing was changed.")
            } else {
                fill(
                    &gettext(
                        "Undoing the steps before it failed too: run “vmnet-doctor revert {transaction}”.",
                    ),
                    &[("transaction", &failure.result.transaction)],
                )
            }),
        ),
        ClientError::UnknownTransaction(detail) => Advice::new(
            fill(&gettext("The helper has no such transaction: {detail}"), &[("detail", detail)]),
            None,
        ),
        ClientError::NoAnswer { waited, pending } => no_answer(*waited, pending),
        ClientError::Timeout(_) | ClientError::Other(_) => Advice::new(
            fill(&gettext("The helper failed: {detail}"), &[("detail", &error.to_string())]),
            None,
        ),
    }
}

/// An Apply or Revert the app stopped waiting for: not "failed", since the
/// helper goes on with it; what its journal says, and what to do.
fn no_answer(waited: std::time::Duration, pending: &Pending) -> Advice {
    let seconds = waited.as_secs().to_string();
    match pending {
        Pending::Transaction { id, state } => {
            let message = match state.as_str() {
                "applying" => gettext(
                    "The helper did not answer within {seconds} s and is still making the change (transaction {transaction}). It may yet complete.",
                ),
                "applied" => gettext(
                    "The helper did not answer within {seconds} s, but its journal shows the change made (transaction {transaction}).",
                ),
                "reverted" => gettext(
                    "The helper did not answer within {seconds} s, but its journal shows the change undone (transaction {transaction}).",
                ),
                "incomplete" => gettext(
                    "The helper did not answer within {seconds} s; its journal shows the change only partly made or undone (transaction {transaction}).",
                ),
                _ => gettext(
                    "The helper did not answer within {seconds} s; its journal has the change as transaction {transaction}.",
                ),
            };
            Advice::new(
                fill(&message, &[("seconds", &seconds), ("transaction", id)]),
                Some(fill(
                    &gettext(
                        "Check again in a moment before trying again; “vmnet-doctor revert {transaction}” undoes what it changed.",
                    ),
                    &[("transaction", id)],
                )),
            )
        }
        Pending::NotStarted => Advice::new(
            fill(
                &gettext(
                    "The helper did not answer within {seconds} s and has not started changing anything yet; it may still be checking the host or waiting for authentication.",
                ),
                &[("seconds", &seconds)],
            ),
            Some(gettext("Check again in a moment before trying again: the change may still be made.")),
        ),
        Pending::Unknown(why) => Advice::new(
            fill(
                &gettext(
                    "The helper did not answer within {seconds} s, so the change may still be made, and its journal could not be read: {detail}",
                ),
                &[("seconds", &seconds), ("detail", why)],
            ),
            Some(gettext("Check the host again in a moment before trying again.")),
        ),
    }
}

/// `ClientError` is not `Clone`; the two "unavailable" kinds carry text only.
fn clone_unavailable(error: &ClientError) -> ClientError {
    match error {
        ClientError::NoSystemBus(detail) => ClientError::NoSystemBus(detail.clone()),
        other => ClientError::NotInstalled(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unanswered_change_is_not_called_failed_but_told_from_the_journal() {
        let waited = std::time::Duration::from_secs(180);
        let applying = helper_error(&ClientError::NoAnswer {
            waited,
            pending: Pending::Transaction { id: "ufw-allow-bridge-1-2-0".into(), state: "applying".into() },
        });
        assert!(
            applying.message.contains("180 s") && applying.message.contains("still making"),
            "{applying:?}"
        );
        assert!(
            applying
                .hint
                .as_deref()
                .is_some_and(|hint| hint.contains("vmnet-doctor revert ufw-allow-bridge-1-2-0")),
            "{applying:?}"
        );
        let not_started = helper_error(&ClientError::NoAnswer { waited, pending: Pending::NotStarted });
        assert!(not_started.message.contains("has not started changing anything"), "{not_started:?}");
        for advice in [&applying, &not_started] {
            assert!(!advice.message.contains("failed"), "{advice:?}");
        }
    }

    #[test]
    fn a_refused_change_says_what_libvirt_said_and_what_to_do() {
        let error = LibvirtError::PermissionDenied {
            uri: "qemu:///system".into(),
            detail: "access denied by policy".into(),
        };
        let advice = libvirt_error(&error);
        assert!(advice.message.contains("access denied by policy"), "{advice:?}");
        assert!(advice.hint.is_some_and(|hint| hint.contains("org.libvirt.unix.manage")));
    }

    #[test]
    fn a_failed_step_names_it_and_what_was_kept() {
        let failure = FixFailure {
            failed: Some(FixStep::StartNetwork { network: "default".into() }),
            done: vec![FixStep::DefineNetwork { network: "default".into() }],
            error: LibvirtError::Other { detail: "bridge virbr0 exists".into() },
        };
        let advice = libvirt_failure(&failure);
        assert!(advice.message.contains("virNetworkCreate"), "{advice:?}");
        assert!(advice.message.contains("bridge virbr0 exists"), "{advice:?}");
        assert!(advice.message.contains("virNetworkDefineXML"), "{advice:?}");
    }
}
