//! How this host gets VM Network Doctor's helper: the package command for
//! its distribution. Inside the Flatpak sandbox `/etc/os-release` is the
//! runtime's; flatpak puts the host's at `/run/host/os-release`.

use std::path::Path;

use gettextrs::gettext;

use crate::i18n::fill;

/// The helper's package, as packaging/ names it for every distribution.
const PACKAGE: &str = "vmnet-doctor-helper";

/// Whether this process runs inside a Flatpak sandbox, where the host's
/// network (its links, routes, sysctls, firewall) cannot be seen.
pub fn sandboxed() -> bool {
    Path::new("/.flatpak-info").exists()
}

/// The install command for the distribution `os_release` describes, or
/// None when it is not one we package for.
pub fn install_command(os_release: &str) -> Option<String> {
    let value = |key: &str| {
        os_release.lines().find_map(|line| {
            let (name, value) = line.split_once('=')?;
            (name.trim() == key).then(|| value.trim().trim_matches(['"', '\'']).to_owned())
        })
    };
    let mut family = value("ID")
        .into_iter()
        .chain(value("ID_LIKE"))
        .flat_map(|ids| ids.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
    family.find_map(|id| match id.as_str() {
        "debian" | "ubuntu" => Some(format!("sudo apt install {PACKAGE}")),
        "fedora" | "rhel" | "centos" => Some(format!("sudo dnf install {PACKAGE}")),
        "arch" => Some(format!("sudo pacman -S {PACKAGE}")),
        _ => None,
    })
}

/// What to tell the user who lacks the helper: the command for this
/// host's distribution when we know it.
pub fn advice() -> String {
    let path = if sandboxed() { "/run/host/os-release" } else { "/etc/os-release" };
    match std::fs::read_to_string(path).ok().as_deref().and_then(install_command) {
        Some(command) => fill(
            &gettext("Install the VM Network Doctor helper on the host: “{command}”."),
            &[("command", &command)],
        ),
        None => fill(
            &gettext(
                "Install the VM Network Doctor helper ({package}) on the host from your distribution's packages, or from source with “sudo meson install -C _build”.",
            ),
            &[("package", PACKAGE)],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::install_command;

    #[test]
    fn the_command_follows_the_hosts_distribution() {
        // The os-release files of Debian 13, Ubuntu 24.04, Fedora 41, Linux
        // Mint 22 (ID_LIKE) and Arch, as they ship (the keys that matter).
        let cases = [
            (
                "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\n",
                Some("sudo apt install vmnet-doctor-helper"),
            ),
            ("ID=ubuntu\nID_LIKE=debian\n", Some("sudo apt install vmnet-doctor-helper")),
            ("ID=fedora\nVERSION_ID=41\n", Some("sudo dnf install vmnet-doctor-helper")),
            ("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", Some("sudo apt install vmnet-doctor-helper")),
            ("ID=arch\n", Some("sudo pacman -S vmnet-doctor-helper")),
            ("ID=opensuse-tumbleweed\nID_LIKE=\"opensuse suse\"\n", None),
            ("", None),
        ];
        for (os_release, want) in cases {
            assert_eq!(install_command(os_release).as_deref(), want, "{os_release}");
        }
    }
}
