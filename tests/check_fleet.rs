//! `vmnet-doctor check` on several hypervisors at once, as an administrator
//! runs it from a timer: the real binary against libvirt's test driver (the
//! demo and libvirt's own `test:///default`), an address where no daemon
//! listens, and a socket that accepts and never answers (a hung daemon, or
//! SSH waiting for a password).

use std::collections::BTreeMap;
use std::error::Error;
use std::os::unix::net::UnixListener;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::run;

mod support;

type TestResult = Result<(), Box<dyn Error>>;

fn check(args: &[&str]) -> Result<Output, Box<dyn Error>> {
    run("check", args)
}

fn json(output: &Output) -> Result<Value, Box<dyn Error>> {
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The demo's URI (a `test://` path under this checkout), as `--demo`
/// opens it, and its own report.
fn demo() -> Result<(String, Value), Box<dyn Error>> {
    let document = json(&check(&["--demo", "--json"])?)?;
    let uri = document["uri"].as_str().ok_or("the demo's report has no uri")?.to_owned();
    Ok((uri, document))
}

const NO_DAEMON: &str = "qemu:///system?socket=/nonexistent/libvirt-sock";

#[test]
fn each_connection_gets_its_own_report_in_one_document() -> TestResult {
    let (demo_uri, demo_alone) = demo()?;
    let output = check(&["-c", "test:///default", "-c", &demo_uri, "-c", NO_DAEMON, "--json"])?;
    let fleet = json(&output)?;
    assert_eq!(fleet["schema"], "vmnet-doctor-fleet/1");
    let connections = fleet["connections"].as_array().ok_or("no connections")?;
    let uris: Vec<&str> = connections.iter().filter_map(|c| c["uri"].as_str()).collect();
    assert_eq!(uris, ["test:///default", demo_uri.as_str(), NO_DAEMON], "in the order given");
    for connection in connections {
        assert_eq!(connection["schema"], "vmnet-doctor-check/1");
    }
    // Each section is that connection's own check.
    assert_eq!(connections[1]["findings"], demo_alone["findings"]);
    assert_eq!(connections[0]["checked"], true);
    assert_eq!(connections[2]["checked"], false);
    assert_eq!(connections[2]["findings"][0]["id"], "libvirt-unreachable");
    // The worst: one could not be checked.
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(fleet["exit_status"], 2);
    let summary = &fleet["summary"];
    assert_eq!((summary["connections"].as_u64(), summary["checked"].as_u64()), (Some(3), Some(2)));
    let errors = |document: &Value| document["summary"]["errors"].as_u64().unwrap_or_default();
    assert_eq!(summary["errors"].as_u64(), Some(errors(&demo_alone) + 1), "the demo's and the daemon's");

    // Without the dead one, the worst is the demo's errors.
    let output = check(&["-c", "test:///default", "-c", &demo_uri])?;
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout)?;
    let summary = text.rsplit("Checked 2 connections:").next().unwrap_or_default();
    assert!(summary.contains("test:///default 3 warnings"), "{summary}");
    assert!(summary.contains(&format!("{demo_uri} {} errors", errors(&demo_alone))), "{summary}");
    // libvirt's own test host alone has only warnings.
    assert_eq!(check(&["-c", "test:///default"])?.status.code(), Some(0));
    Ok(())
}

#[test]
fn a_host_that_never_answers_costs_the_timeout_not_the_run() -> TestResult {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("hung-libvirt-sock");
    // Accepts connections (the kernel does, into the backlog) and never
    // answers a word of libvirt's protocol.
    let _hung = UnixListener::bind(&socket)?;
    let hung_uri = format!("qemu+unix:///system?socket={}", socket.display());
    let started = Instant::now();
    // The hung one first: the others are checked while it is waited for.
    let output = check(&["-c", &hung_uri, "-c", "test:///default", "--timeout", "3", "--json"])?;
    let took = started.elapsed();
    let fleet = json(&output)?;
    assert_eq!(output.status.code(), Some(2));
    let connections = fleet["connections"].as_array().ok_or("no connections")?;
    assert_eq!(connections[0]["uri"], hung_uri.as_str());
    assert_eq!(connections[0]["checked"], false);
    assert_eq!(connections[0]["findings"][0]["id"], "libvirt-no-answer");
    assert_eq!(connections[1]["checked"], true, "checked beside the hung one: {fleet}");
    assert!(took >= Duration::from_secs(3), "gave up before its timeout: {took:?}");
    // The process start and the test driver's host, on a loaded machine.
    assert!(took < Duration::from_secs(30), "held by the hung host: {took:?}");
    Ok(())
}

/// One sample's labels and value.
type Sample = (BTreeMap<String, String>, f64);

/// `vmnet_doctor_findings{labels} value` lines, by metric name; every line
/// must be a sample of the format or a `# HELP` / `# TYPE` line.
fn samples(text: &str) -> Result<BTreeMap<String, Vec<Sample>>, Box<dyn Error>> {
    let mut by_name: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once("} ").ok_or_else(|| format!("not a sample: {line}"))?;
        let (name, labels) = series.split_once('{').ok_or_else(|| format!("no labels: {line}"))?;
        let mut parsed = BTreeMap::new();
        let mut rest = labels;
        while !rest.is_empty() {
            let (label, after) = rest.split_once("=\"").ok_or_else(|| format!("bad label: {line}"))?;
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, escaped)) => value.push(escaped),
                        None => return Err(format!("bad escape: {line}").into()),
                    },
                    Some((index, '"')) => break index,
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("unterminated label: {line}").into()),
                }
            };
            parsed.insert(label.to_owned(), value);
            rest = after[end + 1..].strip_prefix(',').unwrap_or(&after[end + 1..]);
        }
        by_name.entry(name.to_owned()).or_default().push((parsed, value.parse()?));
    }
    Ok(by_name)
}

#[test]
fn prometheus_metrics_count_each_finding_and_say_what_was_checked() -> TestResult {
    let (demo_uri, demo_alone) = demo()?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("vmnet-doctor.prom");
    std::fs::write(&file, "stale\n")?;
    let file_name = file.to_str().ok_or("not UTF-8")?;
    let output = check(&["-c", &demo_uri, "-c", NO_DAEMON, "--format=prometheus", "--output", file_name])?;
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "the report went to the file");
    let metrics = samples(&std::fs::read_to_string(&file)?)?;

    // Every finding of the demo is counted under its VM or network.
    let mut want: BTreeMap<(String, String, String, String), f64> = BTreeMap::new();
    for finding in demo_alone["findings"].as_array().ok_or("no findings")? {
        let subject = &finding["subject"];
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        let key = (
            text(&subject["vm"]),
            text(&subject["network"]),
            text(&finding["id"]),
            text(&finding["severity"]),
        );
        *want.entry(key).or_default() += 1.0;
    }
    let mut got: BTreeMap<(String, String, String, String), f64> = BTreeMap::new();
    for (labels, value) in metrics.get("vmnet_doctor_findings").ok_or("no findings metric")? {
        let label = |name: &str| labels.get(name).cloned().unwrap_or_default();
        assert_eq!(label("host"), std::fs::read_to_string("/proc/sys/kernel/hostname")?.trim());
        if label("uri") == demo_uri {
            got.insert((label("vm"), label("network"), label("id"), label("severity")), *value);
        } else {
            assert_eq!((label("uri").as_str(), label("id").as_str()), (NO_DAEMON, "libvirt-unreachable"));
        }
    }
    assert_eq!(got, want);
    let by_uri = |name: &str| -> Result<BTreeMap<String, f64>, Box<dyn Error>> {
        Ok(metrics
            .get(name)
            .ok_or(format!("no {name}"))?
            .iter()
            .map(|(labels, value)| (labels.get("uri").cloned().unwrap_or_default(), *value))
            .collect())
    };
    assert_eq!(
        by_uri("vmnet_doctor_check_success")?,
        [(demo_uri.clone(), 1.0), (NO_DAEMON.to_owned(), 0.0)].into()
    );
    // The demo's host is its recording (data/demo/host-facts.json).
    assert_eq!(
        by_uri("vmnet_doctor_host_checked")?,
        [(demo_uri.clone(), 1.0), (NO_DAEMON.to_owned(), 0.0)].into()
    );
    let vms = demo_alone["vms"].as_f64().ok_or("no vm count")?;
    assert_eq!(
        by_uri("vmnet_doctor_vms")?,
        [(demo_uri, vms)].into(),
        "only a connection that was read has a count"
    );
    // Replaced, not appended to; nothing left beside it.
    let names: Vec<_> =
        std::fs::read_dir(dir.path())?.filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(names, ["vmnet-doctor.prom"]);
    Ok(())
}

#[test]
fn a_report_that_cannot_be_written_is_exit_2_and_says_where() -> TestResult {
    let output = check(&["--demo", "--format=prometheus", "--output", "/nonexistent/dir/vmnet-doctor.prom"])?;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr)?.contains("/nonexistent/dir/vmnet-doctor.prom"));
    Ok(())
}
