//! The guest probe: a fixed, read-only shell script (`probe.sh`) run once
//! through `guest-exec`, and the parser of what it prints. Routes and IPv6
//! switches come from the kernel's own files (/proc/net/route,
//! /proc/net/ipv6_route, /proc/sys), which read the same on busybox and GNU
//! systems; only NetworkManager's profiles need its own tool, nmcli.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{GuestNetwork, GuestRoute, IfupdownIface, NetworkdFile, NmProfile, ServiceState};
use crate::host::Fact;

/// Run as `/bin/sh -c PROBE_SCRIPT`; it takes no arguments.
pub const PROBE_SCRIPT: &str = include_str!("probe.sh");

/// One "@@ NAME" section of the probe's output.
#[derive(Debug)]
struct Section<'t> {
    name: &'t str,
    lines: Vec<&'t str>,
    /// "@@ exit N" after the section's command.
    exit: Option<i32>,
}

fn sections(output: &str) -> Vec<Section<'_>> {
    let mut sections: Vec<Section<'_>> = Vec::new();
    for line in output.lines() {
        if let Some(header) = line.strip_prefix("@@ ") {
            if let Some(code) = header.strip_prefix("exit ") {
                if let Some(last) = sections.last_mut() {
                    last.exit = code.trim().parse().ok();
                }
            } else {
                sections.push(Section { name: header.trim(), lines: Vec::new(), exit: None });
            }
        } else if let Some(last) = sections.last_mut() {
            last.lines.push(line);
        }
    }
    sections
}

/// Parses the probe's stdout.
pub fn parse_probe(output: &str) -> GuestNetwork {
    let sections = sections(output);
    let section = |name: &str| sections.iter().find(|section| section.name == name);
    let lines = |name: &str| section(name).map(|section| section.lines.clone()).unwrap_or_default();

    // "NAME PATH": the path the name resolves to, links followed; busybox's
    // shell names its own applets without a path.
    let mut tools = Vec::new();
    let mut applets = Vec::new();
    for line in lines("tools") {
        let mut words = line.split_whitespace();
        let (Some(name), path) = (words.next(), words.next().unwrap_or_default()) else {
            continue;
        };
        if (path.ends_with("/busybox") || !path.starts_with('/')) && name != "busybox" {
            applets.push(name.to_owned());
        }
        tools.push(name.to_owned());
    }
    let busybox = if tools.iter().any(|tool| tool == "busybox") { applets } else { Vec::new() };
    let has = |tool: &str| tools.iter().any(|known| known == tool);

    // `systemctl is-active A B C` prints one state per unit, in order.
    let units = lines("units");
    let unit_active = |index: usize| units.get(index).map(|state| state.trim() == "active");

    let nm_running = section("nm-running").map(|s| s.lines.first().map(|l| l.trim()) == Some("running"));
    let network_manager = match (has("nmcli"), nm_running.or(unit_active(0))) {
        (_, Some(true)) => ServiceState::Running,
        (true, Some(false)) => ServiceState::Stopped,
        (true, None) => ServiceState::Unknown,
        (false, _) => ServiceState::Absent,
    };
    let networkd = match (has("networkctl"), unit_active(1)) {
        (_, Some(true)) => ServiceState::Running,
        (true, Some(false)) => ServiceState::Stopped,
        (true, None) => ServiceState::Unknown,
        (false, _) => ServiceState::Absent,
    };

    let profiles = if network_manager == ServiceState::Running {
        Fact::Known(nm_profiles(&sections))
    } else {
        Fact::Unknown("NetworkManager does not run in the guest".to_owned())
    };

    let mut default_routes = ipv4_default_routes(&lines("ipv4-routes"));
    default_routes.extend(ipv6_default_routes(&lines("ipv6-routes")));

    let ipv6_disabled =
        lines("disable-ipv6").iter().find_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["all", value] => Some(value == "1"),
            _ => None,
        });
    // apt-config: "FORCE='true'"; without it, the files' own lines.
    let apt_force_ipv4 = section("apt-force-ipv4")
        .filter(|s| s.exit == Some(0))
        .map(|s| {
            s.lines.iter().any(|line| {
                let value = line.trim().trim_start_matches("FORCE=").trim_matches('\'').to_ascii_lowercase();
                matches!(value.as_str(), "true" | "yes" | "1" | "on")
            })
        })
        .or_else(|| {
            section("apt-force-ipv4-files").map(|s| {
                s.lines.iter().any(|line| {
                    let line = line.trim();
                    !line.starts_with("//")
                        && !line.starts_with('#')
                        && line.contains("Acquire::ForceIPv4 \"true\"")
                })
            })
        });

    GuestNetwork {
        network_manager,
        networkd,
        netplan: lines("netplan")
            .iter()
            .map(|line| line.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect(),
        ifupdown: ifupdown_stanzas(&lines("ifupdown")),
        networkd_files: networkd_files(&lines("networkd")),
        profiles,
        default_routes,
        ipv6_disabled,
        apt_force_ipv4,
        tools,
        busybox,
    }
}

/// Splits an `nmcli -t` line at its unescaped colons, unescaping `\:` and
/// `\\`.
pub fn nm_terse_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' => fields.push(String::new()),
            other => {
                if let Some(field) = fields.last_mut() {
                    field.push(other);
                }
            }
        }
    }
    fields
}

/// nmcli's terse value, `--` or empty meaning not set.
fn set(value: String) -> Option<String> {
    Some(value).filter(|value| !value.is_empty() && value != "--")
}

fn nm_profiles(sections: &[Section<'_>]) -> Vec<NmProfile> {
    // UUID → device, from the list of active connections.
    let mut devices: Vec<(String, String)> = Vec::new();
    for section in sections.iter().filter(|section| section.name == "nm-connections") {
        for line in &section.lines {
            if let [uuid, device, active] = &nm_terse_fields(line)[..]
                && active == "yes"
                && !device.is_empty()
            {
                devices.push((uuid.clone(), device.clone()));
            }
        }
    }
    let mut profiles = Vec::new();
    for section in sections.iter().filter(|section| section.name == "nm-profile" && section.exit == Some(0)) {
        let mut profile = NmProfile {
            name: String::new(),
            uuid: String::new(),
            kind: String::new(),
            interface_name: None,
            autoconnect: true,
            autoconnect_priority: 0,
            mac: None,
            ipv4_method: None,
            ipv4_addresses: Vec::new(),
            ipv4_gateway: None,
            device: None,
        };
        for line in &section.lines {
            // Multi-line terse output: "setting.property:value".
            let Some((key, _)) = line.split_once(':') else {
                continue;
            };
            let value = nm_terse_fields(line).into_iter().skip(1).collect::<Vec<_>>().join(":");
            match key {
                "connection.id" => profile.name = value,
                "connection.uuid" => profile.uuid = value,
                "connection.type" => profile.kind = value,
                "connection.interface-name" => profile.interface_name = set(value),
                "connection.autoconnect" => profile.autoconnect = value != "no",
                "connection.autoconnect-priority" => {
                    profile.autoconnect_priority = value.trim().parse().unwrap_or_default();
                }
                "802-3-ethernet.mac-address" => {
                    profile.mac = Some(value.to_ascii_lowercase()).filter(|mac| !mac.is_empty());
                }
                "ipv4.method" => profile.ipv4_method = set(value),
                // nmcli joins several with ", ".
                "ipv4.addresses" => {
                    profile.ipv4_addresses = value
                        .split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty() && *a != "--")
                        .map(str::to_owned)
                        .collect();
                }
                "ipv4.gateway" => profile.ipv4_gateway = set(value),
                _ => {}
            }
        }
        if profile.uuid.is_empty() {
            continue;
        }
        profile.device = devices.iter().find(|(uuid, _)| *uuid == profile.uuid).map(|(_, d)| d.clone());
        profiles.push(profile);
    }
    profiles
}

fn ifupdown_stanzas(lines: &[&str]) -> Vec<IfupdownIface> {
    lines
        .iter()
        .filter_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["iface", name, family, method, ..] if method != "loopback" && name != "lo" => {
                Some(IfupdownIface {
                    name: name.to_owned(),
                    family: family.to_owned(),
                    method: method.to_owned(),
                })
            }
            _ => None,
        })
        .collect()
}

/// The "networkd" section: `file PATH` then the file's lines without
/// comments, or `masked PATH`. /etc comes first in the probe's glob order
/// and masks /run's file of the same name, as networkd itself does.
fn networkd_files(lines: &[&str]) -> Vec<NetworkdFile> {
    let file_name = |path: &str| path.rsplit('/').next().unwrap_or(path).to_owned();
    let mut masked: Vec<String> = Vec::new();
    let mut files: Vec<NetworkdFile> = Vec::new();
    let mut in_match = false;
    for line in lines {
        let line = line.trim();
        if let Some(path) = line.strip_prefix("masked ") {
            masked.push(file_name(path));
        } else if let Some(path) = line.strip_prefix("file ") {
            in_match = false;
            files.push(NetworkdFile {
                path: path.to_owned(),
                names: Vec::new(),
                macs: Vec::new(),
                other_conditions: false,
            });
        } else if line.starts_with('[') {
            in_match = line == "[Match]";
        } else if let (true, Some(file), Some((key, value))) =
            (in_match, files.last_mut(), line.split_once('='))
        {
            let words = value.split_whitespace().map(str::to_owned);
            match key.trim() {
                "Name" => file.names.extend(words),
                "MACAddress" | "PermanentMACAddress" => {
                    file.macs.extend(words.map(|mac| mac.to_ascii_lowercase()));
                }
                _ => file.other_conditions = true,
            }
        }
    }
    let mut effective: Vec<NetworkdFile> = Vec::new();
    for file in files {
        let name = file_name(&file.path);
        if !masked.contains(&name) && !effective.iter().any(|seen| file_name(&seen.path) == name) {
            effective.push(file);
        }
    }
    effective
}

// Route flags (linux/route.h).
const RTF_UP: u32 = 0x0001;
const RTF_REJECT: u32 = 0x0200;

/// /proc/net/route: `Iface Destination Gateway Flags … Mask …`, addresses
/// in hex, in the kernel's (little-endian) byte order.
fn ipv4_default_routes(lines: &[&str]) -> Vec<GuestRoute> {
    let hex = |text: &str| u32::from_str_radix(text, 16).ok();
    lines
        .iter()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (dev, destination, gateway, flags, mask) = (
                fields.first()?,
                hex(fields.get(1)?)?,
                hex(fields.get(2)?)?,
                hex(fields.get(3)?)?,
                hex(fields.get(7)?)?,
            );
            if destination != 0 || mask != 0 || flags & RTF_UP == 0 || flags & RTF_REJECT != 0 {
                return None;
            }
            let gateway = Ipv4Addr::from(gateway.swap_bytes());
            Some(GuestRoute {
                ipv6: false,
                gateway: (!gateway.is_unspecified()).then_some(IpAddr::V4(gateway)),
                dev: (*dev).to_owned(),
            })
        })
        .collect()
}

/// /proc/net/ipv6_route: `dest dest_len src src_len next_hop metric refcnt
/// use flags dev`, addresses as 32 hex digits. The kernel's own
/// unreachable default on `lo` is a reject route, not a way out.
fn ipv6_default_routes(lines: &[&str]) -> Vec<GuestRoute> {
    lines
        .iter()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let destination = u128::from_str_radix(fields.first()?, 16).ok()?;
            let prefix = u8::from_str_radix(fields.get(1)?, 16).ok()?;
            let next_hop = u128::from_str_radix(fields.get(4)?, 16).ok()?;
            let flags = u32::from_str_radix(fields.get(8)?, 16).ok()?;
            let dev = fields.get(9)?;
            if destination != 0
                || prefix != 0
                || flags & RTF_UP == 0
                || flags & RTF_REJECT != 0
                || *dev == "lo"
            {
                return None;
            }
            Some(GuestRoute {
                ipv6: true,
                gateway: (next_hop != 0).then_some(IpAddr::V6(Ipv6Addr::from(next_hop))),
                dev: (*dev).to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terse_fields_unescape_colons_and_backslashes() {
        assert_eq!(nm_terse_fields(r"a\:b:c\\d:"), ["a:b", r"c\d", ""]);
    }

    #[test]
    fn networkd_files_in_etc_mask_runs() {
        let lines = [
            "file /etc/systemd/network/10-netplan-ens3.network",
            "[Match]",
            "Name=enp1s0",
            "file /etc/systemd/network/20-wired.network",
            "[Match]",
            "Name=en* !enp9s0",
            "MACAddress=52:54:00:AA:BB:CC",
            "[Network]",
            "Name=not-a-match-key",
            "masked /etc/systemd/network/30-gone.network",
            "file /run/systemd/network/10-netplan-ens3.network",
            "[Match]",
            "Name=ens3",
            "file /run/systemd/network/30-gone.network",
            "[Match]",
            "Name=eth0",
            "file /run/systemd/network/40-typed.network",
            "[Match]",
            "Type=ether",
        ];
        let files = networkd_files(&lines);
        let summary: Vec<(&str, Vec<&str>, Vec<&str>, bool)> = files
            .iter()
            .map(|f| {
                (
                    f.path.as_str(),
                    f.names.iter().map(String::as_str).collect(),
                    f.macs.iter().map(String::as_str).collect(),
                    f.other_conditions,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("/etc/systemd/network/10-netplan-ens3.network", vec!["enp1s0"], vec![], false),
                (
                    "/etc/systemd/network/20-wired.network",
                    vec!["en*", "!enp9s0"],
                    vec!["52:54:00:aa:bb:cc"],
                    false
                ),
                ("/run/systemd/network/40-typed.network", vec![], vec![], true),
            ]
        );
    }

    #[test]
    fn kernel_route_tables_give_default_routes() {
        let v4 = [
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
            "enp1s0\t00000000\t017AA8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
            "enp1s0\t007AA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
        ];
        assert_eq!(
            ipv4_default_routes(&v4),
            [GuestRoute {
                ipv6: false,
                gateway: Some(IpAddr::V4(Ipv4Addr::new(192, 168, 122, 1))),
                dev: "enp1s0".into()
            }]
        );
    }
}
