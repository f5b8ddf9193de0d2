//! The verification checklist: what it plans for each real guest (the
//! argv must be the ones the fixtures were captured with, busybox and GNU
//! alike) and how it judges what those commands printed, working and
//! broken (tests/fixtures/guest/).

#[path = "support/guest.rs"]
mod support;

use support::{Error, output};
use vmnet_doctor_core::GuestAddress;
use vmnet_doctor_core::guest::checklist::{self, Status, Step, StepKind, Targets};
use vmnet_doctor_core::guest::parse_probe;

/// The lab's internet host, as the lab points `verify` at it.
fn lab_targets() -> Targets {
    Targets {
        gateway: None,
        ping: "203.0.113.80".into(),
        dns: "www.lab.example".into(),
        http: "http://www.lab.example/".into(),
    }
}

fn planned(probe: &str, targets: &Targets) -> Result<Vec<Step>, Error> {
    Ok(checklist::plan(&parse_probe(&output(probe)?.stdout), targets))
}

fn step(steps: &[Step], kind: StepKind) -> Result<&Step, Error> {
    Ok(steps.iter().find(|step| step.kind == kind).ok_or("no such step")?)
}

/// `step` judged on the captured output `name`, whose argv must be the
/// step's own except for the target (`retarget`: the captured one).
fn judged(step: &Step, name: &str) -> Result<(Status, String), Error> {
    let captured = output(name)?;
    let verdict = checklist::judge(step, captured.exit, &captured.stdout, &captured.stderr);
    Ok((verdict.status, verdict.detail))
}

fn retargeted(step: &Step, from: &str, to: &str) -> Step {
    let mut step = step.clone();
    for arg in &mut step.argv {
        if arg == from {
            *arg = to.to_owned();
        }
    }
    step
}

#[test]
fn busybox_gets_busybox_commands_and_they_are_judged() -> Result<(), Error> {
    let steps = planned("busybox-probe", &lab_targets())?;
    let gateway = step(&steps, StepKind::Gateway)?;
    assert_eq!(gateway.argv, output("busybox-ping-gateway")?.argv);
    assert_eq!(judged(gateway, "busybox-ping-gateway")?.0, Status::Pass);
    let dns = step(&steps, StepKind::Dns)?;
    assert_eq!(dns.argv, output("busybox-nslookup")?.argv);
    assert_eq!(judged(dns, "busybox-nslookup")?, (Status::Pass, "203.0.113.80, 2001:db8:100::80".to_owned()));
    let http = step(&steps, StepKind::Http)?;
    assert_eq!(http.argv, output("busybox-wget")?.argv, "busybox wget has no -t");
    assert_eq!(judged(http, "busybox-wget")?, (Status::Pass, "HTTP status 200".to_owned()));
    // No package manager in the tiny guest: the step does not apply.
    assert_eq!(step(&steps, StepKind::Packages)?.decided.as_ref().map(|v| v.status), Some(Status::Skip));

    let ping = step(&steps, StepKind::Ping)?;
    assert_eq!(ping.argv, output("busybox-ping-lost")?.argv);
    let (status, detail) = judged(ping, "busybox-ping-lost")?;
    assert_eq!(
        (status, detail.as_str()),
        (Status::Fail, "3 packets transmitted, 0 packets received, 100% packet loss")
    );
    let (status, detail) = judged(
        &retargeted(http, "http://www.lab.example/", "http://203.0.113.80:81/"),
        "busybox-wget-refused",
    )?;
    assert_eq!(status, Status::Fail);
    assert!(detail.contains("Connection refused"), "{detail}");
    let (status, detail) =
        judged(&retargeted(dns, "www.lab.example", "nothere.lab.example"), "busybox-nslookup-unknown")?;
    assert_eq!(
        (status, detail.as_str()),
        (Status::Fail, ";; connection timed out; no servers could be reached")
    );
    Ok(())
}

#[test]
fn debian_gets_gnu_commands_and_they_are_judged() -> Result<(), Error> {
    let steps = planned("debian13-probe", &lab_targets())?;
    let gateway = step(&steps, StepKind::Gateway)?;
    assert_eq!(gateway.argv, output("debian13-ping-gateway")?.argv);
    let (status, detail) = judged(gateway, "debian13-ping-gateway")?;
    assert_eq!(status, Status::Pass);
    assert!(detail.starts_with("3 packets transmitted, 3 received, 0% packet loss, time "), "{detail}");
    let dns = step(&steps, StepKind::Dns)?;
    assert_eq!(dns.argv, output("debian13-getent")?.argv);
    assert_eq!(judged(dns, "debian13-getent")?, (Status::Pass, "203.0.113.80, 2001:db8:100::80".to_owned()));
    let (status, _) =
        judged(&retargeted(dns, "www.lab.example", "nothere.lab.example"), "debian13-getent-unknown")?;
    assert_eq!(status, Status::Fail);
    let http = step(&steps, StepKind::Http)?;
    assert_eq!(http.argv, output("debian13-curl")?.argv);
    assert_eq!(judged(http, "debian13-curl")?, (Status::Pass, "HTTP status 200".to_owned()));
    let (status, detail) = judged(
        &retargeted(http, "http://www.lab.example/", "http://203.0.113.80:81/"),
        "debian13-curl-refused",
    )?;
    assert_eq!(status, Status::Fail);
    assert!(detail.starts_with("curl: (7) Failed to connect"), "{detail}");
    let ping = step(&steps, StepKind::Ping)?;
    assert_eq!(judged(ping, "debian13-ping-lost")?.0, Status::Fail);

    let packages = step(&steps, StepKind::Packages)?;
    assert_eq!(packages.argv, output("debian13-apt-update")?.argv);
    let (status, detail) = judged(packages, "debian13-apt-update")?;
    assert_eq!(status, Status::Pass);
    assert!(detail.starts_with("Fetched "), "{detail}");
    // apt-get update exits 0 when a source failed: its own words say so.
    let (status, detail) = judged(packages, "debian13-apt-update-failing")?;
    assert_eq!(status, Status::Fail);
    assert!(detail.starts_with("Err:1 http://www.lab.example/debian"), "{detail}");
    Ok(())
}

#[test]
fn without_a_default_route_the_gateway_step_fails_unless_one_is_given() -> Result<(), Error> {
    let steps = planned("debian13-probe-stale-profile", &lab_targets())?;
    let gateway = step(&steps, StepKind::Gateway)?;
    assert_eq!(gateway.decided.as_ref().map(|verdict| verdict.status), Some(Status::Fail));
    let given = Targets { gateway: Some("192.168.122.1".parse()?), ..lab_targets() };
    let steps = planned("debian13-probe-stale-profile", &given)?;
    assert_eq!(step(&steps, StepKind::Gateway)?.argv, output("debian13-ping-gateway")?.argv);
    Ok(())
}

#[test]
fn a_guest_timeout_is_reported_as_one() -> Result<(), Error> {
    let steps = planned("debian13-probe", &lab_targets())?;
    let packages = step(&steps, StepKind::Packages)?;
    // coreutils' timeout exits 124 when it ends the program, busybox's 143 (SIGTERM).
    for code in [124, 143] {
        assert_eq!(checklist::judge(packages, Some(code), "", "").status, Status::Timeout);
    }
    Ok(())
}

#[test]
fn the_address_step_wants_a_routable_ipv4_address() -> Result<(), Error> {
    let link_local = GuestAddress { ip: "169.254.3.4".parse()?, prefix: 16 };
    let leased = GuestAddress { ip: "192.168.122.156".parse()?, prefix: 24 };
    assert_eq!(
        checklist::judge_address(Some("enp1s0"), std::slice::from_ref(&link_local)).status,
        Status::Fail
    );
    assert_eq!(checklist::judge_address(None, &[]).status, Status::Fail);
    let verdict = checklist::judge_address(Some("enp1s0"), &[link_local, leased]);
    assert_eq!((verdict.status, verdict.detail.as_str()), (Status::Pass, "192.168.122.156/24"));
    Ok(())
}

#[test]
fn by_hand_the_commands_carry_what_is_known() -> Result<(), Error> {
    let commands = checklist::manual_commands(
        Some("enp1s0"),
        Some("192.168.122.1".parse()?),
        Some("fedora"),
        &Targets::default(),
    );
    let text: Vec<&str> = commands.iter().map(|(_, command)| command.as_str()).collect();
    assert_eq!(
        text,
        [
            "ip -4 addr show dev enp1s0",
            "ping -c 3 192.168.122.1",
            "ping -c 3 8.8.8.8",
            "getent ahosts google.com",
            "curl -sSI http://archive.ubuntu.com/",
            "sudo dnf check-update",
        ]
    );
    let unknown = checklist::manual_commands(None, None, None, &Targets::default());
    assert!(unknown[0].1.starts_with("ip -o link show"));
    assert_eq!(unknown[5].1, "sudo apt update");
    Ok(())
}

/// The guide's "without delay": a step that passes only after its kind's
/// bound is slow, a warning with the time and the usual cause; a fast pass,
/// a failure and the address check stay as they were.
#[test]
fn a_pass_that_takes_too_long_is_slow_with_its_cause() -> Result<(), Error> {
    use std::time::Duration;
    let steps = planned("busybox-probe", &lab_targets())?;
    let dns = step(&steps, StepKind::Dns)?;
    let captured = output("busybox-nslookup")?;
    let passed = checklist::judge(dns, captured.exit, &captured.stdout, &captured.stderr);
    assert_eq!(passed.status, Status::Pass);

    let fast = checklist::judge_time(StepKind::Dns, passed.clone(), Duration::from_millis(400));
    assert_eq!(fast, passed);
    let slow = checklist::judge_time(StepKind::Dns, passed.clone(), Duration::from_millis(4200));
    assert_eq!(slow.status, Status::Slow);
    assert!(slow.status.is_ok(), "a slow step did its job");
    assert!(slow.detail.starts_with("203.0.113.80, 2001:db8:100::80 "), "{}", slow.detail);
    assert!(slow.detail.contains("only after 4.2 s") && slow.detail.contains("timeout"), "{}", slow.detail);

    let http = checklist::judge_time(StepKind::Http, passed.clone(), Duration::from_secs(7));
    assert_eq!(http.status, Status::Slow);
    assert!(http.detail.contains("IPv6"), "{}", http.detail);
    // ping -c 3 needs 2 s by itself: that is not slow.
    let ping = checklist::judge_time(StepKind::Ping, passed.clone(), Duration::from_millis(2300));
    assert_eq!(ping.status, Status::Pass);

    let ping = step(&steps, StepKind::Ping)?;
    let lost = output("busybox-ping-lost")?;
    let failed = checklist::judge(ping, lost.exit, &lost.stdout, &lost.stderr);
    assert_eq!(checklist::judge_time(StepKind::Ping, failed.clone(), Duration::from_secs(30)), failed);
    assert_eq!(checklist::judge_time(StepKind::Address, passed.clone(), Duration::from_secs(30)), passed);
    Ok(())
}
