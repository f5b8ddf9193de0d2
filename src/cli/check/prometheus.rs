//! `check --format=prometheus`: the findings as metrics in Prometheus'
//! text exposition format, for node_exporter's textfile collector
//! (`docs/fleet.md`). An alert on `vmnet_doctor_findings{severity="error"}`
//! fires when a VM loses its network; `vmnet_doctor_check_success` says
//! whether each connection could be checked at all.

use std::collections::BTreeMap;
use std::io::{self, Write};

use vmnet_doctor_core::{Fact, Subject};

use super::Outcome;
use crate::libvirt_uri;

/// One series of `vmnet_doctor_findings`; two findings with the same
/// labels (one rule on two cards of a VM) are counted in one.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct FindingLabels<'a> {
    host: String,
    uri: &'a str,
    vm: &'a str,
    network: &'a str,
    id: &'a str,
    severity: &'a str,
}

pub fn write(out: &mut dyn Write, outcomes: &[Outcome]) -> io::Result<()> {
    let mut findings: BTreeMap<FindingLabels<'_>, usize> = BTreeMap::new();
    for outcome in outcomes {
        for finding in &outcome.findings {
            let (vm, network) = match &finding.subject {
                Subject::Vm { name } => (name.as_str(), ""),
                Subject::Nic { vm, .. } => (vm.as_str(), ""),
                Subject::Network { name } => ("", name.as_str()),
                Subject::Host | Subject::Connection => ("", ""),
            };
            let labels = FindingLabels {
                host: host_label(&outcome.uri),
                uri: &outcome.uri,
                vm,
                network,
                id: finding.id,
                severity: finding.severity.as_str(),
            };
            *findings.entry(labels).or_default() += 1;
        }
    }
    family(
        out,
        "vmnet_doctor_findings",
        "Problems vmnet-doctor check found, by host, VM or network, finding id and severity.",
    )?;
    for (labels, count) in &findings {
        let pairs = [
            ("host", labels.host.as_str()),
            ("uri", labels.uri),
            ("vm", labels.vm),
            ("network", labels.network),
            ("id", labels.id),
            ("severity", labels.severity),
        ];
        sample(out, "vmnet_doctor_findings", &pairs, *count)?;
    }
    family(
        out,
        "vmnet_doctor_check_success",
        "1 when vmnet-doctor could check the connection, 0 when it could not.",
    )?;
    for outcome in outcomes {
        sample(
            out,
            "vmnet_doctor_check_success",
            &host_pairs(outcome),
            usize::from(outcome.failure.is_none()),
        )?;
    }
    family(
        out,
        "vmnet_doctor_host_checked",
        "1 when the host's own network (firewall, forwarding, bridges) was checked, 0 when only what libvirt reports was.",
    )?;
    for outcome in outcomes {
        let checked =
            outcome.snapshot.as_ref().is_some_and(|snapshot| matches!(snapshot.host, Fact::Known(_)));
        sample(out, "vmnet_doctor_host_checked", &host_pairs(outcome), usize::from(checked))?;
    }
    family(out, "vmnet_doctor_vms", "VMs defined on the connection.")?;
    for outcome in outcomes {
        if let Some(snapshot) = &outcome.snapshot {
            sample(out, "vmnet_doctor_vms", &host_pairs(outcome), snapshot.domains.len())?;
        }
    }
    Ok(())
}

fn host_pairs(outcome: &Outcome) -> [(&'static str, String); 2] {
    [("host", host_label(&outcome.uri)), ("uri", outcome.uri.clone())]
}

fn family(out: &mut dyn Write, name: &str, help: &str) -> io::Result<()> {
    writeln!(out, "# HELP {name} {help}")?;
    writeln!(out, "# TYPE {name} gauge")
}

fn sample<V: AsRef<str>>(
    out: &mut dyn Write,
    name: &str,
    labels: &[(&str, V)],
    value: usize,
) -> io::Result<()> {
    let labels: Vec<String> =
        labels.iter().map(|(label, text)| format!("{label}=\"{}\"", escape(text.as_ref()))).collect();
    writeln!(out, "{name}{{{}}} {value}", labels.join(","))
}

/// A label value as the exposition format quotes it.
fn escape(value: &str) -> String {
    value.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}

/// The `host` label: the host a remote URI names (without user and
/// port), else this machine's name. Taken from the URI rather than from
/// libvirt so that a host keeps its label when it cannot be reached.
pub fn host_label(uri: &str) -> String {
    uri_host(uri).map_or_else(this_machine, str::to_owned)
}

fn uri_host(uri: &str) -> Option<&str> {
    libvirt_uri::parse(uri).map(|parts| parts.host).filter(|host| !host.is_empty())
}

fn this_machine() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::{escape, uri_host};

    #[test]
    fn the_host_is_the_one_the_uri_names() {
        assert_eq!(uri_host("qemu+ssh://root@kvm1.example.com/system"), Some("kvm1.example.com"));
        assert_eq!(uri_host("qemu+ssh://ann@kvm2:2222/system?keyfile=/k"), Some("kvm2"));
        assert_eq!(uri_host("qemu+tls://[2001:db8::7]:16514/system"), Some("2001:db8::7"));
        assert_eq!(uri_host("qemu:///system"), None);
        assert_eq!(uri_host("test:///default"), None);
        assert_eq!(uri_host("qemu+unix:///system?socket=/run/x.sock"), None);
        assert_eq!(uri_host("not a uri"), None);
    }

    #[test]
    fn label_values_are_quoted_as_the_format_says() {
        assert_eq!(escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(escape("two\nlines"), r"two\nlines");
    }
}
