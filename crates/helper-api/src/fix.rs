//! The fixes the helper can apply: a closed set of typed requests.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use zbus::Type;

use crate::actions;
use crate::names::IfaceName;

/// A host change the helper knows how to make, with its typed arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FixRequest {
    /// `net.ipv4.ip_forward = 1`, now and after a reboot.
    EnableIpv4Forwarding,
    /// The guide's UFW rules for a libvirt bridge: `allow in on BRIDGE`,
    /// `allow out on BRIDGE` and `route allow in on BRIDGE out on UPLINK`.
    /// `allow in on BRIDGE` also lets the guests' DHCP and DNS queries reach
    /// libvirt's dnsmasq.
    UfwAllowBridge { bridge: IfaceName, uplink: IfaceName },
    /// Accept forwarding from BRIDGE to UPLINK and the replies, in
    /// iptables' `DOCKER-USER` chain when it exists, else in `FORWARD`,
    /// ahead of a dropping policy (Docker's).
    AcceptForward { bridge: IfaceName, uplink: IfaceName },
    /// Accept the frames a host bridge forwards between its own ports (the
    /// VMs on it and its LAN side), which `br_netfilter` makes traverse
    /// iptables' FORWARD chain as BRIDGE to BRIDGE: in `DOCKER-USER` when it
    /// exists, else in `FORWARD`, ahead of a dropping policy (Docker's).
    AcceptBridged { bridge: IfaceName },
    /// Clamp the MSS of TCP connections the guests on BRIDGE open through
    /// UPLINK to the path's MTU (iptables' mangle table, FORWARD): when the
    /// uplink's MTU is smaller than the guests' and ICMP "fragmentation
    /// needed" never arrives, large transfers stall.
    ClampMss { bridge: IfaceName, uplink: IfaceName },
    /// `firewall_backend = "BACKEND"` in `/etc/libvirt/network.conf`, then
    /// a restart of libvirt's network driver (through systemd) so that its
    /// networks' firewall rules are made again with that backend.
    SetLibvirtFirewallBackend { backend: LibvirtFirewallBackend },
    /// `allow BRIDGE` in `/etc/qemu/bridge.conf`, qemu-bridge-helper's
    /// access list: VMs of per-user connections (`qemu:///session`) may
    /// then put their cards on that host bridge.
    AllowQemuBridge { bridge: IfaceName },
}

/// The firewall backends of libvirt's network driver (libvirt ≥ 10), as
/// `firewall_backend` in `/etc/libvirt/network.conf` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LibvirtFirewallBackend {
    Iptables,
    Nftables,
}

impl LibvirtFirewallBackend {
    pub const ALL: [Self; 2] = [Self::Iptables, Self::Nftables];

    /// The value in network.conf and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iptables => "iptables",
            Self::Nftables => "nftables",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|backend| backend.as_str() == name)
    }
}

impl fmt::Display for LibvirtFirewallBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which fix, without its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FixKind {
    EnableIpv4Forwarding,
    UfwAllowBridge,
    AcceptForward,
    AcceptBridged,
    ClampMss,
    SetLibvirtFirewallBackend,
    AllowQemuBridge,
}

impl FixKind {
    pub const ALL: [Self; 7] = [
        Self::EnableIpv4Forwarding,
        Self::UfwAllowBridge,
        Self::AcceptForward,
        Self::AcceptBridged,
        Self::ClampMss,
        Self::SetLibvirtFirewallBackend,
        Self::AllowQemuBridge,
    ];

    /// The name on the wire (and in transaction ids).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EnableIpv4Forwarding => "enable-ipv4-forwarding",
            Self::UfwAllowBridge => "ufw-allow-bridge",
            Self::AcceptForward => "accept-forward",
            Self::AcceptBridged => "accept-bridged",
            Self::ClampMss => "clamp-mss",
            Self::SetLibvirtFirewallBackend => "set-libvirt-firewall-backend",
            Self::AllowQemuBridge => "allow-qemu-bridge",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The polkit action that authorizes applying (or reverting) it. The
    /// libvirt backend is a firewall setting: it decides which netfilter
    /// rules libvirt writes for its networks. qemu-bridge-helper's list is
    /// an action of its own: it decides which bridges every local user's
    /// VMs may join, not what traffic passes.
    pub fn action(self) -> &'static str {
        match self {
            Self::EnableIpv4Forwarding => actions::MODIFY_SYSCTL,
            Self::AllowQemuBridge => actions::MODIFY_BRIDGE_ACCESS,
            Self::UfwAllowBridge
            | Self::AcceptForward
            | Self::AcceptBridged
            | Self::ClampMss
            | Self::SetLibvirtFirewallBackend => actions::MODIFY_FIREWALL,
        }
    }

    /// The argument names the fix takes, in order.
    fn arg_names(self) -> &'static [&'static str] {
        match self {
            Self::EnableIpv4Forwarding => &[],
            Self::UfwAllowBridge | Self::AcceptForward | Self::ClampMss => &["bridge", "uplink"],
            Self::AcceptBridged | Self::AllowQemuBridge => &["bridge"],
            Self::SetLibvirtFirewallBackend => &["backend"],
        }
    }
}

impl fmt::Display for FixKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A fix as it travels over D-Bus, `(sa{ss})`: its kind and its named
/// arguments. [`FixRequest::from_wire`] checks it strictly (known kind,
/// exactly the expected arguments, valid names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct FixWire {
    pub kind: String,
    pub args: BTreeMap<String, String>,
}

/// Why a [`FixWire`] is not a valid [`FixRequest`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidFix(pub String);

impl FixRequest {
    pub fn kind(&self) -> FixKind {
        match self {
            Self::EnableIpv4Forwarding => FixKind::EnableIpv4Forwarding,
            Self::UfwAllowBridge { .. } => FixKind::UfwAllowBridge,
            Self::AcceptForward { .. } => FixKind::AcceptForward,
            Self::AcceptBridged { .. } => FixKind::AcceptBridged,
            Self::ClampMss { .. } => FixKind::ClampMss,
            Self::SetLibvirtFirewallBackend { .. } => FixKind::SetLibvirtFirewallBackend,
            Self::AllowQemuBridge { .. } => FixKind::AllowQemuBridge,
        }
    }

    /// The bridge and uplink of the fixes that have them.
    pub fn bridge_and_uplink(&self) -> Option<(&IfaceName, &IfaceName)> {
        match self {
            Self::EnableIpv4Forwarding
            | Self::AcceptBridged { .. }
            | Self::AllowQemuBridge { .. }
            | Self::SetLibvirtFirewallBackend { .. } => None,
            Self::UfwAllowBridge { bridge, uplink }
            | Self::AcceptForward { bridge, uplink }
            | Self::ClampMss { bridge, uplink } => Some((bridge, uplink)),
        }
    }

    pub fn to_wire(&self) -> FixWire {
        let mut args = BTreeMap::new();
        if let Some((bridge, uplink)) = self.bridge_and_uplink() {
            args.insert("bridge".to_owned(), bridge.as_str().to_owned());
            args.insert("uplink".to_owned(), uplink.as_str().to_owned());
        }
        if let Self::SetLibvirtFirewallBackend { backend } = self {
            args.insert("backend".to_owned(), backend.as_str().to_owned());
        }
        if let Self::AcceptBridged { bridge } | Self::AllowQemuBridge { bridge } = self {
            args.insert("bridge".to_owned(), bridge.as_str().to_owned());
        }
        FixWire { kind: self.kind().as_str().to_owned(), args }
    }

    pub fn from_wire(wire: &FixWire) -> Result<Self, InvalidFix> {
        let kind = FixKind::from_name(&wire.kind)
            .ok_or_else(|| InvalidFix(format!("unknown fix {:?}", short(&wire.kind))))?;
        let expected = kind.arg_names();
        if wire.args.len() != expected.len() || !wire.args.keys().all(|key| expected.contains(&key.as_str()))
        {
            let got: Vec<String> = wire.args.keys().map(|key| short(key)).collect();
            return Err(InvalidFix(format!("fix {kind} takes the arguments {expected:?}, not {got:?}")));
        }
        let name = |key: &str| -> Result<IfaceName, InvalidFix> {
            let value = wire.args.get(key).map(String::as_str).unwrap_or_default();
            IfaceName::new(value).map_err(|error| InvalidFix(format!("{key}: {error}")))
        };
        Ok(match kind {
            FixKind::EnableIpv4Forwarding => Self::EnableIpv4Forwarding,
            FixKind::UfwAllowBridge => {
                Self::UfwAllowBridge { bridge: name("bridge")?, uplink: name("uplink")? }
            }
            FixKind::AcceptForward => {
                Self::AcceptForward { bridge: name("bridge")?, uplink: name("uplink")? }
            }
            FixKind::AcceptBridged => Self::AcceptBridged { bridge: name("bridge")? },
            FixKind::AllowQemuBridge => Self::AllowQemuBridge { bridge: name("bridge")? },
            FixKind::ClampMss => Self::ClampMss { bridge: name("bridge")?, uplink: name("uplink")? },
            FixKind::SetLibvirtFirewallBackend => {
                let value = wire.args.get("backend").map(String::as_str).unwrap_or_default();
                let backend = LibvirtFirewallBackend::from_name(value).ok_or_else(|| {
                    InvalidFix(format!("backend: {:?} is neither iptables nor nftables", short(value)))
                })?;
                Self::SetLibvirtFirewallBackend { backend }
            }
        })
    }
}

impl FixRequest {
    /// The commands a user runs by hand when the helper is not available
    /// (a Flatpak, or the helper not installed), with the real names filled
    /// in. The names are validated, so the lines are safe to copy into a
    /// shell. Lines starting with `#` are explanations.
    pub fn manual_commands(&self) -> Vec<String> {
        match self {
            Self::EnableIpv4Forwarding => vec![
                "sudo sysctl -w net.ipv4.ip_forward=1".to_owned(),
                "echo 'net.ipv4.ip_forward = 1' | sudo tee /etc/sysctl.d/90-vmnet-doctor.conf".to_owned(),
            ],
            Self::UfwAllowBridge { bridge, uplink } => vec![
                format!("sudo ufw allow in on {bridge}"),
                format!("sudo ufw allow out on {bridge}"),
                format!("sudo ufw route allow in on {bridge} out on {uplink}"),
                "sudo ufw reload".to_owned(),
            ],
            Self::AcceptForward { bridge, uplink } => vec![
                "# Without Docker (no DOCKER-USER chain), use FORWARD instead of DOCKER-USER.".to_owned(),
                "# If Docker uses legacy iptables (iptables-legacy-save shows its chains), use iptables-legacy."
                    .to_owned(),
                format!("sudo iptables -I DOCKER-USER -i {bridge} -o {uplink} -j ACCEPT"),
                format!(
                    "sudo iptables -I DOCKER-USER -i {uplink} -o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
                ),
                "# If the network has IPv6 and ip6tables' FORWARD policy is DROP, the same with ip6tables:"
                    .to_owned(),
                format!("sudo ip6tables -I DOCKER-USER -i {bridge} -o {uplink} -j ACCEPT"),
                format!(
                    "sudo ip6tables -I DOCKER-USER -i {uplink} -o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
                ),
                "# These rules are lost at the next reboot.".to_owned(),
            ],
            Self::AcceptBridged { bridge } => vec![
                "# Without Docker (no DOCKER-USER chain), use FORWARD instead of DOCKER-USER.".to_owned(),
                "# If Docker uses legacy iptables (iptables-legacy-save shows its chains), use iptables-legacy."
                    .to_owned(),
                format!("sudo iptables -I DOCKER-USER -i {bridge} -o {bridge} -j ACCEPT"),
                "# If net.bridge.bridge-nf-call-ip6tables is 1 and ip6tables' FORWARD policy is DROP, the same with ip6tables:"
                    .to_owned(),
                format!("sudo ip6tables -I DOCKER-USER -i {bridge} -o {bridge} -j ACCEPT"),
                "# These rules are lost at the next reboot.".to_owned(),
            ],
            Self::ClampMss { bridge, uplink } => vec![
                format!(
                    "sudo iptables -t mangle -I FORWARD -i {bridge} -o {uplink} -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu"
                ),
                "# This rule is lost at the next reboot.".to_owned(),
            ],
            Self::SetLibvirtFirewallBackend { backend } => vec![
                "# In /etc/libvirt/network.conf, change an uncommented firewall_backend line to this one, or add it:"
                    .to_owned(),
                format!("firewall_backend = \"{backend}\""),
                "# Then restart libvirt's network driver: virtnetworkd where libvirt's modular daemons run, else libvirtd."
                    .to_owned(),
                "sudo systemctl try-restart virtnetworkd.service".to_owned(),
                "sudo systemctl try-restart libvirtd.service".to_owned(),
            ],
            Self::AllowQemuBridge { bridge } => vec![
                format!("echo 'allow {bridge}' | sudo tee -a /etc/qemu/bridge.conf"),
                "# Then start the VM again.".to_owned(),
            ],
        }
    }
}

impl fmt::Display for FixRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Self::SetLibvirtFirewallBackend { backend } = self {
            return write!(f, "{}(backend={backend})", self.kind());
        }
        if let Self::AcceptBridged { bridge } | Self::AllowQemuBridge { bridge } = self {
            return write!(f, "{}(bridge={bridge})", self.kind());
        }
        match self.bridge_and_uplink() {
            Some((bridge, uplink)) => write!(f, "{}(bridge={bridge}, uplink={uplink})", self.kind()),
            None => write!(f, "{}", self.kind()),
        }
    }
}

/// At most 40 characters of an untrusted string, for messages.
fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(kind: &str, args: &[(&str, &str)]) -> FixWire {
        FixWire {
            kind: kind.to_owned(),
            args: args.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect(),
        }
    }

    #[test]
    fn round_trips_every_kind() -> Result<(), Box<dyn std::error::Error>> {
        let fixes = [
            FixRequest::EnableIpv4Forwarding,
            FixRequest::UfwAllowBridge {
                bridge: IfaceName::new("virbr0")?,
                uplink: IfaceName::new("enp3s0")?,
            },
            FixRequest::AcceptForward { bridge: IfaceName::new("virbr1")?, uplink: IfaceName::new("wlan0")? },
            FixRequest::AcceptBridged { bridge: IfaceName::new("br0")? },
            FixRequest::ClampMss { bridge: IfaceName::new("virbr0")?, uplink: IfaceName::new("wg0")? },
            FixRequest::SetLibvirtFirewallBackend { backend: LibvirtFirewallBackend::Iptables },
            FixRequest::SetLibvirtFirewallBackend { backend: LibvirtFirewallBackend::Nftables },
            FixRequest::AllowQemuBridge { bridge: IfaceName::new("virbr0")? },
        ];
        for fix in fixes {
            assert_eq!(FixRequest::from_wire(&fix.to_wire())?, fix);
        }
        Ok(())
    }

    #[test]
    fn rejects_unknown_kinds_missing_extra_and_invalid_arguments() {
        let cases = [
            wire("rm-rf", &[]),
            wire("ufw-allow-bridge", &[("bridge", "virbr0")]),
            wire("ufw-allow-bridge", &[("bridge", "virbr0"), ("uplink", "eth0"), ("rule", "allow 22")]),
            wire("ufw-allow-bridge", &[("bridge", "virbr0"), ("out", "eth0")]),
            wire("ufw-allow-bridge", &[("bridge", "virbr0; reboot"), ("uplink", "eth0")]),
            wire("accept-forward", &[("bridge", "virbr0"), ("uplink", "-j DROP")]),
            wire("enable-ipv4-forwarding", &[("value", "0")]),
            wire("accept-bridged", &[]),
            wire("clamp-mss", &[("bridge", "virbr0")]),
            wire("accept-bridged", &[("bridge", "br0"), ("uplink", "eth0")]),
            wire("accept-bridged", &[("bridge", "br0 -j DROP")]),
            wire("set-libvirt-firewall-backend", &[]),
            wire("set-libvirt-firewall-backend", &[("backend", "firewalld")]),
            wire("set-libvirt-firewall-backend", &[("backend", "nftables\nfoo = 1")]),
            wire("set-libvirt-firewall-backend", &[("backend", "/etc/passwd")]),
            wire("set-libvirt-firewall-backend", &[("backend", "iptables"), ("path", "/etc/x")]),
            wire("set-libvirt-firewall-backend", &[("bridge", "virbr0")]),
            wire("allow-qemu-bridge", &[]),
            wire("allow-qemu-bridge", &[("bridge", "br0\nallow all")]),
            wire("allow-qemu-bridge", &[("bridge", "br0"), ("path", "/etc/passwd")]),
        ];
        for case in cases {
            assert!(FixRequest::from_wire(&case).is_err(), "{case:?}");
        }
    }

    #[test]
    fn manual_commands_carry_the_real_names() -> Result<(), Box<dyn std::error::Error>> {
        let fix = FixRequest::UfwAllowBridge {
            bridge: IfaceName::new("virbr1")?,
            uplink: IfaceName::new("wlp2s0")?,
        };
        assert_eq!(
            fix.manual_commands(),
            [
                "sudo ufw allow in on virbr1",
                "sudo ufw allow out on virbr1",
                "sudo ufw route allow in on virbr1 out on wlp2s0",
                "sudo ufw reload"
            ]
        );
        let forward =
            FixRequest::AcceptForward { bridge: IfaceName::new("virbr1")?, uplink: IfaceName::new("eth0")? };
        assert!(
            forward
                .manual_commands()
                .iter()
                .any(|line| line == "sudo iptables -I DOCKER-USER -i virbr1 -o eth0 -j ACCEPT")
        );
        let bridged = FixRequest::AcceptBridged { bridge: IfaceName::new("br0")? };
        assert!(
            bridged
                .manual_commands()
                .iter()
                .any(|line| line == "sudo iptables -I DOCKER-USER -i br0 -o br0 -j ACCEPT")
        );
        Ok(())
    }

    #[test]
    fn kinds_map_to_their_polkit_actions() {
        assert_eq!(FixKind::EnableIpv4Forwarding.action(), actions::MODIFY_SYSCTL);
        assert_eq!(FixKind::UfwAllowBridge.action(), actions::MODIFY_FIREWALL);
        assert_eq!(FixKind::AcceptForward.action(), actions::MODIFY_FIREWALL);
        assert_eq!(FixKind::AcceptBridged.action(), actions::MODIFY_FIREWALL);
        assert_eq!(FixKind::ClampMss.action(), actions::MODIFY_FIREWALL);
        assert_eq!(FixKind::SetLibvirtFirewallBackend.action(), actions::MODIFY_FIREWALL);
        assert_eq!(FixKind::AllowQemuBridge.action(), actions::MODIFY_BRIDGE_ACCESS);
        for kind in FixKind::ALL {
            assert_eq!(FixKind::from_name(kind.as_str()), Some(kind));
        }
    }
}
