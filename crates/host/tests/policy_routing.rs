//! Every table and the policy rules, from iproute2's JSON captured in a
//! network namespace laid out as wg-quick does (fixtures/ip-policy-routing,
//! its README says how): forwarded traffic leaves by the VPN's table, not
//! by the main table's default route.

use std::path::PathBuf;

use vmnet_doctor_core::host::{PolicyRouting, RouteKind};
use vmnet_doctor_host::policy_routing::{parse_routes, parse_rules};

type Error = Box<dyn std::error::Error>;

fn fixture(name: &str) -> Result<String, Error> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ip-policy-routing").join(name);
    Ok(std::fs::read_to_string(path)?)
}

fn captured() -> Result<PolicyRouting, Error> {
    let mut routes = parse_routes(&fixture("ip-route4.json")?, false)?;
    routes.extend(parse_routes(&fixture("ip-route6.json")?, true)?);
    let mut rules = parse_rules(&fixture("ip-rule4.json")?, false)?;
    rules.extend(parse_rules(&fixture("ip-rule6.json")?, true)?);
    Ok(PolicyRouting { rules, routes })
}

#[test]
fn every_table_is_read_with_its_kind() -> Result<(), Error> {
    let policy = captured()?;
    let table = |name: &str| policy.routes.iter().filter(|route| route.table == name).count();
    assert_eq!(table("51820"), 1, "the VPN's default route");
    assert_eq!(table("100"), 1);
    assert!(policy.routes.iter().any(|route| route.table == "100" && route.kind == RouteKind::Unreachable));
    assert!(policy.routes.iter().any(|route| route.table == "main" && route.kind == RouteKind::Blackhole));
    // Local and broadcast entries are not ways out.
    assert_eq!(table("local"), 0);
    let rule = policy.rules.iter().find(|rule| rule.priority == 32765).ok_or("no wg-quick rule")?;
    assert!(rule.not && rule.fwmark.as_deref() == Some("0xca6c") && rule.table.as_deref() == Some("51820"));
    let suppress = policy.rules.iter().find(|rule| rule.priority == 32764).ok_or("no suppress rule")?;
    assert_eq!(suppress.suppress_prefixlength, Some(0));
    Ok(())
}

#[test]
fn forwarded_traffic_leaves_by_the_vpn_not_the_main_default_route() -> Result<(), Error> {
    let policy = captured()?;
    // IPv4: main's default is suppressed, `not fwmark` sends unmarked
    // traffic to 51820 (wg0); the fwmark and iif rules do not apply.
    assert_eq!(policy.uplinks(false), Some(vec!["wg0"]));
    // IPv6 has only the standard rules: main's default route.
    assert_eq!(policy.uplinks(true), Some(vec!["d0"]));
    Ok(())
}

#[test]
fn an_unreachable_default_in_the_first_table_means_no_way_out() -> Result<(), Error> {
    let mut policy = captured()?;
    // Send all IPv4 traffic to table 100 first.
    let mut rule = policy.rules.iter().find(|rule| rule.priority == 32763).ok_or("no rule")?.clone();
    rule.fwmark = None;
    rule.priority = 100;
    policy.rules.push(rule);
    assert_eq!(policy.uplinks(false), Some(Vec::new()));
    Ok(())
}

#[test]
fn garbage_is_an_error_not_a_guess() {
    assert!(parse_routes("[{\"dst\":\"10.0.0.0/99\"}]", false).is_err());
    assert!(parse_routes("not json", false).is_err());
    assert!(parse_rules("[{\"src\":\"all\"}]", false).is_err(), "a rule without a priority");
}
