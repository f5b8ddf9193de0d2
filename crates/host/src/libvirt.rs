//! What libvirt's network driver leaves on the host: its firewall backend
//! setting, each network's dnsmasq pid file and the DHCP lease files.

use std::fs;
use std::io::ErrorKind;
use std::net::IpAddr;
use std::path::Path;

use serde_json::Value;
use vmnet_doctor_core::host::{Dnsmasq, Fact, FirewallBackend, LeaseEntry};

/// `firewall_backend` in `ETC/libvirt/network.conf` (libvirt ≥ 10).
pub fn read_firewall_backend(etc: &Path) -> Fact<FirewallBackend> {
    let path = etc.join("libvirt/network.conf");
    match fs::read_to_string(&path) {
        Ok(text) => parse_firewall_backend(&text)
            .map_or_else(|why| Fact::Unknown(format!("{}: {why}", path.display())), Fact::Known),
        // No file: libvirt uses its built-in choice.
        Err(error) if error.kind() == ErrorKind::NotFound => Fact::Known(FirewallBackend::Default),
        Err(error) => Fact::Unknown(format!("cannot read {}: {error}", path.display())),
    }
}

/// libvirt's configuration syntax: `key = "value"`, `#` comments.
pub fn parse_firewall_backend(text: &str) -> Result<FirewallBackend, String> {
    let mut backend = FirewallBackend::Default;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((key, value)) = line.split_once('=') else { continue };
        if key.trim() != "firewall_backend" {
            continue;
        }
        backend = match value.trim().trim_matches('"') {
            "nftables" => FirewallBackend::Nftables,
            "iptables" => FirewallBackend::Iptables,
            other => return Err(format!("unknown firewall_backend {other:?}")),
        };
    }
    Ok(backend)
}

/// Whether each network's dnsmasq runs: `RUN/libvirt/network/NAME.pid`
/// names a live process whose `comm` is `dnsmasq`.
pub fn read_dnsmasq(run: &Path, proc: &Path, network_names: &[String]) -> Fact<Vec<Dnsmasq>> {
    let mut result = Vec::new();
    for name in network_names {
        let pid_path = run.join("libvirt/network").join(format!("{name}.pid"));
        let pid = match fs::read_to_string(&pid_path) {
            Ok(text) => match text.trim().parse::<u32>() {
                Ok(pid) => pid,
                Err(_) => {
                    return Fact::Unknown(format!(
                        "{}: not a process id: {:?}",
                        pid_path.display(),
                        text.trim()
                    ));
                }
            },
            Err(error) if error.kind() == ErrorKind::NotFound => {
                result.push(Dnsmasq { network: name.clone(), running: false });
                continue;
            }
            Err(error) => return Fact::Unknown(format!("cannot read {}: {error}", pid_path.display())),
        };
        let running = match fs::read_to_string(proc.join(pid.to_string()).join("comm")) {
            Ok(comm) => comm.trim() == "dnsmasq",
            Err(error) if error.kind() == ErrorKind::NotFound => {
                // With /proc mounted hidepid=, other users' processes are
                // invisible: that says nothing about dnsmasq.
                if !proc.join("1").exists() && proc.join("self").exists() {
                    return Fact::Unknown(format!(
                        "{} hides other users' processes (hidepid)",
                        proc.display()
                    ));
                }
                false
            }
            Err(error) => return Fact::Unknown(format!("cannot read process {pid}: {error}")),
        };
        result.push(Dnsmasq { network: name.clone(), running });
    }
    Fact::Known(result)
}

/// Every lease in `VAR_LIB/libvirt/dnsmasq/BRIDGE.status` (the JSON that
/// libvirt's leases helper keeps for each bridge).
pub fn read_leases(var_lib: &Path) -> Fact<Vec<LeaseEntry>> {
    let dir = var_lib.join("libvirt/dnsmasq");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        // libvirt's network driver never ran here: no leases.
        Err(error) if error.kind() == ErrorKind::NotFound => return Fact::Known(Vec::new()),
        Err(error) => return Fact::Unknown(format!("cannot list {}: {error}", dir.display())),
    };
    let mut files: Vec<_> = entries.flatten().map(|entry| entry.path()).collect();
    files.sort();
    let mut leases = Vec::new();
    for path in files {
        let Some(bridge) =
            path.file_name().and_then(|name| name.to_str()).and_then(|name| name.strip_suffix(".status"))
        else {
            continue;
        };
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => return Fact::Unknown(format!("cannot read {}: {error}", path.display())),
        };
        match parse_status_file(bridge, &text) {
            Ok(more) => leases.extend(more),
            Err(why) => return Fact::Unknown(format!("{}: {why}", path.display())),
        }
    }
    Fact::Known(leases)
}

/// One `.status` file: a JSON array of `{"ip-address", "mac-address",
/// "hostname"?, "client-id"?, "expiry-time"}`; empty when no lease was
/// ever given.
pub fn parse_status_file(bridge: &str, text: &str) -> Result<Vec<LeaseEntry>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let value: Value = serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
    let Value::Array(items) = value else { return Err("not a JSON array".to_owned()) };
    items
        .iter()
        .map(|item| {
            let ip: IpAddr = item
                .get("ip-address")
                .and_then(Value::as_str)
                .and_then(|ip| ip.parse().ok())
                .ok_or("a lease without a readable \"ip-address\"")?;
            // IPv6 leases carry a DUID instead of a MAC.
            let mac = item.get("mac-address").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
            let expiry =
                item.get("expiry-time").and_then(Value::as_i64).ok_or("a lease without \"expiry-time\"")?;
            let hostname = item.get("hostname").and_then(Value::as_str).map(str::to_owned);
            Ok(LeaseEntry { bridge: bridge.to_owned(), mac, ip, hostname, expiry })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_backend_setting() -> Result<(), String> {
        assert_eq!(parse_firewall_backend("#firewall_backend = \"iptables\"\n")?, FirewallBackend::Default);
        assert_eq!(parse_firewall_backend("firewall_backend = \"nftables\"\n")?, FirewallBackend::Nftables);
        assert_eq!(parse_firewall_backend("firewall_backend=\"iptables\" # x\n")?, FirewallBackend::Iptables);
        assert!(parse_firewall_backend("firewall_backend = \"pf\"\n").is_err());
        Ok(())
    }

    #[test]
    fn reads_a_status_file() -> Result<(), String> {
        let text = r#"[{"ip-address": "192.168.122.151", "mac-address": "0A:29:23:61:39:67",
            "hostname": "labvm", "expiry-time": 1795819146}]"#;
        let leases = parse_status_file("virbr0", text)?;
        assert_eq!(leases.len(), 1);
        assert_eq!(leases[0].mac, "0a:29:23:61:39:67");
        assert_eq!(leases[0].hostname.as_deref(), Some("labvm"));
        assert!(parse_status_file("virbr0", "")?.is_empty());
        assert!(parse_status_file("virbr0", "[{}]").is_err());
        Ok(())
    }
}
