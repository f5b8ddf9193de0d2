//! The Host page's firewall group: which programs write the host's rules
//! (UFW, firewalld, Docker, hand-written nftables or iptables), libvirt's
//! firewall backend, and for each libvirt bridge the verdict on its guests'
//! traffic to each uplink and to dnsmasq, as the diagnosis evaluated it.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use vmnet_doctor_core::host::{FirewallBackend, HostFacts};
use vmnet_doctor_core::netfilter::{Owner, Verdict};
use vmnet_doctor_core::rules::{BridgeVerdicts, FirewallPicture, ForwardPath, UfwState, firewall_picture};
use vmnet_doctor_core::{Fact, Snapshot};

use crate::i18n::fill;
use crate::ui::fact_row::{self, Health};

pub fn build(snapshot: &Snapshot) -> adw::PreferencesGroup {
    let group = adw::PreferencesGroup::new();
    group.set_title(&gettext("Firewall"));
    // The picture is known exactly when the host facts are.
    let (Fact::Known(picture), Fact::Known(host)) = (firewall_picture(snapshot), &snapshot.host) else {
        let why = match &snapshot.host {
            Fact::Unknown(why) => why.as_str(),
            Fact::Known(_) => "",
        };
        // The reason is a sentence of its own (the demo, a remote host, Flatpak).
        group.set_description(Some(why));
        let title = gettext("Rules and forward paths");
        group.add(&fact_row::build(&title, &gettext("Not checked"), Health::Unknown));
        return group;
    };
    for (title, value, health) in programs(&picture, host) {
        group.add(&fact_row::build(&title, &value, health));
    }
    let (backend, health) = backend(&picture.libvirt_backend, &picture.libvirt_backend_in_use);
    group.add(&fact_row::build(&gettext("libvirt's firewall backend"), &backend, health));
    for bridge in &picture.bridges {
        for (title, value, health) in bridge_rows(bridge, &picture.uplinks, &host.ipv4_forward) {
            group.add(&fact_row::build(&title, &value, health));
        }
    }
    group
}

type Line = (String, String, Health);

/// One line each for UFW, firewalld, Docker and other rules.
fn programs(picture: &FirewallPicture, host: &HostFacts) -> Vec<Line> {
    let unknown = |why: &str| (fill(&gettext("Unknown: {why}"), &[("why", why)]), Health::Unknown);
    let (ufw, ufw_health) = match &picture.ufw {
        Fact::Known(None) => (gettext("Not installed"), Health::Neutral),
        Fact::Known(Some(UfwState::Active { routed })) => (
            fill(
                &gettext("Active; routed traffic: {policy}"),
                &[("policy", routed.as_deref().unwrap_or(&gettext("not reported")))],
            ),
            Health::Neutral,
        ),
        Fact::Known(Some(UfwState::Inactive)) => (gettext("Inactive"), Health::Neutral),
        Fact::Known(Some(UfwState::Enabled { status_unknown })) => (
            fill(
                &gettext("Enabled in its configuration; whether it runs is unknown: {why}"),
                &[("why", status_unknown)],
            ),
            Health::Unknown,
        ),
        Fact::Unknown(why) => unknown(why),
    };
    let (firewalld, firewalld_health) = match &picture.firewalld {
        Fact::Known(true) => (gettext("Running"), Health::Neutral),
        Fact::Known(false) => (gettext("Not running"), Health::Neutral),
        Fact::Unknown(why) => unknown(why),
    };
    let docker_bridge = host.link("docker0").is_some();
    let (docker, docker_health) = match &picture.programs {
        Fact::Known(programs) if programs.contains(&Owner::Docker) => {
            (gettext("Its rules are in the firewall (chains DOCKER…)"), Health::Neutral)
        }
        Fact::Known(_) if docker_bridge => {
            (gettext("Bridge docker0 exists, but Docker has no rules in the firewall"), Health::Neutral)
        }
        Fact::Known(_) => (gettext("No Docker rules"), Health::Neutral),
        Fact::Unknown(why) if docker_bridge => (
            fill(&gettext("Bridge docker0 exists; its rules are unknown: {why}"), &[("why", why)]),
            Health::Unknown,
        ),
        Fact::Unknown(why) => unknown(why),
    };
    let (other, other_health) = match &picture.other_tables {
        Fact::Known(tables) if tables.is_empty() => (gettext("None"), Health::Neutral),
        Fact::Known(tables) => (tables.join("\n"), Health::Neutral),
        Fact::Unknown(why) => unknown(why),
    };
    vec![
        (gettext("UFW"), ufw, ufw_health),
        (gettext("firewalld"), firewalld, firewalld_health),
        (gettext("Docker"), docker, docker_health),
        (gettext("Other firewall tables"), other, other_health),
    ]
}

/// libvirt's setting, and the backend whose rules are actually there (its
/// built-in choice differs between distributions' builds).
fn backend(setting: &Fact<FirewallBackend>, in_use: &Fact<Option<FirewallBackend>>) -> (String, Health) {
    let name = |backend: &FirewallBackend| match backend {
        FirewallBackend::Nftables => "nftables".to_owned(),
        FirewallBackend::Iptables => "iptables".to_owned(),
        FirewallBackend::Default => gettext("libvirt's built-in choice"),
    };
    let (mut text, health) = match setting {
        Fact::Known(FirewallBackend::Default) => {
            (gettext("Not set: libvirt's built-in choice"), Health::Neutral)
        }
        Fact::Known(backend) => (name(backend), Health::Neutral),
        Fact::Unknown(why) => (fill(&gettext("Unknown: {why}"), &[("why", why)]), Health::Unknown),
    };
    match in_use {
        Fact::Known(Some(backend)) => {
            text.push('\n');
            text.push_str(&fill(
                &gettext("Rules in the firewall: {backend}"),
                &[("backend", &name(backend))],
            ));
        }
        Fact::Known(None) => {
            text.push('\n');
            text.push_str(&gettext("No libvirt rules in the firewall"));
        }
        // The programs' rows say why the ruleset is unknown.
        Fact::Unknown(_) => {}
    }
    (text, health)
}

/// The forward path of `bridge` to each uplink, then DHCP and DNS to
/// dnsmasq on it.
fn bridge_rows(bridge: &BridgeVerdicts, uplinks: &Fact<Vec<String>>, ipv4_forward: &Fact<bool>) -> Vec<Line> {
    let names = [("bridge", bridge.bridge.as_str()), ("network", bridge.network.as_str())];
    let mut lines = Vec::new();
    if bridge.forwards {
        if bridge.paths.is_empty() {
            let value = match uplinks {
                Fact::Unknown(why) => fill(&gettext("Unknown: {why}"), &[("why", why)]),
                Fact::Known(_) => gettext("Nowhere: the host has no default route"),
            };
            let title = fill(&gettext("{bridge} to the internet (network “{network}”)"), &names);
            lines.push((title, value, Health::Bad));
        }
        for path in &bridge.paths {
            lines.push(forward_line(bridge, path, ipv4_forward));
        }
    }
    let title = fill(&gettext("DHCP and DNS on {bridge} (network “{network}”)"), &names);
    let mut values = Vec::new();
    if let Some(dhcp) = &bridge.dhcp {
        values.push(fill(&gettext("DHCP: {verdict}"), &[("verdict", &verdict_text(dhcp))]));
    }
    values.push(fill(&gettext("DNS: {verdict}"), &[("verdict", &verdict_text(&bridge.dns))]));
    let health = worst([bridge.dhcp.as_ref(), Some(&bridge.dns)].into_iter().flatten());
    lines.push((title, values.join("\n"), health));
    lines
}

fn forward_line(bridge: &BridgeVerdicts, path: &ForwardPath, ipv4_forward: &Fact<bool>) -> Line {
    let title = fill(
        &gettext("{bridge} → {uplink} (network “{network}”)"),
        &[("bridge", &bridge.bridge), ("uplink", &path.uplink), ("network", &bridge.network)],
    );
    let web = fill(&gettext("Web traffic: {verdict}"), &[("verdict", &verdict_text(&path.web))]);
    let ping = fill(&gettext("Ping: {verdict}"), &[("verdict", &verdict_text(&path.ping))]);
    let mut value = format!("{web}\n{ping}");
    let mut health = worst([&path.web, &path.ping].into_iter());
    // The firewall's verdict is not the whole path: without forwarding the
    // kernel routes nothing, whatever the rules say.
    if *ipv4_forward == Fact::Known(false) {
        value.push('\n');
        value.push_str(&gettext("IPv4 forwarding is off, so the host routes none of it"));
        health = Health::Bad;
    }
    (title, value, health)
}

/// "Accepted", "Dropped by …" (the deciding rule, in netfilter's terms) or
/// "Unknown: why".
pub fn verdict_text(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Accept => gettext("accepted"),
        Verdict::Drop(blocker) => fill(&gettext("dropped by {rule}"), &[("rule", &blocker.by)]),
        Verdict::Unknown(why) => fill(&gettext("unknown: {why}"), &[("why", why)]),
    }
}

/// Bad when any verdict drops, unknown when any is unknown, else good.
fn worst<'v>(verdicts: impl Iterator<Item = &'v Verdict>) -> Health {
    let mut health = Health::Good;
    for verdict in verdicts {
        match verdict {
            Verdict::Drop(_) => return Health::Bad,
            Verdict::Unknown(_) => health = Health::Unknown,
            Verdict::Accept => {}
        }
    }
    health
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmnet_doctor_core::netfilter::Blocker;

    fn blocked(by: &str) -> Verdict {
        Verdict::Drop(Blocker { by: by.to_owned(), owner: Some(Owner::Ufw) })
    }

    fn virbr0(web: Verdict, ping: Verdict) -> BridgeVerdicts {
        BridgeVerdicts {
            network: "default".to_owned(),
            bridge: "virbr0".to_owned(),
            forwards: true,
            paths: vec![ForwardPath { uplink: "enp3s0".to_owned(), web, ping }],
            dhcp: Some(Verdict::Accept),
            dns: Verdict::Accept,
        }
    }

    #[test]
    fn a_drop_names_the_deciding_rule() {
        let rule = "iptables-nft table filter, chain FORWARD → ufw-reject-forward: rule `-j REJECT`";
        let bridge = virbr0(blocked(rule), Verdict::Accept);
        let uplinks = Fact::Known(vec!["enp3s0".to_owned()]);
        let lines = bridge_rows(&bridge, &uplinks, &Fact::Known(true));
        assert_eq!(lines[0].0, "virbr0 → enp3s0 (network “default”)");
        assert_eq!(lines[0].1, format!("Web traffic: dropped by {rule}\nPing: accepted"));
        assert_eq!(lines[0].2, Health::Bad);
        assert_eq!(lines[1].1, "DHCP: accepted\nDNS: accepted");
        assert_eq!(lines[1].2, Health::Good);
    }

    #[test]
    fn an_open_firewall_is_not_good_when_forwarding_is_off() {
        let bridge = virbr0(Verdict::Accept, Verdict::Accept);
        let uplinks = Fact::Known(vec!["enp3s0".to_owned()]);
        assert_eq!(bridge_rows(&bridge, &uplinks, &Fact::Known(true))[0].2, Health::Good);
        let off = bridge_rows(&bridge, &uplinks, &Fact::Known(false));
        assert_eq!(off[0].2, Health::Bad);
        assert!(off[0].1.ends_with("IPv4 forwarding is off, so the host routes none of it"));
    }

    #[test]
    fn what_was_not_read_is_unknown_never_good() {
        let why = Verdict::Unknown("needs the helper or root".to_owned());
        let mut bridge = virbr0(why.clone(), why.clone());
        bridge.dhcp = Some(why.clone());
        bridge.dns = why;
        let uplinks = Fact::Known(vec!["enp3s0".to_owned()]);
        let lines = bridge_rows(&bridge, &uplinks, &Fact::Unknown("not read".to_owned()));
        assert!(lines.iter().all(|line| line.2 == Health::Unknown), "{lines:?}");
        assert!(lines[0].1.contains("unknown: needs the helper or root"));
        bridge.paths.clear();
        let nowhere = bridge_rows(&bridge, &Fact::Known(Vec::new()), &Fact::Known(true));
        assert_eq!(nowhere[0].1, "Nowhere: the host has no default route");
        assert_eq!(nowhere[0].2, Health::Bad);
    }
}
