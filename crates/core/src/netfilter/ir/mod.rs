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
//!
//! This module holds the model and what a condition says about a packet;
//! following a packet through the chains is in `evaluator`.

mod evaluator;

use std::fmt;
use std::net::Ipv4Addr;

use super::packet::{AddrType, CtState, Hook, Mark, PROTO_ICMP, PROTO_TCP, PROTO_UDP, Packet, PktType};

pub(crate) use evaluator::{ChainVerdict, DropAt, Evaluator, base_chains};

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
