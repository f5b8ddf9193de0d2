//! One model for nftables and iptables rulesets, and its evaluation.
//!
//! Both parsers ([`super::nft`], [`super::iptables`]) turn their input into
//! tables of chains of rules whose conditions are [`Test`]s the evaluator
//! understands, or [`Cond::Opaque`] for anything it does not (an `xt` match
//! nft's JSON shows without arguments, a rate limit, an ipset…).
//!
//! Conditions are three-valued. When a condition cannot be decided and its
//! rule would change the packet's fate, both outcomes are followed; the
//! verdict is definite only when every path agrees. So the answer is either
//! right or "unknown, because …" — never a guess.

use std::fmt;
use std::net::Ipv4Addr;

use super::packet::{AddrType, CtState, Hook, Mark, PROTO_ICMP, PROTO_TCP, PROTO_UDP, Packet, PktType};

/// Where a table was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Origin {
    /// `nft -j list ruleset`.
    Nft,
    /// `iptables-nft-save` (tables in nf_tables written by iptables-nft).
    IptablesNft,
    /// `iptables-legacy-save` (the x_tables backend).
    IptablesLegacy,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Nft => "nftables",
            Self::IptablesNft => "iptables-nft",
            Self::IptablesLegacy => "iptables-legacy",
        })
    }
}

/// nftables address families (iptables tables are `Ip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    Ip,
    Ip6,
    Inet,
    Arp,
    Bridge,
    Netdev,
}

impl Family {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "ip" => Self::Ip,
            "ip6" => Self::Ip6,
            "inet" => Self::Inet,
            "arp" => Self::Arp,
            "bridge" => Self::Bridge,
            "netdev" => Self::Netdev,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Ip6 => "ip6",
            Self::Inet => "inet",
            Self::Arp => "arp",
            Self::Bridge => "bridge",
            Self::Netdev => "netdev",
        }
    }

    /// Whether IPv4 packets on the routing path traverse its chains.
    pub(crate) fn sees_ipv4(self) -> bool {
        matches!(self, Self::Ip | Self::Inet)
    }
}

/// A base chain's attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Base {
    pub(crate) hook: Hook,
    pub(crate) priority: i32,
    /// `type filter` (nat and route chains do not filter).
    pub(crate) filter: bool,
    pub(crate) policy_drop: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chain {
    pub(crate) name: String,
    pub(crate) base: Option<Base>,
    pub(crate) rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    pub(crate) origin: Origin,
    pub(crate) family: Family,
    pub(crate) name: String,
    /// In the order the ruleset lists them.
    pub(crate) chains: Vec<Chain>,
}

impl Table {
    pub(crate) fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|chain| chain.name == name)
    }

    pub(crate) fn describe(&self) -> String {
        match self.origin {
            Origin::Nft => format!("table {} {}", self.family.name(), self.name),
            origin => format!("{origin} table {}", self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) conds: Vec<Cond>,
    pub(crate) action: Action,
    /// The rule as a person would recognise it, for evidence.
    pub(crate) text: String,
    /// The rule changes the firewall mark (then later `mark` matches on
    /// this path are undecidable).
    pub(crate) sets_mark: Option<Option<u32>>,
    /// The rule rewrites the destination (`dnat`, `-j DNAT`, `redirect`):
    /// a port forward.
    pub(crate) port_forward: Option<PortForward>,
}

/// Where a destination rewrite sends the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PortForward {
    /// DNAT to this address (`None`: an address the rule computes, a map,
    /// a range — not read).
    To(Option<std::net::IpAddr>),
    /// REDIRECT: to the host itself.
    Redirect,
}

/// A condition of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cond {
    Test(Test),
    /// Something the evaluator cannot decide, and why.
    Opaque(String),
}

/// An interface name pattern: exact, or a prefix (`virbr*`, `virbr+`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IfName {
    Exact(String),
    Prefix(String),
}

impl IfName {
    pub(crate) fn parse(name: &str, wildcard: char) -> Self {
        match name.strip_suffix(wildcard) {
            Some(prefix) if !prefix.ends_with('\\') => Self::Prefix(prefix.to_owned()),
            _ => Self::Exact(name.replace('\\', "")),
        }
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Exact(exact) => exact == name,
            Self::Prefix(prefix) => name.starts_with(prefix.as_str()),
        }
    }
}

/// An IPv4 address set member: a network or a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Net {
    Prefix(Ipv4Addr, u8),
    Range(Ipv4Addr, Ipv4Addr),
}

impl Net {
    fn contains(self, address: Ipv4Addr) -> bool {
        match self {
            Self::Prefix(network, len) => crate::network::net_v4(network, len).contains(&address),
            Self::Range(low, high) => (low..=high).contains(&address),
        }
    }
}

/// A condition the evaluator decides. Each carries `negate` (`!=`, `!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Test {
    Iface {
        out: bool,
        names: Vec<IfName>,
        negate: bool,
    },
    Proto {
        protos: Vec<u8>,
        negate: bool,
    },
    Addr {
        dst: bool,
        nets: Vec<Net>,
        negate: bool,
    },
    /// `proto` None: any transport header with ports (`th dport`).
    Port {
        dst: bool,
        proto: Option<u8>,
        ranges: Vec<(u16, u16)>,
        negate: bool,
    },
    Icmp {
        types: Vec<(u8, Option<u8>)>,
        negate: bool,
    },
    CtState {
        states: Vec<CtState>,
        negate: bool,
    },
    /// Any of the bits set (`ct status dnat`, `--ctstatus DNAT`).
    CtStatus {
        bits: u32,
        negate: bool,
    },
    CtReply {
        reply: bool,
    },
    AddrType {
        dst: bool,
        types: Vec<AddrType>,
        negate: bool,
    },
    PktType {
        types: Vec<PktType>,
        negate: bool,
    },
    Mark {
        value: u32,
        mask: u32,
        negate: bool,
    },
    /// The packet is IPv4 (nfproto, implicit dependencies of `ip`/`ip6`
    /// payload matches).
    Ipv4 {
        yes: bool,
    },
}

/// Three-valued truth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tri {
    Yes,
    No,
    Maybe(String),
}

impl Tri {
    fn from_bool(value: bool) -> Self {
        if value { Self::Yes } else { Self::No }
    }
}

impl Test {
    pub(crate) fn eval(&self, packet: &Packet) -> Tri {
        let (hit, negate) = match self {
            Self::Iface { out, names, negate } => {
                let name = if *out { packet.oif.as_deref() } else { packet.iif.as_deref() };
                // No interface at this hook: the match cannot apply at all,
                // negated or not (nft breaks out of the rule).
                let Some(name) = name else { return Tri::No };
                (names.iter().any(|pattern| pattern.matches(name)), *negate)
            }
            Self::Proto { protos, negate } => (protos.contains(&packet.proto), *negate),
            Self::Addr { dst, nets, negate } => {
                let address = if *dst { packet.daddr } else { packet.saddr };
                (nets.iter().any(|net| net.contains(address)), *negate)
            }
            Self::Port { dst, proto, ranges, negate } => {
                let has_ports = matches!(packet.proto, PROTO_TCP | PROTO_UDP);
                if !has_ports || proto.is_some_and(|proto| proto != packet.proto) {
                    // The header is not there: the rule does not match.
                    return Tri::No;
                }
                let port = if *dst { packet.dport } else { packet.sport };
                (ranges.iter().any(|(low, high)| (*low..=*high).contains(&port)), *negate)
            }
            Self::Icmp { types, negate } => {
                let Some((kind, code)) = packet.icmp else { return Tri::No };
                if packet.proto != PROTO_ICMP {
                    return Tri::No;
                }
                (types.iter().any(|(t, c)| *t == kind && c.is_none_or(|c| c == code)), *negate)
            }
            Self::CtState { states, negate } => (states.contains(&packet.ct_state), *negate),
            Self::CtStatus { bits, negate } => (packet.ct_status & bits != 0, *negate),
            Self::CtReply { reply } => (packet.ct_reply == *reply, false),
            Self::AddrType { dst, types, negate } => {
                let kind = if *dst { packet.daddr_type } else { packet.saddr_type };
                (types.contains(&kind), *negate)
            }
            Self::PktType { types, negate } => (types.contains(&packet.pkttype), *negate),
            Self::Mark { value, mask, negate } => match packet.mark {
                Mark::Known(mark) => (mark & mask == *value, *negate),
                Mark::Unknown => return Tri::Maybe("a firewall mark set by an earlier rule".to_owned()),
            },
            Self::Ipv4 { yes } => (*yes, false),
        };
        Tri::from_bool(hit != negate)
    }
}

/// What a rule does when it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// No verdict (counter, log, mark…): go on with the next rule.
    Continue,
    Accept,
    /// Drop or reject.
    Drop,
    Return,
    Jump(String),
    Goto(String),
    /// A verdict map: the first entry whose test holds decides.
    Vmap(Vec<(Test, Action)>),
    /// A verdict we cannot follow (queue to userspace…), and why.
    Unknown(String),
}

impl Action {
    fn is_continue(&self) -> bool {
        matches!(self, Self::Continue)
    }
}

/// Where a packet was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DropAt {
    pub(crate) table: usize,
    pub(crate) base: String,
    pub(crate) chain: String,
    /// `None`: the base chain's policy.
    pub(crate) rule: Option<String>,
}

/// Everything that may happen to a packet from some point on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Outcomes {
    accept: bool,
    drop: Option<DropAt>,
    /// Fell off the end of the chain, or `return`.
    fallthrough: bool,
    /// A verdict we cannot follow.
    unknown: Option<String>,
    /// Why more than one outcome is possible.
    doubts: Vec<String>,
}

impl Outcomes {
    fn merge(mut self, other: Self) -> Self {
        self.accept |= other.accept;
        if self.drop.is_none() {
            self.drop = other.drop;
        }
        self.fallthrough |= other.fallthrough;
        if self.unknown.is_none() {
            self.unknown = other.unknown;
        }
        for doubt in other.doubts {
            if !self.doubts.contains(&doubt) {
                self.doubts.push(doubt);
            }
        }
        self
    }

    /// Records why this point has several outcomes, ahead of the doubts
    /// met further down (so they read in evaluation order).
    fn doubt(mut self, why: String) -> Self {
        if !self.doubts.contains(&why) {
            self.doubts.insert(0, why);
        }
        self
    }
}

/// A base chain's result for one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChainVerdict {
    Accept,
    Drop(DropAt),
    /// It may drop (or its verdict cannot be followed): why.
    Unknown {
        may_drop: Option<DropAt>,
        why: String,
    },
}

/// How many rules one evaluation may visit before giving up.
const BUDGET: u32 = 200_000;
const MAX_DEPTH: u32 = 64;
/// How many undecidable rules an unknown verdict names.
const MAX_DOUBTS: usize = 2;

pub(crate) struct Evaluator<'a> {
    pub(crate) tables: &'a [Table],
    budget: u32,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(tables: &'a [Table]) -> Self {
        Self { tables, budget: BUDGET }
    }

    /// The fate of `packet` in one base chain.
    pub(crate) fn base_chain(&mut self, table: usize, chain: &Chain, packet: &Packet) -> ChainVerdict {
        let Some(base) = &chain.base else {
            return ChainVerdict::Unknown {
                may_drop: None,
                why: format!("{} is not a base chain", chain.name),
            };
        };
        let mut outcomes = self.run(table, &chain.name, &chain.name, 0, packet, 0);
        if outcomes.fallthrough {
            outcomes.fallthrough = false;
            if base.policy_drop {
                if outcomes.drop.is_none() {
                    outcomes.drop = Some(DropAt {
                        table,
                        base: chain.name.clone(),
                        chain: chain.name.clone(),
                        rule: None,
                    });
                }
            } else {
                outcomes.accept = true;
            }
        }
        let possible = usize::from(outcomes.accept)
            + usize::from(outcomes.drop.is_some())
            + usize::from(outcomes.unknown.is_some());
        match (outcomes.accept, outcomes.drop, outcomes.unknown) {
            (true, None, None) => ChainVerdict::Accept,
            (false, Some(drop), None) => ChainVerdict::Drop(drop),
            (_, drop, unknown) => {
                let mut why: Vec<String> = Vec::new();
                why.extend(unknown);
                if possible > 1 || why.is_empty() {
                    // The first undecidable rules say enough.
                    let more = outcomes.doubts.len().saturating_sub(MAX_DOUBTS);
                    why.extend(outcomes.doubts.into_iter().take(MAX_DOUBTS));
                    if more > 0 {
                        why.push(format!("and {more} more such rules"));
                    }
                }
                ChainVerdict::Unknown { may_drop: drop, why: why.join("; ") }
            }
        }
    }

    /// Runs `chain` of `table` from rule `start`.
    fn run(
        &mut self,
        table: usize,
        base: &str,
        chain_name: &str,
        start: usize,
        packet: &Packet,
        depth: u32,
    ) -> Outcomes {
        let Some(tbl) = self.tables.get(table) else { return Outcomes::default() };
        let Some(chain) = tbl.chain(chain_name) else {
            return Outcomes {
                unknown: Some(format!("{}: chain {chain_name} is missing", tbl.describe())),
                ..Outcomes::default()
            };
        };
        if depth > MAX_DEPTH {
            return Outcomes {
                unknown: Some(format!("{}: jumps nest too deep", tbl.describe())),
                ..Outcomes::default()
            };
        }
        for (index, rule) in chain.rules.iter().enumerate().skip(start) {
            if self.budget == 0 {
                return Outcomes {
                    unknown: Some("the ruleset is too large to follow".to_owned()),
                    ..Outcomes::default()
                };
            }
            self.budget -= 1;
            let truth = conds_truth(&rule.conds, packet);
            match truth {
                Tri::No => continue,
                Tri::Yes => {
                    if rule.action.is_continue() {
                        if let Some(mark) = rule.sets_mark {
                            let mut marked = packet.clone();
                            marked.mark = mark.map_or(Mark::Unknown, Mark::Known);
                            return self.run(table, base, chain_name, index + 1, &marked, depth);
                        }
                        continue;
                    }
                    return self.act(table, base, chain, index, &rule.action, rule, packet, depth);
                }
                Tri::Maybe(why) => {
                    if rule.action.is_continue() && rule.sets_mark.is_none() {
                        continue;
                    }
                    let why =
                        format!("{}, chain {}: `{}` depends on {why}", tbl.describe(), chain.name, rule.text);
                    let matched = if rule.action.is_continue() {
                        let mut marked = packet.clone();
                        marked.mark = Mark::Unknown;
                        self.run(table, base, chain_name, index + 1, &marked, depth)
                    } else {
                        self.act(table, base, chain, index, &rule.action, rule, packet, depth)
                    };
                    let unmatched = self.run(table, base, chain_name, index + 1, packet, depth);
                    return matched.merge(unmatched).doubt(why);
                }
            }
        }
        Outcomes { fallthrough: true, ..Outcomes::default() }
    }

    /// Applies a matched rule's action, then continues as the action says.
    #[allow(clippy::too_many_arguments)] // the evaluation's position, spelled out
    fn act(
        &mut self,
        table: usize,
        base: &str,
        chain: &Chain,
        index: usize,
        action: &Action,
        rule: &Rule,
        packet: &Packet,
        depth: u32,
    ) -> Outcomes {
        match action {
            Action::Continue => self.run(table, base, &chain.name, index + 1, packet, depth),
            Action::Accept => Outcomes { accept: true, ..Outcomes::default() },
            Action::Drop => Outcomes {
                drop: Some(DropAt {
                    table,
                    base: base.to_owned(),
                    chain: chain.name.clone(),
                    rule: Some(rule.text.clone()),
                }),
                ..Outcomes::default()
            },
            Action::Return => Outcomes { fallthrough: true, ..Outcomes::default() },
            Action::Jump(target) => {
                let mut called = self.run(table, base, target, 0, packet, depth + 1);
                if called.fallthrough {
                    called.fallthrough = false;
                    let rest = self.run(table, base, &chain.name, index + 1, packet, depth);
                    called.merge(rest)
                } else {
                    called
                }
            }
            Action::Goto(target) => self.run(table, base, target, 0, packet, depth + 1),
            Action::Vmap(entries) => {
                for (position, (test, entry_action)) in entries.iter().enumerate() {
                    match test.eval(packet) {
                        Tri::No => {}
                        Tri::Yes => {
                            return self.act(table, base, chain, index, entry_action, rule, packet, depth);
                        }
                        Tri::Maybe(why) => {
                            let matched =
                                self.act(table, base, chain, index, entry_action, rule, packet, depth);
                            let rest = Action::Vmap(entries[position + 1..].to_vec());
                            let unmatched = self.act(table, base, chain, index, &rest, rule, packet, depth);
                            return matched.merge(unmatched).doubt(why);
                        }
                    }
                }
                self.run(table, base, &chain.name, index + 1, packet, depth)
            }
            Action::Unknown(why) => {
                let tbl = self.tables.get(table).map(Table::describe).unwrap_or_default();
                Outcomes {
                    unknown: Some(format!("{tbl}, chain {}: `{}`: {why}", chain.name, rule.text)),
                    ..Outcomes::default()
                }
            }
        }
    }
}

/// All conditions of a rule (AND): one false condition decides, whatever
/// the undecided ones say.
fn conds_truth(conds: &[Cond], packet: &Packet) -> Tri {
    let mut maybe = None;
    for cond in conds {
        match cond {
            Cond::Test(test) => match test.eval(packet) {
                Tri::No => return Tri::No,
                Tri::Yes => {}
                Tri::Maybe(why) => maybe = maybe.or(Some(why)),
            },
            Cond::Opaque(why) => maybe = maybe.or_else(|| Some(why.clone())),
        }
    }
    maybe.map_or(Tri::Yes, Tri::Maybe)
}

/// Evaluation of every filtering base chain on a packet's path.
pub(crate) fn base_chains<'t>(tables: &'t [Table], hooks: &[Hook]) -> Vec<(usize, &'t Chain)> {
    let mut chains: Vec<(usize, &Chain)> = tables
        .iter()
        .enumerate()
        .filter(|(_, table)| table.family.sees_ipv4())
        .flat_map(|(index, table)| table.chains.iter().map(move |chain| (index, chain)))
        .filter(|(_, chain)| {
            chain.base.as_ref().is_some_and(|base| base.filter && hooks.contains(&base.hook))
        })
        .collect();
    chains.sort_by_key(|(_, chain)| chain.base.as_ref().map(|base| (base.hook, base.priority)));
    chains
}
