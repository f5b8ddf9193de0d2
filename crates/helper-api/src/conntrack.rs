//! The kernel's connection-tracking table, as the helper's `Connections`
//! reads it for given guest addresses: the NAT translation table of the
//! guide's packet flow (step 3 records `192.168.122.50:54321 →
//! 192.168.0.42:49152`, step 6 looks it up for the replies).
//!
//! Each entry has two tuples. The *original* tuple is the connection as
//! its first packet left the guest (`src=192.168.122.50 sport=54321
//! dst=93.184.216.34 dport=80`). The *reply* tuple is how the answers
//! travel: from the server to the address the server saw, so with
//! masquerading its destination is the host's uplink address and the port
//! NAT picked (`dst=192.168.0.42 dport=49152`). [`ConntrackEntry::
//! translated_source`] is that address and port.
//!
//! The text parsed is `conntrack -L -o extended` (conntrack-tools 1.4),
//! one entry per line:
//!
//! ```text
//! ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.122.50 dst=93.184.216.34 sport=54321 dport=80 src=93.184.216.34 dst=192.168.0.42 sport=80 dport=49152 [ASSURED] mark=0 use=1
//! ```

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use zbus::{Signature, Type};

use crate::types::ToolStatus;

/// The most guest addresses one `Connections` request may name.
pub const MAX_CONNECTION_ADDRESSES: usize = 16;
/// The most entries one `Connections` answer carries; more are counted in
/// [`ConnectionsReport::truncated`].
pub const MAX_CONNECTION_ENTRIES: usize = 2000;

/// One end of a tuple: an address, and a port for TCP, UDP, SCTP, DCCP
/// (`None` for ICMP and protocols without ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub address: IpAddr,
    pub port: Option<u16>,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.address, self.port) {
            (IpAddr::V4(address), Some(port)) => write!(f, "{address}:{port}"),
            (IpAddr::V6(address), Some(port)) => write!(f, "[{address}]:{port}"),
            (address, None) => write!(f, "{address}"),
        }
    }
}

/// One direction of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tuple {
    pub source: Endpoint,
    pub destination: Endpoint,
}

/// One connection-tracking entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "EntryWire", try_from = "EntryWire")]
pub struct ConntrackEntry {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, … as conntrack names it.
    pub protocol: String,
    /// The TCP state (`ESTABLISHED`, `TIME_WAIT`, …); `None` for protocols
    /// without one.
    pub state: Option<String>,
    /// Seconds until the kernel forgets the entry unless traffic refreshes it.
    pub timeout: u32,
    /// The connection as its first packet was sent.
    pub original: Tuple,
    /// How the answers travel.
    pub reply: Tuple,
    /// Flags in brackets: `ASSURED` (traffic seen both ways, kept under
    /// pressure), `UNREPLIED` (no answer yet), `OFFLOAD`, …
    pub flags: Vec<String>,
}

impl ConntrackEntry {
    /// The source the far end sees: the host's uplink address and the port
    /// NAT chose when the source was translated (masquerade/SNAT), else the
    /// original source.
    pub fn translated_source(&self) -> Endpoint {
        self.reply.destination
    }

    /// Whether NAT rewrote the source (the guide's step 3).
    pub fn source_translated(&self) -> bool {
        self.reply.destination != self.original.source
    }

    /// Whether NAT rewrote the destination: a port forward (DNAT) led this
    /// connection to somewhere other than where it was addressed.
    pub fn destination_translated(&self) -> bool {
        self.reply.source != self.original.destination
    }

    /// Whether an answer was seen (no `UNREPLIED` flag).
    pub fn replied(&self) -> bool {
        !self.flags.iter().any(|flag| flag == "UNREPLIED")
    }

    /// The entry in the guide's words, e.g. `tcp 192.168.122.50:54321 →
    /// 93.184.216.34:80, seen outside as 192.168.0.42:49152`.
    pub fn summary(&self) -> String {
        let mut text = format!("{} {} → {}", self.protocol, self.original.source, self.original.destination);
        if self.source_translated() {
            text.push_str(&format!(", seen outside as {}", self.translated_source()));
        }
        if self.destination_translated() {
            text.push_str(&format!(", forwarded to {}", self.reply.source));
        }
        text
    }
}

/// An entry on the wire: protocol, state, timeout, flags, then the
/// original and reply tuples as (source, source port, destination,
/// destination port), ports -1 when the protocol has none:
/// `(ssuas(sisi)(sisi))`.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
struct EntryWire {
    protocol: String,
    state: String,
    timeout: u32,
    flags: Vec<String>,
    original: TupleWire,
    reply: TupleWire,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
struct TupleWire {
    source: String,
    source_port: i32,
    destination: String,
    destination_port: i32,
}

impl Type for ConntrackEntry {
    const SIGNATURE: &'static Signature = EntryWire::SIGNATURE;
}

fn port_to_wire(port: Option<u16>) -> i32 {
    port.map_or(-1, i32::from)
}

fn port_from_wire(port: i32) -> Result<Option<u16>, String> {
    if port == -1 {
        return Ok(None);
    }
    u16::try_from(port).map(Some).map_err(|_| format!("{port} is not a port"))
}

impl From<Tuple> for TupleWire {
    fn from(tuple: Tuple) -> Self {
        Self {
            source: tuple.source.address.to_string(),
            source_port: port_to_wire(tuple.source.port),
            destination: tuple.destination.address.to_string(),
            destination_port: port_to_wire(tuple.destination.port),
        }
    }
}

impl TryFrom<TupleWire> for Tuple {
    type Error = String;
    fn try_from(wire: TupleWire) -> Result<Self, String> {
        let address = |text: &str| {
            text.parse::<IpAddr>().map_err(|_| format!("{:?} is not an IP address", short(text)))
        };
        Ok(Self {
            source: Endpoint { address: address(&wire.source)?, port: port_from_wire(wire.source_port)? },
            destination: Endpoint {
                address: address(&wire.destination)?,
                port: port_from_wire(wire.destination_port)?,
            },
        })
    }
}

impl From<ConntrackEntry> for EntryWire {
    fn from(entry: ConntrackEntry) -> Self {
        Self {
            protocol: entry.protocol,
            state: entry.state.unwrap_or_default(),
            timeout: entry.timeout,
            flags: entry.flags,
            original: entry.original.into(),
            reply: entry.reply.into(),
        }
    }
}

impl TryFrom<EntryWire> for ConntrackEntry {
    type Error = String;
    fn try_from(wire: EntryWire) -> Result<Self, String> {
        Ok(Self {
            protocol: wire.protocol,
            state: (!wire.state.is_empty()).then_some(wire.state),
            timeout: wire.timeout,
            flags: wire.flags,
            original: wire.original.try_into()?,
            reply: wire.reply.try_into()?,
        })
    }
}

/// What `Connections` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct ConnectionsReport {
    /// `Ok`: `entries` is the table for the addresses asked about (maybe
    /// empty: no connection now). `NotInstalled`: conntrack-tools is
    /// missing. `Failed`: conntrack failed; `message` says how.
    pub status: ToolStatus,
    /// Empty when `Ok`; otherwise why there are no entries.
    pub message: String,
    /// The entries whose original source or reply source (the guest
    /// answering a forwarded connection) is one of the addresses, each
    /// once, in the kernel's order.
    pub entries: Vec<ConntrackEntry>,
    /// How many further entries were left out (more than
    /// [`MAX_CONNECTION_ENTRIES`]).
    pub truncated: u32,
    /// Lines of conntrack's output that were not understood (skipped).
    pub unparsed: Vec<String>,
}

/// What [`parse_conntrack`] makes of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedConntrack {
    pub entries: Vec<ConntrackEntry>,
    /// Each line that is not an entry, with why (shortened).
    pub unparsed: Vec<String>,
}

fn short(text: &str) -> String {
    text.chars().take(120).collect()
}

/// Parses `conntrack -L -o extended` output. Blank lines and conntrack's
/// own summary line (`conntrack v1.4.8 (conntrack-tools): 3 flow entries
/// have been shown.`, on standard error, but tolerated here) are skipped;
/// any other line that is not an entry is reported in `unparsed`, never
/// guessed at.
pub fn parse_conntrack(text: &str) -> ParsedConntrack {
    let mut parsed = ParsedConntrack::default();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("conntrack v") {
            continue;
        }
        match parse_line(line) {
            Ok(entry) => parsed.entries.push(entry),
            Err(why) => parsed.unparsed.push(format!("{why}: {}", short(line))),
        }
    }
    parsed
}

/// The key=value fields of one tuple, as they come.
#[derive(Default)]
struct TupleFields {
    source: Option<IpAddr>,
    destination: Option<IpAddr>,
    source_port: Option<u16>,
    destination_port: Option<u16>,
}

impl TupleFields {
    fn finish(self, which: &str) -> Result<Tuple, String> {
        let missing = |what: &str| format!("the {which} tuple has no {what}");
        Ok(Tuple {
            source: Endpoint { address: self.source.ok_or_else(|| missing("src"))?, port: self.source_port },
            destination: Endpoint {
                address: self.destination.ok_or_else(|| missing("dst"))?,
                port: self.destination_port,
            },
        })
    }
}

fn parse_line(line: &str) -> Result<ConntrackEntry, String> {
    let mut words = line.split_whitespace();
    let l3 = words.next().ok_or("empty line")?;
    if !matches!(l3, "ipv4" | "ipv6") {
        return Err(format!("{:?} is not an address family", short(l3)));
    }
    let _l3_number = words.next().ok_or("no family number")?;
    let protocol = words.next().ok_or("no protocol")?.to_owned();
    if !protocol.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || protocol.len() > 16 {
        return Err(format!("{:?} is not a protocol name", short(&protocol)));
    }
    let _protocol_number: u8 = words.next().and_then(|word| word.parse().ok()).ok_or("no protocol number")?;
    let timeout: u32 = words.next().and_then(|word| word.parse().ok()).ok_or("no timeout")?;
    let mut state = None;
    let mut flags = Vec::new();
    let mut tuples = [TupleFields::default(), TupleFields::default()];
    // The first `src=` starts the original tuple, the second the reply.
    let mut current: Option<usize> = None;
    for word in words {
        if let Some(flag) = word.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            flags.push(flag.to_owned());
            continue;
        }
        let Some((key, value)) = word.split_once('=') else {
            if current.is_none()
                && state.is_none()
                && word.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            {
                state = Some(word.to_owned());
                continue;
            }
            return Err(format!("unexpected {:?}", short(word)));
        };
        if key == "src" {
            current = match current {
                None => Some(0),
                Some(0) => Some(1),
                Some(_) => return Err("more than two tuples".to_owned()),
            };
        }
        let Some(index) = current else {
            return Err(format!("{:?} before the first tuple", short(word)));
        };
        let fields = &mut tuples[index];
        let address = || value.parse::<IpAddr>().map_err(|_| format!("{:?} is not an address", short(value)));
        let port = || value.parse::<u16>().map_err(|_| format!("{:?} is not a port", short(value)));
        match key {
            "src" if fields.source.is_none() => fields.source = Some(address()?),
            "dst" if fields.destination.is_none() => fields.destination = Some(address()?),
            "sport" if fields.source_port.is_none() => fields.source_port = Some(port()?),
            "dport" if fields.destination_port.is_none() => fields.destination_port = Some(port()?),
            "src" | "dst" | "sport" | "dport" => return Err(format!("{key} given twice")),
            // ICMP's type, code and id; mark, use, zone, secctx, id,
            // timestamps: not needed for the translation table.
            _ => {}
        }
    }
    let [original, reply] = tuples;
    let original = original.finish("original")?;
    let reply = reply.finish("reply")?;
    let ipv4 = l3 == "ipv4";
    let addresses = [original.source, original.destination, reply.source, reply.destination];
    if addresses.iter().any(|end| end.address.is_ipv4() != ipv4) {
        return Err("the tuples' address families differ".to_owned());
    }
    Ok(ConntrackEntry { protocol, state, timeout, original, reply, flags })
}

#[cfg(test)]
mod tests {
    use zbus::wire::serialized::Context;
    use zbus::wire::{LE, to_bytes};

    use super::*;

    /// The guide's example, in conntrack's format (the guide's addresses;
    /// the lab's real captures are tested in tests/conntrack_fixtures.rs).
    const GUIDE: &str = "ipv4     2 tcp      6 431999 ESTABLISHED src=192.168.122.50 dst=93.184.216.34 sport=54321 dport=80 src=93.184.216.34 dst=192.168.0.42 sport=80 dport=49152 [ASSURED] mark=0 use=1\n";

    #[test]
    fn the_guides_translation_is_read() -> Result<(), String> {
        let parsed = parse_conntrack(GUIDE);
        assert!(parsed.unparsed.is_empty(), "{:?}", parsed.unparsed);
        let [entry] = parsed.entries.as_slice() else { return Err(format!("{parsed:?}")) };
        assert_eq!(entry.original.source.to_string(), "192.168.122.50:54321");
        assert_eq!(entry.translated_source().to_string(), "192.168.0.42:49152");
        assert!(entry.source_translated());
        assert!(!entry.destination_translated());
        assert_eq!(entry.state.as_deref(), Some("ESTABLISHED"));
        assert_eq!(entry.timeout, 431_999);
        assert!(entry.replied());
        assert_eq!(
            entry.summary(),
            "tcp 192.168.122.50:54321 → 93.184.216.34:80, seen outside as 192.168.0.42:49152"
        );
        Ok(())
    }

    #[test]
    fn malformed_lines_are_reported_not_guessed() {
        let cases = [
            "garbage",
            "ipv4 2 tcp 6",
            "ipv4 2 tcp 6 notanumber ESTABLISHED src=1.2.3.4 dst=5.6.7.8 src=5.6.7.8 dst=1.2.3.4",
            "ipv4 2 tcp 6 10 ESTABLISHED src=1.2.3.4 dst=5.6.7.8 sport=1 dport=2",
            "ipv4 2 tcp 6 10 ESTABLISHED src=1.2.3.999 dst=5.6.7.8 src=5.6.7.8 dst=1.2.3.4",
            "ipv4 2 tcp 6 10 ESTABLISHED src=1.2.3.4 dst=5.6.7.8 sport=70000 src=5.6.7.8 dst=1.2.3.4",
            "ipv4 2 tcp 6 10 src=1.2.3.4 src=5.6.7.8 src=9.9.9.9 dst=1.1.1.1",
            "ipv4 2 tcp 6 10 ESTABLISHED src=1.2.3.4 dst=::1 src=5.6.7.8 dst=1.2.3.4",
            "ipv4 2 tcp 6 10 dport=3 src=1.2.3.4 dst=5.6.7.8 src=5.6.7.8 dst=1.2.3.4",
            "ipv5 2 tcp 6 10 src=1.2.3.4 dst=5.6.7.8 src=5.6.7.8 dst=1.2.3.4",
        ];
        for case in cases {
            let parsed = parse_conntrack(case);
            assert!(parsed.entries.is_empty(), "{case} gave {:?}", parsed.entries);
            assert_eq!(parsed.unparsed.len(), 1, "{case}");
        }
        // Good lines around a bad one are kept.
        let mixed = format!("{GUIDE}nonsense\n\n{GUIDE}");
        let parsed = parse_conntrack(&mixed);
        assert_eq!(parsed.entries.len(), 2);
        assert_eq!(parsed.unparsed.len(), 1);
    }

    #[test]
    fn entries_cross_the_wire_and_bad_addresses_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        assert_eq!(ConntrackEntry::SIGNATURE.to_string(), "(ssuas(sisi)(sisi))");
        let ctxt = Context::new(LE, 0);
        let entry = parse_conntrack(GUIDE).entries.into_iter().next().ok_or("no entry")?;
        let (back, _): (ConntrackEntry, _) = to_bytes(ctxt, &entry)?.deserialize()?;
        assert_eq!(back, entry);
        let mut wire = EntryWire::from(entry);
        wire.reply.destination = "192.168.0.42; rm -rf /".into();
        assert!(to_bytes(ctxt, &wire)?.deserialize::<ConntrackEntry>().is_err());
        wire.reply.destination = "192.168.0.42".into();
        wire.reply.destination_port = 70_000;
        assert!(to_bytes(ctxt, &wire)?.deserialize::<ConntrackEntry>().is_err());
        Ok(())
    }
}
