//! "Open in virt-manager": virt-manager's own editor for a VM, on the same
//! connection, offered only when virt-manager is installed.

use std::path::{Path, PathBuf};

use relm4::gtk::glib;

/// The Flatpak id of virt-manager on Flathub.
pub const FLATPAK_ID: &str = "org.virt_manager.virt-manager";

/// How virt-manager can be started here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    /// The distribution's package.
    Native(PathBuf),
    /// Flathub's virt-manager, through `flatpak run`.
    Flatpak(PathBuf),
}

impl Launcher {
    /// Finds virt-manager: the host's package first, then the Flatpak.
    /// Inside our own Flatpak sandbox host programs cannot be started, so
    /// nothing is offered there.
    pub fn find() -> Option<Self> {
        if Path::new("/.flatpak-info").exists() {
            return None;
        }
        let installations = [glib::user_data_dir().join("flatpak"), PathBuf::from("/var/lib/flatpak")];
        Self::find_in(
            glib::find_program_in_path("virt-manager"),
            glib::find_program_in_path("flatpak"),
            &installations,
        )
    }

    /// [`Self::find`] from what is on `PATH` and the Flatpak installations
    /// (user, system) to look in: an installed app has `app/ID/current`
    /// there, the link to its active version (a removed app's is gone).
    fn find_in(native: Option<PathBuf>, flatpak: Option<PathBuf>, installations: &[PathBuf]) -> Option<Self> {
        if let Some(path) = native {
            return Some(Self::Native(path));
        }
        let flatpak = flatpak?;
        installations
            .iter()
            .any(|installation| installation.join("app").join(FLATPAK_ID).join("current").exists())
            .then_some(Self::Flatpak(flatpak))
    }

    /// The command that opens `vm`'s details on `uri` (virt-manager's own
    /// `--connect URI --show-domain-editor NAME`).
    pub fn argv(&self, uri: &str, vm: &str) -> Vec<String> {
        let mut argv = match self {
            Self::Native(path) => vec![path.to_string_lossy().into_owned()],
            Self::Flatpak(flatpak) => {
                vec![flatpak.to_string_lossy().into_owned(), "run".to_owned(), FLATPAK_ID.to_owned()]
            }
        };
        argv.extend([
            "--connect".to_owned(),
            uri.to_owned(),
            "--show-domain-editor".to_owned(),
            vm.to_owned(),
        ]);
        argv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_the_domain_editor_on_the_same_connection() {
        let native = Launcher::Native(PathBuf::from("/usr/bin/virt-manager"));
        assert_eq!(
            native.argv("qemu:///system", "win11"),
            ["/usr/bin/virt-manager", "--connect", "qemu:///system", "--show-domain-editor", "win11"]
        );
        let flatpak = Launcher::Flatpak(PathBuf::from("/usr/bin/flatpak"));
        assert_eq!(
            flatpak.argv("qemu:///session", "a vm"),
            [
                "/usr/bin/flatpak",
                "run",
                "org.virt_manager.virt-manager",
                "--connect",
                "qemu:///session",
                "--show-domain-editor",
                "a vm"
            ]
        );
    }

    #[test]
    fn only_flathubs_virt_manager_is_run_through_flatpak() -> Result<(), Box<dyn std::error::Error>> {
        let flatpak = PathBuf::from("/usr/bin/flatpak");
        let user = tempfile::tempdir()?;
        let installations = [user.path().to_path_buf(), PathBuf::from("/nonexistent/flatpak")];
        // Not installed (or removed: no `current` link).
        std::fs::create_dir_all(user.path().join("app").join(FLATPAK_ID))?;
        assert_eq!(Launcher::find_in(None, Some(flatpak.clone()), &installations), None);
        std::os::unix::fs::symlink(
            "x86_64/stable/active",
            user.path().join("app").join(FLATPAK_ID).join("current"),
        )?;
        std::fs::create_dir_all(user.path().join("app").join(FLATPAK_ID).join("x86_64/stable/active"))?;
        let found = Launcher::find_in(None, Some(flatpak.clone()), &installations);
        assert_eq!(found, Some(Launcher::Flatpak(flatpak.clone())));
        // The host's package wins when both are there; no flatpak command, no Flatpak.
        let native = PathBuf::from("/usr/bin/virt-manager");
        assert_eq!(
            Launcher::find_in(Some(native.clone()), Some(flatpak), &installations),
            Some(Launcher::Native(native))
        );
        assert_eq!(Launcher::find_in(None, None, &installations), None);
        Ok(())
    }

    /// The dev environment installs virt-manager (Debian's package).
    #[test]
    fn finds_the_installed_virt_manager() {
        assert!(matches!(Launcher::find(), Some(Launcher::Native(_))), "virt-manager is not installed");
    }
}
