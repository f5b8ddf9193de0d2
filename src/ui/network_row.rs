//! One libvirt virtual network on the Host page: an expander row that says
//! at a glance what it is (forward mode, bridge, subnet, running or not)
//! and, opened, the rest in virt-manager's terms, with its DHCP leases.

use gettextrs::{gettext, ngettext};
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::glib;
use vmnet_doctor_core::network::subnet_of;
use vmnet_doctor_core::{
    DhcpLease, Fact, Finding, ForwardMode, IpDef, NetworkConfig, NetworkSnapshot, Severity,
};

use crate::describe;
use crate::i18n::fill;
use crate::ui::fact_row::{self, Health};
use crate::ui::finding_row;

/// The row for `network`; `findings` are the ones about it, `now` the
/// time leases expire against (seconds since the epoch).
pub fn build(network: &NetworkSnapshot, findings: &[Finding], now: i64) -> adw::ExpanderRow {
    // An expander row's subtitle is always markup: escape what comes from libvirt.
    let row = adw::ExpanderRow::builder()
        .title(glib::markup_escape_text(network.name()))
        .subtitle(glib::markup_escape_text(&summary(network)))
        .build();
    row.set_title_selectable(true);
    row.upcast_ref::<relm4::gtk::Widget>()
        .update_property(&[relm4::gtk::accessible::Property::Label(network.name())]);
    let worst = findings.iter().filter(|f| f.severity != Severity::Info).map(|f| f.severity).min();
    if let Some(severity) = worst {
        let (icon, style, label) = finding_row::severity_look(severity);
        row.add_suffix(&fact_row::labelled_icon(icon, style, &label));
    }

    let config = &network.config;
    let (state, health) = if network.active {
        (gettext("Running"), Health::Good)
    } else {
        (gettext("Not running"), Health::Bad)
    };
    row.add_row(&fact_row::build(&gettext("State"), &state, health));
    let autostart = if network.autostart { gettext("Yes") } else { gettext("No") };
    row.add_row(&fact_row::build(&gettext("Start at boot"), &autostart, Health::Neutral));
    row.add_row(&fact_row::build(&gettext("Forwarding"), &forwarding(config), Health::Neutral));
    if let Some(bridge) = config.bridge_name() {
        row.add_row(&fact_row::build(&gettext("Bridge"), bridge, Health::Neutral));
    }
    for ip in &config.ips {
        let title = if ip.is_ipv6() { gettext("IPv6 network") } else { gettext("IPv4 network") };
        row.add_row(&fact_row::build(&title, &subnet(ip), Health::Neutral));
        let title = if ip.is_ipv6() { gettext("IPv6 DHCP range") } else { gettext("IPv4 DHCP range") };
        row.add_row(&fact_row::build(&title, &dhcp_ranges(ip), Health::Neutral));
    }
    for lease_row in lease_rows(network, now) {
        row.add_row(&lease_row);
    }
    row
}

/// "NAT · virbr0 · 192.168.122.0/24 · Running".
pub fn summary(network: &NetworkSnapshot) -> String {
    let config = &network.config;
    let mut parts = vec![describe::forward_mode(&config.forward)];
    parts.extend(config.bridge_name().map(str::to_owned));
    parts.extend(config.ips.iter().filter(|ip| !ip.is_ipv6()).take(1).map(network_address));
    parts.push(if network.active { gettext("Running") } else { gettext("Not running") });
    parts.join(" · ")
}

/// The forward mode and where it forwards to, in virt-manager's words.
pub fn forwarding(config: &NetworkConfig) -> String {
    let mode = describe::forward_mode(&config.forward);
    let devices = config.forward_devs.join(", ");
    match (&config.forward, devices.is_empty()) {
        (ForwardMode::Isolated, _) => gettext("Isolated: guests reach each other and the host, not beyond"),
        (ForwardMode::Nat | ForwardMode::Route, true) => {
            fill(&gettext("{mode} to any physical device"), &[("mode", &mode)])
        }
        (ForwardMode::Nat | ForwardMode::Route, false) => {
            fill(&gettext("{mode} to {devices}"), &[("mode", &mode), ("devices", &devices)])
        }
        (_, true) => mode,
        (_, false) => fill(&gettext("{mode}: {devices}"), &[("mode", &mode), ("devices", &devices)]),
    }
}

/// "192.168.122.0/24", from the host's address and prefix.
pub fn network_address(ip: &IpDef) -> String {
    ip.prefix.map_or_else(|| ip.address.to_string(), |prefix| subnet_of(ip.address, prefix))
}

/// "192.168.122.0/24, host 192.168.122.1".
pub fn subnet(ip: &IpDef) -> String {
    fill(
        &gettext("{network}, host {address}"),
        &[("network", &network_address(ip)), ("address", &ip.address.to_string())],
    )
}

pub fn dhcp_ranges(ip: &IpDef) -> String {
    if ip.dhcp_ranges.is_empty() {
        return gettext("None: guests need static addresses");
    }
    let ranges: Vec<String> =
        ip.dhcp_ranges.iter().map(|range| format!("{} – {}", range.start, range.end)).collect();
    ranges.join("\n")
}

/// One row per lease, or one row saying there are none or why they are
/// not known.
fn lease_rows(network: &NetworkSnapshot, now: i64) -> Vec<adw::ActionRow> {
    let title = gettext("DHCP leases");
    if !network.active {
        return vec![fact_row::build(
            &title,
            &gettext("None while the network is not running"),
            Health::Neutral,
        )];
    }
    match &network.leases {
        Fact::Unknown(why) => {
            vec![fact_row::build(&title, &fill(&gettext("Unknown: {why}"), &[("why", why)]), Health::Unknown)]
        }
        Fact::Known(leases) if leases.is_empty() => {
            vec![fact_row::build(&title, &gettext("None: no guest holds an address now"), Health::Neutral)]
        }
        Fact::Known(leases) => leases
            .iter()
            .map(|lease| fact_row::build(&gettext("DHCP lease"), &lease_text(lease, now), Health::Neutral))
            .collect(),
    }
}

/// "192.168.122.45/24 · debian13\n52:54:00:6b:3c:58 · expires in 54 minutes".
pub fn lease_text(lease: &DhcpLease, now: i64) -> String {
    let mut first = format!("{}/{}", lease.ip, lease.prefix);
    if let Some(hostname) = &lease.hostname {
        first.push_str(" · ");
        first.push_str(hostname);
    }
    let who = lease.mac.as_deref().or(lease.client_id.as_deref()).unwrap_or_default();
    let second = [who.to_owned(), expiry(lease.expiry, now)]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    format!("{first}\n{second}")
}

/// When a lease ends, relative to `now`.
pub fn expiry(expiry: Option<i64>, now: i64) -> String {
    let Some(expiry) = expiry else { return gettext("never expires") };
    let left = expiry - now;
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    if left <= 0 {
        gettext("expired")
    } else if left < 60 {
        gettext("expires in less than a minute")
    } else if left < 2 * 3600 {
        let minutes = left / 60;
        fill(
            &ngettext("expires in {n} minute", "expires in {n} minutes", count(minutes)),
            &[("n", &minutes.to_string())],
        )
    } else {
        let hours = left / 3600;
        fill(
            &ngettext("expires in {n} hour", "expires in {n} hours", count(hours)),
            &[("n", &hours.to_string())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmnet_doctor_core::parse_network_xml;

    const GUIDE_DEFAULT: &str = include_str!("../../tests/libvirtd/default-network.xml");

    fn default_network(active: bool, leases: Fact<Vec<DhcpLease>>) -> Result<NetworkSnapshot, String> {
        let config = parse_network_xml(GUIDE_DEFAULT).map_err(|e| e.to_string())?;
        Ok(NetworkSnapshot { config, active, autostart: true, persistent: true, leases })
    }

    #[test]
    fn the_summary_says_mode_bridge_subnet_and_state() -> Result<(), String> {
        let network = default_network(true, Fact::Known(Vec::new()))?;
        assert_eq!(summary(&network), "NAT · virbr0 · 192.168.122.0/24 · Running");
        let ip = network.config.ips.first().ok_or("no ip")?;
        assert_eq!(subnet(ip), "192.168.122.0/24, host 192.168.122.1");
        assert_eq!(dhcp_ranges(ip), "192.168.122.2 – 192.168.122.254");
        assert_eq!(forwarding(&network.config), "NAT to any physical device");
        Ok(())
    }

    #[test]
    fn ipv6_subnets_are_masked_too() -> Result<(), String> {
        let ip = IpDef {
            address: "fd00:1234:5678::1".parse().map_err(|_| "address")?,
            prefix: Some(64),
            dhcp_ranges: Vec::new(),
            dhcp_hosts: Vec::new(),
        };
        assert_eq!(network_address(&ip), "fd00:1234:5678::/64");
        assert_eq!(dhcp_ranges(&ip), "None: guests need static addresses");
        Ok(())
    }

    #[test]
    fn leases_say_who_holds_what_until_when() -> Result<(), String> {
        let lease = DhcpLease {
            mac: Some("52:54:00:6b:3c:58".to_owned()),
            ip: "192.168.122.45".parse().map_err(|_| "ip")?,
            prefix: 24,
            hostname: Some("debian13".to_owned()),
            client_id: None,
            expiry: Some(10_000 + 54 * 60 + 30),
        };
        assert_eq!(
            lease_text(&lease, 10_000),
            "192.168.122.45/24 · debian13\n52:54:00:6b:3c:58 · expires in 54 minutes"
        );
        assert_eq!(expiry(Some(10_000 + 3 * 3600), 10_000), "expires in 3 hours");
        assert_eq!(expiry(Some(10_030), 10_000), "expires in less than a minute");
        assert_eq!(expiry(Some(9_000), 10_000), "expired");
        assert_eq!(expiry(None, 10_000), "never expires");
        Ok(())
    }
}
