//! Every routing table and the policy rules, from iproute2's JSON:
//! `ip -N -j -4|-6 route show table all` and `ip -N -j -4|-6 rule show`,
//! run like `ip addr` (unprivileged, by absolute path, with a timeout; see
//! [`crate::command`]). A VPN such as wg-quick puts its default route in a
//! table of its own and sends unmarked traffic there by a rule, which
//! `/proc/net/route` (the main table only) cannot show.
//!
//! iproute2's quirks, seen in its output (captured for real in
//! `tests/fixtures/ip-policy-routing/`, whose README says how): without
//! `-4` a route dump lists IPv6 too; main-table routes carry no `table`
//! key; `dst` is `default`, `A/N` or a bare address (a host route); with
//! `-N` tables, route types and rule actions are numbers, without it names
//! (`local`, `main`, or any name of `/etc/iproute2/rt_tables`, which is why
//! `-N` is used); a multipath route lists `nexthops` instead of one `dev`;
//! the rule key is `suppress_prefixlen`; `"not": null` and `"nop": null`
//! are flags whose presence is the value; `fwmask` is absent when it is
//! all ones.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::{Map, Value};
use vmnet_doctor_core::host::{Route, RouteKind, RouteTable, RoutingRule, RuleAction};

/// One entry of `ip -j route show`.
#[derive(Deserialize)]
struct JsonRoute {
    #[serde(rename = "type")]
    kind: Option<String>,
    dst: String,
    gateway: Option<String>,
    dev: Option<String>,
    table: Option<String>,
    metric: Option<u32>,
    #[serde(default)]
    nexthops: Vec<JsonNexthop>,
}

#[derive(Deserialize)]
struct JsonNexthop {
    gateway: Option<String>,
    dev: Option<String>,
}

/// One entry of `ip -j rule show`.
#[derive(Deserialize)]
struct JsonRule {
    priority: u32,
    src: Option<String>,
    srclen: Option<u8>,
    dst: Option<String>,
    dstlen: Option<u8>,
    fwmark: Option<String>,
    fwmask: Option<String>,
    iif: Option<String>,
    oif: Option<String>,
    uid_start: Option<u32>,
    uid_end: Option<u32>,
    table: Option<String>,
    action: Option<String>,
    goto: Option<u32>,
    suppress_prefixlen: Option<u8>,
}

/// Keys of selectors on the packet's contents: a rule with one selects
/// only some of a VM's traffic.
const NARROWER: &[&str] =
    &["ipproto", "sport", "dport", "tos", "dsfield", "dscp", "flowlabel", "tun_id", "l3mdev"];

/// `ip -j route show table all` of one family: every route, typed.
pub fn parse_routes(text: &str, ipv6: bool) -> Result<Vec<Route>, String> {
    let listed: Vec<JsonRoute> =
        serde_json::from_str(text).map_err(|error| format!("ip route's JSON: {error}"))?;
    let mut routes = Vec::new();
    for route in listed {
        let kind = route_kind(route.kind.as_deref().unwrap_or("unicast"))?;
        let table = match route.table.as_deref() {
            None => RouteTable::MAIN,
            Some(name) => {
                RouteTable::parse(name).ok_or_else(|| format!("ip route: unknown table {name:?}"))?
            }
        };
        let (destination, prefix) = destination(&route.dst, ipv6)?;
        let base = Route {
            table,
            kind,
            destination,
            prefix,
            gateway: None,
            dev: String::new(),
            metric: route.metric.unwrap_or(0),
        };
        if route.nexthops.is_empty() {
            routes.push(Route {
                gateway: gateway(route.gateway.as_deref())?,
                dev: route.dev.unwrap_or_default(),
                ..base
            });
        } else {
            for hop in route.nexthops {
                routes.push(Route {
                    gateway: gateway(hop.gateway.as_deref())?,
                    dev: hop.dev.unwrap_or_default(),
                    ..base.clone()
                });
            }
        }
    }
    Ok(routes)
}

/// A route type by name or, with `-N`, by number (`RTN_*`).
fn route_kind(text: &str) -> Result<RouteKind, String> {
    Ok(match text {
        "unicast" | "1" => RouteKind::Unicast,
        "local" | "2" => RouteKind::Local,
        "broadcast" | "3" => RouteKind::Broadcast,
        "anycast" | "4" => RouteKind::Anycast,
        "multicast" | "5" => RouteKind::Multicast,
        "blackhole" | "6" => RouteKind::Blackhole,
        "unreachable" | "7" => RouteKind::Unreachable,
        "prohibit" | "8" => RouteKind::Prohibit,
        "throw" | "9" => RouteKind::Throw,
        "nat" | "10" | "xresolve" | "11" => RouteKind::Other,
        other => return Err(format!("ip route: unknown route type {other:?}")),
    })
}

fn gateway(text: Option<&str>) -> Result<Option<IpAddr>, String> {
    text.map(|text| text.parse().map_err(|_| format!("ip route: bad gateway {text:?}"))).transpose()
}

fn destination(dst: &str, ipv6: bool) -> Result<(IpAddr, u8), String> {
    let bad = || format!("ip route: bad destination {dst:?}");
    if dst == "default" {
        let any = if ipv6 { IpAddr::from([0u16; 8]) } else { IpAddr::from([0u8; 4]) };
        return Ok((any, 0));
    }
    let (address, prefix) = match dst.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (dst, None),
    };
    let address: IpAddr = address.parse().map_err(|_| bad())?;
    if address.is_ipv6() != ipv6 {
        return Err(format!("ip route: {dst:?} is not of the family asked for"));
    }
    prefix_of(address, prefix.map(|prefix| prefix.parse::<u8>().map_err(|_| bad())).transpose()?)
        .map(|prefix| (address, prefix))
        .ok_or_else(bad)
}

/// The prefix length, at most the address's bits; absent: a host address.
fn prefix_of(address: IpAddr, prefix: Option<u8>) -> Option<u8> {
    let full = if address.is_ipv6() { 128 } else { 32 };
    prefix.map_or(Some(full), |prefix| (prefix <= full).then_some(prefix))
}

/// `ip -j rule show` of one family.
pub fn parse_rules(text: &str, ipv6: bool) -> Result<Vec<RoutingRule>, String> {
    let listed: Vec<Map<String, Value>> =
        serde_json::from_str(text).map_err(|error| format!("ip rule's JSON: {error}"))?;
    let mut rules = Vec::new();
    for object in listed {
        // Flags whose presence is the value (`"not": null`).
        let not = object.contains_key("not");
        let nop = object.contains_key("nop");
        let narrower = NARROWER.iter().any(|key| object.contains_key(*key));
        // A VRF's rule (`lookup [l3mdev-table]`) names no table.
        let l3mdev = object.contains_key("l3mdev");
        let rule: JsonRule = serde_json::from_value(Value::Object(object))
            .map_err(|error| format!("ip rule's JSON: {error}"))?;
        let bad = |what: &str| format!("ip rule {}: bad {what}", rule.priority);
        let action = match (&rule.table, &rule.action, rule.goto, nop || l3mdev) {
            (_, _, Some(target), _) => RuleAction::Goto(target),
            (_, _, _, true) => RuleAction::Nop,
            // blackhole, unreachable, prohibit (6, 7, 8 with -N).
            (_, Some(action), _, _) => match action.as_str() {
                "blackhole" | "unreachable" | "prohibit" | "6" | "7" | "8" => RuleAction::Drop,
                other => return Err(format!("ip rule {}: unknown action {other:?}", rule.priority)),
            },
            (Some(table), None, None, false) => {
                RuleAction::Lookup(RouteTable::parse(table).ok_or_else(|| bad("table"))?)
            }
            (None, None, None, false) => return Err(bad("action (none given)")),
        };
        let fwmark = match (&rule.fwmark, &rule.fwmask) {
            (None, _) => None,
            (Some(mark), mask) => Some((
                hex(mark).ok_or_else(|| bad("fwmark"))?,
                mask.as_deref().map_or(Some(u32::MAX), hex).ok_or_else(|| bad("fwmask"))?,
            )),
        };
        let uid_range = match (rule.uid_start, rule.uid_end) {
            (Some(start), Some(end)) => Some((start, end)),
            (None, None) => None,
            _ => return Err(bad("uid range")),
        };
        rules.push(RoutingRule {
            ipv6,
            priority: rule.priority,
            not,
            from: selector(rule.src.as_deref(), rule.srclen).map_err(|()| bad("from"))?,
            to: selector(rule.dst.as_deref(), rule.dstlen).map_err(|()| bad("to"))?,
            fwmark,
            iif: rule.iif,
            oif: rule.oif,
            uid_range,
            narrower,
            action,
            suppress_prefixlength: rule.suppress_prefixlen,
        });
    }
    Ok(rules)
}

fn hex(text: &str) -> Option<u32> {
    u32::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}

/// `from`/`to`: `all` (or absent) is no selector; an address without a
/// length is a host address.
fn selector(address: Option<&str>, prefix: Option<u8>) -> Result<Option<(IpAddr, u8)>, ()> {
    match address {
        None | Some("all") => Ok(None),
        Some(text) => {
            let address: IpAddr = text.parse().map_err(|_| ())?;
            prefix_of(address, prefix).map(|prefix| Some((address, prefix))).ok_or(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_without_a_type_is_unicast_and_without_a_table_is_mains() -> Result<(), String> {
        let routes = parse_routes(r#"[{"dst":"10.0.2.0/24","dev":"eth0","flags":[]}]"#, false)?;
        assert_eq!(routes[0].kind, RouteKind::Unicast);
        assert_eq!(routes[0].table, RouteTable::MAIN);
        assert_eq!(routes[0].prefix, 24);
        let host = parse_routes(r#"[{"type":"2","dst":"fd00::2","dev":"wg0","table":"255"}]"#, true)?;
        assert_eq!((host[0].kind, host[0].table, host[0].prefix), (RouteKind::Local, RouteTable::LOCAL, 128));
        Ok(())
    }

    #[test]
    fn a_mark_without_a_mask_is_matched_whole() -> Result<(), String> {
        let rules = parse_rules(
            r#"[{"priority":32765,"not":null,"src":"all","fwmark":"0xca6c","table":"51820"},
                {"priority":5,"src":"10.1.0.0","srclen":16,"dst":"192.0.2.1","fwmark":"0x1","fwmask":"0xff","table":"main"}]"#,
            false,
        )?;
        assert!(rules[0].not);
        assert_eq!(rules[0].fwmark, Some((0xca6c, u32::MAX)));
        assert_eq!(rules[0].action, RuleAction::Lookup(RouteTable(51820)));
        assert_eq!(rules[1].fwmark, Some((1, 0xff)));
        assert_eq!(rules[1].from, Some((IpAddr::from([10, 1, 0, 0]), 16)));
        assert_eq!(rules[1].to, Some((IpAddr::from([192, 0, 2, 1]), 32)));
        Ok(())
    }

    #[test]
    fn garbage_is_an_error_not_a_guess() {
        assert!(parse_routes("not json", false).is_err());
        assert!(parse_routes(r#"[{"dst":"10.0.0.0/99"}]"#, false).is_err());
        assert!(parse_routes(r#"[{"dst":"default","type":"teleport"}]"#, false).is_err());
        assert!(
            parse_routes(r#"[{"dst":"default","table":"vpn"}]"#, false).is_err(),
            "a name -N prints as a number"
        );
        assert!(parse_routes(r#"[{"dst":"fd00::/8"}]"#, false).is_err(), "an IPv6 route asked as IPv4");
        assert!(parse_rules(r#"[{"src":"all","table":"main"}]"#, false).is_err(), "no priority");
        assert!(parse_rules(r#"[{"priority":1,"src":"all"}]"#, false).is_err(), "no action");
        assert!(parse_rules(r#"[{"priority":1,"fwmark":"12","table":"main"}]"#, false).is_err());
        assert!(parse_rules(r#"[{"priority":1,"action":"teleport"}]"#, false).is_err());
    }
}
