//! What the guest's NetworkManager does with a card, for the rules that
//! offer the guide's `kvm-dhcp` profile: the profile active on the card's
//! interface when it is not DHCP (a static address typed in, or a profile
//! that outranks the DHCP one), and the explanation of the fix.

use gettextrs::gettext;

use crate::finding::{Evidence, Fix};
use crate::guest::{NmProfile, ServiceState};
use crate::i18n::fill;
use crate::snapshot::DomainSnapshot;

/// The profile NetworkManager has active on the guest's `interface`, when
/// the guest was inspected, NetworkManager runs and that profile does not
/// use DHCP for IPv4.
pub(super) fn static_profile<'s>(domain: &'s DomainSnapshot, interface: &str) -> Option<&'s NmProfile> {
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

/// The fix for a card whose interface `profile` holds with a static
/// setting: the guide's DHCP profile, ranked above it; and the sentence
/// that says so.
pub(super) fn outranking_fix(vm: &str, interface: &str, profile: &NmProfile) -> (Fix, String) {
    let method = profile.ipv4_method.as_deref().unwrap_or_default();
    let addresses =
        if profile.ipv4_addresses.is_empty() { "—".to_owned() } else { profile.ipv4_addresses.join(", ") };
    let gateway = profile.ipv4_gateway.as_deref().unwrap_or("—");
    let sentence = fill(
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
    );
    (Fix::CreateGuestDhcpProfile { vm: vm.to_owned(), interface: interface.to_owned() }, sentence)
}

/// The profile as evidence: its name, method, addresses and gateway.
pub(super) fn profile_evidence(profile: &NmProfile) -> Evidence {
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
