//! Who holds the ports a libvirt network's dnsmasq binds (DNS 53, DHCP 67):
//! the sockets from PROC/net/{udp,udp6,tcp,tcp6}, their programs from
//! PROC/PID/fd (another user's only when read as root: otherwise unnamed).

use std::collections::HashMap;
use std::fs;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use vmnet_doctor_core::host::{Fact, Listener};

/// The ports dnsmasq needs for a libvirt network: DNS, and DHCP's server port.
const PORTS: &[(&str, u16)] = &[("udp", 53), ("tcp", 53), ("udp", 67)];

/// TCP's LISTEN state in /proc/net/tcp (`st` column).
const TCP_LISTEN: &str = "0A";

pub fn read_listeners(proc: &Path) -> Fact<Vec<Listener>> {
    let mut sockets: Vec<(Listener, u64)> = Vec::new();
    for (file, protocol) in [("udp", "udp"), ("udp6", "udp"), ("tcp", "tcp"), ("tcp6", "tcp")] {
        let path = proc.join("net").join(file);
        match fs::read_to_string(&path) {
            Ok(text) => sockets.extend(parse_sockets(&text, protocol)),
            // No IPv6 in this kernel: no udp6/tcp6.
            Err(error) if error.kind() == ErrorKind::NotFound && file.ends_with('6') => {}
            Err(error) => return Fact::Unknown(format!("cannot read {}: {error}", path.display())),
        }
    }
    sockets.retain(|(socket, _)| PORTS.contains(&(socket.protocol.as_str(), socket.port)));
    if !sockets.is_empty() {
        let wanted: Vec<u64> = sockets.iter().map(|(_, inode)| *inode).collect();
        let owners = socket_owners(proc, &wanted);
        for (socket, inode) in &mut sockets {
            if let Some((pid, program)) = owners.get(inode) {
                socket.pid = Some(*pid);
                socket.program = Some(program.clone());
            }
        }
    }
    Fact::Known(sockets.into_iter().map(|(socket, _)| socket).collect())
}

/// The bound sockets of one /proc/net table (TCP: listening ones only),
/// with their inodes.
pub fn parse_sockets(text: &str, protocol: &str) -> Vec<(Listener, u64)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (local, state, inode) = (fields.get(1)?, fields.get(3)?, fields.get(9)?);
            if protocol == "tcp" && *state != TCP_LISTEN {
                return None;
            }
            let (address, port) = local.split_once(':')?;
            let listener = Listener {
                protocol: protocol.to_owned(),
                address: parse_address(address)?,
                port: u16::from_str_radix(port, 16).ok()?,
                program: None,
                pid: None,
            };
            Some((listener, inode.parse().ok()?))
        })
        .collect()
}

/// The kernel prints an address as the 32-bit words it is stored in (in
/// network byte order), each read as a native integer: the word's native
/// bytes are the address's.
fn parse_address(hex: &str) -> Option<IpAddr> {
    let word = |chunk: &str| u32::from_str_radix(chunk, 16).ok().map(u32::to_ne_bytes);
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(hex)?))),
        32 => {
            let mut bytes = [0u8; 16];
            for (index, chunk) in bytes.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&word(hex.get(index * 8..index * 8 + 8)?)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// inode → (pid, program) for the sockets among `wanted` that a process in
/// PROC has open and this user may see.
fn socket_owners(proc: &Path, wanted: &[u64]) -> HashMap<u64, (u32, String)> {
    let mut owners = HashMap::new();
    let Ok(entries) = fs::read_dir(proc) else { return owners };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(fds) = fs::read_dir(entry.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else { continue };
            let Some(inode) = target
                .to_str()
                .and_then(|target| target.strip_prefix("socket:["))
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inode| inode.parse::<u64>().ok())
            else {
                continue;
            };
            if wanted.contains(&inode) && !owners.contains_key(&inode) {
                let program = fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
                owners.insert(inode, (pid, program.trim().to_owned()));
            }
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as the kernel prints them: a dnsmasq on 192.168.122.1:53 and
    // a resolver on 0.0.0.0:53 (UDP), and TCP port 53 listening on ::.
    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n  101: 017AA8C0:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 31001 2 0000000000000000 0\n  102: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   108        0 31002 2 0000000000000000 0\n  103: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 31003 2 0000000000000000 0\n";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31004 1 0000000000000000 100 0 0 10 0\n   1: 00000000000000000000000001000000:0035 00000000000000000000000001000000:9C40 01 00000000:00000000 00:00000000 00000000     0        0 31005 1 0000000000000000 20 4 30 10 -1\n";

    #[test]
    #[cfg(target_endian = "little")]
    fn udp_sockets_and_listening_tcp_ones_are_read_with_their_inodes() {
        let udp = parse_sockets(UDP, "udp");
        let seen: Vec<(String, u16, u64)> =
            udp.iter().map(|(socket, inode)| (socket.address.to_string(), socket.port, *inode)).collect();
        assert_eq!(
            seen,
            [
                ("192.168.122.1".to_owned(), 53, 31001),
                ("0.0.0.0".to_owned(), 53, 31002),
                ("0.0.0.0".to_owned(), 5353, 31003)
            ]
        );
        let tcp = parse_sockets(TCP6, "tcp");
        // The established connection (state 01) is not a listener.
        assert_eq!(tcp.len(), 1);
        assert_eq!(tcp[0].0.address, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        assert!(tcp[0].0.on_all_addresses());
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn ipv6_words_are_in_host_order() {
        // ::1 as the kernel prints it on little-endian machines.
        assert_eq!(parse_address("00000000000000000000000001000000"), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    }
}
