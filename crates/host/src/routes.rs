//! Routes and policy rules.
//!
//! Every table's routes and the rules come from iproute2's JSON (see
//! [`crate::policy_routing`]), run unprivileged like `ip addr`. When it
//! cannot be run (not installed, not recorded in a captured tree, failed),
//! the routes are those of the main table only, from `/proc/net/route`
//! (IPv4) and `/proc/net/ipv6_route` (IPv6), both world-readable, and the
//! rules are unknown with the reason: the diagnosis then follows the main
//! table's default routes, and a default route that lives in another table
//! (policy routing, wg-quick) is not seen.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use vmnet_doctor_core::host::{Fact, Route, RoutingRule};
use vmnet_doctor_core::network::ipv4_mask_prefix;

use crate::command::{Tool, Tools};
use crate::policy_routing::{parse_routes, parse_rules};

/// `RTF_UP`, `RTF_REJECT` (`include/uapi/linux/route.h`).
const RTF_UP: u32 = 0x0001;
const RTF_REJECT: u32 = 0x0200;
/// `RTF_CACHE`, `RTF_LOCAL` (`include/uapi/linux/ipv6_route.h`).
const RTF_CACHE: u32 = 0x0100_0000;
const RTF_LOCAL: u32 = 0x8000_0000;

/// The routes (every table) and the policy rules; without iproute2, the
/// main table from `/proc/net` and rules unknown with why.
pub fn read(proc: &Path, tools: &Tools) -> (Fact<Vec<Route>>, Fact<Vec<RoutingRule>>) {
    match read_iproute2(proc, tools) {
        Ok((routes, rules)) => (Fact::Known(routes), Fact::Known(rules)),
        Err(why) => (
            read_main_table(proc),
            Fact::Unknown(format!(
                "{why}; so only the main routing table was read (/proc/net/route), and the policy rules are unknown"
            )),
        ),
    }
}

/// Both families' routes and rules from iproute2; IPv6's only when the
/// kernel has IPv6 (`/proc/net/ipv6_route` exists).
fn read_iproute2(proc: &Path, tools: &Tools) -> Result<(Vec<Route>, Vec<RoutingRule>), String> {
    let mut families = vec![(Tool::IpRoute4, Tool::IpRule4, false)];
    if proc.join("net/ipv6_route").exists() {
        families.push((Tool::IpRoute6, Tool::IpRule6, true));
    }
    let output = |tool: Tool| tools.output(tool).map_err(|error| error.reason(tool));
    let (mut routes, mut rules) = (Vec::new(), Vec::new());
    for (route_tool, rule_tool, ipv6) in families {
        routes.extend(parse_routes(&output(route_tool)?, ipv6)?);
        rules.extend(parse_rules(&output(rule_tool)?, ipv6)?);
    }
    Ok((routes, rules))
}

/// IPv4 and IPv6 routes of the main table, from `/proc/net`; unknown when
/// either file cannot be read or parsed.
pub fn read_main_table(proc: &Path) -> Fact<Vec<Route>> {
    let v4 = proc.join("net/route");
    let v6 = proc.join("net/ipv6_route");
    let mut routes = match fs::read_to_string(&v4) {
        Ok(text) => match parse_ipv4_routes(&text) {
            Ok(routes) => routes,
            Err(why) => return Fact::Unknown(format!("{}: {why}", v4.display())),
        },
        Err(error) => return Fact::Unknown(format!("cannot read {}: {error}", v4.display())),
    };
    match fs::read_to_string(&v6) {
        Ok(text) => match parse_ipv6_routes(&text) {
            Ok(more) => routes.extend(more),
            Err(why) => return Fact::Unknown(format!("{}: {why}", v6.display())),
        },
        // IPv6 disabled at boot (ipv6.disable=1): there are no IPv6 routes.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Fact::Unknown(format!("cannot read {}: {error}", v6.display())),
    }
    Fact::Known(routes)
}

/// `/proc/net/route`: a header, then `Iface Destination Gateway Flags
/// RefCnt Use Metric Mask …` with addresses as the kernel's native-endian
/// hex of the network-order value.
pub fn parse_ipv4_routes(text: &str) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for (number, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [dev, destination, gateway, flags, _refcnt, _use, metric, mask, ..] = fields.as_slice() else {
            return Err(format!("line {}: too few fields", number + 1));
        };
        let bad = |what: &str| format!("line {}: bad {what}", number + 1);
        let flags = u32::from_str_radix(flags, 16).map_err(|_| bad("flags"))?;
        if flags & RTF_UP == 0 || flags & RTF_REJECT != 0 || *dev == "*" {
            continue;
        }
        let destination = hex_ipv4(destination).ok_or_else(|| bad("destination"))?;
        let gateway = hex_ipv4(gateway).ok_or_else(|| bad("gateway"))?;
        let mask = hex_ipv4(mask).ok_or_else(|| bad("mask"))?;
        let prefix = ipv4_mask_prefix(mask).ok_or_else(|| bad("mask (not contiguous)"))?;
        let gateway = (!gateway.is_unspecified()).then_some(IpAddr::V4(gateway));
        let mut route = Route::main(IpAddr::V4(destination), prefix, gateway, dev);
        route.metric = metric.parse().map_err(|_| bad("metric"))?;
        routes.push(route);
    }
    Ok(routes)
}

fn hex_ipv4(hex: &str) -> Option<Ipv4Addr> {
    let value = u32::from_str_radix(hex, 16).ok()?;
    Some(Ipv4Addr::from(value.to_ne_bytes()))
}

/// `/proc/net/ipv6_route`: `dest plen src plen nexthop metric refcnt use
/// flags dev`, 32-digit hex addresses. Local, multicast, cached and reject
/// entries and loopback routes are left out: they are not ways out.
pub fn parse_ipv6_routes(text: &str) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let [destination, prefix, _src, _src_prefix, nexthop, metric, _refcnt, _use, flags, dev] =
            fields.as_slice()
        else {
            return Err(format!("line {}: expected 10 fields", number + 1));
        };
        let bad = |what: &str| format!("line {}: bad {what}", number + 1);
        let flags = u32::from_str_radix(flags, 16).map_err(|_| bad("flags"))?;
        let destination = hex_ipv6(destination).ok_or_else(|| bad("destination"))?;
        let prefix = u8::from_str_radix(prefix, 16).map_err(|_| bad("prefix"))?;
        let nexthop = hex_ipv6(nexthop).ok_or_else(|| bad("next hop"))?;
        if flags & RTF_UP == 0
            || flags & (RTF_REJECT | RTF_CACHE | RTF_LOCAL) != 0
            || *dev == "lo"
            || destination.is_multicast()
        {
            continue;
        }
        let gateway = (!nexthop.is_unspecified()).then_some(IpAddr::V6(nexthop));
        let mut route = Route::main(IpAddr::V6(destination), prefix, gateway, dev);
        route.metric = u32::from_str_radix(metric, 16).map_err(|_| bad("metric"))?;
        routes.push(route);
    }
    Ok(routes)
}

fn hex_ipv6(hex: &str) -> Option<Ipv6Addr> {
    if hex.len() != 32 {
        return None;
    }
    u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmnet_doctor_core::host::{RouteKind, RouteTable};

    // From the firewall lab (tests/firewall-lab/capture.sh), nft-ufw-guide.
    const ROUTE: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
enp3s0\t00000000\t017100CB\t0003\t0\t0\t0\t00000000\t0\t0\t0
virbr0\t007AA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
";

    #[test]
    fn reads_the_default_route_and_the_bridge_subnet() -> Result<(), String> {
        if cfg!(target_endian = "big") {
            return Ok(()); // the sample is little-endian
        }
        let routes = parse_ipv4_routes(ROUTE)?;
        assert_eq!(routes.len(), 2);
        assert!(routes[0].is_default());
        assert_eq!(routes[0].dev, "enp3s0");
        assert_eq!(routes[0].gateway, Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1))));
        assert_eq!(routes[1].destination, IpAddr::V4(Ipv4Addr::new(192, 168, 122, 0)));
        assert_eq!(routes[1].prefix, 24);
        assert_eq!(routes[1].gateway, None);
        Ok(())
    }

    #[test]
    fn skips_local_reject_and_multicast_ipv6_entries() -> Result<(), String> {
        let text = "\
20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001   enp3s0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003   enp3s0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001       lo
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001   enp3s0
";
        let routes = parse_ipv6_routes(text)?;
        assert_eq!(routes.len(), 2, "{routes:?}");
        assert_eq!(routes[0].prefix, 64);
        assert_eq!((routes[0].metric, routes[1].metric), (0x100, 0x400));
        assert!(routes[1].is_default());
        assert_eq!(routes[1].gateway, Some(IpAddr::V6("fe80::1".parse().map_err(|_| "ip")?)));
        Ok(())
    }

    #[test]
    fn reads_the_metric_and_the_main_table() -> Result<(), String> {
        let text = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
";
        let routes = parse_ipv4_routes(text)?;
        assert_eq!(
            (routes[0].metric, routes[0].table, routes[0].kind),
            (600, RouteTable::MAIN, RouteKind::Unicast)
        );
        Ok(())
    }

    #[test]
    fn garbage_is_an_error_not_a_guess() {
        assert!(parse_ipv4_routes("Iface\nenp3s0 zz\n").is_err());
        assert!(parse_ipv6_routes("nonsense\n").is_err());
    }
}
