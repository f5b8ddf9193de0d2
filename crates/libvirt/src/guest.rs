//! Looking inside a running guest through its agent: what it allows
//! (`guest-info`), its OS (`guest-get-osinfo`), and one run of the
//! read-only probe script (`guest-exec`), parsed by the core. Also a
//! program run on request (the verification checklist) and the agent's
//! interface list. Only done when asked: a snapshot never runs anything in
//! a guest.

use std::time::Duration;

use virt::connect::Connect;
use vmnet_doctor_core::guest::{AgentInfo, GuestFacts, GuestOs, PROBE_SCRIPT, parse_probe};
use vmnet_doctor_core::{Fact, GuestInterface};

use crate::agent::{self, AgentError, GuestOutput};
use crate::error::LibvirtError;
use crate::guest_channel::GuestChannel;
use crate::worker::Hypervisor;

const TIMEOUT: Duration = Duration::from_secs(10);
/// The probe asks nmcli about every profile; a slow guest under emulation
/// took 2.5 s.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

fn agent_error(vm: &str, error: AgentError) -> LibvirtError {
    LibvirtError::GuestAgent { vm: vm.to_owned(), error }
}

/// The guest as its agent describes it. Fails only when the agent cannot
/// be asked at all (no channel, not running); a command it refuses or
/// that fails leaves that fact unknown, with the reason.
fn inspect(conn: &Connect, vm: &str) -> Result<GuestFacts, LibvirtError> {
    let guest = GuestChannel::open(conn, vm)?;
    let info = agent::command(&guest, "guest-info", None, TIMEOUT).map_err(|e| agent_error(vm, e))?;
    let info = AgentInfo::from_agent(&info);
    let os = if info.allows("guest-get-osinfo") {
        match agent::command(&guest, "guest-get-osinfo", None, TIMEOUT) {
            Ok(answer) => Fact::Known(GuestOs::from_agent(&answer)),
            Err(error) => Fact::Unknown(error.to_string()),
        }
    } else {
        Fact::Unknown("the guest agent does not allow guest-get-osinfo".to_owned())
    };
    let network = if info.allows_exec() {
        match agent::run(&guest, "/bin/sh", &["-c", PROBE_SCRIPT], PROBE_TIMEOUT) {
            Ok(output) if output.succeeded() => Fact::Known(parse_probe(&output.stdout)),
            Ok(output) => Fact::Unknown(format!(
                "the probe failed in the guest (exit status {:?}): {}",
                output.exit_code,
                output.stderr.trim()
            )),
            Err(error) => Fact::Unknown(error.to_string()),
        }
    } else {
        Fact::Unknown("the guest agent does not allow guest-exec".to_owned())
    };
    Ok(GuestFacts { agent: Fact::Known(info), os, network })
}

fn interfaces(conn: &Connect, vm: &str) -> Result<Vec<GuestInterface>, LibvirtError> {
    GuestChannel::open(conn, vm)?
        .interfaces()
        .map_err(|detail| agent_error(vm, AgentError::from_message("guest-network-get-interfaces", &detail)))
}

fn run(conn: &Connect, vm: &str, argv: &[String], timeout: Duration) -> Result<GuestOutput, LibvirtError> {
    let guest = GuestChannel::open(conn, vm)?;
    let (program, args) =
        argv.split_first().ok_or_else(|| LibvirtError::Other { detail: "no program to run".into() })?;
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    agent::run(&guest, program, &args, timeout).map_err(|e| agent_error(vm, e))
}

impl Hypervisor {
    /// Looks inside the running VM `vm` through its guest agent (see
    /// [`GuestFacts`]): a few agent calls and one read-only script.
    pub async fn inspect_guest(&self, vm: &str) -> Result<GuestFacts, LibvirtError> {
        let vm = vm.to_owned();
        self.call_guest(move |conn| inspect(conn, &vm)).await
    }

    /// [`Self::inspect_guest`], blocking the calling thread.
    pub fn inspect_guest_blocking(&self, vm: &str) -> Result<GuestFacts, LibvirtError> {
        let vm = vm.to_owned();
        self.call_guest_blocking(move |conn| inspect(conn, &vm))
    }

    /// The guest's interfaces with their names and addresses, as its agent
    /// reports them now.
    pub fn guest_interfaces_blocking(&self, vm: &str) -> Result<Vec<GuestInterface>, LibvirtError> {
        let vm = vm.to_owned();
        self.call_guest_blocking(move |conn| interfaces(conn, &vm))
    }

    /// Runs `argv` (a program and its arguments, no shell) in the guest and
    /// waits up to `timeout` for it.
    pub fn run_in_guest_blocking(
        &self,
        vm: &str,
        argv: Vec<String>,
        timeout: Duration,
    ) -> Result<GuestOutput, LibvirtError> {
        let vm = vm.to_owned();
        self.call_guest_blocking(move |conn| run(conn, &vm, &argv, timeout))
    }
}
