//! A VM's network card as libvirt describes it (`<interface>` in domain XML).

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
    Network { network: String, portgroup: Option<String>, bridge: Option<String> },
    /// A host bridge (e.g. `br0`).
    Bridge { bridge: String },
    /// macvtap on a host device; `mode` is vepa/bridge/private/passthrough.
    Direct { dev: String, mode: Option<String> },
    /// User-mode networking (SLIRP, or passt when `Interface::backend` says so).
    User,
    /// A tap device managed outside libvirt.
    Ethernet,
    VhostUser { path: Option<String>, mode: Option<String> },
    /// A PCI/USB device passed through; `address` as libvirt prints it.
    Hostdev { address: Option<String> },
    Vdpa { dev: String },
    /// mcast/udp/server/client tunnels.
    Socket { address: Option<String>, port: Option<u16>, local_address: Option<String>, local_port: Option<u16> },
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
