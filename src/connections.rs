//! The libvirt connections the user can pick: the one asked for on the
//! command line, those saved by virt-manager (the host's package in the
//! host's GSettings, Flathub's in its sandbox's keyfile), the two local
//! QEMU/KVM ones and the demo hypervisor.

use std::path::{Path, PathBuf};

use gettextrs::gettext;
use relm4::gtk::glib;

use crate::config;
use crate::i18n::fill;

/// virt-manager keeps its connection list here (`gsettings get
/// org.virt-manager.virt-manager.connections uris`).
const VIRT_MANAGER_SCHEMA: &str = "org.virt-manager.virt-manager.connections";
const VIRT_MANAGER_KEY: &str = "uris";
/// … and those it opens by itself at start (`autoconnect`, same schema).
const VIRT_MANAGER_AUTOCONNECT_KEY: &str = "autoconnect";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub uri: String,
    pub label: String,
}

pub fn demo_uri() -> String {
    vmnet_doctor_libvirt::test_driver_uri(&config::demo_hypervisor_path())
}

pub fn is_demo(uri: &str) -> bool {
    uri == demo_uri()
}

/// Every connection worth offering, without duplicates, the explicit ones first.
pub fn known(explicit: &[String], virt_manager: &[String]) -> Vec<Connection> {
    let fixed = [
        vmnet_doctor_libvirt::SYSTEM_URI.to_owned(),
        vmnet_doctor_libvirt::SESSION_URI.to_owned(),
        demo_uri(),
    ];
    let all = explicit.iter().chain(virt_manager).chain(&fixed).cloned().collect();
    without_duplicates(all).into_iter().map(|uri| Connection { label: label(&uri), uri }).collect()
}

/// `uris` trimmed, without empty ones, each once, in their first place.
pub fn without_duplicates(uris: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for uri in uris {
        let uri = uri.trim();
        if !uri.is_empty() && !unique.iter().any(|known| known == uri) {
            unique.push(uri.to_owned());
        }
    }
    unique
}

/// The keyfile group of virt-manager's connection list: GSettings'
/// keyfile backend names a group after the schema's path,
/// `/org/virt-manager/virt-manager/connections/`.
const VIRT_MANAGER_GROUP: &str = "org/virt-manager/virt-manager/connections";

/// The connections virt-manager saved: the host package's (host GSettings)
/// first, then those of Flathub's virt-manager, without duplicates.
pub fn from_virt_manager() -> Vec<String> {
    virt_manager_list(VIRT_MANAGER_KEY)
}

/// The connections virt-manager opens by itself when it starts, from the
/// same two places.
pub fn virt_manager_autoconnect() -> Vec<String> {
    virt_manager_list(VIRT_MANAGER_AUTOCONNECT_KEY)
}

fn virt_manager_list(key: &str) -> Vec<String> {
    merged(
        crate::settings::foreign_strv(VIRT_MANAGER_SCHEMA, key),
        flatpak_keyfile_list(&flatpak_keyfile(), key),
    )
}

/// The host's list, then the Flatpak's URIs it lacks.
fn merged(mut uris: Vec<String>, flatpak: Result<Vec<String>, KeyfileError>) -> Vec<String> {
    match flatpak {
        Ok(flatpak) => {
            for uri in flatpak {
                if !uris.contains(&uri) {
                    uris.push(uri);
                }
            }
        }
        // Another app's file: a broken one costs its connections, nothing more.
        Err(error) => glib::g_message!("vmnet-doctor", "{error}"),
    }
    uris
}

/// Flathub's virt-manager keeps its settings in GLib's keyfile backend,
/// inside its per-app data directory.
fn flatpak_keyfile() -> PathBuf {
    glib::home_dir()
        .join(".var/app")
        .join(crate::virt_manager::FLATPAK_ID)
        .join("config/glib-2.0/settings/keyfile")
}

/// Why Flathub virt-manager's connection list was skipped.
#[derive(Debug, thiserror::Error)]
pub enum KeyfileError {
    #[error("skipped the Flatpak virt-manager's connections: {path} is not a readable key file: {error}")]
    Unreadable { path: String, error: glib::Error },
    #[error(
        "skipped the Flatpak virt-manager's connections: the {key} key of {path} is not a list of strings: {error}"
    )]
    NotAList { path: String, key: String, error: String },
}

/// A list of a virt-manager keyfile (`key` in
/// `[org/virt-manager/virt-manager/connections]`: `uris`, `autoconnect`,
/// a GVariant text like `['qemu:///system']`); none when the file, group
/// or key is absent, as when Flathub's virt-manager is not installed or
/// never saved a list.
fn flatpak_keyfile_list(path: &Path, key: &str) -> Result<Vec<String>, KeyfileError> {
    let shown = path.display().to_string();
    let keyfile = glib::KeyFile::new();
    if let Err(error) = keyfile.load_from_file(path, glib::KeyFileFlags::NONE) {
        if error.matches(glib::FileError::Noent) {
            return Ok(Vec::new());
        }
        return Err(KeyfileError::Unreadable { path: shown, error });
    }
    let Ok(text) = keyfile.value(VIRT_MANAGER_GROUP, key) else {
        return Ok(Vec::new());
    };
    let not_a_list =
        |error: String| KeyfileError::NotAList { path: shown.clone(), key: key.to_owned(), error };
    let variant = glib::Variant::parse(Some(glib::VariantTy::STRING_ARRAY), &text)
        .map_err(|error| not_a_list(error.message().to_owned()))?;
    variant.get::<Vec<String>>().ok_or_else(|| not_a_list(variant.type_().to_string()))
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
        let uris: Vec<_> =
            known(&["test:///default".to_owned()], &saved).into_iter().map(|c| c.uri).collect();
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
             uris=['qemu+ssh://root@server.lan/system', 'qemu:///system']\n\
             autoconnect=['qemu:///system']\n",
        )?;
        let backend = gio::keyfile_settings_backend_new(&keyfile.to_string_lossy(), "/", None);
        let saved =
            crate::settings::strv_from(&source, Some(&backend), VIRT_MANAGER_SCHEMA, VIRT_MANAGER_KEY);
        assert_eq!(saved, ["qemu+ssh://root@server.lan/system", "qemu:///system"]);
        let autoconnect = crate::settings::strv_from(
            &source,
            Some(&backend),
            VIRT_MANAGER_SCHEMA,
            VIRT_MANAGER_AUTOCONNECT_KEY,
        );
        assert_eq!(autoconnect, ["qemu:///system"]);
        // A schema that does not exist gives nothing, not a crash.
        assert!(crate::settings::strv_from(&source, Some(&backend), "org.example.none", "uris").is_empty());
        Ok(())
    }

    /// Fixtures written by GLib's own keyfile backend with virt-manager's
    /// schema (see tests/fixtures/virt-manager-flatpak/README.md).
    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/virt-manager-flatpak").join(name)
    }

    #[test]
    fn reads_the_flatpak_virt_managers_keyfile() -> Result<(), KeyfileError> {
        assert_eq!(
            flatpak_keyfile_list(&fixture("keyfile"), VIRT_MANAGER_KEY)?,
            ["qemu+ssh://root@server.lan/system", "qemu:///system", "qemu:///session"]
        );
        // The ones it opens at start, from the same group.
        assert_eq!(
            flatpak_keyfile_list(&fixture("keyfile"), VIRT_MANAGER_AUTOCONNECT_KEY)?,
            ["qemu:///system"]
        );
        // Not installed, or nothing saved yet: no connections, no complaint.
        assert!(flatpak_keyfile_list(&fixture("absent"), VIRT_MANAGER_KEY)?.is_empty());
        assert!(flatpak_keyfile_list(&fixture("absent"), VIRT_MANAGER_AUTOCONNECT_KEY)?.is_empty());
        assert!(
            flatpak_keyfile()
                .ends_with(".var/app/org.virt_manager.virt-manager/config/glib-2.0/settings/keyfile")
        );
        Ok(())
    }

    #[test]
    fn a_broken_keyfile_is_skipped_with_its_reason() {
        for (name, why) in [
            ("keyfile-truncated", "not a list of strings"),
            ("keyfile-wrong-type", "not a list of strings"),
            ("keyfile-not-a-keyfile", "not a readable key file"),
        ] {
            match flatpak_keyfile_list(&fixture(name), VIRT_MANAGER_KEY) {
                Err(error) => {
                    let message = error.to_string();
                    assert!(message.contains(why) && message.contains(name), "{name}: {message}");
                }
                Ok(uris) => panic!("{name} was read as {uris:?}"),
            }
        }
    }

    #[test]
    fn the_flatpak_list_merges_after_the_hosts_without_duplicates() {
        let host = vec!["qemu:///system".to_owned()];
        assert_eq!(
            merged(host.clone(), flatpak_keyfile_list(&fixture("keyfile"), VIRT_MANAGER_KEY)),
            ["qemu:///system", "qemu+ssh://root@server.lan/system", "qemu:///session"]
        );
        // A broken Flatpak file leaves the host's list as it is.
        assert_eq!(
            merged(host.clone(), flatpak_keyfile_list(&fixture("keyfile-truncated"), VIRT_MANAGER_KEY)),
            host
        );
    }

    #[test]
    fn the_demo_file_ships_with_the_source() {
        assert!(config::demo_hypervisor_path().is_file(), "{}", config::demo_hypervisor_path().display());
    }
}
