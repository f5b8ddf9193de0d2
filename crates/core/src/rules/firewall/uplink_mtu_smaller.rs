//! `uplink-mtu-smaller`: an uplink with a smaller MTU than the bridge of a
//! NAT or route network (a VPN, PPPoE) and no MSS clamping. The guests'
//! TCP connections announce an MSS for their own MTU; when ICMP
//! "fragmentation needed" is filtered somewhere on the way, the peer's
//! full-size packets never arrive: ping and small requests work, large
//! downloads and TLS handshakes stall.

use gettextrs::gettext;

use super::Context;
use crate::finding::{Evidence, Finding, Fix, Severity, Subject};
use crate::host::{Fact, Netfilter};
use crate::i18n::fill;

pub(super) fn check(context: &Context<'_>) -> Vec<Finding> {
    let Fact::Known(netfilter) = &context.host.netfilter else { return Vec::new() };
    if clamps_mss(netfilter) {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for checked in context.forwarding_networks() {
        let Some(bridge_mtu) = context.host.link(checked.bridge).and_then(|link| link.mtu) else { continue };
        for uplink in context.uplinks.iter().flatten().filter(|uplink| uplink.as_str() != checked.bridge) {
            let Some(uplink_mtu) = context.host.link(uplink).and_then(|link| link.mtu) else { continue };
            if uplink_mtu >= bridge_mtu {
                continue;
            }
            let (bridge_mtu_text, uplink_mtu_text) = (bridge_mtu.to_string(), uplink_mtu.to_string());
            let values = [
                ("name", checked.network.name()),
                ("bridge", checked.bridge),
                ("uplink", uplink.as_str()),
                ("bridge_mtu", bridge_mtu_text.as_str()),
                ("uplink_mtu", uplink_mtu_text.as_str()),
            ];
            findings.push(Finding {
                id: "uplink-mtu-smaller",
                severity: Severity::Warning,
                subject: Subject::Network { name: checked.network.name().to_owned() },
                title: fill(
                    &gettext("{uplink} carries smaller packets ({uplink_mtu} bytes) than the VMs of “{name}” send"),
                    &values,
                ),
                explanation: fill(
                    &gettext(
                        "The VMs on {bridge} use packets of up to {bridge_mtu} bytes, but {uplink}, where their traffic leaves the host, carries at most {uplink_mtu} (a VPN or PPPoE does that). Their TCP connections tell the other side to send full-size packets; that only works while the ICMP message “fragmentation needed” gets through, and many networks filter it. Then ping and small pages work, but large downloads, updates and TLS connections stall. The fix clamps the TCP maximum segment size of the VMs' connections to what {uplink} carries (an iptables rule in the mangle table), so nothing too large is ever sent to them.",
                    ),
                    &values,
                ),
                evidence: vec![
                    Evidence::new(format!("MTU of {}", checked.bridge), bridge_mtu_text.clone()),
                    Evidence::new(format!("MTU of {uplink}"), uplink_mtu_text.clone()),
                    Evidence::new("TCP MSS clamping (TCPMSS, maxseg)", "none in the ruleset"),
                ],
                fix: Some(Fix::ClampMss { bridge: checked.bridge.to_owned(), uplink: uplink.clone() }),
            });
        }
    }
    findings
}

/// Whether any rule of the ruleset sets TCP's MSS: iptables' `TCPMSS`
/// target, nftables' `tcp option maxseg size set`.
fn clamps_mss(netfilter: &Netfilter) -> bool {
    let saved = [&netfilter.iptables_nft_save, &netfilter.iptables_legacy_save];
    saved.iter().any(|text| text.as_deref().is_some_and(|text| text.contains("-j TCPMSS")))
        || netfilter
            .nft_json
            .as_deref()
            .is_some_and(|json| json.contains("\"maxseg\"") || json.contains("TCPMSS"))
}
