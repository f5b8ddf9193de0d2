//! Network interfaces: `/sys/class/net` for kind, state, MAC and bridge
//! membership; iproute2's JSON (`ip -j -d addr show`, unprivileged) for
//! addresses, which sysfs does not list.

use std::collections::HashMap;
use std::fs;
use std::net::IpAddr;
use std::path::Path;

use serde_json::Value;
use vmnet_doctor_core::host::{Fact, Link};

use crate::command::{Tool, Tools};

/// `IFF_UP` in `include/uapi/linux/if.h`.
const IFF_UP: u32 = 0x1;

/// Every link in `SYS/class/net` with its addresses.
pub fn read_links(sys: &Path, tools: &Tools) -> Fact<Vec<Link>> {
    let dir = sys.join("class/net");
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) => return Fact::Unknown(format!("cannot list {}: {error}", dir.display())),
    };
    let ip = match tools
        .output(Tool::IpAddr)
        .map_err(|error| error.reason(Tool::IpAddr))
        .and_then(|json| parse_ip_addr(&json))
    {
        Ok(ip) => ip,
        Err(why) => return Fact::Unknown(format!("addresses unknown: {why}")),
    };
    let mut links: Vec<(u32, Link)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = dir.join(&name);
        let ip_link = ip.get(&name);
        let Some(link) = read_link(&path, &name, ip_link) else { continue };
        let ifindex =
            read_trimmed(&path.join("ifindex")).and_then(|text| text.parse().ok()).unwrap_or(u32::MAX);
        links.push((ifindex, link));
    }
    links.sort_by(|(a_index, a), (b_index, b)| a_index.cmp(b_index).then_with(|| a.name.cmp(&b.name)));
    Fact::Known(links.into_iter().map(|(_, link)| link).collect())
}

/// One link's sysfs directory; `None` when it vanished meanwhile (no
/// `flags` file).
fn read_link(path: &Path, name: &str, ip: Option<&IpLink>) -> Option<Link> {
    let flags = read_trimmed(&path.join("flags"))?;
    let flags = u32::from_str_radix(flags.trim_start_matches("0x"), 16).ok()?;
    let kind = if path.join("bridge").is_dir() {
        "bridge".to_owned()
    } else if path.join("tun_flags").exists() {
        "tun".to_owned()
    } else {
        uevent_devtype(path).or_else(|| ip.and_then(|ip| ip.kind.clone())).unwrap_or_default()
    };
    let mac = read_trimmed(&path.join("address"))
        .filter(|mac| !mac.is_empty() && mac.chars().any(|c| c != '0' && c != ':'));
    let master = fs::read_link(path.join("master"))
        .ok()
        .and_then(|target| target.file_name().map(|name| name.to_string_lossy().into_owned()));
    Some(Link {
        name: name.to_owned(),
        kind,
        up: flags & IFF_UP != 0,
        operstate: read_trimmed(&path.join("operstate")).unwrap_or_else(|| "unknown".to_owned()),
        mac,
        master,
        addresses: ip.map(|ip| ip.addresses.clone()).unwrap_or_default(),
        mtu: read_trimmed(&path.join("mtu")).and_then(|mtu| mtu.parse().ok()),
    })
}

fn uevent_devtype(path: &Path) -> Option<String> {
    let uevent = fs::read_to_string(path.join("uevent")).ok()?;
    uevent.lines().find_map(|line| line.strip_prefix("DEVTYPE=")).map(str::to_owned)
}

fn read_trimmed(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|text| text.trim().to_owned())
}

/// What iproute2 says about one link.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpLink {
    /// `linkinfo.info_kind` (veth, bridge, vlan, wireguard…), from `-d`.
    pub kind: Option<String>,
    pub addresses: Vec<(IpAddr, u8)>,
}

/// `ip -j -d addr show`, by interface name.
pub fn parse_ip_addr(json: &str) -> Result<HashMap<String, IpLink>, String> {
    let value: Value =
        serde_json::from_str(json).map_err(|error| format!("`ip -j addr` printed invalid JSON: {error}"))?;
    let Value::Array(items) = value else {
        return Err("`ip -j addr` did not print a JSON array".to_owned());
    };
    let mut links = HashMap::new();
    for item in &items {
        let Some(name) = item.get("ifname").and_then(Value::as_str) else { continue };
        let kind = item.pointer("/linkinfo/info_kind").and_then(Value::as_str).map(str::to_owned);
        let addresses = item
            .get("addr_info")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|address| {
                let ip: IpAddr = address.get("local")?.as_str()?.parse().ok()?;
                let prefix = u8::try_from(address.get("prefixlen")?.as_u64()?).ok()?;
                Some((ip, prefix))
            })
            .collect();
        links.insert(name.to_owned(), IpLink { kind, addresses });
    }
    Ok(links)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_addresses_and_kind() -> Result<(), String> {
        let json = r#"[{"ifindex":3,"ifname":"virbr0","flags":["UP"],"linkinfo":{"info_kind":"bridge"},
            "addr_info":[{"family":"inet","local":"192.168.122.1","prefixlen":24},
                         {"family":"inet6","local":"fe80::1","prefixlen":64}]},
            {"ifindex":1,"ifname":"lo","addr_info":[]}]"#;
        let links = parse_ip_addr(json)?;
        let virbr0 = links.get("virbr0").ok_or("virbr0 missing")?;
        assert_eq!(virbr0.kind.as_deref(), Some("bridge"));
        assert_eq!(
            virbr0.addresses,
            [("192.168.122.1".parse().map_err(|_| "ip")?, 24), ("fe80::1".parse().map_err(|_| "ip")?, 64)]
        );
        assert_eq!(links.get("lo").map(|lo| lo.addresses.len()), Some(0));
        Ok(())
    }

    #[test]
    fn invalid_json_is_an_error() {
        assert!(parse_ip_addr("Object \"addr\" is unknown").is_err());
        assert!(parse_ip_addr("{}").is_err());
    }
}
