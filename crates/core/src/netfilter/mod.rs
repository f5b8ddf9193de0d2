//! Evaluates the host's real netfilter ruleset (nft JSON, iptables save
//! output) for the paths VM traffic takes.
//!
//! The question is always about one packet: does any chain it traverses
//! drop it? In nftables every base chain on a hook sees the packet — an
//! `accept` ends only its own chain — so libvirt's own `accept` in `table
//! ip libvirt_network` does not save a packet that UFW's `FORWARD` chain
//! (another table, same hook) drops. That is why UFW breaks VMs under
//! libvirt's nftables backend but not under its iptables backend, where
//! libvirt's `LIBVIRT_FWO` rules sit *inside* the same `FORWARD` chain,
//! before UFW's jumps. The captured lab rulesets show both.
//!
//! Packets modelled (IPv4, as libvirt NAT is):
//! - the forward path: a new TCP connection from a guest on the bridge to
//!   a web server (port 80) through the uplink, and its replies; or an
//!   ICMP echo and its reply (the "ping works, HTTP does not" symptom);
//! - the input path to dnsmasq on the bridge: a DHCP DISCOVER (broadcast,
//!   UDP 68 → 67) and a DNS query (UDP 53 to the bridge address).
//!
//! Every filtering base chain of family `ip` or `inet` at the hooks the
//! packet passes (prerouting, forward, postrouting; prerouting, input) is
//! followed rule by rule, through jumps, gotos, returns and verdict maps.
//! Anything the model cannot decide makes the verdict
//! [`Verdict::Unknown`] with the reason; a verdict is never guessed.
//!
//! Rulesets written by iptables-nft (UFW, Docker, libvirt's iptables
//! backend on current distributions) show some matches in nft's JSON only
//! as `xt` names without arguments. Their tables are read from
//! `iptables-nft-save` instead when that text is given.

mod exposure;
mod iptables;
mod ir;
mod nft;
mod owners;
mod packet;

use std::net::Ipv4Addr;

use crate::host::{FirewallBackend, Netfilter};

pub use exposure::{FIX_RULE_COMMENT, FixRuleCheck, Opening, PortForwardRule};

use ir::{ChainVerdict, DropAt, Evaluator, Family, Origin, Table, base_chains};
use owners::{owner, owner_by_table, table_owners};
use packet::{AddrType, CtState, Hook, Mark, PROTO_ICMP, PROTO_TCP, PROTO_UDP, Packet, PktType, ct_status};

/// What happens to a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every chain on its path lets it through.
    Accept,
    /// A chain drops (or rejects) it on every evaluation path.
    Drop(Blocker),
    /// The ruleset could not be followed to a definite answer; why.
    Unknown(String),
}

/// The chain that drops a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    /// E.g. "iptables-nft table filter, chain FORWARD: policy drop".
    pub by: String,
    /// Which program's rules these are, judged from table and chain names.
    pub owner: Option<Owner>,
}

/// Programs whose rules are recognisable by their table and chain names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owner {
    /// `ufw-*` chains.
    Ufw,
    /// `DOCKER*` chains.
    Docker,
    /// `table inet firewalld`.
    Firewalld,
    /// `table ip libvirt_network`, `LIBVIRT_*` chains.
    Libvirt,
}

/// Services dnsmasq offers guests on the bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// A DHCP DISCOVER: broadcast from 0.0.0.0:68 to 255.255.255.255:67.
    Dhcp,
    /// A DNS query over UDP to the bridge address, port 53.
    Dns,
}

/// Traffic from a guest to the internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Traffic {
    /// A new TCP connection to port 80, and its replies.
    Web,
    /// An ICMP echo request, and its reply.
    Ping,
}

/// A libvirt network as netfilter sees it: its bridge and IPv4 subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmNetwork {
    pub bridge: String,
    /// The host's address on the bridge (dnsmasq listens there).
    pub host_address: Ipv4Addr,
    pub prefix: u8,
    /// A guest address in the subnet.
    pub guest_address: Ipv4Addr,
}

impl VmNetwork {
    /// The network, with a guest address picked in the subnet (the second
    /// host address that is not the bridge's own).
    pub fn new(bridge: &str, host_address: Ipv4Addr, prefix: u8) -> Self {
        let subnet = crate::network::net_v4(host_address, prefix);
        let network = u32::from(subnet.network());
        let host = u32::from(host_address);
        let guest = [network.wrapping_add(2), network.wrapping_add(3), network.wrapping_add(1)]
            .into_iter()
            .find(|candidate| *candidate != host && subnet.contains(&Ipv4Addr::from(*candidate)))
            .unwrap_or(host);
        Self { bridge: bridge.to_owned(), host_address, prefix, guest_address: Ipv4Addr::from(guest) }
    }
}

/// The destination of modelled internet traffic: the guide's example
/// (`example.com`'s address in its packet-flow walk-through). Nothing is
/// sent; it only has to be an ordinary public unicast address.
pub const INTERNET_ADDRESS: Ipv4Addr = Ipv4Addr::new(93, 184, 216, 34);
/// The guest's source port for modelled connections (ephemeral range).
const GUEST_PORT: u16 = 40_000;

/// A parsed ruleset, ready to evaluate many packets.
#[derive(Debug, Clone)]
pub struct Ruleset {
    tables: Vec<Table>,
    /// The nf_tables ruleset was not given: only a definite drop elsewhere
    /// can be trusted.
    nft_missing: bool,
    /// Chains outside the modelled families that may drop (bridge, netdev,
    /// arp): they make an otherwise accepting verdict unknown.
    unmodelled: Vec<String>,
}

impl Ruleset {
    /// Parses the texts the host probe captured: `nft -j list ruleset`,
    /// `iptables-nft-save` and `iptables-legacy-save` (each optional).
    ///
    /// Tables present in the `iptables-nft-save` text are taken from it and
    /// skipped in the JSON (they are the same tables, with their match
    /// arguments).
    pub fn parse(
        nft_json: Option<&str>,
        iptables_nft_save: Option<&str>,
        iptables_legacy_save: Option<&str>,
    ) -> Result<Self, String> {
        let mut tables = Vec::new();
        let from_save = match iptables_nft_save {
            Some(text) => iptables::parse(text, Origin::IptablesNft)
                .map_err(|why| format!("iptables-nft-save: {why}"))?,
            None => Vec::new(),
        };
        if let Some(json) = nft_json {
            for table in nft::parse(json)? {
                let replaced =
                    table.family == Family::Ip && from_save.iter().any(|saved| saved.name == table.name);
                if !replaced {
                    tables.push(table);
                }
            }
        }
        tables.extend(from_save);
        if let Some(text) = iptables_legacy_save {
            tables.extend(
                iptables::parse(text, Origin::IptablesLegacy)
                    .map_err(|why| format!("iptables-legacy-save: {why}"))?,
            );
        }
        let unmodelled = unmodelled_drops(&tables);
        Ok(Self { tables, nft_missing: nft_json.is_none(), unmodelled })
    }

    /// The ruleset of the host's [`Netfilter`] fact.
    pub fn from_netfilter(netfilter: &Netfilter) -> Result<Self, String> {
        Self::parse(
            netfilter.nft_json.as_deref(),
            netfilter.iptables_nft_save.as_deref(),
            netfilter.iptables_legacy_save.as_deref(),
        )
    }

    /// Whether traffic from a guest on `network` reaches the internet
    /// through `uplink`, and its replies come back.
    pub fn forward_verdict(&self, network: &VmNetwork, uplink: &str, traffic: Traffic) -> Verdict {
        self.guest_forward_verdict(&network.bridge, network.guest_address, uplink, traffic)
    }

    /// The same for one guest at `guest` on `bridge`: the forward model
    /// reads only the devices and the guest's address, so a host bridge
    /// (no host address of its own, `uplink` the bridge itself for frames
    /// bridged between its ports) is asked the same way.
    pub fn guest_forward_verdict(
        &self,
        bridge: &str,
        guest: Ipv4Addr,
        uplink: &str,
        traffic: Traffic,
    ) -> Verdict {
        let hooks = [Hook::Prerouting, Hook::Forward, Hook::Postrouting];
        let (out, back) = forward_packets(bridge, guest, uplink, traffic);
        let outbound = self.verdict(&out, &hooks);
        if let Verdict::Drop(_) = outbound {
            return outbound;
        }
        match self.verdict(&back, &hooks) {
            Verdict::Drop(blocker) => {
                Verdict::Drop(Blocker { by: format!("{} (replies)", blocker.by), ..blocker })
            }
            Verdict::Unknown(why) => match outbound {
                Verdict::Unknown(first) if first != why => {
                    Verdict::Unknown(format!("{first}; replies: {why}"))
                }
                Verdict::Unknown(first) => Verdict::Unknown(first),
                _ => Verdict::Unknown(format!("replies: {why}")),
            },
            Verdict::Accept => outbound,
        }
    }

    /// Whether a guest's DHCP or DNS request reaches dnsmasq on the bridge.
    pub fn input_verdict(&self, network: &VmNetwork, service: Service) -> Verdict {
        self.verdict(&input_packet(network, service), &[Hook::Prerouting, Hook::Input])
    }

    fn verdict(&self, packet: &Packet, hooks: &[Hook]) -> Verdict {
        let mut evaluator = Evaluator::new(&self.tables);
        let mut doubts: Vec<String> = Vec::new();
        for (table, chain) in base_chains(&self.tables, hooks) {
            match evaluator.base_chain(table, chain, packet) {
                ChainVerdict::Accept => {}
                ChainVerdict::Drop(at) => return Verdict::Drop(self.blocker(&at)),
                ChainVerdict::Unknown { may_drop, why } => {
                    let prefix = match &may_drop {
                        Some(at) => format!("{} may drop it: ", self.blocker(at).by),
                        None => String::new(),
                    };
                    doubts.push(format!("{prefix}{why}"));
                }
            }
        }
        if self.nft_missing {
            doubts.push("the nftables ruleset was not read".to_owned());
        }
        doubts.extend(self.unmodelled.iter().cloned());
        if doubts.is_empty() { Verdict::Accept } else { Verdict::Unknown(doubts.join("; ")) }
    }

    /// The programs whose tables or chains are in the ruleset (UFW,
    /// firewalld, Docker, libvirt), each once, in that order.
    pub fn programs(&self) -> Vec<Owner> {
        let present: Vec<Owner> = self.tables.iter().flat_map(table_owners).collect();
        [Owner::Ufw, Owner::Firewalld, Owner::Docker, Owner::Libvirt]
            .into_iter()
            .filter(|owner| present.contains(owner))
            .collect()
    }

    /// Which of libvirt's firewall backends wrote the libvirt rules present:
    /// its own `libvirt_network` nftables table, or `LIBVIRT_*` chains in
    /// iptables' tables; `None` when there are none.
    pub fn libvirt_backend_in_use(&self) -> Option<FirewallBackend> {
        let libvirt_tables = self.tables.iter().filter(|table| table_owners(table).contains(&Owner::Libvirt));
        let mut found = None;
        for table in libvirt_tables {
            if owner_by_table(table) == Some(Owner::Libvirt) {
                return Some(FirewallBackend::Nftables);
            }
            found = Some(FirewallBackend::Iptables);
        }
        found
    }

    /// Tables with rules (or a dropping policy) that none of the programs
    /// [`Self::programs`] knows wrote: hand-written nftables or iptables.
    pub fn other_tables(&self) -> Vec<String> {
        self.tables
            .iter()
            .filter(|table| table_owners(table).is_empty())
            .filter(|table| {
                table.chains.iter().any(|chain| {
                    !chain.rules.is_empty() || chain.base.as_ref().is_some_and(|base| base.policy_drop)
                })
            })
            .map(Table::describe)
            .collect()
    }

    fn blocker(&self, at: &DropAt) -> Blocker {
        let Some(table) = self.tables.get(at.table) else {
            return Blocker { by: at.chain.clone(), owner: None };
        };
        let place = if at.chain == at.base {
            format!("chain {}", at.chain)
        } else {
            format!("chain {} → {}", at.base, at.chain)
        };
        let what = match &at.rule {
            Some(rule) => format!("rule `{rule}`"),
            None => "policy drop".to_owned(),
        };
        Blocker { by: format!("{}, {place}: {what}", table.describe()), owner: owner(table, at) }
    }
}

/// Base chains of families the model does not evaluate that could drop
/// IPv4 traffic of a guest (bridge filtering, netdev ingress, ARP).
fn unmodelled_drops(tables: &[Table]) -> Vec<String> {
    tables
        .iter()
        .filter(|table| matches!(table.family, Family::Bridge | Family::Netdev | Family::Arp))
        .filter(|table| {
            table.chains.iter().any(|chain| chain.base.as_ref().is_some_and(|base| base.policy_drop))
                || table
                    .chains
                    .iter()
                    .flat_map(|chain| &chain.rules)
                    .any(|rule| rule.action == ir::Action::Drop)
        })
        .map(|table| format!("{} may drop traffic and is not evaluated", table.describe()))
        .collect()
}

fn forward_packets(bridge: &str, guest: Ipv4Addr, uplink: &str, traffic: Traffic) -> (Packet, Packet) {
    let (proto, out_ports, back_ports, out_icmp, back_icmp) = match traffic {
        Traffic::Web => (PROTO_TCP, (GUEST_PORT, 80), (80, GUEST_PORT), None, None),
        Traffic::Ping => (PROTO_ICMP, (0, 0), (0, 0), Some((8, 0)), Some((0, 0))),
    };
    let out = Packet {
        iif: Some(bridge.to_owned()),
        oif: Some(uplink.to_owned()),
        saddr: guest,
        daddr: INTERNET_ADDRESS,
        saddr_type: AddrType::Unicast,
        daddr_type: AddrType::Unicast,
        pkttype: PktType::Host,
        proto,
        sport: out_ports.0,
        dport: out_ports.1,
        icmp: out_icmp,
        ct_state: CtState::New,
        ct_status: 0,
        ct_reply: false,
        mark: Mark::Known(0),
    };
    let back = Packet {
        iif: Some(uplink.to_owned()),
        oif: Some(bridge.to_owned()),
        saddr: INTERNET_ADDRESS,
        daddr: guest,
        sport: back_ports.0,
        dport: back_ports.1,
        icmp: back_icmp,
        ct_state: CtState::Established,
        // Masqueraded on the way out; a reply has been seen.
        ct_status: ct_status::SNAT | ct_status::CONFIRMED | ct_status::SEEN_REPLY,
        ct_reply: true,
        ..out
    };
    (out, back)
}

fn input_packet(network: &VmNetwork, service: Service) -> Packet {
    let common = Packet {
        iif: Some(network.bridge.clone()),
        oif: None,
        saddr: network.guest_address,
        daddr: network.host_address,
        saddr_type: AddrType::Unicast,
        daddr_type: AddrType::Local,
        pkttype: PktType::Host,
        proto: PROTO_UDP,
        sport: GUEST_PORT,
        dport: 53,
        icmp: None,
        ct_state: CtState::New,
        ct_status: 0,
        ct_reply: false,
        mark: Mark::Known(0),
    };
    match service {
        Service::Dns => common,
        // The kernel types 0.0.0.0 and 255.255.255.255 as broadcast.
        Service::Dhcp => Packet {
            saddr: Ipv4Addr::UNSPECIFIED,
            daddr: Ipv4Addr::BROADCAST,
            saddr_type: AddrType::Broadcast,
            daddr_type: AddrType::Broadcast,
            pkttype: PktType::Broadcast,
            sport: 68,
            dport: 67,
            ..common
        },
    }
}

/// [`Ruleset::forward_verdict`] for web traffic on the host's [`Netfilter`]
/// fact; unknown when the ruleset cannot be parsed.
pub fn forward_verdict(netfilter: &Netfilter, network: &VmNetwork, uplink: &str) -> Verdict {
    match Ruleset::from_netfilter(netfilter) {
        Ok(ruleset) => ruleset.forward_verdict(network, uplink, Traffic::Web),
        Err(why) => Verdict::Unknown(why),
    }
}

/// [`Ruleset::input_verdict`] on the host's [`Netfilter`] fact.
pub fn input_verdict(netfilter: &Netfilter, network: &VmNetwork, service: Service) -> Verdict {
    match Ruleset::from_netfilter(netfilter) {
        Ok(ruleset) => ruleset.input_verdict(network, service),
        Err(why) => Verdict::Unknown(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_a_guest_address_in_the_subnet() {
        let network = VmNetwork::new("virbr0", Ipv4Addr::new(192, 168, 122, 1), 24);
        assert_eq!(network.guest_address, Ipv4Addr::new(192, 168, 122, 2));
        let network = VmNetwork::new("virbr1", Ipv4Addr::new(10, 0, 0, 2), 30);
        assert_eq!(network.guest_address, Ipv4Addr::new(10, 0, 0, 3));
    }

    #[test]
    fn an_empty_ruleset_accepts_everything() -> Result<(), String> {
        let ruleset =
            Ruleset::parse(Some(r#"{"nftables": [{"metainfo": {"json_schema_version": 1}}]}"#), None, None)?;
        let network = VmNetwork::new("virbr0", Ipv4Addr::new(192, 168, 122, 1), 24);
        assert_eq!(ruleset.forward_verdict(&network, "eth0", Traffic::Web), Verdict::Accept);
        assert_eq!(ruleset.input_verdict(&network, Service::Dhcp), Verdict::Accept);
        Ok(())
    }

    /// A ruleset of one `inet` table named `t` with these chains (JSON
    /// objects without family/table, added here) and rules.
    fn ruleset(chains: &[&str], rules: &[(&str, &str)]) -> Result<Ruleset, String> {
        let mut items = vec![r#"{"table": {"family": "inet", "name": "t", "handle": 1}}"#.to_owned()];
        for chain in chains {
            items.push(format!(r#"{{"chain": {{"family": "inet", "table": "t", {chain}}}}}"#));
        }
        for (chain, exprs) in rules {
            items.push(format!(
                r#"{{"rule": {{"family": "inet", "table": "t", "chain": "{chain}", "expr": [{exprs}]}}}}"#
            ));
        }
        Ruleset::parse(Some(&format!(r#"{{"nftables": [{}]}}"#, items.join(","))), None, None)
    }

    const FORWARD_DROP: &str =
        r#""name": "fwd", "type": "filter", "hook": "forward", "prio": 0, "policy": "drop""#;
    const INPUT_ACCEPT: &str =
        r#""name": "in", "type": "filter", "hook": "input", "prio": 0, "policy": "accept""#;
    const IIF_VIRBR: &str =
        r#"{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "virbr*"}}"#;
    const ESTABLISHED: &str =
        r#"{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}"#;

    fn virbr0() -> VmNetwork {
        VmNetwork::new("virbr0", Ipv4Addr::new(192, 168, 122, 1), 24)
    }

    #[test]
    fn follows_jumps_gotos_and_returns() -> Result<(), String> {
        let rules = [
            ("fwd", &*format!(r#"{ESTABLISHED}, {{"accept": null}}"#)),
            ("fwd", r#"{"jump": {"target": "user"}}"#),
            ("user", r#"{"return": null}"#),
            ("user", &*format!(r#"{IIF_VIRBR}, {{"accept": null}}"#)),
            ("fwd", &*format!(r#"{IIF_VIRBR}, {{"goto": {{"target": "allow"}}}}"#)),
            ("allow", r#"{"accept": null}"#),
        ];
        let chains = [FORWARD_DROP, r#""name": "user""#, r#""name": "allow""#];
        let ruleset = ruleset(&chains, &rules)?;
        assert_eq!(ruleset.forward_verdict(&virbr0(), "eth0", Traffic::Web), Verdict::Accept);
        let other = VmNetwork::new("br-lan", Ipv4Addr::new(10, 1, 0, 1), 24);
        assert!(matches!(ruleset.forward_verdict(&other, "eth0", Traffic::Web), Verdict::Drop(_)));
        Ok(())
    }

    #[test]
    fn reads_verdict_maps_and_named_sets() -> Result<(), String> {
        let vmap = r#"{"vmap": {"key": {"meta": {"key": "iifname"}}, "data": {"set": [["virbr0", {"accept": null}], ["eth0", {"drop": null}]]}}}"#;
        let ruleset = ruleset(&[FORWARD_DROP], &[("fwd", vmap)])?;
        // Out of virbr0: accepted by the map; the replies come in on eth0: dropped.
        let verdict = ruleset.forward_verdict(&virbr0(), "eth0", Traffic::Web);
        assert!(
            matches!(&verdict, Verdict::Drop(blocker) if blocker.by.contains("(replies)")),
            "{verdict:?}"
        );

        let named = r#"{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": "@dhcp_dns"}}"#;
        let set = r#"{"set": {"family": "inet", "table": "t", "name": "dhcp_dns", "type": "inet_service", "elem": [53, 67]}}"#;
        let chain = r#"{"chain": {"family": "inet", "table": "t", "name": "in", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}"#;
        let json = format!(
            r#"{{"nftables": [{{"table": {{"family": "inet", "name": "t"}}}}, {set}, {chain}, {{"rule": {{"family": "inet", "table": "t", "chain": "in", "expr": [{named}, {{"accept": null}}]}}}}]}}"#
        );
        let named_set = Ruleset::parse(Some(&json), None, None)?;
        assert_eq!(named_set.input_verdict(&virbr0(), Service::Dhcp), Verdict::Accept);
        assert_eq!(named_set.input_verdict(&virbr0(), Service::Dns), Verdict::Accept);
        Ok(())
    }

    #[test]
    fn a_rate_limit_before_a_verdict_makes_it_unknown_unless_all_paths_agree() -> Result<(), String> {
        let limit = r#"{"limit": {"rate": 3, "per": "minute"}}"#;
        // limit → drop, then policy accept: it depends on the rate.
        let undecided = ruleset(&[INPUT_ACCEPT], &[("in", &*format!(r#"{limit}, {{"drop": null}}"#))])?;
        assert!(
            matches!(undecided.input_verdict(&virbr0(), Service::Dns), Verdict::Unknown(why) if why.contains("limit"))
        );
        // limit → log only: no verdict, nothing to decide.
        let harmless =
            ruleset(&[INPUT_ACCEPT], &[("in", &*format!(r#"{limit}, {{"log": {{"prefix": "x"}}}}"#))])?;
        assert_eq!(harmless.input_verdict(&virbr0(), Service::Dns), Verdict::Accept);
        // limit → drop, then drop anyway: every path drops.
        let both = ruleset(
            &[INPUT_ACCEPT],
            &[("in", &*format!(r#"{limit}, {{"drop": null}}"#)), ("in", r#"{"drop": null}"#)],
        )?;
        assert!(matches!(both.input_verdict(&virbr0(), Service::Dns), Verdict::Drop(_)));
        Ok(())
    }

    #[test]
    fn ipv6_and_other_hooks_do_not_touch_ipv4_forwarding() -> Result<(), String> {
        let ip6 = r#"{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}}, "right": "::1"}}"#;
        let rules = [("fwd", &*format!(r#"{ip6}, {{"accept": null}}"#)), ("fwd", r#"{"accept": null}"#)];
        let ruleset = ruleset(
            &[
                FORWARD_DROP,
                r#""name": "out", "type": "filter", "hook": "output", "prio": 0, "policy": "drop""#,
            ],
            &rules,
        )?;
        assert_eq!(ruleset.forward_verdict(&virbr0(), "eth0", Traffic::Web), Verdict::Accept);
        Ok(())
    }

    #[test]
    fn a_dropping_bridge_family_chain_makes_accept_unknown() -> Result<(), String> {
        let json = r#"{"nftables": [{"table": {"family": "bridge", "name": "filter"}},
            {"chain": {"family": "bridge", "table": "filter", "name": "FORWARD", "type": "filter", "hook": "forward", "prio": -200, "policy": "drop"}}]}"#;
        let ruleset = Ruleset::parse(Some(json), None, None)?;
        assert!(
            matches!(ruleset.forward_verdict(&virbr0(), "eth0", Traffic::Web), Verdict::Unknown(why) if why.contains("bridge filter"))
        );
        Ok(())
    }

    #[test]
    fn without_the_nft_ruleset_only_a_definite_drop_is_trusted() -> Result<(), String> {
        let network = VmNetwork::new("virbr0", Ipv4Addr::new(192, 168, 122, 1), 24);
        let legacy = "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
        let ruleset = Ruleset::parse(None, None, Some(legacy))?;
        assert!(matches!(ruleset.forward_verdict(&network, "eth0", Traffic::Web), Verdict::Drop(_)));
        let ruleset = Ruleset::parse(None, None, Some("*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n"))?;
        assert!(matches!(ruleset.forward_verdict(&network, "eth0", Traffic::Web), Verdict::Unknown(_)));
        Ok(())
    }
}
