//! The libvirt connections the user can pick: the one asked for on the
//! command line, those saved by virt-manager, the two local QEMU/KVM ones
//! and the demo hypervisor.

use gettextrs::gettext;

use crate::config;
use crate::i18n::fill;

/// virt-manager keeps its connection list here (`gsettings get
/// org.virt-manager.virt-manager.connections uris`).
const VIRT_MANAGER_SCHEMA: &str = "org.virt-manager.virt-manager.connections";
const VIRT_MANAGER_KEY: &str = "uris";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub uri: String,
    pub label: String,
}

pub fn demo_uri() -> String {
    format!("test://{}", config::demo_hypervisor_path().display())
}

pub fn is_demo(uri: &str) -> bool {
    uri == demo_uri()
}

/// Every connection worth offering, without duplicates, the explicit one first.
pub fn known(explicit: Option<&str>, virt_manager: &[String]) -> Vec<Connection> {
    let mut uris: Vec<String> = Vec::new();
    let mut add = |uri: &str| {
        let uri = uri.trim();
        if !uri.is_empty() && !uris.iter().any(|known| known == uri) {
            uris.push(uri.to_owned());
        }
    };
    if let Some(uri) = explicit {
        add(uri);
    }
    for uri in virt_manager {
        add(uri);
    }
    add(vmnet_doctor_libvirt::SYSTEM_URI);
    add(vmnet_doctor_libvirt::SESSION_URI);
    add(&demo_uri());
    uris.into_iter().map(|uri| Connection { label: label(&uri), uri }).collect()
}

/// The connections virt-manager saved, when virt-manager is installed.
pub fn from_virt_manager() -> Vec<String> {
    crate::settings::foreign_strv(VIRT_MANAGER_SCHEMA, VIRT_MANAGER_KEY)
}

/// Where Debian, Fedora and Arch install virt-manager's schema.
#[cfg(test)]
const SYSTEM_SCHEMA_DIR: &str = "/usr/share/glib-2.0/schemas";

/// A short name in virt-manager's style: "QEMU/KVM", "QEMU/KVM User
/// session", "QEMU/KVM: host", or the URI itself.
pub fn label(uri: &str) -> String {
    if is_demo(uri) {
        return gettext("Demo Hypervisor");
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let (driver, _transport) = scheme.split_once('+').unwrap_or((scheme, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.split('?').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let base = match (driver, path) {
        ("qemu", "system") => gettext("QEMU/KVM"),
        ("qemu", "session") => gettext("QEMU/KVM User session"),
        ("test", _) => gettext("Test driver"),
        _ => return uri.to_owned(),
    };
    if host.is_empty() || host == "localhost" {
        base
    } else {
        fill(&gettext("{driver}: {host}"), &[("driver", &base), ("host", host)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_virt_manager() {
        assert_eq!(label("qemu:///system"), "QEMU/KVM");
        assert_eq!(label("qemu:///session"), "QEMU/KVM User session");
        assert_eq!(label("qemu+ssh://root@server.lan/system"), "QEMU/KVM: server.lan");
        assert_eq!(label("qemu+ssh://root@server.lan/system?keyfile=/k"), "QEMU/KVM: server.lan");
        assert_eq!(label("xen:///system"), "xen:///system");
        assert_eq!(label("not a uri"), "not a uri");
        assert_eq!(label(&demo_uri()), "Demo Hypervisor");
    }

    #[test]
    fn known_connections_are_unique_and_ordered() {
        let saved = vec!["qemu+ssh://root@server.lan/system".to_owned(), "qemu:///system".to_owned()];
        let uris: Vec<_> = known(Some("test:///default"), &saved).into_iter().map(|c| c.uri).collect();
        assert_eq!(
            uris,
            vec![
                "test:///default".to_owned(),
                "qemu+ssh://root@server.lan/system".to_owned(),
                "qemu:///system".to_owned(),
                "qemu:///session".to_owned(),
                demo_uri(),
            ]
        );
    }

    /// virt-manager's real schema (the dev environment installs virt-manager)
    /// read through a keyfile, as `gsettings set
    /// org.virt-manager.virt-manager.connections uris` would have stored it.
    #[test]
    fn reads_the_connections_virt_manager_saved() -> Result<(), Box<dyn std::error::Error>> {
        use relm4::gtk::gio;
        let source = gio::SettingsSchemaSource::from_directory(SYSTEM_SCHEMA_DIR, None, true)?;
        assert!(
            source.lookup(VIRT_MANAGER_SCHEMA, true).is_some(),
            "virt-manager's schema is not in {SYSTEM_SCHEMA_DIR}: install virt-manager"
        );
        let dir = tempfile::tempdir()?;
        let keyfile = dir.path().join("keyfile");
        std::fs::write(
            &keyfile,
            "[org/virt-manager/virt-manager/connections]\n\
             uris=['qemu+ssh://root@server.lan/system', 'qemu:///system']\n",
        )?;
        let backend = gio::keyfile_settings_backend_new(&keyfile.to_string_lossy(), "/", None);
        let saved =
            crate::settings::strv_from(&source, Some(&backend), VIRT_MANAGER_SCHEMA, VIRT_MANAGER_KEY);
        assert_eq!(saved, ["qemu+ssh://root@server.lan/system", "qemu:///system"]);
        // A schema that does not exist gives nothing, not a crash.
        assert!(crate::settings::strv_from(&source, Some(&backend), "org.example.none", "uris").is_empty());
        Ok(())
    }

    #[test]
    fn the_demo_file_ships_with_the_source() {
        assert!(config::demo_hypervisor_path().is_file(), "{}", config::demo_hypervisor_path().display());
    }
}
