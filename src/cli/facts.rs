//! `vmnet-doctor facts [NETWORK…]`: this host's network facts (links,
//! routes, firewall, forwarding, dnsmasq, bridges) as one JSON document,
//! read as `check` reads them here: directly as root, else through the
//! helper. A desktop checking this hypervisor over SSH runs it
//! (`crate::remote_host`), so that the host's own rules are judged there
//! as on a local connection. The networks are the libvirt networks whose
//! dnsmasq and leases to read.

use std::io::Write;
use std::process::ExitCode;

use gettextrs::gettext;
use serde_json::json;

use super::args::{Command, FactsOptions, unknown_argument};
use crate::config;
use crate::remote_protocol::FACTS_SCHEMA;

pub(super) fn parse(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut options = FactsOptions::default();
    let mut names_only = false;
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" if !names_only => return Ok(Command::Help),
            "--" if !names_only => names_only = true,
            _ if arg.starts_with('-') && !names_only => return Err(unknown_argument(&arg)),
            _ if arg.trim().is_empty() => return Err(gettext("a network name cannot be empty")),
            _ => options.networks.push(arg),
        }
    }
    Ok(Command::Facts(options))
}

pub fn run(options: &FactsOptions) -> ExitCode {
    let facts = vmnet_doctor_host::read_host_facts(&options.networks);
    let document = json!({ "schema": FACTS_SCHEMA, "version": config::VERSION, "facts": facts });
    let mut stdout = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut stdout, &document)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(stdout))
        .and_then(|()| stdout.flush());
    if written.is_err() { ExitCode::from(2) } else { ExitCode::SUCCESS }
}
