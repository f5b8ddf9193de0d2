//! The netfilter evaluator on every ruleset captured by the firewall lab
//! (`tests/firewall-lab/capture.sh`, see `fixtures/host/README.md`).
//!
//! Each scenario's expected verdicts are written out below, and they are
//! also checked against what the lab's stand-in guest measured for real
//! (`probe.txt`: DHCP, DNS, ping and HTTP through the real kernel), so the
//! evaluator is held to the kernel's behaviour, not to our expectations.

use std::error::Error;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use vmnet_doctor_core::netfilter::{Owner, Ruleset, Service, Traffic, Verdict, VmNetwork};

type TestResult = Result<(), Box<dyn Error>>;

/// A verdict as the table below spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V {
    Accept,
    Drop(Option<Owner>),
    Unknown,
}

use V::{Accept, Drop, Unknown};

const UFW: Option<Owner> = Some(Owner::Ufw);
const DOCKER: Option<Owner> = Some(Owner::Docker);
const FIREWALLD: Option<Owner> = Some(Owner::Firewalld);

/// Scenario, then web, ping, DHCP, DNS with every capture (nft JSON,
/// iptables-nft-save, iptables-legacy-save).
const FULL: &[(&str, [V; 4])] = &[
    ("nft-ufw-off", [Accept, Accept, Accept, Accept]),
    // The guide's "silent breaker": ping passes, web traffic does not.
    ("nft-ufw-default", [Drop(UFW), Accept, Drop(UFW), Drop(UFW)]),
    ("nft-ufw-guide", [Accept, Accept, Accept, Accept]),
    ("nft-ufw-route-only", [Accept, Accept, Drop(UFW), Drop(UFW)]),
    ("nft-ufw-default-legacy", [Drop(UFW), Accept, Drop(UFW), Drop(UFW)]),
    ("nft-docker", [Drop(DOCKER), Drop(DOCKER), Accept, Accept]),
    ("nft-docker-legacy", [Drop(DOCKER), Drop(DOCKER), Accept, Accept]),
    ("nft-custom-input-drop", [Accept, Accept, Drop(None), Drop(None)]),
    ("nft-firewalld", [Accept, Accept, Accept, Accept]),
    ("nft-firewalld-public", [Drop(FIREWALLD), Drop(FIREWALLD), Drop(FIREWALLD), Drop(FIREWALLD)]),
    // Not netfilter: ip_forward is 0, or there is no route out.
    ("nft-forwarding-off", [Accept, Accept, Accept, Accept]),
    ("nft-no-uplink", [Accept, Accept, Accept, Accept]),
    // libvirt's iptables backend: its LIBVIRT_* rules come first in the
    // same chains, so neither UFW's nor Docker's defaults block VMs.
    ("ipt-ufw-off", [Accept, Accept, Accept, Accept]),
    ("ipt-ufw-default", [Accept, Accept, Accept, Accept]),
    ("ipt-ufw-default-late", [Accept, Accept, Accept, Accept]),
    ("ipt-ufw-guide", [Accept, Accept, Accept, Accept]),
    ("ipt-docker", [Accept, Accept, Accept, Accept]),
    ("ipt-firewalld", [Accept, Accept, Accept, Accept]),
];

/// The same with only `nft -j list ruleset` and `iptables-legacy-save`:
/// iptables-nft's matches are opaque `xt` names in nft's JSON, so rulesets
/// that depend on them are unknown — never guessed.
const JSON_ONLY: &[(&str, [V; 4])] = &[
    ("nft-ufw-off", [Accept, Accept, Accept, Accept]),
    ("nft-ufw-default", [Unknown, Unknown, Unknown, Unknown]),
    ("nft-ufw-guide", [Unknown, Unknown, Unknown, Unknown]),
    ("nft-ufw-route-only", [Unknown, Unknown, Unknown, Unknown]),
    ("nft-ufw-default-legacy", [Drop(UFW), Accept, Drop(UFW), Drop(UFW)]),
    ("nft-docker", [Drop(DOCKER), Drop(DOCKER), Accept, Accept]),
    ("nft-docker-legacy", [Drop(DOCKER), Drop(DOCKER), Accept, Accept]),
    ("nft-custom-input-drop", [Accept, Accept, Drop(None), Drop(None)]),
    ("nft-firewalld", [Accept, Accept, Accept, Accept]),
    ("nft-firewalld-public", [Drop(FIREWALLD), Drop(FIREWALLD), Drop(FIREWALLD), Drop(FIREWALLD)]),
    ("nft-forwarding-off", [Accept, Accept, Accept, Accept]),
    ("nft-no-uplink", [Accept, Accept, Accept, Accept]),
    ("ipt-ufw-off", [Unknown, Unknown, Accept, Accept]),
    ("ipt-ufw-default", [Unknown, Unknown, Accept, Accept]),
    ("ipt-ufw-default-late", [Unknown, Unknown, Accept, Accept]),
    ("ipt-ufw-guide", [Unknown, Unknown, Accept, Accept]),
    ("ipt-docker", [Unknown, Unknown, Accept, Accept]),
    ("ipt-firewalld", [Unknown, Unknown, Accept, Accept]),
];

/// Scenarios whose guest was blocked by something other than netfilter.
const NOT_NETFILTER: &[&str] = &["nft-forwarding-off", "nft-no-uplink"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/host")
}

/// A captured command output; `None` when absent or empty.
fn command(scenario: &str, file: &str) -> Option<String> {
    fs::read_to_string(fixtures().join(scenario).join("commands").join(file))
        .ok()
        .filter(|text| !text.trim().is_empty())
}

fn ruleset(scenario: &str, with_iptables_nft_save: bool) -> Result<Ruleset, String> {
    let json = command(scenario, "nft-list-ruleset.json");
    let save = if with_iptables_nft_save { command(scenario, "iptables-nft-save.txt") } else { None };
    let legacy = command(scenario, "iptables-legacy-save.txt");
    Ruleset::parse(json.as_deref(), save.as_deref(), legacy.as_deref())
}

/// The lab's network: the guide's `default` (192.168.122.1/24 on virbr0).
fn network() -> VmNetwork {
    VmNetwork::new("virbr0", Ipv4Addr::new(192, 168, 122, 1), 24)
}

fn simplify(verdict: &Verdict) -> V {
    match verdict {
        Verdict::Accept => Accept,
        Verdict::Drop(blocker) => Drop(blocker.owner),
        Verdict::Unknown(_) => Unknown,
    }
}

fn verdicts(ruleset: &Ruleset) -> [Verdict; 4] {
    let network = network();
    [
        ruleset.forward_verdict(&network, "enp3s0", Traffic::Web),
        ruleset.forward_verdict(&network, "enp3s0", Traffic::Ping),
        ruleset.input_verdict(&network, Service::Dhcp),
        ruleset.input_verdict(&network, Service::Dns),
    ]
}

fn check_table(table: &[(&str, [V; 4])], with_iptables_nft_save: bool) -> TestResult {
    let mut failures = Vec::new();
    for (scenario, expected) in table {
        let ruleset = ruleset(scenario, with_iptables_nft_save)?;
        let got = verdicts(&ruleset);
        let simple = got.each_ref().map(simplify);
        if simple != *expected {
            failures.push(format!("{scenario}: expected {expected:?}, got {got:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[test]
fn every_capture_gives_the_expected_verdicts() -> TestResult {
    check_table(FULL, true)
}

#[test]
fn without_iptables_nft_save_xt_matches_make_verdicts_unknown_not_wrong() -> TestResult {
    check_table(JSON_ONLY, false)
}

#[test]
fn every_scenario_is_in_the_tables() -> TestResult {
    let mut captured: Vec<String> = fs::read_dir(fixtures())?
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    captured.sort();
    for table in [FULL, JSON_ONLY] {
        let mut listed: Vec<String> = table.iter().map(|(name, _)| (*name).to_owned()).collect();
        listed.sort();
        assert_eq!(listed, captured);
    }
    Ok(())
}

/// What the guest measured: "dhcp: ok (…)" / "http: blocked (…)".
fn probe(scenario: &str) -> Result<Vec<(String, bool)>, Box<dyn Error>> {
    let text = fs::read_to_string(fixtures().join(scenario).join("probe.txt"))?;
    text.lines()
        .map(|line| {
            let (name, rest) = line.split_once(": ").ok_or("bad probe line")?;
            Ok((name.to_owned(), rest.starts_with("ok")))
        })
        .collect()
}

#[test]
fn verdicts_agree_with_what_the_guest_measured() -> TestResult {
    let mut failures = Vec::new();
    for (scenario, _) in FULL {
        if NOT_NETFILTER.contains(scenario) {
            continue;
        }
        let ruleset = ruleset(scenario, true)?;
        let [web, ping, dhcp, dns] = verdicts(&ruleset);
        for (name, passed) in probe(scenario)? {
            let verdict = match name.as_str() {
                "http" => &web,
                "ping" => &ping,
                "dhcp" => &dhcp,
                "dns" => &dns,
                other => return Err(format!("unknown probe {other}").into()),
            };
            let agrees = match verdict {
                Verdict::Accept => passed,
                Verdict::Drop(_) => !passed,
                Verdict::Unknown(_) => false,
            };
            if !agrees {
                failures.push(format!(
                    "{scenario} {name}: guest {}, evaluator {verdict:?}",
                    if passed { "ok" } else { "blocked" }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[test]
fn the_blocker_names_the_chain() -> TestResult {
    let ruleset = ruleset("nft-ufw-default", true)?;
    let Verdict::Drop(blocker) = ruleset.forward_verdict(&network(), "enp3s0", Traffic::Web) else {
        return Err("not dropped".into());
    };
    assert_eq!(blocker.by, "iptables-nft table filter, chain FORWARD: policy drop");
    let Verdict::Drop(blocker) = ruleset.input_verdict(&network(), Service::Dhcp) else {
        return Err("DHCP not dropped".into());
    };
    assert_eq!(
        blocker.by,
        "iptables-nft table filter, chain INPUT → ufw-skip-to-policy-input: rule `-A ufw-skip-to-policy-input -j DROP`"
    );
    let ruleset = ruleset_of("nft-docker")?;
    let Verdict::Drop(blocker) = ruleset.forward_verdict(&network(), "enp3s0", Traffic::Web) else {
        return Err("not dropped".into());
    };
    assert_eq!(blocker.by, "iptables-nft table filter, chain FORWARD: policy drop");
    Ok(())
}

fn ruleset_of(scenario: &str) -> Result<Ruleset, String> {
    ruleset(scenario, true)
}

#[test]
fn unknown_verdicts_say_why() -> TestResult {
    let ruleset = ruleset("nft-ufw-default", false)?;
    let Verdict::Unknown(why) = ruleset.forward_verdict(&network(), "enp3s0", Traffic::Web) else {
        return Err("expected unknown".into());
    };
    assert!(why.contains("conntrack"), "{why}");
    assert!(why.contains("iptables-nft-save"), "{why}");
    Ok(())
}

#[test]
fn another_uplink_or_bridge_is_judged_on_its_own() -> TestResult {
    // The guide's route rule names enp3s0 only: a second uplink (Wi-Fi)
    // stays blocked by UFW.
    let ruleset = ruleset("nft-ufw-guide", true)?;
    assert_eq!(ruleset.forward_verdict(&network(), "enp3s0", Traffic::Web), Verdict::Accept);
    assert!(matches!(
        ruleset.forward_verdict(&network(), "wlan0", Traffic::Web),
        Verdict::Drop(blocker) if blocker.owner == UFW
    ));
    // A second libvirt network on virbr1 has no UFW rules at all, and no
    // libvirt rules in this ruleset either (only virbr0's were captured).
    let other = VmNetwork::new("virbr1", Ipv4Addr::new(192, 168, 100, 1), 24);
    assert!(matches!(ruleset.input_verdict(&other, Service::Dhcp), Verdict::Drop(_)));
    Ok(())
}

#[test]
fn garbage_is_an_error_not_a_verdict() {
    assert!(Ruleset::parse(Some("{"), None, None).is_err());
    assert!(Ruleset::parse(Some("{\"nftables\": 3}"), None, None).is_err());
    assert!(Ruleset::parse(None, Some("-A FORWARD -j ACCEPT\n"), None).is_err());
}
