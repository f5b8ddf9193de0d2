//! `vmnet-doctor verify` as a user runs it, against libvirt's test driver
//! (the demo hypervisor), which has no guest agent: the ways it cannot
//! verify, each with its exit status, and the commands it prints instead.
//! Runs inside real guests are the lab's (tests/lab/guest_checks.py).

use std::error::Error;
use std::process::Output;

use serde_json::Value;
use support::run;

mod support;

type TestResult = Result<(), Box<dyn Error>>;

fn verify(args: &[&str]) -> Result<Output, Box<dyn Error>> {
    run("verify", args)
}

/// The JSON lines, each checked to carry the schema.
fn events(output: &Output) -> Result<Vec<Value>, Box<dyn Error>> {
    let mut events = Vec::new();
    for line in String::from_utf8(output.stdout.clone())?.lines() {
        let event: Value = serde_json::from_str(line)?;
        assert_eq!(event["schema"], "vmnet-doctor-verify/1", "{line}");
        events.push(event);
    }
    Ok(events)
}

fn summary(events: &[Value]) -> Result<&Value, Box<dyn Error>> {
    let last = events.last().ok_or("no output")?;
    assert_eq!(last["event"], "summary", "the summary comes last: {events:?}");
    Ok(last)
}

#[test]
fn a_vm_without_an_agent_channel_gets_the_commands_to_type() -> TestResult {
    let output = verify(&["--demo", "rocky9", "--json", "--ping", "9.9.9.9"])?;
    assert_eq!(output.status.code(), Some(3));
    let events = events(&output)?;
    let unavailable =
        events.iter().find(|e| e["event"] == "agent-unavailable").ok_or("no agent-unavailable")?;
    assert_eq!(unavailable["reason"], "no-channel");
    let commands: Vec<(&str, &str)> = unavailable["commands"]
        .as_array()
        .ok_or("commands")?
        .iter()
        .filter_map(|c| Some((c["step"].as_str()?, c["command"].as_str()?)))
        .collect();
    // No agent: the interface is unknown, so the guide's discovery comes
    // first; the gateway is the libvirt network's own address.
    assert!(commands[0].1.starts_with("ip -o link show"), "{commands:?}");
    assert!(commands.contains(&("ping", "ping -c 3 9.9.9.9")), "{commands:?}");
    assert_eq!(commands.len(), 6);
    assert_eq!(summary(&events)?["exit_code"], 3);
    Ok(())
}

#[test]
fn a_driver_without_agents_is_reported_not_guessed() -> TestResult {
    let output = verify(&["--demo", "debian12"])?;
    assert_eq!(output.status.code(), Some(3));
    let text = String::from_utf8(output.stdout)?;
    assert!(text.contains("Run the checklist in the guest yourself:"), "{text}");
    assert!(text.contains("getent ahosts google.com"), "{text}");
    Ok(())
}

#[test]
fn a_shut_off_or_unknown_vm_cannot_be_verified() -> TestResult {
    for vm in ["opensuse-tumbleweed", "no-such-vm"] {
        let output = verify(&["--demo", vm, "--json"])?;
        assert_eq!(output.status.code(), Some(2), "{vm}");
        let events = events(&output)?;
        assert!(events.iter().any(|e| e["event"] == "error"), "{vm}: {events:?}");
        assert_eq!(summary(&events)?["status"], "error");
    }
    Ok(())
}

#[test]
fn bad_arguments_are_exit_2() -> TestResult {
    for args in
        [&["--demo"][..], &["--demo", "rocky9", "--ping", "-f"], &["--demo", "rocky9", "--http", "ftp://x"]]
    {
        assert_eq!(verify(args)?.status.code(), Some(2), "{args:?}");
    }
    Ok(())
}
