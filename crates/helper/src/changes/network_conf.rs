//! libvirt's network.conf with the `firewall_backend` setting the helper
//! makes: the edit itself, byte for byte, and where it goes for the
//! step's description. Apart from the other changes because it is text
//! editing with rules of its own (libvirt's `key = value` syntax, line
//! endings and comments kept).

use vmnet_doctor_helper_api::LibvirtFirewallBackend;

/// The lines the helper adds above the `firewall_backend` setting it
/// appends to `/etc/libvirt/network.conf` (or writes as a new file).
pub const NETWORK_CONF_NOTE: &str = "\
# Set by VM Network Doctor (vmnet-doctor-helper). Reverting the fix in VM
# Network Doctor restores this file as it was before.
";

/// Whether a line of network.conf sets `firewall_backend`, read as
/// libvirt's configuration parser (and crates/host) reads it: `key = value`,
/// `#` starts a comment.
fn sets_firewall_backend(line: &str) -> bool {
    let setting = line.split('#').next().unwrap_or("");
    setting.split_once('=').is_some_and(|(key, _)| key.trim() == "firewall_backend")
}

/// A line without its line ending, and the ending.
fn split_ending(line: &str) -> (&str, &str) {
    let body = line.strip_suffix('\n').map_or(line, |body| body.strip_suffix('\r').unwrap_or(body));
    (body, &line[body.len()..])
}

/// network.conf with `firewall_backend = "BACKEND"`: every uncommented
/// setting of it replaced in place (its indentation and trailing comment
/// kept), else the setting appended under [`NETWORK_CONF_NOTE`]. Every other
/// byte stays as it was.
pub fn network_conf_with_backend(previous: Option<&str>, backend: LibvirtFirewallBackend) -> String {
    let setting = format!("firewall_backend = \"{backend}\"");
    let Some(text) = previous else { return format!("{NETWORK_CONF_NOTE}{setting}\n") };
    let mut edited = String::with_capacity(text.len() + NETWORK_CONF_NOTE.len() + setting.len() + 2);
    let mut replaced = false;
    for line in text.split_inclusive('\n') {
        let (body, ending) = split_ending(line);
        if !sets_firewall_backend(body) {
            edited.push_str(line);
            continue;
        }
        replaced = true;
        edited.push_str(&body[..body.len() - body.trim_start().len()]);
        edited.push_str(&setting);
        if let Some(at) = body.find('#') {
            let before = &body[..at];
            edited.push_str(&before[before.trim_end().len()..]);
            edited.push_str(&body[at..]);
        }
        edited.push_str(ending);
    }
    if !replaced {
        if !edited.is_empty() && !edited.ends_with('\n') {
            edited.push('\n');
        }
        edited.push_str(NETWORK_CONF_NOTE);
        edited.push_str(&setting);
        edited.push('\n');
    }
    edited
}

/// Where the edit of network.conf goes, for the step's description.
pub(super) fn network_conf_edit_place(previous: Option<&str>) -> String {
    let Some(text) = previous else { return "a new file".to_owned() };
    let lines: Vec<String> = text
        .split_inclusive('\n')
        .enumerate()
        .filter(|(_, line)| sets_firewall_backend(split_ending(line).0))
        .map(|(index, line)| format!("line {}, was “{}”", index + 1, split_ending(line).0.trim()))
        .collect();
    if lines.is_empty() { "added at the end".to_owned() } else { lines.join("; ") }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::changes::tests::TestResult;
    use crate::changes::{Change, execute};
    use crate::exec::Ran;
    use crate::host::Host;

    /// Debian 13's /etc/libvirt/network.conf (libvirt 11.3), abridged: the
    /// setting is there only as a comment.
    const DEBIAN_NETWORK_CONF: &str = "\
# Master configuration file for the network driver.
# firewall_backend:
#
#   determines which subsystem to use to setup firewall packet
#
#firewall_backend = \"iptables\"
";

    #[test]
    fn the_backend_is_appended_when_only_commented_out() {
        let edited = network_conf_with_backend(Some(DEBIAN_NETWORK_CONF), LibvirtFirewallBackend::Nftables);
        assert_eq!(
            edited,
            format!("{DEBIAN_NETWORK_CONF}{NETWORK_CONF_NOTE}firewall_backend = \"nftables\"\n")
        );
        assert_eq!(
            vmnet_doctor_host::libvirt::parse_firewall_backend(&edited),
            Ok(vmnet_doctor_core::host::FirewallBackend::Nftables)
        );
        assert_eq!(network_conf_edit_place(Some(DEBIAN_NETWORK_CONF)), "added at the end");
        // No final newline: the setting still starts a line of its own.
        let edited = network_conf_with_backend(Some("# mine"), LibvirtFirewallBackend::Iptables);
        assert_eq!(edited, format!("# mine\n{NETWORK_CONF_NOTE}firewall_backend = \"iptables\"\n"));
    }

    #[test]
    fn a_setting_is_replaced_where_it_is_and_nothing_else_moves() {
        let text = "# head\r\n  firewall_backend=\"iptables\"   # chosen in 2024\r\nother = 1\n\
                    firewall_backend = \"bogus\"\n#firewall_backend = \"iptables\"\ntail";
        let edited = network_conf_with_backend(Some(text), LibvirtFirewallBackend::Nftables);
        assert_eq!(
            edited,
            "# head\r\n  firewall_backend = \"nftables\"   # chosen in 2024\r\nother = 1\n\
             firewall_backend = \"nftables\"\n#firewall_backend = \"iptables\"\ntail"
        );
        assert_eq!(
            network_conf_edit_place(Some(text)),
            "line 2, was “firewall_backend=\"iptables\"   # chosen in 2024”; line 4, was “firewall_backend = \"bogus\"”"
        );
    }

    #[test]
    fn a_missing_file_is_written_with_the_note() {
        let written = network_conf_with_backend(None, LibvirtFirewallBackend::Iptables);
        assert_eq!(written, format!("{NETWORK_CONF_NOTE}firewall_backend = \"iptables\"\n"));
        assert_eq!(network_conf_edit_place(None), "a new file");
    }

    #[test]
    fn network_conf_is_undone_only_while_it_is_as_written() -> TestResult {
        let dir = tempfile::tempdir()?;
        let host = Host::under(dir.path());
        fs::create_dir_all(dir.path().join("etc/libvirt"))?;
        let ran = Ran::default();
        let change = Change::LibvirtNetworkConf {
            backend: LibvirtFirewallBackend::Nftables,
            previous: Some(DEBIAN_NETWORK_CONF.to_owned()),
        };
        let step = change.step(&host)?;
        assert!(execute(&step, &host, &ran).succeeded());
        let undo = change.undo_step(&host, &ran, 0)?.ok_or("no undo step")?;
        assert!(execute(&undo, &host, &ran).succeeded());
        assert_eq!(fs::read_to_string(host.libvirt_network_conf())?, DEBIAN_NETWORK_CONF);
        assert_eq!(change.undo_step(&host, &ran, 0)?, None, "restored: nothing left to undo");
        fs::write(host.libvirt_network_conf(), "firewall_backend = \"nftables\"\n")?;
        assert_eq!(change.undo_step(&host, &ran, 0)?, None, "the admin's own file stays");
        Ok(())
    }
}
