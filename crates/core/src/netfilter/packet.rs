//! The packets whose fate the evaluator decides: one IPv4 packet at a time,
//! described by everything a filter rule can look at.

use std::net::Ipv4Addr;

/// Netfilter hooks on the IPv4 path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
    /// netdev/bridge `ingress` and `egress`: before and after the IP stack.
    Ingress,
    Egress,
}

impl Hook {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "prerouting" => Self::Prerouting,
            "input" => Self::Input,
            "forward" => Self::Forward,
            "output" => Self::Output,
            "postrouting" => Self::Postrouting,
            "ingress" => Self::Ingress,
            "egress" => Self::Egress,
            _ => return None,
        })
    }
}

/// Connection-tracking state (`ct state`, `-m conntrack --ctstate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CtState {
    New,
    Established,
    Related,
    Invalid,
    Untracked,
}

impl CtState {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "new" => Self::New,
            "established" => Self::Established,
            "related" => Self::Related,
            "invalid" => Self::Invalid,
            "untracked" => Self::Untracked,
            _ => return None,
        })
    }
}

/// `ct status` bits (`enum ip_conntrack_status`).
pub(crate) mod ct_status {
    pub(crate) const EXPECTED: u32 = 1 << 0;
    pub(crate) const SEEN_REPLY: u32 = 1 << 1;
    pub(crate) const ASSURED: u32 = 1 << 2;
    pub(crate) const CONFIRMED: u32 = 1 << 3;
    pub(crate) const SNAT: u32 = 1 << 4;
    pub(crate) const DNAT: u32 = 1 << 5;
    pub(crate) const DYING: u32 = 1 << 9;

    pub(crate) fn from_name(name: &str) -> Option<u32> {
        Some(match name.to_ascii_lowercase().as_str() {
            "expected" => EXPECTED,
            "seen-reply" | "seen_reply" => SEEN_REPLY,
            "assured" => ASSURED,
            "confirmed" => CONFIRMED,
            "snat" => SNAT,
            "dnat" => DNAT,
            "dying" => DYING,
            _ => return None,
        })
    }
}

/// The kernel's idea of an address (`fib daddr type`, `-m addrtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AddrType {
    Unicast,
    Local,
    Broadcast,
    Multicast,
}

impl AddrType {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "unicast" => Self::Unicast,
            "local" => Self::Local,
            "broadcast" => Self::Broadcast,
            "multicast" => Self::Multicast,
            _ => return None,
        })
    }
}

/// The link-layer destination class (`meta pkttype`, `-m pkttype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PktType {
    Host,
    Broadcast,
    Multicast,
}

impl PktType {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "host" | "unicast" => Self::Host,
            "broadcast" => Self::Broadcast,
            "multicast" => Self::Multicast,
            _ => return None,
        })
    }
}

pub(crate) const PROTO_ICMP: u8 = 1;
pub(crate) const PROTO_TCP: u8 = 6;
pub(crate) const PROTO_UDP: u8 = 17;

/// An IP protocol by name or number.
pub(crate) fn proto_from_name(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "icmp" => PROTO_ICMP,
        "tcp" => PROTO_TCP,
        "udp" => PROTO_UDP,
        "igmp" => 2,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "ipv6-icmp" | "icmpv6" | "ipv6-icmpv6" => 58,
        "sctp" => 132,
        "udplite" => 136,
        "dccp" => 33,
        other => return other.parse().ok(),
    })
}

/// An ICMP type by the names nft and iptables use.
pub(crate) fn icmp_type_from_name(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "echo-reply" | "pong" => 0,
        "destination-unreachable" => 3,
        "source-quench" => 4,
        "redirect" => 5,
        "echo-request" | "ping" => 8,
        "router-advertisement" => 9,
        "router-solicitation" => 10,
        "time-exceeded" | "ttl-exceeded" => 11,
        "parameter-problem" => 12,
        "timestamp-request" => 13,
        "timestamp-reply" => 14,
        "info-request" => 15,
        "info-reply" => 16,
        "address-mask-request" => 17,
        "address-mask-reply" => 18,
        other => return other.parse().ok(),
    })
}

/// The firewall mark as far as it is known along one evaluation path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Known(u32),
    /// A rule set it to something we do not follow.
    Unknown,
}

/// One IPv4 packet at one hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packet {
    pub(crate) iif: Option<String>,
    /// No output interface yet at prerouting and input.
    pub(crate) oif: Option<String>,
    pub(crate) saddr: Ipv4Addr,
    pub(crate) daddr: Ipv4Addr,
    pub(crate) saddr_type: AddrType,
    pub(crate) daddr_type: AddrType,
    pub(crate) pkttype: PktType,
    pub(crate) proto: u8,
    /// TCP/UDP ports (0 for ICMP).
    pub(crate) sport: u16,
    pub(crate) dport: u16,
    /// ICMP type and code, for ICMP.
    pub(crate) icmp: Option<(u8, u8)>,
    pub(crate) ct_state: CtState,
    pub(crate) ct_status: u32,
    /// The packet travels in the reply direction of its connection.
    pub(crate) ct_reply: bool,
    pub(crate) mark: Mark,
}
