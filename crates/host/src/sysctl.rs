//! Sysctls from `/proc/sys` (world-readable).

use std::fs;
use std::path::Path;

use vmnet_doctor_core::host::Fact;

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
}
