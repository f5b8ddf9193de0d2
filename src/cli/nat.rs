//! `vmnet-doctor nat VM [--json]`: a running VM's NAT translation table —
//! its current connection-tracking entries, read through the helper's
//! read-only `Connections` — explained with the guide's packet flow.
//!
//! The guest's addresses come from the snapshot (agent, DHCP leases, ARP);
//! only those inside a network the host routes (NAT, routed, open) are
//! asked about: the others are not translated by this host.
//!
//! Exit status: 0 the table was read (maybe empty), 2 it could not be.
//! JSON: docs/nat-json.md.

use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::process::ExitCode;

use gettextrs::gettext;
use serde_json::{Value, json};
use vmnet_doctor_core::network::{ForwardMode, in_subnet};
use vmnet_doctor_core::{Snapshot, snapshot::DomainState};
use vmnet_doctor_host::helper_api::{ConnectionsReport, ConntrackEntry, Endpoint, HelperClient, ToolStatus};

use crate::cli::args::{Command, NatOptions, Parsed, Takes, parse_options, unknown_argument};
use crate::cli::check;
use crate::i18n::fill;
use crate::probe;

/// Bumped on any incompatible change of the JSON document.
pub const SCHEMA: &str = "vmnet-doctor-nat/1";

/// The arguments after `nat`.
pub fn parse(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut vm = String::new();
    let parsed = parse_options(args, Takes { vm: false, json: true }, |arg, _| {
        if arg.whole.starts_with('-') || !vm.is_empty() {
            return Err(unknown_argument(&arg.whole));
        }
        vm = arg.whole;
        Ok(None)
    })?;
    let shared = match parsed {
        Parsed::Options(shared) => shared,
        Parsed::Answer(command) => return Ok(command),
    };
    if vm.is_empty() {
        return Err(gettext("nat needs the name of a running virtual machine"));
    }
    Ok(Command::Nat(NatOptions { connect: shared.connection()?, demo: shared.demo, vm, json: shared.json }))
}

/// What was found, before it is printed.
#[derive(Debug)]
struct Table {
    uri: String,
    vm: String,
    /// Addresses behind this host's NAT (asked about), and the others.
    asked: Vec<IpAddr>,
    not_translated: Vec<IpAddr>,
    report: Option<ConnectionsReport>,
    failure: Option<String>,
}

pub fn run(options: &NatOptions) -> ExitCode {
    let table = read(options);
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let printed = if options.json {
        serde_json::to_writer_pretty(&mut stdout, &document(&table))
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        write_text(&mut stdout, &table)
    };
    if printed.and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    if table.failure.is_some() { ExitCode::from(2) } else { ExitCode::SUCCESS }
}

/// The VM's addresses that this host translates, and the others.
fn guest_addresses(snapshot: &Snapshot, vm: &str) -> Result<(Vec<IpAddr>, Vec<IpAddr>), String> {
    let domain = snapshot
        .domain(vm)
        .ok_or_else(|| fill(&gettext("There is no VM named “{vm}” on this connection."), &[("vm", vm)]))?;
    if domain.state != DomainState::Running {
        return Err(fill(&gettext("“{vm}” is not running: it has no connections."), &[("vm", vm)]));
    }
    let subnets: Vec<(IpAddr, u8)> = snapshot
        .networks
        .iter()
        .filter(|network| {
            network.active
                && matches!(network.config.forward, ForwardMode::Nat | ForwardMode::Route | ForwardMode::Open)
        })
        .flat_map(|network| network.config.ips.iter())
        .map(|ip| (ip.address, ip.prefix.unwrap_or(if ip.is_ipv6() { 64 } else { 24 })))
        .collect();
    let (mut asked, mut others) = (Vec::new(), Vec::new());
    for nic in domain.interfaces() {
        let Some(mac) = &nic.mac else { continue };
        for (_, address) in domain.addresses_for(mac) {
            let ip = address.ip;
            if ip.is_loopback() || matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80) {
                continue;
            }
            let list = if subnets.iter().any(|(network, prefix)| in_subnet(ip, *network, *prefix)) {
                &mut asked
            } else {
                &mut others
            };
            if !list.contains(&ip) {
                list.push(ip);
            }
        }
    }
    Ok((asked, others))
}

fn read(options: &NatOptions) -> Table {
    let mut table = Table {
        uri: options.connect.clone().unwrap_or_default(),
        vm: options.vm.clone(),
        asked: Vec::new(),
        not_translated: Vec::new(),
        report: None,
        failure: None,
    };
    let hypervisor = match check::open(options.demo, options.connect.as_deref()) {
        Ok(hypervisor) => hypervisor,
        Err(outcome) => {
            table.failure =
                outcome.failure.or_else(|| Some(gettext("Could not read the libvirt connection.")));
            return table;
        }
    };
    table.uri = hypervisor.uri().to_owned();
    // The helper reads this machine's table: only right for a libvirt here.
    if table.uri.starts_with("test:") {
        table.failure = Some(gettext("The demo hypervisor has no NAT table of its own."));
        return table;
    }
    if !probe::is_local(&table.uri) {
        table.failure = Some(fill(
            &gettext(
                "The NAT table is kept by the host libvirt runs on ({uri}); run “vmnet-doctor nat” there.",
            ),
            &[("uri", &table.uri)],
        ));
        return table;
    }
    let snapshot = match hypervisor.snapshot_blocking() {
        Ok(snapshot) => snapshot,
        Err(error) => {
            table.failure = Some(error.to_string());
            return table;
        }
    };
    match guest_addresses(&snapshot, &options.vm) {
        Ok((asked, others)) => (table.asked, table.not_translated) = (asked, others),
        Err(why) => {
            table.failure = Some(why);
            return table;
        }
    }
    if table.asked.is_empty() {
        table.failure = Some(fill(
            &gettext(
                "No address of “{vm}” behind this host's NAT is known (no agent answer, DHCP lease or ARP entry).",
            ),
            &[("vm", &options.vm)],
        ));
        return table;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        table.failure = Some(gettext("Could not start the runtime that talks to the helper."));
        return table;
    };
    let interactive = std::io::stdin().is_terminal();
    let asked = table.asked.clone();
    let result = runtime.block_on(async move {
        let mut client = HelperClient::connect().await?;
        client.set_interactive(interactive);
        client.connections(&asked).await
    });
    match result {
        Ok(report) => {
            if report.status != ToolStatus::Ok {
                table.failure = Some(report.message.clone());
            }
            table.report = Some(report);
        }
        Err(error) => table.failure = Some(error.to_string()),
    }
    table
}

fn endpoint(end: &Endpoint) -> Value {
    json!({ "address": end.address.to_string(), "port": end.port })
}

fn entry_json(entry: &ConntrackEntry) -> Value {
    json!({
        "protocol": entry.protocol,
        "state": entry.state,
        "timeout": entry.timeout,
        "flags": entry.flags,
        "original": { "source": endpoint(&entry.original.source), "destination": endpoint(&entry.original.destination) },
        "reply": { "source": endpoint(&entry.reply.source), "destination": endpoint(&entry.reply.destination) },
        "translated_source": endpoint(&entry.translated_source()),
        "source_translated": entry.source_translated(),
        "destination_translated": entry.destination_translated(),
        "summary": entry.summary(),
    })
}

fn document(table: &Table) -> Value {
    let status = match &table.report {
        Some(report) => match report.status {
            ToolStatus::Ok => "ok",
            ToolStatus::NotInstalled => "not-installed",
            ToolStatus::NotRun | ToolStatus::Failed => "failed",
        },
        None => "unavailable",
    };
    json!({
        "schema": SCHEMA,
        "uri": table.uri,
        "vm": table.vm,
        "read": table.failure.is_none(),
        "failure": table.failure,
        "status": status,
        "addresses": table.asked.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "not_translated": table.not_translated.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "entries": table.report.iter().flat_map(|report| report.entries.iter()).map(entry_json).collect::<Vec<_>>(),
        "truncated": table.report.as_ref().map_or(0, |report| report.truncated),
        "unparsed": table.report.as_ref().map(|report| report.unparsed.clone()).unwrap_or_default(),
    })
}

fn write_text(out: &mut impl Write, table: &Table) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        fill(&gettext("NAT translation table of “{vm}” ({uri})"), &[("vm", &table.vm), ("uri", &table.uri)])
    )?;
    if let Some(failure) = &table.failure {
        writeln!(out, "{}", fill(&gettext("Could not read it: {why}"), &[("why", failure)]))?;
        return Ok(());
    }
    let addresses: Vec<String> = table.asked.iter().map(ToString::to_string).collect();
    writeln!(
        out,
        "{}",
        fill(
            &gettext("Guest addresses behind this host's NAT: {addresses}"),
            &[("addresses", &addresses.join(", "))]
        )
    )?;
    if !table.not_translated.is_empty() {
        let others: Vec<String> = table.not_translated.iter().map(ToString::to_string).collect();
        writeln!(
            out,
            "{}",
            fill(&gettext("Not translated by this host: {addresses}"), &[("addresses", &others.join(", "))])
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        gettext(
            "When the VM opens a connection, NAT replaces its source address and port with the host's own (step 3 of the packet flow) and records the pair here; answers to the host's address and port are translated back to the VM (step 6). An entry lives while traffic flows, then times out."
        )
    )?;
    writeln!(out)?;
    let Some(report) = &table.report else { return Ok(()) };
    if report.entries.is_empty() {
        writeln!(out, "{}", gettext("No connection of this VM is being tracked right now."))?;
    }
    for entry in &report.entries {
        let mut line = entry.summary();
        if let Some(state) = &entry.state {
            line.push_str(&format!("  {state}"));
        }
        for flag in &entry.flags {
            line.push_str(&format!(" [{flag}]"));
        }
        line.push_str(&fill(
            &gettext("  (expires in {seconds} s)"),
            &[("seconds", &entry.timeout.to_string())],
        ));
        writeln!(out, "  {line}")?;
    }
    if report.truncated > 0 {
        writeln!(
            out,
            "{}",
            fill(&gettext("… and {count} more entries."), &[("count", &report.truncated.to_string())])
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn nat_takes_one_vm_and_the_usual_options() {
        let want =
            NatOptions { connect: Some("qemu:///system".into()), demo: false, vm: "web".into(), json: true };
        assert_eq!(run(&["web", "--json", "--connect=qemu:///system"]), Ok(Command::Nat(want)));
        assert!(run(&[]).is_err());
        assert!(run(&["a", "b"]).is_err());
        assert!(run(&["--bogus", "a"]).is_err());
    }
}
