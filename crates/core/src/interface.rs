//! A VM's network card as libvirt describes it (`<interface>` in domain XML).
//!
//! See <https://libvirt.org/formatdomain.html#network-interfaces>.

use crate::xml::Element;

/// libvirt's `<interface type=…>`; every type libvirt documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceType {
    Network,
    Bridge,
    Direct,
    User,
    Ethernet,
    VhostUser,
    Hostdev,
    Vdpa,
    Mcast,
    Udp,
    Server,
    Client,
    Null,
    Vds,
    /// A type newer than this program; kept verbatim.
    Unknown(String),
}

/// Where the NIC's traffic goes (`<source>`), by interface type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterfaceSource {
    /// A libvirt virtual network. `bridge` is only present in live XML.
    Network {
        network: String,
        portgroup: Option<String>,
        bridge: Option<String>,
    },
    /// A host bridge (e.g. `br0`).
    Bridge {
        bridge: String,
    },
    /// macvtap on a host device; `mode` is vepa/bridge/private/passthrough.
    Direct {
        dev: String,
        mode: Option<String>,
    },
    /// User-mode networking (SLIRP, or passt when `Interface::backend` says so).
    User,
    /// A tap device managed outside libvirt.
    Ethernet,
    VhostUser {
        path: Option<String>,
        mode: Option<String>,
    },
    /// A PCI/USB device passed through; `address` as libvirt prints it.
    Hostdev {
        address: Option<String>,
    },
    Vdpa {
        dev: String,
    },
    /// mcast/udp/server/client tunnels.
    Socket {
        address: Option<String>,
        port: Option<u16>,
        local_address: Option<String>,
        local_port: Option<u16>,
    },
    /// No `<source>` given, or a type with none (null, vds, unknown).
    None,
}

/// `<link state=…>`; libvirt's default is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LinkState {
    #[default]
    Up,
    Down,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub kind: InterfaceType,
    /// Lower-case `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<String>,
    pub source: InterfaceSource,
    /// `<model type=…>`: virtio, e1000e, e1000, rtl8139, …
    pub model: Option<String>,
    /// `<backend type=…>`, e.g. `passt` for user-mode networking through passt.
    pub backend: Option<String>,
    pub link_state: LinkState,
    /// `<target dev=…>`: the host-side tap (live XML), e.g. `vnet3`.
    pub target_dev: Option<String>,
    /// `<alias name=…>`, e.g. `net0` (live XML).
    pub alias: Option<String>,
    /// `<source portgroup=…>` or `<portgroup>` on networks.
    pub portgroup: Option<String>,
}

impl InterfaceType {
    /// Maps libvirt's `type` attribute; a value this program does not know is
    /// kept rather than rejected, so newer libvirt XML still loads.
    pub fn from_libvirt(value: &str) -> Self {
        match value {
            "network" => Self::Network,
            "bridge" => Self::Bridge,
            "direct" => Self::Direct,
            "user" => Self::User,
            "ethernet" => Self::Ethernet,
            "vhostuser" => Self::VhostUser,
            "hostdev" => Self::Hostdev,
            "vdpa" => Self::Vdpa,
            "mcast" => Self::Mcast,
            "udp" => Self::Udp,
            "server" => Self::Server,
            "client" => Self::Client,
            "null" => Self::Null,
            "vds" => Self::Vds,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The `type` attribute as libvirt spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Network => "network",
            Self::Bridge => "bridge",
            Self::Direct => "direct",
            Self::User => "user",
            Self::Ethernet => "ethernet",
            Self::VhostUser => "vhostuser",
            Self::Hostdev => "hostdev",
            Self::Vdpa => "vdpa",
            Self::Mcast => "mcast",
            Self::Udp => "udp",
            Self::Server => "server",
            Self::Client => "client",
            Self::Null => "null",
            Self::Vds => "vds",
            Self::Unknown(other) => other,
        }
    }
}

impl Interface {
    /// The libvirt virtual network this NIC is plugged into, if any.
    pub fn network_name(&self) -> Option<&str> {
        match &self.source {
            InterfaceSource::Network { network, .. } => Some(network),
            _ => None,
        }
    }

    /// Whether user-mode networking goes through passt rather than SLIRP.
    pub fn uses_passt(&self) -> bool {
        self.kind == InterfaceType::User && self.backend.as_deref() == Some("passt")
    }

    /// Reads one `<interface>` element of domain XML.
    ///
    /// Nothing in it is required: what is missing or unreadable is `None` (or
    /// libvirt's default), so one odd NIC never hides the others.
    pub(crate) fn from_element(element: &Element) -> Self {
        // libvirt itself treats an `<interface>` without `type` as user-mode.
        let kind = element.attr_nonempty("type").map_or(InterfaceType::User, InterfaceType::from_libvirt);
        let source_element = element.child("source");
        let source_attr = |name: &str| source_element.and_then(|source| source.attr_nonempty(name));
        let source = read_source(&kind, source_element);
        let portgroup = source_attr("portgroup")
            // vds NICs name their distributed port group this way.
            .or_else(|| if kind == InterfaceType::Vds { source_attr("portgroupid") } else { None })
            .map(str::to_owned);
        let child_attr = |child: &str, attr: &str| {
            element.child(child).and_then(|c| c.attr_nonempty(attr)).map(str::to_owned)
        };
        let link_state = match element.child("link").and_then(|link| link.attr_nonempty("state")) {
            Some("down") => LinkState::Down,
            _ => LinkState::Up,
        };
        Interface {
            mac: child_attr("mac", "address").map(|mac| mac.to_ascii_lowercase()),
            source,
            model: child_attr("model", "type"),
            backend: child_attr("backend", "type"),
            link_state,
            target_dev: child_attr("target", "dev"),
            alias: child_attr("alias", "name"),
            portgroup,
            kind,
        }
    }
}

/// `<source>` means something different for each interface type.
fn read_source(kind: &InterfaceType, source: Option<&Element>) -> InterfaceSource {
    let attr = |name: &str| source.and_then(|s| s.attr_nonempty(name)).map(str::to_owned);
    match kind {
        InterfaceType::Network => match attr("network") {
            Some(network) => {
                InterfaceSource::Network { network, portgroup: attr("portgroup"), bridge: attr("bridge") }
            }
            None => InterfaceSource::None,
        },
        InterfaceType::Bridge => {
            attr("bridge").map_or(InterfaceSource::None, |bridge| InterfaceSource::Bridge { bridge })
        }
        InterfaceType::Direct => match attr("dev") {
            Some(dev) => InterfaceSource::Direct { dev, mode: attr("mode") },
            None => InterfaceSource::None,
        },
        InterfaceType::User => InterfaceSource::User,
        InterfaceType::Ethernet => InterfaceSource::Ethernet,
        InterfaceType::VhostUser => InterfaceSource::VhostUser { path: attr("path"), mode: attr("mode") },
        InterfaceType::Hostdev => InterfaceSource::Hostdev {
            address: source.and_then(|s| s.child("address")).and_then(hostdev_address),
        },
        InterfaceType::Vdpa => attr("dev").map_or(InterfaceSource::None, |dev| InterfaceSource::Vdpa { dev }),
        InterfaceType::Mcast | InterfaceType::Udp | InterfaceType::Server | InterfaceType::Client => {
            let local = source.and_then(|s| s.child("local"));
            let local_attr = |name: &str| local.and_then(|l| l.attr_nonempty(name));
            InterfaceSource::Socket {
                address: attr("address"),
                port: attr("port").and_then(|port| port.parse().ok()),
                local_address: local_attr("address").map(str::to_owned),
                local_port: local_attr("port").and_then(|port| port.parse().ok()),
            }
        }
        InterfaceType::Null | InterfaceType::Vds | InterfaceType::Unknown(_) => InterfaceSource::None,
    }
}

/// Renders a PCI `<address>` the way `lspci` and sysfs name the device,
/// `0000:03:00.0`. libvirt only passes PCI devices (SR-IOV VFs) to
/// `type='hostdev'` NICs, so other address types give `None`.
fn hostdev_address(address: &Element) -> Option<String> {
    if address.attr_nonempty("type") != Some("pci") {
        return None;
    }
    // libvirt omits the domain when it is 0.
    let domain = address.attr_nonempty("domain").map_or(Some(0), parse_libvirt_uint)?;
    let bus = parse_libvirt_uint(address.attr_nonempty("bus")?)?;
    let slot = parse_libvirt_uint(address.attr_nonempty("slot")?)?;
    let function = parse_libvirt_uint(address.attr_nonempty("function")?)?;
    Some(format!("{domain:04x}:{bus:02x}:{slot:02x}.{function:x}"))
}

/// Numbers as libvirt reads them (`strtoul` base 0): `0x` hex, leading-zero
/// octal, otherwise decimal.
fn parse_libvirt_uint(value: &str) -> Option<u32> {
    let value = value.trim();
    if let Some(hex) = value.strip_prefix("0x").or_else(|| value.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if value.len() > 1 && value.starts_with('0') {
        u32::from_str_radix(&value[1..], 8).ok()
    } else {
        value.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn type_names_round_trip() {
        for name in [
            "network",
            "bridge",
            "direct",
            "user",
            "ethernet",
            "vhostuser",
            "hostdev",
            "vdpa",
            "mcast",
            "udp",
            "server",
            "client",
            "null",
            "vds",
            "future-thing",
        ] {
            assert_eq!(InterfaceType::from_libvirt(name).as_str(), name);
        }
        assert_eq!(InterfaceType::from_libvirt("quantum"), InterfaceType::Unknown("quantum".into()));
    }

    #[test]
    fn libvirt_numbers_in_every_base() {
        assert_eq!(parse_libvirt_uint("0x1f"), Some(31));
        assert_eq!(parse_libvirt_uint("0X1F"), Some(31));
        assert_eq!(parse_libvirt_uint("010"), Some(8));
        assert_eq!(parse_libvirt_uint("0"), Some(0));
        assert_eq!(parse_libvirt_uint("12"), Some(12));
        assert_eq!(parse_libvirt_uint("0xzz"), None);
        assert_eq!(parse_libvirt_uint("09"), None);
        assert_eq!(parse_libvirt_uint(""), None);
        assert_eq!(parse_libvirt_uint("-1"), None);
    }

    #[test]
    fn pci_addresses_render_like_sysfs() -> TestResult {
        let cases = [
            (
                "<address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>",
                Some("0000:03:00.0"),
            ),
            (
                "<address type='pci' domain='0x0001' bus='0x81' slot='0x1f' function='0x7'/>",
                Some("0001:81:1f.7"),
            ),
            ("<address type='pci' bus='3' slot='2' function='1'/>", Some("0000:03:02.1")),
            ("<address type='pci' bus='0x03' function='0x0'/>", None),
            ("<address type='pci' domain='x' bus='0x03' slot='0x00' function='0x0'/>", None),
            ("<address type='usb' bus='1' device='2'/>", None),
        ];
        for (xml, expected) in cases {
            assert_eq!(hostdev_address(&xml::parse(xml)?).as_deref(), expected, "{xml}");
        }
        Ok(())
    }
}
