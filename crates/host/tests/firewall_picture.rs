//! The firewall picture (what the Host page shows) on every host the
//! firewall lab captured (`crates/core/tests/fixtures/host/SCENARIO`), with
//! the facts read by the real readers, as root and as a normal user.
//!
//! The verdicts are also held to what the lab's stand-in guest measured
//! through the real kernel (`probe.txt`), so the page can never show a path
//! as open that the kernel closed.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use vmnet_doctor_core::host::{Fact, FirewallBackend};
use vmnet_doctor_core::netfilter::{Owner, Verdict};
use vmnet_doctor_core::rules::{FirewallPicture, UfwState, firewall_picture};
use vmnet_doctor_core::{NetworkSnapshot, Snapshot, parse_network_xml};
use vmnet_doctor_host::{NEEDS_ROOT, Sources, read_host_facts_with};

type TestResult = Result<(), Box<dyn Error>>;

/// A verdict as the table spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum V {
    Accept,
    Drop(Option<Owner>),
}

use V::{Accept, Drop};

const UFW: Option<Owner> = Some(Owner::Ufw);
const DOCKER: Option<Owner> = Some(Owner::Docker);
const FIREWALLD: Option<Owner> = Some(Owner::Firewalld);
const LIBVIRT: Owner = Owner::Libvirt;

struct Expected {
    scenario: &'static str,
    /// The programs whose rules are in the ruleset.
    programs: &'static [Owner],
    /// Tables no known program wrote.
    other_tables: &'static [&'static str],
    /// virbr0 → enp3s0 web and ping (none without an uplink), DHCP, DNS.
    forward: Option<[V; 2]>,
    input: [V; 2],
}

const EXPECTED: &[Expected] = &[
    Expected {
        scenario: "ipt-docker",
        programs: &[Owner::Docker, LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "ipt-firewalld",
        programs: &[Owner::Firewalld, LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "ipt-ufw-default",
        programs: &[Owner::Ufw, LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "ipt-ufw-default-late",
        programs: &[Owner::Ufw, LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "ipt-ufw-guide",
        programs: &[Owner::Ufw, LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "ipt-ufw-off",
        programs: &[LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "nft-custom-input-drop",
        programs: &[LIBVIRT],
        other_tables: &["table inet filter"],
        forward: Some([Accept, Accept]),
        input: [Drop(None), Drop(None)],
    },
    Expected {
        scenario: "nft-docker",
        programs: &[Owner::Docker, LIBVIRT],
        other_tables: &[],
        forward: Some([Drop(DOCKER), Drop(DOCKER)]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "nft-docker-legacy",
        programs: &[Owner::Docker, LIBVIRT],
        other_tables: &[],
        forward: Some([Drop(DOCKER), Drop(DOCKER)]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "nft-firewalld",
        programs: &[Owner::Firewalld, LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "nft-firewalld-public",
        programs: &[Owner::Firewalld, LIBVIRT],
        other_tables: &[],
        forward: Some([Drop(FIREWALLD), Drop(FIREWALLD)]),
        input: [Drop(FIREWALLD), Drop(FIREWALLD)],
    },
    // The firewall passes it; the kernel does not route (ip_forward 0).
    Expected {
        scenario: "nft-forwarding-off",
        programs: &[LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "nft-no-uplink",
        programs: &[LIBVIRT],
        other_tables: &[],
        forward: None,
        input: [Accept, Accept],
    },
    // The guide's "silent breaker": ping passes, web traffic does not.
    Expected {
        scenario: "nft-ufw-default",
        programs: &[Owner::Ufw, LIBVIRT],
        other_tables: &[],
        forward: Some([Drop(UFW), Accept]),
        input: [Drop(UFW), Drop(UFW)],
    },
    Expected {
        scenario: "nft-ufw-default-legacy",
        programs: &[Owner::Ufw, LIBVIRT],
        other_tables: &[],
        forward: Some([Drop(UFW), Accept]),
        input: [Drop(UFW), Drop(UFW)],
    },
    Expected {
        scenario: "nft-ufw-guide",
        programs: &[Owner::Ufw, LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "nft-ufw-off",
        programs: &[LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Accept, Accept],
    },
    Expected {
        scenario: "nft-ufw-route-only",
        programs: &[Owner::Ufw, LIBVIRT],
        other_tables: &[],
        forward: Some([Accept, Accept]),
        input: [Drop(UFW), Drop(UFW)],
    },
];

/// Scenarios whose guest was blocked by something other than the firewall.
const NOT_NETFILTER: &[&str] = &["nft-forwarding-off", "nft-no-uplink"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/host")
}

fn scenarios() -> Result<Vec<String>, Box<dyn Error>> {
    let mut names: Vec<String> = fs::read_dir(fixtures())?
        .flatten()
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// The picture of a captured host running the guide's `default` network.
fn picture(scenario: &str, privileged: bool) -> Result<FirewallPicture, Box<dyn Error>> {
    let xml = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/libvirtd/default-network.xml"),
    )?;
    let host = read_host_facts_with(
        &Sources::captured(&fixtures().join(scenario), privileged),
        &["default".to_owned()],
    );
    let snapshot = Snapshot {
        uri: "qemu:///system".to_owned(),
        hostname: None,
        domains: Vec::new(),
        networks: vec![NetworkSnapshot {
            config: parse_network_xml(&xml)?,
            active: true,
            autostart: true,
            persistent: true,
            leases: Fact::Known(Vec::new()),
        }],
        unreadable: Vec::new(),
        host: Fact::Known(Box::new(host)),
    };
    match firewall_picture(&snapshot) {
        Fact::Known(picture) => Ok(picture),
        Fact::Unknown(why) => Err(format!("{scenario}: no picture: {why}").into()),
    }
}

fn simplify(verdict: &Verdict) -> Result<V, String> {
    match verdict {
        Verdict::Accept => Ok(Accept),
        Verdict::Drop(blocker) => Ok(Drop(blocker.owner)),
        Verdict::Unknown(why) => Err(format!("unknown: {why}")),
    }
}

/// What the lab's guest measured (`probe.txt`), e.g. `passed("http")`.
fn probe_passed(scenario: &str, what: &str) -> Result<bool, Box<dyn Error>> {
    let text = fs::read_to_string(fixtures().join(scenario).join("probe.txt"))?;
    let line = text.lines().find(|line| line.starts_with(&format!("{what}: "))).ok_or("no such probe")?;
    Ok(line.contains(": ok"))
}

#[test]
fn every_captured_host_is_expected() -> TestResult {
    let listed: Vec<&str> = EXPECTED.iter().map(|expected| expected.scenario).collect();
    assert_eq!(listed, scenarios()?);
    Ok(())
}

#[test]
fn as_root_every_program_table_and_verdict_is_known() -> TestResult {
    let mut failures = Vec::new();
    for expected in EXPECTED {
        let scenario = expected.scenario;
        let picture = picture(scenario, true)?;
        let mut check = |what: &str, ok: bool, got: String| {
            if !ok {
                failures.push(format!("{scenario}: {what}: got {got}"));
            }
        };
        check(
            "programs",
            picture.programs == Fact::Known(expected.programs.to_vec()),
            format!("{:?}", picture.programs),
        );
        let others: Vec<String> = expected.other_tables.iter().map(|t| (*t).to_owned()).collect();
        check(
            "other tables",
            picture.other_tables == Fact::Known(others),
            format!("{:?}", picture.other_tables),
        );
        let [virbr0] = picture.bridges.as_slice() else {
            return Err(format!("{scenario}: bridges {:?}", picture.bridges).into());
        };
        assert_eq!(
            (virbr0.network.as_str(), virbr0.bridge.as_str(), virbr0.forwards),
            ("default", "virbr0", true)
        );

        let forward = match virbr0.paths.as_slice() {
            [] => None,
            [path] if path.uplink == "enp3s0" => Some([simplify(&path.web)?, simplify(&path.ping)?]),
            paths => return Err(format!("{scenario}: paths {paths:?}").into()),
        };
        check("forward", forward == expected.forward, format!("{forward:?}"));
        let dhcp = virbr0.dhcp.as_ref().ok_or("no DHCP verdict")?;
        let input = [simplify(dhcp)?, simplify(&virbr0.dns)?];
        check("dhcp, dns", input == expected.input, format!("{input:?}"));

        // And the kernel agrees: what the page shows open, the guest got through.
        if !NOT_NETFILTER.contains(&scenario) {
            for (probe, verdict) in [("http", forward.map(|f| f[0])), ("ping", forward.map(|f| f[1]))]
                .into_iter()
                .chain([("dhcp", Some(input[0])), ("dns", Some(input[1]))])
            {
                let Some(verdict) = verdict else { continue };
                check(probe, probe_passed(scenario, probe)? == (verdict == Accept), format!("{verdict:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

#[test]
fn as_root_ufw_firewalld_and_backend_are_read() -> TestResult {
    for scenario in scenarios()? {
        let picture = picture(&scenario, true)?;
        let ufw_on = scenario.contains("ufw") && !scenario.contains("ufw-off");
        let ufw =
            if ufw_on { UfwState::Active { routed: Some("deny".to_owned()) } } else { UfwState::Inactive };
        assert_eq!(picture.ufw, Fact::Known(Some(ufw)), "{scenario}");
        assert_eq!(picture.firewalld, Fact::Known(scenario.contains("firewalld")), "{scenario}");
        let backend =
            if scenario.starts_with("nft-") { FirewallBackend::Nftables } else { FirewallBackend::Iptables };
        assert_eq!(picture.libvirt_backend, Fact::Known(backend.clone()), "{scenario}");
        // What libvirt wrote agrees with what it was told.
        assert_eq!(picture.libvirt_backend_in_use, Fact::Known(Some(backend)), "{scenario}");
        let uplinks: Vec<String> =
            if scenario == "nft-no-uplink" { Vec::new() } else { vec!["enp3s0".to_owned()] };
        assert_eq!(picture.uplinks, Fact::Known(uplinks), "{scenario}");
    }
    Ok(())
}

/// A normal user reads no ruleset: every verdict is unknown with the
/// reason, never shown as passing; UFW enabled in its configuration is
/// said to be enabled, its live status unknown.
#[test]
fn as_a_user_what_needs_root_is_unknown_with_the_reason() -> TestResult {
    fn needs_root<T>() -> Fact<T> {
        Fact::Unknown(NEEDS_ROOT.to_owned())
    }
    let unknown = Verdict::Unknown(NEEDS_ROOT.to_owned());
    for scenario in scenarios()? {
        let picture = picture(&scenario, false)?;
        assert_eq!(picture.programs, needs_root::<Vec<Owner>>(), "{scenario}");
        assert_eq!(picture.other_tables, needs_root::<Vec<String>>(), "{scenario}");
        assert_eq!(picture.libvirt_backend_in_use, needs_root::<Option<FirewallBackend>>(), "{scenario}");
        let ufw_on = scenario.contains("ufw") && !scenario.contains("ufw-off");
        let ufw = if ufw_on {
            UfwState::Enabled { status_unknown: NEEDS_ROOT.to_owned() }
        } else {
            UfwState::Inactive
        };
        assert_eq!(picture.ufw, Fact::Known(Some(ufw)), "{scenario}");
        let [virbr0] = picture.bridges.as_slice() else { return Err("one bridge".into()) };
        let expected_paths = usize::from(scenario != "nft-no-uplink");
        assert_eq!(virbr0.paths.len(), expected_paths, "{scenario}");
        for path in &virbr0.paths {
            assert_eq!((&path.web, &path.ping), (&unknown, &unknown), "{scenario}");
        }
        assert_eq!(virbr0.dhcp.as_ref(), Some(&unknown), "{scenario}");
        assert_eq!(virbr0.dns, unknown, "{scenario}");
    }
    Ok(())
}

#[test]
fn without_host_facts_there_is_no_picture_but_the_reason() {
    let snapshot = Snapshot {
        uri: "test:///default".to_owned(),
        hostname: None,
        domains: Vec::new(),
        networks: Vec::new(),
        unreadable: Vec::new(),
        host: Fact::Unknown("The demo hypervisor has no host network of its own.".to_owned()),
    };
    assert_eq!(
        firewall_picture(&snapshot),
        Fact::Unknown("The demo hypervisor has no host network of its own.".to_owned())
    );
}
