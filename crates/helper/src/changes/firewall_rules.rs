//! The firewall rules the helper adds: UFW's (the guide's three rules for
//! a bridge) and iptables' accept rules for forwarding, spelled out from
//! validated names only, and what UFW says it has. Apart from the changes
//! themselves because this is the vocabulary of two tools' command lines,
//! which planning reads too.

use serde::{Deserialize, Serialize};
use vmnet_doctor_helper_api::{IfaceName, RULE_COMMENT};

use super::strings;
use crate::exec::{self, Ran};

/// One of the guide's UFW rules for a bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UfwRuleKind {
    /// `allow in on BRIDGE`: the guests reach the host (DHCP, DNS).
    AllowIn,
    /// `allow out on BRIDGE`: the host answers them.
    AllowOut,
    /// `route allow in on BRIDGE out on UPLINK`: their traffic is routed out.
    RouteAllow,
}

impl UfwRuleKind {
    pub const ALL: [Self; 3] = [Self::AllowIn, Self::AllowOut, Self::RouteAllow];
}

/// Which iptables a rule goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// iptables-nft: the nf_tables tables Docker and UFW write on current
    /// distributions.
    Nft,
    /// iptables-legacy: the old x_tables.
    Legacy,
}

impl Backend {
    /// The tool for this backend and address family.
    pub fn program(self, family: Family) -> &'static str {
        match (self, family) {
            (Self::Nft, Family::Ipv4) => "iptables-nft",
            (Self::Nft, Family::Ipv6) => "ip6tables-nft",
            (Self::Legacy, Family::Ipv4) => "iptables-legacy",
            (Self::Legacy, Family::Ipv6) => "ip6tables-legacy",
        }
    }
}

/// Which of iptables' address families a rule is in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// iptables. Journals written before IPv6 rules existed have no
    /// family: theirs are IPv4.
    #[default]
    Ipv4,
    /// ip6tables.
    Ipv6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Chain {
    /// Docker's chain for the user's own rules; FORWARD jumps to it first.
    DockerUser,
    Forward,
}

impl Chain {
    pub fn name(self) -> &'static str {
        match self {
            Self::DockerUser => "DOCKER-USER",
            Self::Forward => "FORWARD",
        }
    }
}

/// One of the two accept rules for forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardRule {
    /// From the bridge out through the uplink.
    Out,
    /// The replies, back from the uplink to the bridge.
    Replies,
}

impl ForwardRule {
    pub const ALL: [Self; 2] = [Self::Out, Self::Replies];
}

/// The rule as UFW's command line takes it and `ufw show added` prints it.
pub fn ufw_spec(rule: UfwRuleKind, bridge: &IfaceName, uplink: &IfaceName) -> Vec<String> {
    let (bridge, uplink) = (bridge.as_str(), uplink.as_str());
    match rule {
        UfwRuleKind::AllowIn => strings(&["allow", "in", "on", bridge]),
        UfwRuleKind::AllowOut => strings(&["allow", "out", "on", bridge]),
        UfwRuleKind::RouteAllow => strings(&["route", "allow", "in", "on", bridge, "out", "on", uplink]),
    }
}

/// The rule's match and target, as `-I`, `-C` and `-D` take it.
pub fn iptables_spec(rule: ForwardRule, bridge: &IfaceName, uplink: &IfaceName) -> Vec<String> {
    let (bridge, uplink) = (bridge.as_str(), uplink.as_str());
    let mut spec = match rule {
        ForwardRule::Out => strings(&["-i", bridge, "-o", uplink]),
        ForwardRule::Replies => {
            strings(&["-i", uplink, "-o", bridge, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"])
        }
    };
    spec.extend(strings(&["-m", "comment", "--comment", RULE_COMMENT, "-j", "ACCEPT"]));
    spec
}

/// The arguments that delete a rule: `delete RULE`, but `route delete
/// RULE` for a routed rule (`delete route …` is a syntax error).
pub fn ufw_delete_spec(spec: Vec<String>) -> Vec<String> {
    match spec.split_first() {
        Some((first, rest)) if first == "route" => {
            ["route", "delete"].iter().map(|word| (*word).to_owned()).chain(rest.iter().cloned()).collect()
        }
        _ => std::iter::once("delete".to_owned()).chain(spec).collect(),
    }
}

/// `iptables-… -w 10 OP CHAIN RULE…`: `-w` waits for the legacy xtables
/// lock instead of failing at once.
pub fn iptables_argv(
    program: &str,
    op: &str,
    chain: Chain,
    rule: ForwardRule,
    bridge: &IfaceName,
    uplink: &IfaceName,
) -> Vec<String> {
    let mut argv =
        vec![program.to_owned(), "-w".to_owned(), "10".to_owned(), op.to_owned(), chain.name().to_owned()];
    argv.extend(iptables_spec(rule, bridge, uplink));
    argv
}

/// The MSS clamp's match and target: the SYNs forwarded from `bridge` out
/// through `uplink` get an MSS that fits the route's MTU.
fn mss_clamp_spec(bridge: &IfaceName, uplink: &IfaceName) -> Vec<String> {
    let mut spec = strings(&[
        "-i",
        bridge.as_str(),
        "-o",
        uplink.as_str(),
        "-p",
        "tcp",
        "--tcp-flags",
        "SYN,RST",
        "SYN",
    ]);
    spec.extend(strings(&[
        "-m",
        "comment",
        "--comment",
        RULE_COMMENT,
        "-j",
        "TCPMSS",
        "--clamp-mss-to-pmtu",
    ]));
    spec
}

/// `iptables-… -w 10 -t mangle OP FORWARD CLAMP…`.
pub fn mss_clamp_argv(program: &str, op: &str, bridge: &IfaceName, uplink: &IfaceName) -> Vec<String> {
    let mut argv = strings(&[program, "-w", "10", "-t", "mangle", op, "FORWARD"]);
    argv.extend(mss_clamp_spec(bridge, uplink));
    argv
}

/// What UFW has: whether it filters now, and its user rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UfwState {
    pub active: bool,
    pub added: Vec<AddedRule>,
}

/// One line of `ufw show added`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedRule {
    /// The rule without `ufw ` and without its comment, e.g. `allow in on virbr0`.
    pub rule: String,
    pub comment: Option<String>,
}

impl UfwState {
    pub fn read(ufw: &str, ran: &Ran) -> Result<Self, String> {
        let status = exec::run(&[ufw.to_owned(), "status".to_owned()], ran);
        if !status.success() {
            return Err(format!("`ufw status` failed: {}", status.message()));
        }
        let active = match status.stdout.lines().find(|line| !line.trim().is_empty()).map(str::trim) {
            Some("Status: active") => true,
            Some("Status: inactive") => false,
            other => return Err(format!("`ufw status` printed {other:?}")),
        };
        let added = exec::run(&[ufw.to_owned(), "show".to_owned(), "added".to_owned()], ran);
        if !added.success() {
            return Err(format!("`ufw show added` failed: {}", added.message()));
        }
        Ok(Self { active, added: parse_show_added(&added.stdout) })
    }

    /// The rule as it is now, whoever added it.
    pub fn find(&self, spec: &[String]) -> Option<&AddedRule> {
        let text = spec.join(" ");
        self.added.iter().find(|added| added.rule == text)
    }
}

/// `ufw show added`: a header, then one `ufw RULE [comment 'TEXT']` line per
/// user rule (or `(None)`), active or not.
pub fn parse_show_added(text: &str) -> Vec<AddedRule> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("ufw "))
        .map(|rest| match rest.find(" comment '") {
            Some(at) if rest.ends_with('\'') && rest.len() >= at + 11 => AddedRule {
                rule: rest[..at].to_owned(),
                comment: Some(rest[at + " comment '".len()..rest.len() - 1].to_owned()),
            },
            _ => AddedRule { rule: rest.to_owned(), comment: None },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::tests::{TestResult, name};

    #[test]
    fn parses_ufw_show_added() {
        // ufw 0.36.2 (Debian 13).
        let text = "Added user rules (see 'ufw status' for running firewall):\n\
                    ufw allow in on virbr0\n\
                    ufw allow out on virbr0 comment 'vmnet-doctor'\n\
                    ufw route allow in on virbr0 out on eth0 comment 'vmnet-doctor'\n\
                    ufw allow 22/tcp comment 'ssh from the office'\n";
        let added = parse_show_added(text);
        assert_eq!(added.len(), 4);
        assert_eq!(added[0], AddedRule { rule: "allow in on virbr0".into(), comment: None });
        assert_eq!(added[1].comment.as_deref(), Some("vmnet-doctor"));
        assert_eq!(added[2].rule, "route allow in on virbr0 out on eth0");
        assert_eq!(added[3].comment.as_deref(), Some("ssh from the office"));
        assert!(
            parse_show_added("Added user rules (see 'ufw status' for running firewall):\n(None)\n")
                .is_empty()
        );
    }

    #[test]
    fn rules_are_built_from_names_only() -> TestResult {
        let (bridge, uplink) = (name("virbr0")?, name("enp3s0")?);
        let route = ufw_spec(UfwRuleKind::RouteAllow, &bridge, &uplink);
        assert_eq!(route.join(" "), "route allow in on virbr0 out on enp3s0");
        assert_eq!(ufw_delete_spec(route).join(" "), "route delete allow in on virbr0 out on enp3s0");
        let allow_in = ufw_spec(UfwRuleKind::AllowIn, &bridge, &uplink);
        assert_eq!(ufw_delete_spec(allow_in).join(" "), "delete allow in on virbr0");
        assert_eq!(
            iptables_argv(
                "/usr/sbin/iptables-nft",
                "-I",
                Chain::DockerUser,
                ForwardRule::Replies,
                &bridge,
                &uplink
            )
            .join(" "),
            "/usr/sbin/iptables-nft -w 10 -I DOCKER-USER -i enp3s0 -o virbr0 -m conntrack --ctstate RELATED,ESTABLISHED \
             -m comment --comment vmnet-doctor -j ACCEPT"
        );
        Ok(())
    }
}
