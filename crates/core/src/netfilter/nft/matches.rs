//! One nft match statement (`{"match": {"left": …, "right": …}}`) as a
//! condition of the evaluator's model: what its left side reads from the
//! packet, the values on its right (sets included) and the test they make.
//! Apart from the parent, which reads the ruleset's tables, chains, sets
//! and statements, because this is where nft's expression vocabulary
//! lives; the parent's verdict maps use it too.

use std::net::Ipv4Addr;

use serde_json::Value;

use super::{SetLookup, compact};
use crate::netfilter::ir::{Cond, IfName, Net, Test};
use crate::netfilter::packet::{
    AddrType, CtState, PROTO_TCP, PROTO_UDP, PktType, ct_status, icmp_type_from_name, proto_from_name,
};

/// What a match's left side reads from the packet.
pub(super) enum Field {
    Iface {
        out: bool,
    },
    Proto,
    Addr {
        dst: bool,
    },
    Port {
        dst: bool,
        proto: Option<u8>,
    },
    IcmpType,
    CtState,
    CtStatus,
    CtDirection,
    FibType {
        dst: bool,
    },
    PktType,
    Mark {
        mask: u32,
    },
    NfProto,
    /// An `ip6` header field: never present in an IPv4 packet.
    Ip6,
    /// The ether type (`meta protocol`).
    EtherType,
}

pub(super) fn field(left: &Value) -> Result<Field, String> {
    if let Some(meta) = left.get("meta") {
        let key = meta.get("key").and_then(Value::as_str).unwrap_or("");
        return Ok(match key {
            "iifname" | "iif" => Field::Iface { out: false },
            "oifname" | "oif" => Field::Iface { out: true },
            "l4proto" => Field::Proto,
            "nfproto" => Field::NfProto,
            "protocol" => Field::EtherType,
            "pkttype" => Field::PktType,
            "mark" => Field::Mark { mask: u32::MAX },
            other => return Err(format!("`meta {other}`")),
        });
    }
    if let Some(payload) = left.get("payload") {
        let protocol = payload.get("protocol").and_then(Value::as_str).unwrap_or("");
        let name = payload.get("field").and_then(Value::as_str).unwrap_or("");
        return Ok(match (protocol, name) {
            ("ip", "saddr") => Field::Addr { dst: false },
            ("ip", "daddr") => Field::Addr { dst: true },
            ("ip", "protocol") => Field::Proto,
            ("ip6", _) | ("icmpv6", _) => Field::Ip6,
            ("tcp", "sport") => Field::Port { dst: false, proto: Some(PROTO_TCP) },
            ("tcp", "dport") => Field::Port { dst: true, proto: Some(PROTO_TCP) },
            ("udp", "sport") => Field::Port { dst: false, proto: Some(PROTO_UDP) },
            ("udp", "dport") => Field::Port { dst: true, proto: Some(PROTO_UDP) },
            ("th", "sport") => Field::Port { dst: false, proto: None },
            ("th", "dport") => Field::Port { dst: true, proto: None },
            ("icmp", "type") => Field::IcmpType,
            ("", _) => return Err("a raw payload match".to_owned()),
            (protocol, name) => return Err(format!("`{protocol} {name}`")),
        });
    }
    if let Some(ct) = left.get("ct") {
        if ct.get("dir").is_some() {
            return Err("a conntrack tuple match".to_owned());
        }
        return Ok(match ct.get("key").and_then(Value::as_str).unwrap_or("") {
            "state" => Field::CtState,
            "status" => Field::CtStatus,
            "direction" => Field::CtDirection,
            other => return Err(format!("`ct {other}`")),
        });
    }
    if let Some(fib) = left.get("fib") {
        let result = fib.get("result").and_then(Value::as_str).unwrap_or("");
        let flags: Vec<&str> = fib
            .get("flags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if result == "type" && (flags == ["daddr"] || flags == ["daddr", "iif"]) {
            return Ok(Field::FibType { dst: true });
        }
        if result == "type" && (flags == ["saddr"] || flags == ["saddr", "iif"]) {
            return Ok(Field::FibType { dst: false });
        }
        return Err("a fib lookup (reverse-path filter)".to_owned());
    }
    if let Some(binop) = left.get("&").and_then(Value::as_array) {
        if let [inner, mask] = binop.as_slice()
            && inner.pointer("/meta/key").and_then(Value::as_str) == Some("mark")
        {
            let mask = mask.as_u64().and_then(|m| u32::try_from(m).ok()).ok_or("a mark mask")?;
            return Ok(Field::Mark { mask });
        }
        return Err("a masked match".to_owned());
    }
    Err(format!("the expression {}", compact(left)))
}

/// A match statement as a condition.
pub(super) fn parse_match<'s>(body: &Value, sets: &SetLookup<'s>) -> Cond {
    let op = body.get("op").and_then(Value::as_str).unwrap_or("==");
    let Some(left) = body.get("left") else { return Cond::Opaque("a match without a left side".to_owned()) };
    let Some(right) = body.get("right") else {
        return Cond::Opaque("a match without a right side".to_owned());
    };
    let field = match field(left) {
        Ok(field) => field,
        Err(what) => return Cond::Opaque(format!("{what}, which this checker does not model")),
    };
    let negate = match op {
        "==" | "in" => false,
        "!=" => true,
        other => {
            // Ordered comparisons: only on ports, as ranges.
            return match (&field, right.as_u64().and_then(|n| u16::try_from(n).ok())) {
                (Field::Port { dst, proto }, Some(port)) => {
                    let range = match other {
                        "<" => (0, port.saturating_sub(1)),
                        "<=" => (0, port),
                        ">" => (port.saturating_add(1), u16::MAX),
                        ">=" => (port, u16::MAX),
                        _ => return Cond::Opaque(format!("the operator {other}")),
                    };
                    Cond::Test(Test::Port { dst: *dst, proto: *proto, ranges: vec![range], negate: false })
                }
                _ => Cond::Opaque(format!("the operator {other} on {}", compact(left))),
            };
        }
    };
    let values = match values(right, sets) {
        Ok(values) => values,
        Err(what) => return Cond::Opaque(what),
    };
    match build_test(&field, &values, negate) {
        Ok(test) => Cond::Test(test),
        Err(what) => Cond::Opaque(what),
    }
}

/// The right side of a match as a flat list of values (single value,
/// anonymous set, named set, flag list).
fn values<'s>(right: &Value, sets: &SetLookup<'s>) -> Result<Vec<Value>, String> {
    Ok(match right {
        Value::Array(items) => items.clone(),
        Value::Object(object) if object.contains_key("set") => {
            object.get("set").and_then(Value::as_array).cloned().unwrap_or_default()
        }
        Value::String(name) if name.starts_with('@') => {
            let elements =
                sets(&name[1..]).ok_or_else(|| format!("the set {name}, which the ruleset does not list"))?;
            elements.clone()
        }
        other => vec![other.clone()],
    }
    .into_iter()
    .map(|value| match value {
        // {"elem": {"val": X, "timeout": …}}
        Value::Object(object) if object.contains_key("elem") => {
            object.get("elem").and_then(|elem| elem.get("val")).cloned().unwrap_or(Value::Null)
        }
        other => other,
    })
    .collect())
}

pub(super) fn build_test(field: &Field, values: &[Value], negate: bool) -> Result<Test, String> {
    let each_str = |what: &str| -> Result<Vec<String>, String> {
        values
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| format!("a {what} given as {}", compact(v))))
            .collect()
    };
    Ok(match field {
        Field::Iface { out } => Test::Iface {
            out: *out,
            names: each_str("interface")?.iter().map(|name| IfName::parse(name, '*')).collect(),
            negate,
        },
        Field::Proto => Test::Proto {
            protos: values
                .iter()
                .map(|v| match v {
                    Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()),
                    Value::String(name) => proto_from_name(name),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or("an unknown protocol")?,
            negate,
        },
        Field::Addr { dst } => {
            Test::Addr { dst: *dst, nets: values.iter().map(net).collect::<Result<_, _>>()?, negate }
        }
        Field::Port { dst, proto } => Test::Port {
            dst: *dst,
            proto: *proto,
            ranges: values.iter().map(port_range).collect::<Result<_, _>>()?,
            negate,
        },
        Field::IcmpType => Test::Icmp {
            types: values
                .iter()
                .map(|v| match v {
                    Value::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()).map(|t| (t, None)),
                    Value::String(name) => icmp_type_from_name(name).map(|t| (t, None)),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or("an unknown ICMP type")?,
            negate,
        },
        Field::CtState => Test::CtState {
            states: each_str("ct state")?
                .iter()
                .map(|name| CtState::from_name(name).ok_or_else(|| format!("the ct state {name}")))
                .collect::<Result<_, _>>()?,
            negate,
        },
        Field::CtStatus => Test::CtStatus {
            bits: each_str("ct status")?
                .iter()
                .map(|name| ct_status::from_name(name).ok_or_else(|| format!("the ct status {name}")))
                .sum::<Result<u32, String>>()?,
            negate,
        },
        Field::CtDirection => {
            let names = each_str("ct direction")?;
            let [name] = names.as_slice() else { return Err("a set of ct directions".to_owned()) };
            let reply = match name.as_str() {
                "reply" => true,
                "original" => false,
                other => return Err(format!("the ct direction {other}")),
            };
            Test::CtReply { reply: reply != negate }
        }
        Field::FibType { dst } => Test::AddrType {
            dst: *dst,
            types: each_str("address type")?
                .iter()
                .map(|name| AddrType::from_name(name).ok_or_else(|| format!("the address type {name}")))
                .collect::<Result<_, _>>()?,
            negate,
        },
        Field::PktType => Test::PktType {
            types: each_str("packet type")?
                .iter()
                .map(|name| PktType::from_name(name).ok_or_else(|| format!("the packet type {name}")))
                .collect::<Result<_, _>>()?,
            negate,
        },
        Field::Mark { mask } => {
            let [value] = values else { return Err("a set of marks".to_owned()) };
            let value =
                value.as_u64().and_then(|v| u32::try_from(v).ok()).ok_or("a mark that is not a number")?;
            Test::Mark { value, mask: *mask, negate }
        }
        Field::NfProto => {
            let names = each_str("protocol family")?;
            let ipv4 = names.iter().any(|name| name == "ipv4");
            Test::Ipv4 { yes: ipv4 != negate }
        }
        Field::EtherType => {
            let names = each_str("ether type")?;
            let ipv4 = names.iter().any(|name| name == "ip");
            Test::Ipv4 { yes: ipv4 != negate }
        }
        // Any `ip6 …`/`icmpv6 …` match needs an IPv6 header, negated or not.
        Field::Ip6 => Test::Ipv4 { yes: false },
    })
}

fn net(value: &Value) -> Result<Net, String> {
    match value {
        Value::String(address) => {
            let address: Ipv4Addr = address.parse().map_err(|_| format!("the address {address}"))?;
            Ok(Net::Prefix(address, 32))
        }
        Value::Object(object) => {
            if let Some(prefix) = object.get("prefix") {
                let address: Ipv4Addr = prefix
                    .get("addr")
                    .and_then(Value::as_str)
                    .and_then(|a| a.parse().ok())
                    .ok_or("a prefix address")?;
                let len = prefix
                    .get("len")
                    .and_then(Value::as_u64)
                    .and_then(|l| u8::try_from(l).ok())
                    .ok_or("a prefix length")?;
                return Ok(Net::Prefix(address, len));
            }
            if let Some([low, high]) = object.get("range").and_then(Value::as_array).map(Vec::as_slice) {
                let parse = |v: &Value| v.as_str().and_then(|a| a.parse::<Ipv4Addr>().ok());
                if let (Some(low), Some(high)) = (parse(low), parse(high)) {
                    return Ok(Net::Range(low, high));
                }
            }
            Err(format!("the address {}", compact(value)))
        }
        other => Err(format!("the address {}", compact(other))),
    }
}

fn port_range(value: &Value) -> Result<(u16, u16), String> {
    let port = |v: &Value| v.as_u64().and_then(|n| u16::try_from(n).ok());
    if let Some(single) = port(value) {
        return Ok((single, single));
    }
    if let Some([low, high]) = value.get("range").and_then(Value::as_array).map(Vec::as_slice)
        && let (Some(low), Some(high)) = (port(low), port(high))
    {
        return Ok((low, high));
    }
    Err(format!("the port {}", compact(value)))
}
