//! What to tell the user when a connection fails: a title and advice they
//! can act on, with libvirt's own words kept for the details.

use gettextrs::gettext;
use vmnet_doctor_libvirt::LibvirtError;

use crate::connections;
use crate::i18n::fill;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorText {
    pub title: String,
    pub advice: String,
    pub detail: Option<String>,
}

pub fn describe(error: &LibvirtError) -> ErrorText {
    let (title, advice) = match error {
        LibvirtError::DaemonNotRunning { uri, .. } => (
            gettext("libvirt Is Not Running"),
            fill(
                &gettext(
                    "Nothing answers for {connection}. Start the libvirt daemon with “sudo systemctl enable --now libvirtd” (or “virtqemud.socket” where libvirt runs modular daemons), or install it first, e.g. “sudo apt install libvirt-daemon-system”.",
                ),
                &[("connection", &connections::label(uri))],
            ),
        ),
        LibvirtError::PermissionDenied { uri, .. } => (
            gettext("Permission Denied"),
            fill(
                &gettext(
                    "You may not manage {connection}. Add your user to the libvirt group with “sudo usermod -aG libvirt $USER” and log in again, or make sure a polkit authentication agent is running so that libvirt can ask for your password.",
                ),
                &[("connection", &connections::label(uri))],
            ),
        ),
        LibvirtError::UnknownUri { uri, .. } => (
            gettext("Unknown Connection"),
            fill(
                &gettext(
                    "No libvirt driver accepts “{uri}”. Check the address for typos, or install the libvirt driver it needs.",
                ),
                &[("uri", uri)],
            ),
        ),
        LibvirtError::Disconnected => (
            gettext("Connection Closed"),
            gettext("The connection to libvirt ended. Try again to reconnect."),
        ),
        // Errors of changes, not of opening a connection; read like any other.
        LibvirtError::NotFound { .. }
        | LibvirtError::NoSuchNic { .. }
        | LibvirtError::Unsupported { .. }
        | LibvirtError::GuestAgent { .. }
        | LibvirtError::Other { .. } => (
            gettext("Could Not Read the Connection"),
            gettext("libvirt reported an error. The details below say what it was."),
        ),
    };
    ErrorText { title, advice, detail: error.detail().map(str::to_owned) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_gets_advice_and_keeps_libvirts_words() {
        let error = LibvirtError::PermissionDenied {
            uri: "qemu:///system".into(),
            detail: "Failed to connect socket: Permission denied".into(),
        };
        let text = describe(&error);
        assert_eq!(text.title, "Permission Denied");
        assert!(text.advice.contains("QEMU/KVM"));
        assert!(text.advice.contains("usermod -aG libvirt"));
        assert_eq!(text.detail.as_deref(), Some("Failed to connect socket: Permission denied"));
        assert!(describe(&LibvirtError::Disconnected).detail.is_none());
    }
}
