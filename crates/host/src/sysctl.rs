//! Sysctls from `/proc/sys` (world-readable).

use std::fs;
use std::path::Path;

use vmnet_doctor_core::host::{BridgeNfCall, Fact};

/// `net.ipv4.ip_forward`: whether the host routes packets between
/// interfaces at all (VM NAT needs it).
pub fn read_ipv4_forward(proc: &Path) -> Fact<bool> {
    let path = proc.join("sys/net/ipv4/ip_forward");
    match fs::read_to_string(&path) {
        Ok(text) => parse_bool_sysctl(&text).map_or_else(
            || Fact::Unknown(format!("{}: unexpected value {:?}", path.display(), text.trim())),
            Fact::Known,
        ),
        Err(error) => Fact::Unknown(format!("cannot read {}: {error}", path.display())),
    }
}

/// `net.bridge.bridge-nf-call-iptables` and `…-ip6tables`. The directory
/// exists only while `br_netfilter` is loaded; without it bridged frames
/// never reach iptables.
pub fn read_bridge_nf_call(proc: &Path) -> Fact<BridgeNfCall> {
    let dir = proc.join("sys/net/bridge");
    if !dir.is_dir() {
        return Fact::Known(BridgeNfCall::default());
    }
    let read = |name: &str| -> Result<bool, String> {
        let path = dir.join(name);
        let text =
            fs::read_to_string(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        parse_bool_sysctl(&text)
            .ok_or_else(|| format!("{}: unexpected value {:?}", path.display(), text.trim()))
    };
    match (read("bridge-nf-call-iptables"), read("bridge-nf-call-ip6tables")) {
        (Ok(iptables), Ok(ip6tables)) => Fact::Known(BridgeNfCall { iptables, ip6tables }),
        (Err(why), _) | (_, Err(why)) => Fact::Unknown(why),
    }
}

/// A 0/1 sysctl as the kernel prints it.
pub fn parse_bool_sysctl(text: &str) -> Option<bool> {
    match text.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_zero_and_one_only() {
        assert_eq!(parse_bool_sysctl("1\n"), Some(true));
        assert_eq!(parse_bool_sysctl("0\n"), Some(false));
        assert_eq!(parse_bool_sysctl("2\n"), None);
        assert_eq!(parse_bool_sysctl(""), None);
    }

    #[test]
    fn a_missing_file_is_unknown_with_the_path() {
        let fact = read_ipv4_forward(Path::new("/nonexistent-proc"));
        assert!(
            matches!(&fact, Fact::Unknown(why) if why.contains("/nonexistent-proc/sys/net/ipv4/ip_forward")),
            "{fact:?}"
        );
    }

    #[test]
    fn bridge_nf_call_is_off_without_br_netfilter() -> Result<(), Box<dyn std::error::Error>> {
        let proc = tempfile::tempdir()?;
        assert_eq!(read_bridge_nf_call(proc.path()), Fact::Known(BridgeNfCall::default()));
        let dir = proc.path().join("sys/net/bridge");
        fs::create_dir_all(&dir)?;
        fs::write(dir.join("bridge-nf-call-iptables"), "1\n")?;
        fs::write(dir.join("bridge-nf-call-ip6tables"), "0\n")?;
        assert_eq!(
            read_bridge_nf_call(proc.path()),
            Fact::Known(BridgeNfCall { iptables: true, ip6tables: false })
        );
        fs::write(dir.join("bridge-nf-call-ip6tables"), "yes\n")?;
        assert!(
            matches!(read_bridge_nf_call(proc.path()), Fact::Unknown(why) if why.contains("unexpected value"))
        );
        Ok(())
    }
}
