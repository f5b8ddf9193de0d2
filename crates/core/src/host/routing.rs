//! Routes and policy rules, and where they send a VM's traffic to the
//! internet: the walk the kernel does for a forwarded packet
//! ([`exit_routes`]) and the uplinks [`HostFacts`] derives from it. Apart
//! from the other host facts because it is the one part with logic (and
//! tests) of its own; the types are re-exported from [`crate::host`].

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::{Fact, HostFacts};

/// A routing table, by number (`/etc/iproute2/rt_tables`: 255 `local`,
/// 254 `main`, 253 `default`; any other number is a table of its own,
/// such as wg-quick's 51820).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RouteTable(pub u32);

impl RouteTable {
    /// The addresses of the host itself, broadcast and multicast: never a
    /// way out.
    pub const LOCAL: Self = Self(255);
    /// The table `ip route` shows, and the only one `/proc/net/route` lists.
    pub const MAIN: Self = Self(254);
    pub const DEFAULT: Self = Self(253);

    /// A table as iproute2 names it: `local`, `main`, `default` or a
    /// number. `None` for any other name (iproute2 prints the names of
    /// `/etc/iproute2/rt_tables` unless run with `-N`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "local" => Some(Self::LOCAL),
            "main" => Some(Self::MAIN),
            "default" => Some(Self::DEFAULT),
            number => number.parse().ok().map(Self),
        }
    }
}

impl std::fmt::Display for RouteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::LOCAL => f.write_str("local"),
            Self::MAIN => f.write_str("main"),
            Self::DEFAULT => f.write_str("default"),
            Self(number) => write!(f, "{number}"),
        }
    }
}

/// What a route does with the packets it matches (iproute2's `type`, the
/// kernel's `RTN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteKind {
    /// Forwards them (the type iproute2 does not print).
    Unicast,
    /// An address of the host itself (the `local` table).
    Local,
    Broadcast,
    Anycast,
    Multicast,
    /// Drops them silently.
    Blackhole,
    /// Drops them with "network unreachable".
    Unreachable,
    /// Drops them with "administratively prohibited".
    Prohibit,
    /// Ends this table's lookup: the next policy rule is tried.
    Throw,
    /// Anything else (`nat`, `xresolve`, a newer kernel's type).
    Other,
}

/// An IPv4 or IPv6 route, of any table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub table: RouteTable,
    pub kind: RouteKind,
    pub destination: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    /// The device; empty for a route without one (`blackhole`,
    /// `unreachable`). A multipath route is one `Route` per next hop.
    pub dev: String,
    /// The kernel's priority among routes to the same destination in the
    /// same table (`metric`): the lowest is used.
    pub metric: u32,
}

impl Route {
    /// A unicast route of the main table, as `/proc/net/route` lists them
    /// (and as tests write them).
    pub fn main(destination: IpAddr, prefix: u8, gateway: Option<IpAddr>, dev: &str) -> Self {
        Self {
            table: RouteTable::MAIN,
            kind: RouteKind::Unicast,
            destination,
            prefix,
            gateway,
            dev: dev.to_owned(),
            metric: 0,
        }
    }

    /// A default route that forwards (not `unreachable`, `blackhole`, …),
    /// in whatever table: whether the policy rules lead to it is
    /// [`HostFacts::exit_routes`]'s business.
    pub fn is_default(&self) -> bool {
        self.prefix == 0 && self.kind == RouteKind::Unicast
    }

    /// A route to a subnet through a device: unicast, outside the `local`
    /// table (which holds the host's own addresses and broadcast ones).
    pub fn is_way_out(&self) -> bool {
        self.kind == RouteKind::Unicast && self.table != RouteTable::LOCAL
    }
}

/// `A/N dev D`, with ` table T` outside the main table (evidence text, as
/// iproute2 writes it).
impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} dev {}", self.destination, self.prefix, self.dev)?;
        if self.table != RouteTable::MAIN {
            write!(f, " table {}", self.table)?;
        }
        Ok(())
    }
}

/// A policy routing rule (`ip rule`): which packets it selects, and where
/// their route is looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub ipv6: bool,
    /// Rules are tried from the lowest priority up.
    pub priority: u32,
    /// `not`: the rule applies to the packets its selectors do not match.
    pub not: bool,
    /// `from A/N`; `None` for `from all`.
    pub from: Option<(IpAddr, u8)>,
    /// `to A/N`.
    pub to: Option<(IpAddr, u8)>,
    /// `fwmark MARK/MASK` (the mask is all ones when not given).
    pub fwmark: Option<(u32, u32)>,
    /// `iif NAME`: packets that came in on that device.
    pub iif: Option<String>,
    /// `oif NAME`: packets a local socket bound to that device sends.
    pub oif: Option<String>,
    /// `uidrange START-END`: packets of local sockets of those users
    /// (forwarded packets count as uid 0).
    pub uid_range: Option<(u32, u32)>,
    /// Selectors on what is inside the packet (`ipproto`, `sport`,
    /// `dport`, `tos`/`dsfield`, `tun_id`, `l3mdev`): it applies to some
    /// traffic only, never to all of a VM's.
    pub narrower: bool,
    pub action: RuleAction,
    /// `suppress_prefixlength N`: a route found with a prefix of N bits or
    /// fewer is ignored and the next rule tried (wg-quick's rule that
    /// keeps the main table's routes but not its default route).
    pub suppress_prefixlength: Option<u8>,
}

impl RoutingRule {
    /// `priority P lookup T` for every packet of a family: the standard
    /// rules (`local`, `main`, `default`) are such, and so is the rule the
    /// main table alone stands for when the rules are unknown.
    pub fn lookup(ipv6: bool, priority: u32, table: RouteTable) -> Self {
        Self {
            ipv6,
            priority,
            not: false,
            from: None,
            to: None,
            fwmark: None,
            iif: None,
            oif: None,
            uid_range: None,
            narrower: false,
            action: RuleAction::Lookup(table),
            suppress_prefixlength: None,
        }
    }
}

/// What a rule does with the packets it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleAction {
    /// Look the route up in this table.
    Lookup(RouteTable),
    /// Go on at the rule of this priority.
    Goto(u32),
    /// Nothing: the next rule is tried.
    Nop,
    /// Drop them (`blackhole`, `unreachable`, `prohibit`).
    Drop,
}

impl HostFacts {
    /// The default routes a VM's traffic to the internet leaves by, of one
    /// family, the one in use first: where the policy rules send it (see
    /// [`exit_routes`]); the main table's when the rules are unknown.
    /// `iif` is the bridge it comes in on, if known.
    pub fn exit_routes(&self, ipv6: bool, iif: Option<&str>) -> Vec<&Route> {
        let Some(routes) = self.routes.known() else { return Vec::new() };
        match self.rules.known() {
            Some(rules) => exit_routes(rules, routes, ipv6, iif),
            None => exit_routes(&[RoutingRule::lookup(ipv6, 0, RouteTable::MAIN)], routes, ipv6, iif),
        }
    }

    /// The interfaces VM traffic leaves by (IPv4's, then IPv6's): a VPN's
    /// when the policy rules send forwarded traffic into its table.
    pub fn uplinks(&self) -> Vec<&str> {
        devices(self.exit_routes(false, None).into_iter().chain(self.exit_routes(true, None)))
    }

    /// The interfaces IPv4 traffic from `iif` (a VM bridge; `None`: any)
    /// leaves by: those NAT networks need.
    pub fn ipv4_uplinks(&self, iif: Option<&str>) -> Vec<&str> {
        devices(self.exit_routes(false, iif))
    }

    /// Whether `routes` holds the main table only (iproute2 could not be
    /// run, so neither the other tables nor the rules are known).
    pub fn routes_main_only(&self) -> bool {
        matches!(self.rules, Fact::Unknown(_))
    }
}

/// The devices of `routes`, each once, in their order (a route without a
/// device has none).
pub fn devices<'r>(routes: impl IntoIterator<Item = &'r Route>) -> Vec<&'r str> {
    let mut devices: Vec<&str> = Vec::new();
    for route in routes {
        if !route.dev.is_empty() && !devices.contains(&route.dev.as_str()) {
            devices.push(&route.dev);
        }
    }
    devices
}

impl RoutingRule {
    /// Whether the rule selects a VM's traffic to the internet as the
    /// kernel sees it when forwarding: in on `iif` (the VM's bridge;
    /// `None`: a device no rule names), no firewall mark (`fwmark X/M`
    /// selects it only when `X & M` is 0), no output device yet, uid 0,
    /// from a VM's address (not known here: a `from` prefix does not
    /// select it) to anywhere (a `to` prefix does not select it). A rule
    /// with `not` selects what the others do not. A rule on the packet's
    /// contents (`ipproto`, ports, `tos`) selects only some of it and is
    /// not followed.
    pub fn matches_forwarded(&self, iif: Option<&str>) -> bool {
        if self.narrower {
            return false;
        }
        let selected = self.iif.as_deref().is_none_or(|name| Some(name) == iif)
            && self.oif.is_none()
            && self.fwmark.is_none_or(|(mark, mask)| mark & mask == 0)
            && self.uid_range.is_none_or(|(start, _)| start == 0)
            && self.from.is_none_or(|(_, prefix)| prefix == 0)
            && self.to.is_none_or(|(_, prefix)| prefix == 0);
        selected != self.not
    }
}

/// Where the kernel sends a VM's forwarded traffic to the internet, of one
/// family: the rules in priority order, each that selects it
/// ([`RoutingRule::matches_forwarded`]) tried in turn. `nop` and an
/// unresolved `goto` go on; `goto` jumps; a drop action means no way out.
/// A lookup finds the table's default routes, the lowest metric first: a
/// unicast one is the way out, unless the rule suppresses it
/// (`suppress_prefixlength`, any value covers a /0) and the next rule is
/// tried; `throw` or no default route goes on too; `unreachable`,
/// `blackhole`, `prohibit` (or a local delivery) mean no way out. The
/// answer is that table's unicast default routes, lowest metric first;
/// empty when nothing leads out.
pub fn exit_routes<'r>(
    rules: &[RoutingRule],
    routes: &'r [Route],
    ipv6: bool,
    iif: Option<&str>,
) -> Vec<&'r Route> {
    let mut rules: Vec<&RoutingRule> = rules.iter().filter(|rule| rule.ipv6 == ipv6).collect();
    rules.sort_by_key(|rule| rule.priority);
    let mut next = 0;
    while let Some(rule) = rules.get(next) {
        next += 1;
        if !rule.matches_forwarded(iif) {
            continue;
        }
        let table = match rule.action {
            RuleAction::Lookup(table) => table,
            RuleAction::Nop => continue,
            RuleAction::Drop => return Vec::new(),
            RuleAction::Goto(target) => {
                // The kernel only jumps forward, to a rule of exactly that
                // priority; without one the goto is skipped.
                if target > rule.priority
                    && let Some(at) = rules.iter().position(|other| other.priority == target)
                {
                    next = at;
                }
                continue;
            }
        };
        let mut defaults: Vec<&Route> = routes
            .iter()
            .filter(|route| route.table == table && route.prefix == 0 && route.destination.is_ipv6() == ipv6)
            .collect();
        defaults.sort_by_key(|route| route.metric);
        let Some(first) = defaults.first() else { continue };
        match first.kind {
            RouteKind::Unicast if rule.suppress_prefixlength.is_some() => continue,
            RouteKind::Unicast => {
                return defaults.into_iter().filter(|route| route.kind == RouteKind::Unicast).collect();
            }
            RouteKind::Throw => continue,
            RouteKind::Blackhole
            | RouteKind::Unreachable
            | RouteKind::Prohibit
            | RouteKind::Local
            | RouteKind::Broadcast
            | RouteKind::Anycast
            | RouteKind::Multicast
            | RouteKind::Other => return Vec::new(),
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(table: u32, kind: RouteKind, destination: &str, dev: &str, metric: u32) -> Route {
        let (address, prefix) = destination.split_once('/').unwrap_or((destination, "0"));
        Route {
            table: RouteTable(table),
            kind,
            destination: address.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            prefix: prefix.parse().unwrap_or(0),
            gateway: None,
            dev: dev.to_owned(),
            metric,
        }
    }

    fn lookup(priority: u32, table: RouteTable) -> RoutingRule {
        RoutingRule::lookup(false, priority, table)
    }

    /// `ip rule`'s three rules on every host.
    fn standard_rules() -> Vec<RoutingRule> {
        vec![
            lookup(0, RouteTable::LOCAL),
            lookup(32766, RouteTable::MAIN),
            lookup(32767, RouteTable::DEFAULT),
        ]
    }

    fn plain_routes() -> Vec<Route> {
        vec![
            route(255, RouteKind::Local, "10.0.2.15/32", "eth0", 0),
            route(255, RouteKind::Broadcast, "10.0.2.255/32", "eth0", 0),
            route(254, RouteKind::Unicast, "10.0.2.0/24", "eth0", 0),
            route(254, RouteKind::Unicast, "0.0.0.0/0", "wlan0", 600),
            route(254, RouteKind::Unicast, "0.0.0.0/0", "eth0", 100),
        ]
    }

    fn facts(routes: Vec<Route>, rules: Fact<Vec<RoutingRule>>) -> HostFacts {
        HostFacts { routes: Fact::Known(routes), rules, ..HostFacts::unknown("not read in this test") }
    }

    /// wg-quick's layout: the VPN's default route in table 51820, unmarked
    /// traffic sent there, the main table's default suppressed.
    fn wg_quick() -> (Vec<Route>, Vec<RoutingRule>) {
        let mut routes = plain_routes();
        routes.push(route(51820, RouteKind::Unicast, "0.0.0.0/0", "wg0", 0));
        let mut rules = standard_rules();
        rules.push(RoutingRule {
            not: true,
            fwmark: Some((0xca6c, u32::MAX)),
            ..lookup(32765, RouteTable(51820))
        });
        rules.push(RoutingRule { suppress_prefixlength: Some(0), ..lookup(32764, RouteTable::MAIN) });
        (routes, rules)
    }

    #[test]
    fn a_plain_host_leaves_by_the_main_tables_default_routes_lowest_metric_first() {
        let host = facts(plain_routes(), Fact::Known(standard_rules()));
        assert_eq!(host.uplinks(), ["eth0", "wlan0"]);
        assert_eq!(host.exit_routes(true, None), Vec::<&Route>::new());
    }

    #[test]
    fn without_the_rules_the_main_table_decides() {
        let (routes, _) = wg_quick();
        let host = facts(routes, Fact::Unknown("ip is not installed".to_owned()));
        assert!(host.routes_main_only());
        assert_eq!(host.uplinks(), ["eth0", "wlan0"]);
    }

    #[test]
    fn wg_quick_sends_forwarded_traffic_into_the_vpn() {
        let (routes, rules) = wg_quick();
        let host = facts(routes, Fact::Known(rules));
        assert!(!host.routes_main_only());
        assert_eq!(host.uplinks(), ["wg0"]);
        assert_eq!(host.ipv4_uplinks(Some("virbr0")), ["wg0"]);
    }

    #[test]
    fn a_rule_for_marked_packets_is_not_taken() {
        let (routes, mut rules) = wg_quick();
        // The same rule without `not`: only marked packets go to the VPN.
        for rule in &mut rules {
            rule.not = false;
        }
        assert_eq!(exit_routes(&rules, &routes, false, None)[0].dev, "eth0");
        // A mark under a mask that ignores it selects unmarked packets.
        let mut zero = lookup(100, RouteTable(51820));
        zero.fwmark = Some((0x100, 0xff));
        assert_eq!(exit_routes(&[zero.clone()], &routes, false, None)[0].dev, "wg0");
        zero.fwmark = Some((0x1, 0xff));
        assert!(exit_routes(&[zero], &routes, false, None).is_empty());
    }

    #[test]
    fn rules_on_another_device_source_or_protocol_are_not_taken() {
        let (routes, mut rules) = wg_quick();
        let vpn = |rule: RoutingRule| RoutingRule { action: RuleAction::Lookup(RouteTable(51820)), ..rule };
        rules.retain(|rule| rule.priority != 32765 && rule.priority != 32764);
        let oif = vpn(RoutingRule { oif: Some("eth0".to_owned()), ..lookup(10, RouteTable::MAIN) });
        let iif = vpn(RoutingRule { iif: Some("virbr1".to_owned()), ..lookup(11, RouteTable::MAIN) });
        let from = vpn(RoutingRule {
            from: Some((IpAddr::from([10, 0, 2, 0]), 24)),
            ..lookup(12, RouteTable::MAIN)
        });
        let proto = vpn(RoutingRule { narrower: true, ..lookup(13, RouteTable::MAIN) });
        let users = vpn(RoutingRule { uid_range: Some((1000, 2000)), ..lookup(14, RouteTable::MAIN) });
        rules.extend([oif, iif, from, proto, users]);
        assert_eq!(exit_routes(&rules, &routes, false, Some("virbr0"))[0].dev, "eth0");
        // The rule for the VM's own bridge is.
        assert_eq!(exit_routes(&rules, &routes, false, Some("virbr1"))[0].dev, "wg0");
    }

    #[test]
    fn unreachable_and_blackhole_defaults_are_no_way_out() {
        for kind in [RouteKind::Unreachable, RouteKind::Blackhole, RouteKind::Prohibit] {
            let mut routes = plain_routes();
            routes.push(route(100, kind, "0.0.0.0/0", "", 0));
            let mut rules = standard_rules();
            rules.push(lookup(100, RouteTable(100)));
            let host = facts(routes.clone(), Fact::Known(rules));
            assert_eq!(host.uplinks(), Vec::<&str>::new(), "{kind:?}");
            // In the main table, with a lower metric, it wins too.
            routes.push(route(254, kind, "0.0.0.0/0", "", 1));
            routes.retain(|route| route.table != RouteTable(100));
            let host = facts(routes.clone(), Fact::Known(standard_rules()));
            assert_eq!(host.uplinks(), Vec::<&str>::new(), "{kind:?}");
            // Neither is it a default route.
            assert!(!routes.last().is_some_and(Route::is_default));
        }
        // A throw route goes on to the next rule.
        let mut routes = plain_routes();
        routes.push(route(100, RouteKind::Throw, "0.0.0.0/0", "", 0));
        let mut rules = standard_rules();
        rules.push(lookup(100, RouteTable(100)));
        assert_eq!(facts(routes, Fact::Known(rules)).uplinks(), ["eth0", "wlan0"]);
    }

    #[test]
    fn nop_goes_on_goto_jumps_and_a_drop_rule_ends_it() {
        let (routes, _) = wg_quick();
        let mut rules = standard_rules();
        rules.push(RoutingRule { action: RuleAction::Nop, ..lookup(10, RouteTable::MAIN) });
        rules.push(RoutingRule { action: RuleAction::Goto(300), ..lookup(20, RouteTable::MAIN) });
        rules.push(lookup(200, RouteTable::MAIN));
        rules.push(lookup(300, RouteTable(51820)));
        assert_eq!(exit_routes(&rules, &routes, false, None)[0].dev, "wg0");
        rules.push(RoutingRule { action: RuleAction::Drop, ..lookup(5, RouteTable::MAIN) });
        assert!(exit_routes(&rules, &routes, false, None).is_empty());
    }

    #[test]
    fn tables_have_their_iproute2_names() {
        assert_eq!(RouteTable::parse("main"), Some(RouteTable::MAIN));
        assert_eq!(RouteTable::parse("51820"), Some(RouteTable(51820)));
        assert_eq!(RouteTable::parse("vpn"), None);
        assert_eq!(RouteTable::LOCAL.to_string(), "local");
        assert_eq!(RouteTable(51820).to_string(), "51820");
    }
}
