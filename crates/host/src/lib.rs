//! Reads the host's network stack and firewall into [`HostFacts`].
//!
//! Everything a normal user may read is read directly: sysctls under
//! `/proc/sys`, links from `/sys/class/net`, UFW's and libvirt's
//! configuration files, libvirt's dnsmasq pid and lease files, and
//! firewalld over its D-Bus API. Addresses come from iproute2
//! (`ip -j -d addr show`), run by absolute path, and so do the routes of
//! every table and the policy rules (`ip -N -j -4|-6 route show table all`,
//! `ip -N -j -4|-6 rule show`; see [`policy_routing`]), which decide the
//! uplinks VM traffic leaves by. Without iproute2 the routes are the main
//! table's, from `/proc/net/route` and `/proc/net/ipv6_route`, and the
//! rules are unknown (see [`routes`]).
//!
//! The netfilter rulesets (`nft -j list ruleset`, `iptables-nft-save`,
//! `iptables-legacy-save`) and `ufw status verbose` need root. As root (the
//! tests, `sudo vmnet-doctor check`) they are run here; otherwise they are
//! asked of the root helper's read-only `Inspect` call (see [`helper`]),
//! once per read, and fed to the same parsers. When the helper cannot be
//! asked (not installed, or polkit refuses), those facts are
//! `Unknown("needs the helper or root: …why…")`, never guessed.
//!
//! Every outside tool is run by absolute path, without a shell, with a
//! cleared environment, stdin closed and a timeout (see [`command`]).
//!
//! All file roots and tool outputs are injectable ([`Sources`]), so the same
//! code reads a fixture tree captured by `tests/firewall-lab/capture.sh`.

pub mod command;
pub mod exec;
pub mod firewalld;
mod firewalld_proxy;
pub mod firewalld_zone;
pub mod helper;
pub mod libvirt;
pub mod links;
pub mod listeners;
pub mod netfilter;
pub mod policy_routing;
pub mod qemu_bridge;
pub mod routes;
pub mod sysctl;
pub mod system_bus;
pub mod ufw;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use vmnet_doctor_core::host::{Fact, HostFacts};

pub use command::{Tool, Tools};
pub use firewalld::FirewalldSource;
/// The helper's client and types, for the fixes that go through it.
pub use vmnet_doctor_helper_api as helper_api;

/// What a fact says when only root (or the helper) can read it; when the
/// helper was asked and did not answer, why follows after a colon.
pub const NEEDS_ROOT: &str = "needs the helper or root";

/// The file-system roots the facts are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPaths {
    pub proc: PathBuf,
    pub sys: PathBuf,
    pub etc: PathBuf,
    pub run: PathBuf,
    pub var_lib: PathBuf,
    pub usr: PathBuf,
}

impl Default for HostPaths {
    /// The real system.
    fn default() -> Self {
        Self {
            proc: PathBuf::from("/proc"),
            sys: PathBuf::from("/sys"),
            etc: PathBuf::from("/etc"),
            run: PathBuf::from("/run"),
            var_lib: PathBuf::from("/var/lib"),
            usr: PathBuf::from("/usr"),
        }
    }
}

impl HostPaths {
    /// A captured tree with `proc/`, `sys/`, `etc/`, `run/` and `var/lib/`
    /// under `root` (the layout `tests/firewall-lab/capture.sh` writes).
    pub fn under(root: &Path) -> Self {
        Self {
            proc: root.join("proc"),
            sys: root.join("sys"),
            etc: root.join("etc"),
            run: root.join("run"),
            var_lib: root.join("var/lib"),
            usr: root.join("usr"),
        }
    }
}

/// Where every fact comes from.
#[derive(Debug, Clone)]
pub struct Sources {
    pub paths: HostPaths,
    pub tools: Tools,
    pub firewalld: FirewalldSource,
}

impl Sources {
    /// A tree captured by `tests/firewall-lab/capture.sh`: files under
    /// `dir`, tool outputs under `dir/commands`, firewalld's answer in
    /// `dir/commands/firewalld-getActiveZones.json` (absent: not running).
    /// With `privileged` false, the root-only facts are unknown, as for a
    /// normal user on that host.
    pub fn captured(dir: &Path, privileged: bool) -> Self {
        let commands = dir.join("commands");
        Self {
            paths: HostPaths::under(dir),
            tools: Tools::Recorded { dir: commands.clone(), privileged },
            firewalld: FirewalldSource::Recorded(commands.join(firewalld::RECORDED_FILE)),
        }
    }
}

/// Reads this machine's facts. Blocking (it runs tools and asks D-Bus, each
/// with a timeout): call it off the UI thread.
///
/// `network_names` are the libvirt networks whose dnsmasq is checked.
pub fn read_host_facts(network_names: &[String]) -> HostFacts {
    let paths = HostPaths::default();
    let privileged = command::effective_uid(&paths.proc) == Some(0);
    let here = Sources { paths, tools: Tools::System { privileged }, firewalld: FirewalldSource::SystemBus };
    if privileged {
        return read_host_facts_with(&here, network_names);
    }
    // Not root: the root-only tools' output is the helper's `Inspect`
    // answer, asked while this process reads the rest (the lab: 142 ms a
    // refresh when asked first, 62 since; docs/benchmarks.md).
    read_in_two_parts(&here, network_names, || Cow::Owned(Tools::Helper { report: helper::inspect() }))
}

/// Reads the facts from the given sources.
pub fn read_host_facts_with(sources: &Sources, network_names: &[String]) -> HostFacts {
    read_in_two_parts(sources, network_names, || Cow::Borrowed(&sources.tools))
}

/// Reads the facts that need root's tools (UFW's status, the netfilter
/// rulesets: see [`Tool::needs_root`]) with the tools `root_tools` gives,
/// on a thread of their own, while this one reads what any user may read
/// from `sources`: UFW is Python, and its run took a third of a refresh.
fn read_in_two_parts<'a>(
    sources: &'a Sources,
    network_names: &[String],
    root_tools: impl FnOnce() -> Cow<'a, Tools> + Send,
) -> HostFacts {
    let paths = &sources.paths;
    std::thread::scope(|scope| {
        let root_part = scope.spawn(|| {
            let tools = root_tools();
            (ufw::read_ufw(&paths.etc, &tools), netfilter::read_netfilter(&paths.proc, &tools))
        });
        let (routes, rules) = routes::read(&paths.proc, &sources.tools);
        let ipv4_forward = sysctl::read_ipv4_forward(&paths.proc);
        let links = links::read_links(&paths.sys, &sources.tools);
        let libvirt_firewall_backend = libvirt::read_firewall_backend(&paths.etc);
        let firewalld = firewalld::read_firewalld(&sources.firewalld);
        let dnsmasq = libvirt::read_dnsmasq(&paths.run, &paths.proc, network_names);
        let leases = libvirt::read_leases(&paths.var_lib);
        let listeners = listeners::read_listeners(&paths.proc);
        let bridge_acl = qemu_bridge::read_bridge_acl(&paths.etc);
        let bridge_helper = qemu_bridge::read_bridge_helper(&paths.usr);
        let bridge_nf_call = sysctl::read_bridge_nf_call(&paths.proc);
        let (ufw, netfilter) = root_part.join().unwrap_or_else(|_| {
            let failed = || "reading the firewall failed inside vmnet-doctor".to_owned();
            (Fact::Unknown(failed()), Fact::Unknown(failed()))
        });
        HostFacts {
            ipv4_forward,
            links,
            routes,
            rules,
            ufw,
            libvirt_firewall_backend,
            firewalld,
            netfilter,
            dnsmasq,
            leases,
            listeners,
            bridge_acl,
            bridge_helper,
            bridge_nf_call,
        }
    })
}
