//! `vmnet-doctor check`: the whole diagnosis on a terminal, without GTK, so
//! it works over SSH on a headless hypervisor.
//!
//! Several `--connect`s are checked at once (`fleet`); the report is text,
//! JSON or Prometheus metrics, on standard output or replacing a file.
//!
//! Exit status: 0 no errors, 1 errors found, 2 could not check; for
//! several connections, the worst of theirs.

mod fleet;
pub mod json;
mod output;
mod prometheus;
mod report;

use std::io::IsTerminal;
use std::process::ExitCode;

use gettextrs::gettext;
use vmnet_doctor_core::rules::{ConnectionProblem, connection_findings, explained_by};
use vmnet_doctor_core::{Fact, Finding, Severity, Snapshot, Verdict, diagnose, verdict};
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError};

use crate::cli::args::{CheckOptions, ReportFormat};
use crate::i18n::fill;
use crate::{connections, probe};

/// What the check concluded, before it is printed.
#[derive(Debug)]
pub struct Outcome {
    pub uri: String,
    pub snapshot: Option<Snapshot>,
    /// The VM `--vm` named, when it was found: the report opens with its
    /// verdict.
    pub vm: Option<String>,
    pub findings: Vec<Finding>,
    /// Set when the check could not run to its end (exit status 2).
    pub failure: Option<String>,
}

impl Outcome {
    /// For each finding, the one that explains it (its index), if any:
    /// printed under it (`caused_by` in JSON).
    pub fn causes(&self) -> Vec<Option<usize>> {
        match &self.snapshot {
            Some(snapshot) => explained_by(snapshot, &self.findings),
            None => vec![None; self.findings.len()],
        }
    }

    /// The verdict on the VM `--vm` named, from the findings that concern
    /// it (as its page in the app shows it).
    pub fn verdict(&self) -> Option<(&str, Verdict<'_>)> {
        let (vm, snapshot) = (self.vm.as_deref()?, self.snapshot.as_ref()?);
        Some((vm, verdict(snapshot, &self.findings)))
    }

    /// 2 could not check, 1 errors found, 0 none.
    pub fn exit_status(&self) -> u8 {
        if self.failure.is_some() {
            2
        } else if self.findings.iter().any(|f| f.severity == Severity::Error) {
            1
        } else {
            0
        }
    }
}

pub fn run(options: &CheckOptions) -> ExitCode {
    let outcomes = fleet::check_all(options);
    // Colour only for a person at a terminal, never in a file.
    let colour = options.output.is_none() && std::io::stdout().is_terminal();
    let written = output::write_report(options.output.as_deref(), |out| match options.format {
        ReportFormat::Text => report::write_all(out, &outcomes, colour),
        ReportFormat::Json => json::write_all(out, &outcomes),
        ReportFormat::Prometheus => prometheus::write(out, &outcomes),
    });
    if let Err(error) = written {
        // A closed pipe (e.g. `| head`) is not worth a panic; a file that
        // cannot be written is worth a word.
        if let Some(path) = &options.output {
            eprintln!(
                "{}",
                fill(
                    &gettext("Could not write {file}: {error}"),
                    &[("file", &path.display().to_string()), ("error", &error.to_string())]
                )
            );
        }
        return ExitCode::from(2);
    }
    ExitCode::from(worst_status(&outcomes))
}

/// The exit status of several checks: the worst of theirs.
pub fn worst_status(outcomes: &[Outcome]) -> u8 {
    outcomes.iter().map(Outcome::exit_status).max().unwrap_or(0)
}

/// Opens the connection a command asked for: the demo, a URI, or libvirt's
/// default. A failure is the outcome to print.
pub fn open(demo: bool, connect: Option<&str>) -> Result<Hypervisor, Box<Outcome>> {
    let requested = if demo { Some(connections::demo_uri()) } else { connect.map(str::to_owned) };
    let opened = match &requested {
        Some(uri) => Hypervisor::open_blocking(uri),
        None => Hypervisor::open_default_blocking(),
    };
    opened.map_err(|error| Box::new(unreachable(requested.as_deref().unwrap_or_default(), &error)))
}

/// Which guests to look inside through their agents (it runs a read-only
/// program in each, so a plain `check` of a whole host does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guests {
    /// The VM named with `--vm`, when it runs.
    Named,
    /// Every running VM whose agent is connected (only the one named with
    /// `--vm`, if any): for fixes made inside guests.
    Connected,
}

/// Reads the connection and the host as they are now and runs every rule,
/// keeping the findings that concern `vm` when one is named; a named VM's
/// guest is inspected too.
pub fn examine(hypervisor: &Hypervisor, vm: Option<&str>) -> Outcome {
    examine_guests(hypervisor, vm, Guests::Named)
}

/// [`examine`], looking inside the `guests` chosen.
pub fn examine_guests(hypervisor: &Hypervisor, vm: Option<&str>, guests: Guests) -> Outcome {
    let mut snapshot = match hypervisor.snapshot_blocking() {
        Ok(snapshot) => snapshot,
        Err(error) => return unreachable(hypervisor.uri(), &error),
    };
    probe::attach_host_facts(&mut snapshot);
    inspect_guests(hypervisor, &mut snapshot, vm, guests);
    let mut findings = diagnose(&snapshot);
    if let Some(vm) = vm {
        let Some(domain) = snapshot.domain(vm) else {
            return Outcome {
                uri: snapshot.uri.clone(),
                failure: Some(fill(
                    &gettext("There is no VM named “{vm}” on this connection."),
                    &[("vm", vm)],
                )),
                snapshot: Some(snapshot),
                vm: None,
                findings: Vec::new(),
            };
        };
        let networks: Vec<&str> = domain.interfaces().iter().filter_map(|nic| nic.network_name()).collect();
        findings.retain(|finding| finding.subject.concerns_vm(vm, &networks));
    }
    Outcome {
        uri: snapshot.uri.clone(),
        snapshot: Some(snapshot),
        vm: vm.map(str::to_owned),
        findings,
        failure: None,
    }
}

/// Fills [`vmnet_doctor_core::DomainSnapshot::guest`] of the chosen running
/// VMs; a guest that cannot be asked keeps the reason.
fn inspect_guests(hypervisor: &Hypervisor, snapshot: &mut Snapshot, vm: Option<&str>, guests: Guests) {
    for domain in &mut snapshot.domains {
        let chosen = match guests {
            Guests::Named => vm == Some(domain.name()),
            Guests::Connected => {
                vm.is_none_or(|vm| vm == domain.name())
                    && domain
                        .config
                        .guest_agent_channel
                        .as_ref()
                        .is_some_and(|channel| channel.state.as_deref() == Some("connected"))
            }
        };
        if !chosen || !domain.state.is_active() || domain.config.guest_agent_channel.is_none() {
            continue;
        }
        domain.guest = match hypervisor.inspect_guest_blocking(domain.name()) {
            Ok(facts) => Fact::Known(Box::new(facts)),
            Err(error) => Fact::Unknown(error.to_string()),
        };
    }
}

fn unreachable(uri: &str, error: &LibvirtError) -> Outcome {
    let problem = match error {
        LibvirtError::DaemonNotRunning { .. } => ConnectionProblem::DaemonNotRunning,
        LibvirtError::PermissionDenied { .. } => ConnectionProblem::PermissionDenied,
        LibvirtError::UnknownUri { .. } => ConnectionProblem::UnknownUri,
        LibvirtError::Disconnected
        | LibvirtError::NotFound { .. }
        | LibvirtError::NoSuchNic { .. }
        | LibvirtError::Unsupported { .. }
        | LibvirtError::GuestAgent { .. }
        | LibvirtError::Other { .. } => ConnectionProblem::Other,
    };
    let uri = match error {
        LibvirtError::DaemonNotRunning { uri, .. }
        | LibvirtError::PermissionDenied { uri, .. }
        | LibvirtError::UnknownUri { uri, .. } => uri.clone(),
        LibvirtError::Disconnected
        | LibvirtError::NotFound { .. }
        | LibvirtError::NoSuchNic { .. }
        | LibvirtError::Unsupported { .. }
        | LibvirtError::GuestAgent { .. }
        | LibvirtError::Other { .. } => uri.to_owned(),
    };
    let detail = error.detail().unwrap_or_default();
    Outcome {
        findings: connection_findings(problem, &uri, detail),
        failure: Some(gettext("Could not read the libvirt connection.")),
        uri,
        snapshot: None,
        vm: None,
    }
}
