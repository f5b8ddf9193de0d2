//! `vmnet-doctor check`: the whole diagnosis on a terminal, without GTK, so
//! it works over SSH on a headless hypervisor.
//!
//! Exit status: 0 no errors, 1 errors found, 2 could not check.

mod json;
mod report;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use gettextrs::gettext;
use vmnet_doctor_core::rules::{ConnectionProblem, connection_findings};
use vmnet_doctor_core::{Finding, Severity, Snapshot, diagnose};
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError};

use crate::cli::CheckOptions;
use crate::i18n::fill;
use crate::{connections, probe};

/// What the check concluded, before it is printed.
#[derive(Debug)]
pub struct Outcome {
    pub uri: String,
    pub snapshot: Option<Snapshot>,
    pub findings: Vec<Finding>,
    /// Set when the check could not run to its end (exit status 2).
    pub failure: Option<String>,
}

impl Outcome {
    pub fn exit_code(&self) -> ExitCode {
        if self.failure.is_some() {
            ExitCode::from(2)
        } else if self.findings.iter().any(|f| f.severity == Severity::Error) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }
}

pub fn run(options: &CheckOptions) -> ExitCode {
    let outcome = check(options);
    let mut stdout = std::io::stdout().lock();
    let printed = if options.json {
        json::write(&mut stdout, &outcome)
    } else {
        report::write(&mut stdout, &outcome, std::io::stdout().is_terminal())
    };
    if printed.and_then(|()| stdout.flush()).is_err() {
        // A closed pipe (e.g. `| head`) is not worth a panic.
        return ExitCode::from(2);
    }
    outcome.exit_code()
}

/// Connects, reads the host and runs every rule.
pub fn check(options: &CheckOptions) -> Outcome {
    let requested = if options.demo { Some(connections::demo_uri()) } else { options.connect.clone() };
    let opened = match &requested {
        Some(uri) => Hypervisor::open_blocking(uri),
        None => Hypervisor::open_default_blocking(),
    };
    let shown_uri = requested.unwrap_or_default();
    let snapshot = opened.and_then(|hypervisor| hypervisor.snapshot_blocking());
    let mut snapshot = match snapshot {
        Ok(snapshot) => snapshot,
        Err(error) => return unreachable(&shown_uri, &error),
    };
    probe::attach_host_facts(&mut snapshot);
    let mut findings = diagnose(&snapshot);
    if let Some(vm) = &options.vm {
        let Some(domain) = snapshot.domain(vm) else {
            return Outcome {
                uri: snapshot.uri.clone(),
                failure: Some(fill(
                    &gettext("There is no VM named “{vm}” on this connection."),
                    &[("vm", vm)],
                )),
                snapshot: Some(snapshot),
                findings: Vec::new(),
            };
        };
        let networks: Vec<&str> = domain.interfaces().iter().filter_map(|nic| nic.network_name()).collect();
        findings.retain(|finding| finding.subject.concerns_vm(vm, &networks));
    }
    Outcome { uri: snapshot.uri.clone(), snapshot: Some(snapshot), findings, failure: None }
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
        | LibvirtError::Other { .. } => uri.to_owned(),
    };
    let detail = error.detail().unwrap_or_default();
    Outcome {
        findings: connection_findings(problem, &uri, detail),
        failure: Some(gettext("Could not read the libvirt connection.")),
        uri,
        snapshot: None,
    }
}
