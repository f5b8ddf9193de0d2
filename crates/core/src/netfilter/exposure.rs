//! What the ruleset lets in from the internet: port forwards (destination
//! NAT), the accept rules of the kinds VM Network Doctor's fixes add, and
//! the fate of a new connection from the uplink to a guest. The security
//! posture (`crate::posture`) is judged from these.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use super::ir::{self, Action, Cond, Rule, Test, Tri};
use super::packet::{AddrType, CtState, Hook, Mark, PROTO_TCP, PROTO_UDP, Packet, PktType};
use super::{INTERNET_ADDRESS, Ruleset, Verdict, VmNetwork};

/// The comment the helper's iptables rules carry
/// (`vmnet_doctor_helper_api::RULE_COMMENT`; core does not depend on the
/// helper's crate).
pub const FIX_RULE_COMMENT: &str = "vmnet-doctor";

/// A port that stands for "some service": the probes below ask whether a
/// rule accepts a new connection to it. The rules checked have no port
/// matches; one that does is judged for this port only.
const PROBE_PORT: u16 = 8080;
const PROBE_SOURCE_PORT: u16 = 40_000;

/// A destination rewrite in the ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortForwardRule {
    /// E.g. "iptables-nft table nat, chain PREROUTING".
    pub place: String,
    /// The rule as the ruleset shows it.
    pub rule: String,
    /// Where it sends connections; `None` for a redirect to the host itself
    /// or a target that could not be read (see `redirect`).
    pub to: Option<IpAddr>,
    /// `redirect` / `-j REDIRECT`: to the host itself.
    pub redirect: bool,
}

/// Whether a rule accepts a new connection from the internet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// No: a condition excludes every probe.
    No,
    /// Yes, the probe described.
    Yes(String),
    /// It cannot be decided; why.
    Maybe(String),
}

/// One accept rule of a kind VM Network Doctor's fixes add, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixRuleCheck {
    pub place: String,
    pub rule: String,
    pub opening: Opening,
}

/// A probe: a new connection from the internet, arriving on the uplink.
struct Probe {
    hook: Hook,
    packet: Packet,
    what: String,
}

fn probe_packet(uplink: &str, oif: Option<&str>, daddr: Ipv4Addr, proto: u8) -> Packet {
    Packet {
        iif: Some(uplink.to_owned()),
        oif: oif.map(str::to_owned),
        saddr: INTERNET_ADDRESS,
        daddr,
        saddr_type: AddrType::Unicast,
        daddr_type: if oif.is_none() { AddrType::Local } else { AddrType::Unicast },
        pkttype: PktType::Host,
        proto,
        sport: PROBE_SOURCE_PORT,
        dport: PROBE_PORT,
        icmp: None,
        ct_state: CtState::New,
        ct_status: 0,
        ct_reply: false,
        mark: Mark::Known(0),
    }
}

fn probes(uplink: &str, uplink_address: Ipv4Addr, networks: &[VmNetwork]) -> Vec<Probe> {
    let mut probes = Vec::new();
    for (proto, name) in [(PROTO_TCP, "TCP"), (PROTO_UDP, "UDP")] {
        probes.push(Probe {
            hook: Hook::Input,
            packet: probe_packet(uplink, None, uplink_address, proto),
            what: format!(
                "a new {name} connection from the internet to the host ({uplink_address} on {uplink})"
            ),
        });
        for network in networks {
            probes.push(Probe {
                hook: Hook::Forward,
                packet: probe_packet(uplink, Some(&network.bridge), network.guest_address, proto),
                what: format!(
                    "a new {name} connection from the internet (in on {uplink}) to a guest ({} on {})",
                    network.guest_address, network.bridge
                ),
            });
        }
    }
    probes
}

/// Whether every condition of `rule` holds for `packet`.
fn matches(rule: &Rule, packet: &Packet) -> Tri {
    let mut doubt = None;
    for cond in &rule.conds {
        match cond {
            Cond::Test(test) => match test.eval(packet) {
                Tri::No => return Tri::No,
                Tri::Yes => {}
                Tri::Maybe(why) => doubt = doubt.or(Some(why)),
            },
            Cond::Opaque(why) => doubt = doubt.or(Some(why.clone())),
        }
    }
    doubt.map_or(Tri::Yes, Tri::Maybe)
}

/// Whether a rule names one of `bridges` as its input or output interface.
fn names_a_bridge(rule: &Rule, bridges: &[&str]) -> bool {
    rule.conds.iter().any(|cond| match cond {
        Cond::Test(Test::Iface { names, negate: false, .. }) => names
            .iter()
            .any(|name| matches!(name, ir::IfName::Exact(exact) if bridges.contains(&exact.as_str()))),
        _ => false,
    })
}

impl Ruleset {
    /// Whether the nftables ruleset was part of what was read (without it,
    /// rules there are unknown).
    pub fn nftables_read(&self) -> bool {
        !self.nft_missing
    }

    /// Every destination rewrite (DNAT, redirect) in any chain.
    pub fn port_forwards(&self) -> Vec<PortForwardRule> {
        let mut found = Vec::new();
        for table in &self.tables {
            for chain in &table.chains {
                for rule in &chain.rules {
                    let Some(forward) = &rule.port_forward else { continue };
                    let (to, redirect) = match forward {
                        ir::PortForward::To(to) => (*to, false),
                        ir::PortForward::Redirect => (None, true),
                    };
                    found.push(PortForwardRule {
                        place: format!("{}, chain {}", table.describe(), chain.name),
                        rule: rule.text.clone(),
                        to,
                        redirect,
                    });
                }
            }
        }
        found
    }

    /// The hooks each chain of table `index` is reached from (through
    /// jumps, gotos and verdict maps).
    fn chain_hooks(&self, index: usize) -> Vec<(String, BTreeSet<Hook>)> {
        let Some(table) = self.tables.get(index) else { return Vec::new() };
        let mut reached: Vec<(String, BTreeSet<Hook>)> =
            table.chains.iter().map(|chain| (chain.name.clone(), BTreeSet::new())).collect();
        for chain in &table.chains {
            let Some(base) = &chain.base else { continue };
            let mut stack = vec![chain.name.clone()];
            let mut visited = BTreeSet::new();
            while let Some(name) = stack.pop() {
                if !visited.insert(name.clone()) {
                    continue;
                }
                if let Some((_, hooks)) = reached.iter_mut().find(|(known, _)| *known == name) {
                    hooks.insert(base.hook);
                }
                let Some(current) = table.chain(&name) else { continue };
                for rule in &current.rules {
                    collect_targets(&rule.action, &mut stack);
                }
            }
        }
        reached
    }

    /// The accept rules of the kinds VM Network Doctor's fixes add — the
    /// helper's iptables rules (comment `vmnet-doctor`) and UFW user rules
    /// naming a VM bridge (`ufw allow in on virbr0`, `ufw route allow in on
    /// virbr0 out on …`) — each judged against new connections from the
    /// internet arriving on `uplink`: to the host at `uplink_address`, and
    /// forwarded to a guest of each network. Only the hooks a rule's chain
    /// is reached from are probed.
    pub fn fix_rules_inbound(
        &self,
        bridges: &[&str],
        uplink: &str,
        uplink_address: Ipv4Addr,
        networks: &[VmNetwork],
    ) -> Vec<FixRuleCheck> {
        let probes = probes(uplink, uplink_address, networks);
        let mut checks = Vec::new();
        for (index, table) in self.tables.iter().enumerate() {
            if !table.family.sees_ipv4() {
                continue;
            }
            let hooks = self.chain_hooks(index);
            for chain in &table.chains {
                let is_ufw_user = chain.name.starts_with("ufw-user-");
                for rule in &chain.rules {
                    let ours = rule.text.contains(FIX_RULE_COMMENT)
                        || (is_ufw_user && names_a_bridge(rule, bridges));
                    if !ours || rule.action != Action::Accept {
                        continue;
                    }
                    let reached = hooks
                        .iter()
                        .find(|(name, _)| *name == chain.name)
                        .map(|(_, hooks)| hooks.clone())
                        .unwrap_or_default();
                    let mut opening = Opening::No;
                    for probe in probes.iter().filter(|probe| reached.contains(&probe.hook)) {
                        match matches(rule, &probe.packet) {
                            Tri::No => {}
                            Tri::Yes => {
                                opening = Opening::Yes(probe.what.clone());
                                break;
                            }
                            Tri::Maybe(why) => {
                                if opening == Opening::No {
                                    opening = Opening::Maybe(format!("{}: {why}", probe.what));
                                }
                            }
                        }
                    }
                    checks.push(FixRuleCheck {
                        place: format!("{}, chain {}", table.describe(), chain.name),
                        rule: rule.text.clone(),
                        opening,
                    });
                }
            }
        }
        checks
    }

    /// The fate of a new TCP connection from the internet, arriving on
    /// `uplink`, to `guest` port `port` on `network`'s bridge (as if the
    /// internet routed the VM subnet to this host).
    pub fn inbound_verdict(&self, network: &VmNetwork, uplink: &str, guest: Ipv4Addr, port: u16) -> Verdict {
        let mut packet = probe_packet(uplink, Some(&network.bridge), guest, PROTO_TCP);
        packet.dport = port;
        self.verdict(&packet, &[Hook::Prerouting, Hook::Forward, Hook::Postrouting])
    }
}

fn collect_targets(action: &Action, stack: &mut Vec<String>) {
    match action {
        Action::Jump(target) | Action::Goto(target) => stack.push(target.clone()),
        Action::Vmap(entries) => {
            for (_, action) in entries {
                collect_targets(action, stack);
            }
        }
        _ => {}
    }
}
