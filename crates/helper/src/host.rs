//! The host the helper changes: where its files are, and the checks every
//! name in a request must pass against it.

use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vmnet_doctor_core::Fact;
use vmnet_doctor_core::host::{RouteTable, devices};
use vmnet_doctor_core::xml;
use vmnet_doctor_helper_api::IfaceName;
use vmnet_doctor_host::Tools;

/// Where the helper reads and writes. Always the real system paths in the
/// service ([`Host::system`]); other roots exist for unit tests only, so
/// no request can ever choose a path.
#[derive(Debug, Clone)]
pub struct Host {
    pub proc: PathBuf,
    pub sys: PathBuf,
    pub run: PathBuf,
    pub etc: PathBuf,
    /// The directories systemd-sysctl reads, in its order of precedence.
    pub sysctl_dirs: Vec<PathBuf>,
    /// The transaction journal.
    pub journal: PathBuf,
    /// Where `ip route`'s and `ip rule`'s output comes from (the uplink
    /// check reads every routing table).
    pub tools: Tools,
}

/// The name of the file that makes IPv4 forwarding persistent.
pub const SYSCTL_FILE_NAME: &str = "90-vmnet-doctor.conf";

/// An active libvirt network, as its status file in `/run/libvirt/network`
/// describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkStatus {
    pub name: String,
    pub bridge: Option<String>,
    /// It has an IPv6 address (`<ip family='ipv6'>`).
    pub has_ipv6: bool,
    /// The backend libvirt made its firewall rules with
    /// (`<firewall name='fwRemoval' backend='…'>`, libvirt ≥ 10); `None`
    /// when the file does not say.
    pub firewall_backend: Option<String>,
    /// `<forward mode='…'>` (`None`: an isolated network). libvirt turns
    /// IPv4 forwarding on when it starts a network of mode nat, route or
    /// open.
    pub forward_mode: Option<String>,
    /// When libvirt last wrote the status file (seconds since the epoch):
    /// when it started the network, or later when it updated it.
    pub written: Option<u64>,
}

impl NetworkStatus {
    /// Whether libvirt turns IPv4 forwarding on for this network.
    pub fn needs_forwarding(&self) -> bool {
        matches!(self.forward_mode.as_deref(), Some("nat" | "route" | "open"))
    }
}

/// The libvirt daemon that runs the network driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkDaemon {
    /// The monolithic daemon (Debian's and Ubuntu's default).
    Libvirtd,
    /// The modular network daemon (Fedora's, Arch's default).
    Virtnetworkd,
}

impl NetworkDaemon {
    pub fn name(self) -> &'static str {
        match self {
            Self::Libvirtd => "libvirtd",
            Self::Virtnetworkd => "virtnetworkd",
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Self::Libvirtd => "libvirtd.service",
            Self::Virtnetworkd => "virtnetworkd.service",
        }
    }
}

impl Host {
    pub fn system() -> Self {
        Self {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
            run: PathBuf::from("/run"),
            etc: PathBuf::from("/etc"),
            sysctl_dirs: [
                "/etc/sysctl.d",
                "/run/sysctl.d",
                "/usr/local/lib/sysctl.d",
                "/usr/lib/sysctl.d",
                "/lib/sysctl.d",
            ]
            .into_iter()
            .map(PathBuf::from)
            .collect(),
            journal: PathBuf::from("/var/lib/vmnet-doctor-helper/transactions"),
            tools: Tools::System { privileged: true },
        }
    }

    /// A host rooted at `root` (unit tests).
    #[cfg(test)]
    pub fn under(root: &Path) -> Self {
        Self {
            proc: root.join("proc"),
            sys: root.join("sys"),
            run: root.join("run"),
            etc: root.join("etc"),
            sysctl_dirs: vec![root.join("etc/sysctl.d"), root.join("usr/lib/sysctl.d")],
            journal: root.join("var/lib/vmnet-doctor-helper/transactions"),
            // Recorded `ip` outputs under `commands/`; none: `/proc/net`.
            tools: Tools::Recorded { dir: root.join("commands"), privileged: true },
        }
    }

    /// The helper's state directory (`/var/lib/vmnet-doctor-helper`), which
    /// holds the journal.
    pub fn state_dir(&self) -> PathBuf {
        self.journal.parent().map_or_else(|| self.journal.clone(), Path::to_path_buf)
    }

    /// `/etc/sysctl.d/90-vmnet-doctor.conf`.
    pub fn sysctl_file(&self) -> PathBuf {
        self.etc.join("sysctl.d").join(SYSCTL_FILE_NAME)
    }

    /// The files the helper itself writes on the host (the journal aside,
    /// in its state directory): nothing else may be written by a step.
    pub fn managed_files(&self) -> [PathBuf; 3] {
        [self.sysctl_file(), self.libvirt_network_conf(), self.qemu_bridge_conf()]
    }

    /// Every path outside its state directory that the helper or a tool it
    /// runs writes: the files it manages, the setting it changes now, UFW's
    /// rules files (`ufw allow`/`route allow`/`delete` rewrite them in
    /// place) and ufw.conf (`ufw reload` disables and enables UFW, which
    /// rewrites its ENABLED line), and the two tools' lock files. The unit
    /// grants exactly these
    /// (`ReadWritePaths=`), one by one; a test holds the two together.
    #[cfg(test)]
    pub fn written_paths(&self) -> Vec<PathBuf> {
        let mut paths = self.managed_files().to_vec();
        paths.push(self.ip_forward_path());
        paths.extend(["ufw/user.rules", "ufw/user6.rules", "ufw/ufw.conf"].map(|file| self.etc.join(file)));
        paths.extend(["ufw.lock", "xtables.lock"].map(|file| self.run.join(file)));
        paths
    }

    pub fn ip_forward_path(&self) -> PathBuf {
        self.proc.join("sys/net/ipv4/ip_forward")
    }

    /// `net.ipv4.ip_forward` now: `0` or `1`.
    pub fn ip_forward(&self) -> Result<String, String> {
        let path = self.ip_forward_path();
        let value =
            fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        match value.trim() {
            value @ ("0" | "1") => Ok(value.to_owned()),
            other => Err(format!("{}: unexpected value {other:?}", path.display())),
        }
    }

    /// Whether legacy (not nf_tables) iptables tables exist. Checked
    /// without running `iptables-legacy`, which would load kernel modules.
    pub fn has_legacy_iptables_tables(&self) -> bool {
        self.has_legacy_tables("net/ip_tables_names")
    }

    /// The same for ip6tables-legacy.
    pub fn has_legacy_ip6tables_tables(&self) -> bool {
        self.has_legacy_tables("net/ip6_tables_names")
    }

    fn has_legacy_tables(&self, names: &str) -> bool {
        fs::read_to_string(self.proc.join(names)).is_ok_and(|names| !names.trim().is_empty())
    }

    /// `/etc/libvirt/network.conf`.
    pub fn libvirt_network_conf(&self) -> PathBuf {
        self.etc.join("libvirt/network.conf")
    }

    /// `/etc/qemu/bridge.conf`, qemu-bridge-helper's access list.
    pub fn qemu_bridge_conf(&self) -> PathBuf {
        self.etc.join("qemu/bridge.conf")
    }

    /// Checks that `bridge` is a Linux bridge on this host.
    pub fn check_host_bridge(&self, bridge: &IfaceName) -> Result<(), String> {
        if self.sys.join("class/net").join(bridge.as_str()).join("bridge").is_dir() {
            Ok(())
        } else {
            Err(format!("{bridge} is not a bridge on this host"))
        }
    }

    /// Whether systemd is the service manager (`sd_booted()`'s test).
    pub fn systemd_booted(&self) -> bool {
        self.run.join("systemd/system").is_dir()
    }

    /// Which libvirt daemon serves the network driver, by the sockets it
    /// listens on (they exist while it runs or while systemd listens for
    /// it): `virtnetworkd-sock` for the modular daemon; else `libvirt-sock`
    /// of libvirtd. A modular host may have `libvirt-sock` too (from
    /// virtproxyd), so the modular socket is looked for first. `None`: no
    /// libvirt daemon is in use.
    pub fn network_daemon(&self) -> Option<NetworkDaemon> {
        let socket = |name: &str| self.run.join("libvirt").join(name).exists();
        if socket("virtnetworkd-sock") {
            Some(NetworkDaemon::Virtnetworkd)
        } else if socket("libvirt-sock") {
            Some(NetworkDaemon::Libvirtd)
        } else {
            None
        }
    }

    /// The active libvirt networks of the system daemon, from their status
    /// files; unreadable ones are skipped (they are other networks'
    /// problem). `None` when there is no status directory (no network is
    /// active).
    pub fn libvirt_networks(&self) -> Result<Option<Vec<NetworkStatus>>, String> {
        let Some(files) = status_files(&self.run.join("libvirt/network"))? else { return Ok(None) };
        Ok(Some(
            files
                .iter()
                .filter_map(|path| {
                    let mut status = network_status(&read_bounded(path, 1024 * 1024).ok()?)?;
                    status.written = modified(path);
                    Some(status)
                })
                .collect(),
        ))
    }

    /// The libvirt network whose bridge `bridge` is. It must exist as a
    /// bridge link and be named by an active network of the system libvirt
    /// daemon (its status files in `/run/libvirt/network`).
    pub fn libvirt_network_of_bridge(&self, bridge: &IfaceName) -> Result<NetworkStatus, String> {
        if !self.sys.join("class/net").join(bridge.as_str()).join("bridge").is_dir() {
            return Err(format!("{bridge} is not a bridge on this host"));
        }
        let Some(networks) = self.libvirt_networks()? else {
            return Err(format!(
                "{bridge} is not the bridge of a libvirt network: no libvirt network is active"
            ));
        };
        networks
            .into_iter()
            .find(|network| network.bridge.as_deref() == Some(bridge.as_str()))
            .ok_or_else(|| format!("{bridge} is not the bridge of an active libvirt network"))
    }

    /// Checks that `bridge` is a host bridge with a running VM of the
    /// system libvirt daemon on it; the names of those VMs.
    pub fn check_vm_bridge(&self, bridge: &IfaceName) -> Result<Vec<String>, String> {
        self.check_host_bridge(bridge)?;
        let vms = vms_on_bridge(&self.run, bridge)?;
        if vms.is_empty() {
            return Err(format!("no running VM of the system libvirt daemon is plugged into {bridge}"));
        }
        Ok(vms)
    }

    /// `net.bridge.bridge-nf-call-iptables` (IPv4) or `…-ip6tables`: whether
    /// `br_netfilter` passes bridged frames through that family's iptables.
    /// Without the module the file does not exist: they do not pass.
    pub fn bridge_nf_call(&self, ipv6: bool) -> Result<bool, String> {
        let name = if ipv6 { "bridge-nf-call-ip6tables" } else { "bridge-nf-call-iptables" };
        let path = self.proc.join("sys/net/bridge").join(name);
        match read_optional(&path, 16)? {
            None => Ok(false),
            Some(text) => vmnet_doctor_host::sysctl::parse_bool_sysctl(&text)
                .ok_or_else(|| format!("{}: unexpected value {:?}", path.display(), text.trim())),
        }
    }

    /// Checks that `uplink` carries a default route (IPv4 or IPv6) that
    /// forwards, in any routing table (a VPN keeps its own), or in the
    /// main table when iproute2 cannot be run.
    pub fn check_uplink(&self, uplink: &IfaceName) -> Result<(), String> {
        let routes = match vmnet_doctor_host::routes::read(&self.proc, &self.tools).0 {
            Fact::Known(routes) => routes,
            Fact::Unknown(why) => return Err(format!("cannot read the routing table: {why}")),
        };
        let defaults =
            devices(routes.iter().filter(|route| route.is_default() && route.table != RouteTable::LOCAL));
        if defaults.contains(&uplink.as_str()) {
            return Ok(());
        }
        Err(if defaults.is_empty() {
            format!("{uplink} is not a default-route interface: this host has no default route")
        } else {
            format!("{uplink} is not a default-route interface (those are: {})", defaults.join(", "))
        })
    }

    /// Every check a bridge/uplink pair must pass; the bridge's network.
    pub fn check_bridge_and_uplink(
        &self,
        bridge: &IfaceName,
        uplink: &IfaceName,
    ) -> Result<NetworkStatus, String> {
        if bridge == uplink {
            return Err(format!("the bridge and the uplink are both {bridge}"));
        }
        let network = self.libvirt_network_of_bridge(bridge)?;
        self.check_uplink(uplink)?;
        Ok(network)
    }
}

/// The `.xml` status files libvirt keeps in `dir`, sorted; `None` when the
/// directory does not exist (nothing of that kind runs).
fn status_files(dir: &Path) -> Result<Option<Vec<PathBuf>>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("cannot list {}: {error}", dir.display())),
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    Ok(Some(files))
}

/// The running VMs of the system libvirt daemon plugged into host bridge
/// `bridge` (`<interface type='bridge'><source bridge=…/>` in their status
/// files in `/run/libvirt/qemu`), by name.
pub fn vms_on_bridge(run: &Path, bridge: &IfaceName) -> Result<Vec<String>, String> {
    let files = status_files(&run.join("libvirt/qemu"))?.unwrap_or_default();
    Ok(files
        .iter()
        .filter_map(|path| {
            let status = xml::parse(&read_bounded(path, 4 * 1024 * 1024).ok()?).ok()?;
            let domain = if status.name == "domstatus" { status.child("domain")? } else { return None };
            let on_bridge = domain.child("devices")?.children_named("interface").any(|nic| {
                nic.attr("type") == Some("bridge")
                    && nic.child("source").and_then(|source| source.attr("bridge")) == Some(bridge.as_str())
            });
            on_bridge.then(|| domain.child_text("name").map(|name| name.trim().to_owned())).flatten()
        })
        .collect())
}

/// One of libvirt's network status files (`<networkstatus><network>
/// <name/><bridge name=…/><ip family=…/></network><firewall …/>`).
pub fn network_status(text: &str) -> Option<NetworkStatus> {
    let root = xml::parse(text).ok()?;
    if root.name != "networkstatus" {
        return None;
    }
    let network = root.child("network")?;
    let name = network.child_text("name")?.trim().to_owned();
    let bridge = network.child("bridge").and_then(|bridge| bridge.attr_nonempty("name")).map(str::to_owned);
    let has_ipv6 = network.children_named("ip").any(|ip| {
        ip.attr("family") == Some("ipv6") || ip.attr("address").is_some_and(|address| address.contains(':'))
    });
    let firewall_backend = root
        .children_named("firewall")
        .find(|firewall| firewall.attr("name") == Some("fwRemoval"))
        .and_then(|firewall| firewall.attr_nonempty("backend"))
        .map(str::to_owned);
    let forward_mode =
        network.child("forward").map(|forward| forward.attr_nonempty("mode").unwrap_or("nat").to_owned());
    Some(NetworkStatus { name, bridge, has_ipv6, firewall_backend, forward_mode, written: None })
}

/// When a file was last modified, in seconds since the epoch.
pub fn modified(path: &Path) -> Option<u64> {
    let modified = fs::metadata(path).ok()?.modified().ok()?;
    Some(modified.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
}

/// A file's contents, refusing files larger than `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> std::io::Result<String> {
    let mut text = String::new();
    fs::File::open(path)?.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(std::io::Error::other(format!("{} is larger than {limit} bytes", path.display())));
    }
    Ok(text)
}

/// A file's contents, or `None` when it does not exist.
pub fn read_optional(path: &Path, limit: u64) -> Result<Option<String>, String> {
    match read_bounded(path, limit) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
        Err(error) => Err(format!("cannot read {}: {error}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const STATUS: &str = include_str!("../tests/fixtures/libvirt-11.3-network-status-default.xml");

    fn name(text: &str) -> Result<IfaceName, Box<dyn std::error::Error>> {
        Ok(IfaceName::new(text)?)
    }

    /// A host with bridge `virbr0` of network `default`, a plain link
    /// `enp3s0` carrying the default route, and bridge `br-other` that no
    /// libvirt network names.
    fn host() -> Result<(tempfile::TempDir, Host), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        for (link, bridge) in [("virbr0", true), ("br-other", true), ("enp3s0", false)] {
            let path = host.sys.join("class/net").join(link);
            fs::create_dir_all(if bridge { path.join("bridge") } else { path })?;
        }
        fs::create_dir_all(host.run.join("libvirt/network"))?;
        fs::write(host.run.join("libvirt/network/default.xml"), STATUS)?;
        fs::write(host.run.join("libvirt/network/driver.pid"), "42\n")?;
        fs::create_dir_all(host.proc.join("net"))?;
        fs::write(
            host.proc.join("net/route"),
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
             enp3s0\t00000000\t017100CB\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
             virbr0\t007AA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
        )?;
        Ok((dir, host))
    }

    #[test]
    fn reads_a_real_status_file() -> TestResult {
        assert_eq!(
            network_status(STATUS),
            Some(NetworkStatus {
                name: "default".to_owned(),
                bridge: Some("virbr0".to_owned()),
                has_ipv6: false,
                firewall_backend: Some("iptables".to_owned()),
                forward_mode: Some("nat".to_owned()),
                written: None,
            })
        );
        assert_eq!(network_status("<network><name>x</name><bridge name='virbr9'/></network>"), None);
        let v6 = "<networkstatus><network><name>v6</name><bridge name='virbr6'/>\
                  <ip address='203.0.113.1' netmask='255.255.255.0'/>\
                  <ip family='ipv6' address='2001:db8:6::1' prefix='64'/></network></networkstatus>";
        let status = network_status(v6).ok_or("not read")?;
        assert!(status.has_ipv6 && status.firewall_backend.is_none(), "{status:?}");
        Ok(())
    }

    #[test]
    fn a_libvirt_bridge_and_a_default_route_uplink_pass() -> TestResult {
        let (_dir, host) = host()?;
        assert_eq!(
            host.check_bridge_and_uplink(&name("virbr0")?, &name("enp3s0")?).map(|network| network.name),
            Ok("default".to_owned())
        );
        Ok(())
    }

    #[test]
    fn other_bridges_links_and_uplinks_are_refused() -> TestResult {
        if cfg!(target_endian = "big") {
            return Ok(()); // the route sample is little-endian
        }
        let (_dir, host) = host()?;
        let refused = |bridge: &str, uplink: &str| -> Result<String, Box<dyn std::error::Error>> {
            host.check_bridge_and_uplink(&name(bridge)?, &name(uplink)?)
                .err()
                .ok_or_else(|| "accepted".into())
        };
        assert!(refused("br-other", "enp3s0")?.contains("not the bridge of an active libvirt network"));
        assert!(refused("enp3s0", "enp3s0")?.contains("both"));
        assert!(refused("missing0", "enp3s0")?.contains("not a bridge"));
        assert!(refused("virbr0", "virbr0")?.contains("both"));
        assert!(refused("virbr0", "wlan0")?.contains("not a default-route interface (those are: enp3s0)"));
        // A VPN's default route in a table of its own (recorded `ip`).
        assert!(refused("virbr0", "wg0")?.contains("(those are: enp3s0)"));
        let commands = host.proc.parent().ok_or("no root")?.join("commands");
        fs::create_dir_all(&commands)?;
        fs::write(commands.join("ip-route4.json"), r#"[{"dst":"default","dev":"wg0","table":"51820"}]"#)?;
        fs::write(commands.join("ip-rule4.json"), r#"[{"priority":32766,"src":"all","table":"254"}]"#)?;
        assert_eq!(host.check_uplink(&name("wg0")?), Ok(()));
        assert!(refused("virbr0", "enp3s0")?.contains("(those are: wg0)"));
        // A stopped network has no status file.
        fs::remove_file(host.run.join("libvirt/network/default.xml"))?;
        assert!(refused("virbr0", "enp3s0")?.contains("not the bridge of an active libvirt network"));
        Ok(())
    }

    /// What libvirtd 11.3 keeps in /run/libvirt/qemu for the lab's guest
    /// with its card on host bridge br0 (tests/lab S4b-docker-bridged).
    const BRIDGED_DOMAIN_STATUS: &str =
        include_str!("../tests/fixtures/libvirt-11.3-domain-status-bridged.xml");

    #[test]
    fn a_host_bridge_with_a_running_vm_passes_and_others_are_refused() -> TestResult {
        let (_dir, host) = host()?;
        fs::create_dir_all(host.sys.join("class/net/br0/bridge"))?;
        let refused = |bridge: &str| -> Result<String, Box<dyn std::error::Error>> {
            host.check_vm_bridge(&name(bridge)?).err().ok_or_else(|| "accepted".into())
        };
        assert!(refused("br0")?.contains("no running VM"), "no status directory: no VM runs");
        fs::create_dir_all(host.run.join("libvirt/qemu"))?;
        fs::write(host.run.join("libvirt/qemu/lab-guest.xml"), BRIDGED_DOMAIN_STATUS)?;
        fs::write(host.run.join("libvirt/qemu/lab-guest.pid"), "42\n")?;
        assert_eq!(host.check_vm_bridge(&name("br0")?), Ok(vec!["lab-guest".to_owned()]));
        assert!(refused("br-other")?.contains("no running VM"), "a bridge no VM is on");
        assert!(refused("enp3s0")?.contains("not a bridge"));
        assert!(refused("missing0")?.contains("not a bridge"));
        // A persistent definition (not a status file) does not count.
        fs::write(
            host.run.join("libvirt/qemu/lab-guest.xml"),
            BRIDGED_DOMAIN_STATUS.replace("domstatus", "other"),
        )?;
        assert!(refused("br0")?.contains("no running VM"));
        Ok(())
    }

    #[test]
    fn bridge_nf_call_is_read_strictly() -> TestResult {
        let (_dir, host) = host()?;
        assert_eq!(host.bridge_nf_call(false), Ok(false), "no br_netfilter: nothing passes iptables");
        let dir = host.proc.join("sys/net/bridge");
        fs::create_dir_all(&dir)?;
        fs::write(dir.join("bridge-nf-call-iptables"), "1\n")?;
        fs::write(dir.join("bridge-nf-call-ip6tables"), "0\n")?;
        assert_eq!(host.bridge_nf_call(false), Ok(true));
        assert_eq!(host.bridge_nf_call(true), Ok(false));
        fs::write(dir.join("bridge-nf-call-iptables"), "on\n")?;
        assert!(host.bridge_nf_call(false).is_err());
        Ok(())
    }

    #[test]
    fn reads_ip_forward_strictly() -> TestResult {
        let (_dir, host) = host()?;
        fs::create_dir_all(host.proc.join("sys/net/ipv4"))?;
        fs::write(host.ip_forward_path(), "1\n")?;
        assert_eq!(host.ip_forward()?, "1");
        fs::write(host.ip_forward_path(), "2\n")?;
        assert!(host.ip_forward().is_err());
        Ok(())
    }
}

/// The unit's sandbox and the code agree: it grants exactly the paths the
/// helper and its tools write, and makes the sysctl file exist first.
#[cfg(test)]
mod unit_sandbox {
    use std::collections::BTreeSet;

    use super::*;

    const UNIT: &str = include_str!("../../../data/helper/vmnet-doctor-helper.service.in");
    const TMPFILES: &str = include_str!("../../../data/helper/vmnet-doctor-helper.tmpfiles");

    /// The values of every `KEY=` line of the unit, split at spaces.
    fn values<'a>(key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        UNIT.lines()
            .filter_map(move |line| line.strip_prefix(key)?.strip_prefix('='))
            .flat_map(str::split_whitespace)
    }

    #[test]
    fn the_unit_grants_exactly_the_paths_the_helper_writes() {
        let granted: BTreeSet<PathBuf> =
            values("ReadWritePaths").map(|path| PathBuf::from(path.trim_start_matches('-'))).collect();
        let written: BTreeSet<PathBuf> = Host::system().written_paths().into_iter().collect();
        assert_eq!(granted, written);
        // Never their directories, where a hook or an init script could be
        // planted.
        for dir in ["/etc", "/etc/ufw", "/etc/libvirt", "/etc/sysctl.d", "/run"] {
            assert!(!granted.contains(Path::new(dir)), "{dir} is granted");
        }
        assert!(UNIT.contains("\nProtectSystem=strict\n"));
    }

    #[test]
    fn the_files_a_host_may_lack_exist_before_the_helper_starts() {
        let entries: Vec<Vec<&str>> = TMPFILES
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| line.splitn(7, ' ').collect())
            .collect();
        // Its sysctl file, and qemu-bridge-helper's list, which Debian's
        // QEMU does not ship: each created only when missing ("f"), root's,
        // world-readable (qemu-bridge-helper reads it as the user).
        let host = Host::system();
        let wanted = [host.sysctl_file(), host.qemu_bridge_conf()];
        assert_eq!(entries.len(), wanted.len(), "{entries:?}");
        for (entry, path) in entries.iter().zip(wanted) {
            assert_eq!(entry.get(..5), Some(&["f", &*path.to_string_lossy(), "0644", "root", "root"][..]));
        }
        assert!(
            values("ExecStartPre")
                .collect::<Vec<_>>()
                .join(" ")
                .contains("+/usr/bin/systemd-tmpfiles --create @TMPFILESDIR@/vmnet-doctor-helper.conf")
        );
    }
}
