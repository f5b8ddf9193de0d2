//! Every routing table and the policy rules, from iproute2's JSON:
//! `ip -j -4|-6 route show table all` and `ip -j -4|-6 rule show`, run
//! like `ip addr` (unprivileged, by absolute path, with a timeout). A VPN
//! such as wg-quick puts its default route in a table of its own and sends
//! unmarked traffic there by a rule, which `/proc/net/route` (the main
//! table) cannot show.
//!
//! iproute2's quirks, seen in its output (captured in
//! `../shared/notes/captures/ip-policy-routing/`): main-table routes carry
//! no `table` key, `dst` is `default`, `A/N` or a bare address, the rule
//! key is `suppress_prefixlen`, and `"not": null` marks a negated rule.

use std::net::IpAddr;

use serde::Deserialize;
use vmnet_doctor_core::host::{Fact, PolicyRouting, RouteKind, RoutingRule, TableRoute};

use crate::command::{Tool, Tools};

#[derive(Deserialize)]
struct JsonRoute {
    #[serde(rename = "type")]
    kind: Option<String>,
    dst: String,
    gateway: Option<String>,
    dev: Option<String>,
    table: Option<String>,
}

#[derive(Deserialize)]
struct JsonRule {
    priority: u32,
    src: Option<String>,
    fwmark: Option<String>,
    iif: Option<String>,
    oif: Option<String>,
    table: Option<String>,
    suppress_prefixlen: Option<u8>,
}

/// The routes and rules of both families; unknown when iproute2 cannot be
/// run or says something this parser does not understand.
pub fn read_policy_routing(tools: &Tools) -> Fact<PolicyRouting> {
    let mut policy = PolicyRouting { rules: Vec::new(), routes: Vec::new() };
    for (tool, ipv6) in [(Tool::IpRoute4, false), (Tool::IpRoute6, true)] {
        match tools
            .output(tool)
            .map_err(|error| error.reason(tool))
            .and_then(|text| parse_routes(&text, ipv6))
        {
            Ok(routes) => policy.routes.extend(routes),
            Err(why) => return Fact::Unknown(why),
        }
    }
    for (tool, ipv6) in [(Tool::IpRule4, false), (Tool::IpRule6, true)] {
        match tools.output(tool).map_err(|error| error.reason(tool)).and_then(|text| parse_rules(&text, ipv6))
        {
            Ok(rules) => policy.rules.extend(rules),
            Err(why) => return Fact::Unknown(why),
        }
    }
    Fact::Known(policy)
}

/// `ip -j route show table all` of one family. Local, broadcast,
/// multicast, anycast and NAT entries are left out: they are not ways out.
pub fn parse_routes(text: &str, ipv6: bool) -> Result<Vec<TableRoute>, String> {
    let listed: Vec<JsonRoute> =
        serde_json::from_str(text).map_err(|error| format!("ip route's JSON: {error}"))?;
    let mut routes = Vec::new();
    for route in listed {
        let kind = match route.kind.as_deref() {
            None | Some("unicast") => RouteKind::Unicast,
            Some("blackhole") => RouteKind::Blackhole,
            Some("unreachable") => RouteKind::Unreachable,
            Some("prohibit") => RouteKind::Prohibit,
            Some("throw") => RouteKind::Throw,
            Some(_) => continue,
        };
        let (destination, prefix) = destination(&route.dst, ipv6)?;
        let gateway = match route.gateway.as_deref() {
            Some(text) => {
                Some(text.parse::<IpAddr>().map_err(|_| format!("ip route: bad gateway {text:?}"))?)
            }
            None => None,
        };
        routes.push(TableRoute {
            table: route.table.unwrap_or_else(|| "main".to_owned()),
            kind,
            destination,
            prefix,
            gateway,
            dev: route.dev,
        });
    }
    Ok(routes)
}

fn destination(dst: &str, ipv6: bool) -> Result<(IpAddr, u8), String> {
    let bad = || format!("ip route: bad destination {dst:?}");
    if dst == "default" {
        let any: IpAddr =
            if ipv6 { "::".parse().map_err(|_| bad())? } else { "0.0.0.0".parse().map_err(|_| bad())? };
        return Ok((any, 0));
    }
    let (address, prefix) = match dst.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (dst, None),
    };
    let address: IpAddr = address.parse().map_err(|_| bad())?;
    let full = if address.is_ipv6() { 128 } else { 32 };
    let prefix = match prefix {
        Some(prefix) => prefix.parse::<u8>().ok().filter(|prefix| *prefix <= full).ok_or_else(bad)?,
        None => full,
    };
    Ok((address, prefix))
}

/// `ip -j rule show` of one family.
pub fn parse_rules(text: &str, ipv6: bool) -> Result<Vec<RoutingRule>, String> {
    let listed: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(text).map_err(|error| format!("ip rule's JSON: {error}"))?;
    let mut rules = Vec::new();
    for object in listed {
        // `"not": null`: only the key's presence says the rule is negated.
        let not = object.contains_key("not");
        let rule: JsonRule = serde_json::from_value(serde_json::Value::Object(object))
            .map_err(|error| format!("ip rule's JSON: {error}"))?;
        rules.push(RoutingRule {
            ipv6,
            priority: rule.priority,
            not,
            from: rule.src.filter(|src| src != "all"),
            fwmark: rule.fwmark,
            iif: rule.iif,
            oif: rule.oif,
            table: rule.table,
            suppress_prefixlength: rule.suppress_prefixlen,
        });
    }
    Ok(rules)
}
