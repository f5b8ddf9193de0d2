//! What the guest's NetworkManager does with a card, for the rules that
//! offer the guide's `kvm-dhcp` profile: the profile active on the card's
//! interface when it is not DHCP (a static address typed in, or a profile
//! that outranks the DHCP one), and the explanation of the fix.

use gettextrs::gettext;

use crate::finding::{Evidence, Fix};
use crate::guest::{NmProfile, ServiceState};
use crate::i18n::fill;
use crate::snapshot::DomainSnapshot;

/// When NetworkManager holds the guest's `interface` with a static
/// profile: the guide's DHCP profile, ranked above it, as the fix, with
/// the sentence that says so added to `explanation` and the profile to
/// `evidence`. Nothing when the guest was not inspected.
pub(super) fn static_profile_fix(
    domain: &DomainSnapshot,
    interface: &str,
    explanation: &mut String,
    evidence: &mut Vec<Evidence>,
) -> Option<Fix> {
    let profile = static_profile(domain, interface)?;
    explanation.push(' ');
    explanation.push_str(&outranking_sentence(interface, profile));
    evidence.push(profile_evidence(profile));
    Some(Fix::CreateGuestDhcpProfile { vm: domain.name().to_owned(), interface: interface.to_owned() })
}

/// The profile NetworkManager has active on the guest's `interface`, when
/// the guest was inspected, NetworkManager runs and that profile does not
/// use DHCP for IPv4.
fn static_profile<'s>(domain: &'s DomainSnapshot, interface: &str) -> Option<&'s NmProfile> {
    let network = domain.guest.known()?.network.known()?;
    if network.network_manager != ServiceState::Running {
        return None;
    }
    network
        .profiles
        .known()?
        .iter()
        .find(|profile| profile.device.as_deref() == Some(interface) && profile.ipv4_not_dhcp())
}

/// What the fix does about `profile`, which holds `interface`.
fn outranking_sentence(interface: &str, profile: &NmProfile) -> String {
    let method = profile.ipv4_method.as_deref().unwrap_or_default();
    let addresses =
        if profile.ipv4_addresses.is_empty() { "—".to_owned() } else { profile.ipv4_addresses.join(", ") };
    let gateway = profile.ipv4_gateway.as_deref().unwrap_or("—");
    fill(
        &gettext(
            "NetworkManager’s profile “{profile}” sets this on {interface} (ipv4.method {method}, addresses {addresses}, gateway {gateway}). The fix adds the guide’s DHCP profile kvm-dhcp for {interface}, ranked above “{profile}” so that it also wins at the next boot, and brings it up; “{profile}” is kept, and the revert deletes kvm-dhcp so that “{profile}” applies again.",
        ),
        &[
            ("profile", profile.name.as_str()),
            ("interface", interface),
            ("method", method),
            ("addresses", addresses.as_str()),
            ("gateway", gateway),
        ],
    )
}

/// The profile as evidence: its name, method, addresses and gateway.
fn profile_evidence(profile: &NmProfile) -> Evidence {
    let mut value = format!("ipv4.method {}", profile.ipv4_method.as_deref().unwrap_or("?"));
    if !profile.ipv4_addresses.is_empty() {
        value.push_str(&format!(", ipv4.addresses {}", profile.ipv4_addresses.join(", ")));
    }
    if let Some(gateway) = &profile.ipv4_gateway {
        value.push_str(&format!(", ipv4.gateway {gateway}"));
    }
    value.push_str(&format!(", autoconnect-priority {}", profile.autoconnect_priority));
    Evidence::new(format!("NetworkManager profile “{}” (active, guest)", profile.name), value)
}
