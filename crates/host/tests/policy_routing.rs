//! Every table and the policy rules, from iproute2's JSON captured in a
//! network namespace laid out as wg-quick does (fixtures/ip-policy-routing,
//! its README says how): forwarded traffic leaves by the VPN's table, not
//! by the main table's default route. And without iproute2, the main table
//! from `/proc/net` as before, with the rules unknown.

use std::fs;
use std::path::{Path, PathBuf};

use vmnet_doctor_core::host::{Fact, HostFacts, Route, RouteKind, RouteTable, RoutingRule, RuleAction};
use vmnet_doctor_host::policy_routing::{parse_routes, parse_rules};
use vmnet_doctor_host::{Sources, Tools, read_host_facts_with, routes};

type Error = Box<dyn std::error::Error>;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ip-policy-routing")
}

fn fixture(name: &str) -> Result<String, Error> {
    Ok(fs::read_to_string(fixtures().join(name))?)
}

/// A `/proc` of the test's own (kept while it lives), routes, rules.
type Read = (tempfile::TempDir, Fact<Vec<Route>>, Fact<Vec<RoutingRule>>);

/// The captured host's routes and rules, read as `vmnet-doctor-host`
/// reads them (the recorded outputs; a `/proc` with IPv6).
fn captured() -> Result<Read, Error> {
    let proc = tempfile::tempdir()?;
    fs::create_dir_all(proc.path().join("net"))?;
    fs::write(proc.path().join("net/ipv6_route"), "")?;
    let tools = Tools::Recorded { dir: fixtures(), privileged: false };
    let (routes, rules) = routes::read(proc.path(), &tools);
    Ok((proc, routes, rules))
}

fn facts(routes: Fact<Vec<Route>>, rules: Fact<Vec<RoutingRule>>) -> HostFacts {
    HostFacts { routes, rules, ..HostFacts::unknown("not read in this test") }
}

#[test]
fn every_table_is_read_with_its_kind() -> Result<(), Error> {
    let (_proc, routes, rules) = captured()?;
    let (Fact::Known(routes), Fact::Known(rules)) = (routes, rules) else { panic!("not read") };
    let of = |table: RouteTable| routes.iter().filter(move |route| route.table == table);
    let vpn: Vec<&Route> = of(RouteTable(51820)).collect();
    assert_eq!(vpn.len(), 2, "the VPN's default routes, IPv4 and IPv6: {vpn:?}");
    assert!(vpn.iter().all(|route| route.is_default() && route.dev == "wg0"));
    assert!(of(RouteTable(100)).any(|route| route.kind == RouteKind::Blackhole && route.dev.is_empty()));
    assert!(of(RouteTable::MAIN).any(|route| route.kind == RouteKind::Unreachable));
    let eth0 = of(RouteTable::MAIN).find(|route| route.is_default() && route.destination.is_ipv4());
    assert_eq!(eth0.map(|route| (route.dev.as_str(), route.metric)), Some(("eth0", 100)));
    // The multipath route is one route per next hop.
    let multipath: Vec<&str> =
        routes.iter().filter(|route| route.prefix == 15).map(|route| route.dev.as_str()).collect();
    assert_eq!(multipath, ["eth0", "eth1"]);
    // The local table holds the host's own addresses: no way out.
    assert!(of(RouteTable::LOCAL).count() > 5);
    assert!(of(RouteTable::LOCAL).all(|route| !route.is_way_out()));
    assert!(
        of(RouteTable::LOCAL).any(|route| route.kind == RouteKind::Multicast && route.destination.is_ipv6())
    );

    let rule =
        |priority: u32, ipv6: bool| rules.iter().find(|rule| rule.priority == priority && rule.ipv6 == ipv6);
    for ipv6 in [false, true] {
        let vpn = rule(32765, ipv6).ok_or("no wg-quick rule")?;
        assert!(vpn.not && vpn.fwmark == Some((0xca6c, u32::MAX)), "{vpn:?}");
        assert_eq!(vpn.action, RuleAction::Lookup(RouteTable(51820)));
        assert_eq!(rule(32764, ipv6).ok_or("no suppress rule")?.suppress_prefixlength, Some(0));
    }
    let marked = rule(200, false).ok_or("no fwmark rule")?;
    assert_eq!((marked.fwmark, marked.iif.as_deref()), (Some((1, 0xff)), Some("eth0")));
    assert_eq!(rule(300, false).map(|rule| rule.action), Some(RuleAction::Drop));
    assert_eq!(rule(400, false).map(|rule| rule.action), Some(RuleAction::Goto(32764)));
    assert_eq!(rule(500, false).map(|rule| rule.action), Some(RuleAction::Nop));
    let users = rule(600, false).ok_or("no uidrange rule")?;
    assert!(users.narrower && users.uid_range == Some((1000, 2000)), "{users:?}");
    Ok(())
}

#[test]
fn names_and_numbers_read_the_same() -> Result<(), Error> {
    let numbers = parse_routes(&fixture("ip-route4.json")?, false)?;
    let names = parse_routes(&fixture("names/ip-route4.json")?, false)?;
    assert_eq!(names, numbers);
    assert_eq!(
        parse_rules(&fixture("names/ip-rule4.json")?, false)?,
        parse_rules(&fixture("ip-rule4.json")?, false)?
    );
    Ok(())
}

#[test]
fn forwarded_traffic_leaves_by_the_vpn_not_the_main_default_route() -> Result<(), Error> {
    let (_proc, routes, rules) = captured()?;
    let host = facts(routes, rules);
    assert!(!host.routes_main_only());
    // Main's default is suppressed, `not fwmark` sends unmarked traffic to
    // 51820 (wg0); the fwmark, iif, from, uidrange rules do not apply.
    assert_eq!(host.uplinks(), ["wg0"]);
    assert_eq!(host.ipv4_uplinks(Some("virbr0")), ["wg0"]);
    assert_eq!(
        host.exit_routes(true, None).iter().map(|route| route.table).collect::<Vec<_>>(),
        [RouteTable(51820)]
    );
    Ok(())
}

#[test]
fn without_the_vpns_rule_the_main_table_decides() -> Result<(), Error> {
    let (_proc, routes, rules) = captured()?;
    let Fact::Known(mut rules) = rules else { panic!("not read") };
    // `wg-quick down` removes its rules.
    rules.retain(|rule| rule.priority != 32765 && rule.priority != 32764);
    let host = facts(routes, Fact::Known(rules));
    assert_eq!(host.uplinks(), ["eth0"]);
    Ok(())
}

#[test]
fn without_iproute2_the_main_table_is_read_from_proc() -> Result<(), Error> {
    // A firewall-lab tree: /proc/net files, no recorded `ip route`.
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/host/nft-ufw-guide");
    let host = read_host_facts_with(&Sources::captured(&tree, false), &[]);
    let Fact::Unknown(why) = &host.rules else { panic!("rules read from nowhere: {:?}", host.rules) };
    assert!(why.contains("ip is not installed") && why.contains("only the main routing table"), "{why}");
    assert!(host.routes_main_only());
    let routes = host.routes.known().ok_or("routes unknown")?;
    assert!(routes.iter().all(|route| route.table == RouteTable::MAIN && route.kind == RouteKind::Unicast));
    assert_eq!(host.uplinks(), ["enp3s0"]);
    Ok(())
}

#[test]
fn unreadable_iproute2_output_falls_back_to_proc_and_says_why() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    fs::create_dir_all(dir.path().join("proc/net"))?;
    fs::write(
        dir.path().join("proc/net/route"),
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
         enp3s0\t00000000\t017100CB\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
    )?;
    fs::create_dir_all(dir.path().join("commands"))?;
    for file in ["ip-route4.json", "ip-rule4.json"] {
        fs::copy(fixtures().join(file), dir.path().join("commands").join(file))?;
    }
    fs::write(dir.path().join("commands/ip-rule4.json"), "[{\"priority\":1}]")?;
    let tools = Tools::Recorded { dir: dir.path().join("commands"), privileged: false };
    let (routes, rules) = routes::read(&dir.path().join("proc"), &tools);
    let Fact::Unknown(why) = rules else { panic!("garbage was read") };
    assert!(why.contains("ip rule 1: bad action"), "{why}");
    assert_eq!(routes.known().map(Vec::len), Some(1), "{routes:?}");
    Ok(())
}
