//! `vmnet-doctor verify VM`: the guide's checklist run inside the guest
//! through its agent (`crate::guest_checklist`), printed as each step
//! completes.
//!
//! When the agent cannot run it (no channel, not running, guest-exec
//! refused) it says which and prints the commands to type in the guest.
//! Exit status: 0 every step passed (or did not apply), 1 a step failed,
//! 2 could not verify (connection, no such VM, not running), 3 the agent
//! cannot run the checklist. JSON: `docs/verify-json.md`.

mod json;
mod report;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use vmnet_doctor_core::Subject;
use vmnet_doctor_core::guest::checklist::Targets;

use crate::cli::args::VerifyOptions;
use crate::cli::check;
use crate::guest_checklist::{Sink, Summary, finish, verify_vm};

pub fn run(options: &VerifyOptions) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let summary = if options.json {
        let mut sink = json::Lines::new(&mut stdout);
        verify(options, &mut sink)
    } else {
        let colour = std::io::stdout().is_terminal();
        let mut sink = report::Text::new(&mut stdout, colour);
        verify(options, &mut sink)
    };
    if stdout.flush().is_err() {
        return ExitCode::from(2);
    }
    ExitCode::from(summary.exit)
}

fn targets(options: &VerifyOptions) -> Targets {
    let mut targets = Targets { gateway: options.gateway, ..Targets::default() };
    if let Some(ping) = &options.ping {
        targets.ping.clone_from(ping);
    }
    if let Some(dns) = &options.dns {
        targets.dns.clone_from(dns);
    }
    if let Some(http) = &options.http {
        targets.http.clone_from(http);
    }
    targets
}

fn verify(options: &VerifyOptions, sink: &mut dyn Sink) -> Summary {
    let vm = options.vm.as_str();
    let failed = |sink: &mut dyn Sink, message: String| {
        sink.failed(&message);
        finish(sink, Summary { exit: 2, ..Summary::default() })
    };
    let hypervisor = match check::open(options.demo, options.connect.as_deref()) {
        Ok(hypervisor) => hypervisor,
        Err(outcome) => {
            let mut message = outcome.failure.unwrap_or_default();
            for finding in outcome.findings.iter().filter(|f| f.subject == Subject::Connection) {
                message.push(' ');
                message.push_str(&finding.title);
            }
            return failed(sink, message);
        }
    };
    sink.started(hypervisor.uri(), vm);
    verify_vm(&hypervisor, vm, &targets(options), sink, &AtomicBool::new(false))
}
