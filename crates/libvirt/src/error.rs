//! libvirt's errors, sorted into what a user can act on.

use virt::error::{Error as VirtError, ErrorNumber};

/// A failure, classified by what the user should do about it. The GUI and
/// the CLI turn each kind into translated advice; `detail` keeps libvirt's
/// own words for the "details" part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LibvirtError {
    /// Nothing listens on the daemon's socket (libvirtd/virtqemud stopped or
    /// not installed).
    #[error("the libvirt daemon for {uri} is not running: {detail}")]
    DaemonNotRunning { uri: String, detail: String },
    /// The socket or polkit refused us: not in the libvirt group, or no
    /// polkit agent to ask for a password.
    #[error("permission denied for {uri}: {detail}")]
    PermissionDenied { uri: String, detail: String },
    /// No driver understands this URI (typo, or the driver is not installed).
    #[error("unknown connection URI {uri}: {detail}")]
    UnknownUri { uri: String, detail: String },
    /// The worker thread is gone (the connection was closed or crashed).
    #[error("the connection to libvirt was closed")]
    Disconnected,
    /// The VM or network a change names does not exist (any more).
    #[error("not found: {detail}")]
    NotFound { detail: String },
    /// The VM has no network card with this MAC address.
    #[error("VM {vm} has no network card with MAC address {mac}")]
    NoSuchNic { vm: String, mac: String },
    /// This driver or VM cannot make the change (e.g. the test driver's
    /// device updates, a transient VM's persistent configuration).
    #[error("not supported: {detail}")]
    Unsupported { detail: String },
    /// The guest agent of `vm` could not do what a fix needs.
    #[error("the guest agent of {vm}: {error}")]
    GuestAgent { vm: String, error: crate::agent::AgentError },
    #[error("libvirt failed: {detail}")]
    Other { detail: String },
}

impl LibvirtError {
    /// Sorts an error from opening `uri`.
    pub(crate) fn from_open(uri: &str, error: &VirtError) -> Self {
        let code = error.code();
        let denied_code = [
            ErrorNumber::AuthFailed,
            ErrorNumber::AuthUnavailable,
            ErrorNumber::AuthCancelled,
            ErrorNumber::OperationDenied,
        ]
        .iter()
        .any(|denied| code.is(*denied));
        classify_open(uri, error.message(), denied_code)
    }

    /// Wraps an error from a call on an open connection.
    pub(crate) fn from_call(error: &VirtError) -> Self {
        Self::Other { detail: error.message().to_owned() }
    }

    /// Sorts an error from a change made on the connection to `uri`,
    /// keeping libvirt's own words in `detail`.
    pub(crate) fn from_change(uri: &str, error: &VirtError) -> Self {
        let code = error.code();
        let is = |numbers: &[ErrorNumber]| numbers.iter().any(|number| code.is(*number));
        let detail = error.message().to_owned();
        let lower = detail.to_ascii_lowercase();
        if is(&[
            ErrorNumber::AuthFailed,
            ErrorNumber::AuthUnavailable,
            ErrorNumber::AuthCancelled,
            ErrorNumber::OperationDenied,
            ErrorNumber::AccessDenied,
        ]) || lower.contains("permission denied")
            || lower.contains("read only access")
        {
            Self::PermissionDenied { uri: uri.to_owned(), detail }
        } else if is(&[ErrorNumber::NoDomain, ErrorNumber::NoNetwork]) {
            Self::NotFound { detail }
        } else if is(&[
            ErrorNumber::NoSupport,
            ErrorNumber::OperationUnsupported,
            ErrorNumber::ConfigUnsupported,
            ErrorNumber::ArgumentUnsupported,
        ]) {
            Self::Unsupported { detail }
        } else {
            Self::Other { detail }
        }
    }

    /// libvirt's own message, for a "details" expander.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::DaemonNotRunning { detail, .. }
            | Self::PermissionDenied { detail, .. }
            | Self::UnknownUri { detail, .. }
            | Self::NotFound { detail }
            | Self::Unsupported { detail }
            | Self::Other { detail } => Some(detail),
            Self::GuestAgent { .. } | Self::Disconnected | Self::NoSuchNic { .. } => None,
        }
    }
}

/// Sorts by libvirt's message, which is the only place that tells a missing
/// daemon from a missing file; `denied_code` is true for libvirt's
/// authentication and "operation denied" error codes.
fn classify_open(uri: &str, message: &str, denied_code: bool) -> LibvirtError {
    let detail = message.to_owned();
    let uri = uri.to_owned();
    let lower = message.to_ascii_lowercase();
    if denied_code || lower.contains("permission denied") {
        LibvirtError::PermissionDenied { uri, detail }
    } else if lower.contains("failed to connect socket")
        && (lower.contains("no such file or directory") || lower.contains("connection refused"))
    {
        LibvirtError::DaemonNotRunning { uri, detail }
    } else if lower.contains("no connection driver available") || lower.contains("unsupported uri") {
        LibvirtError::UnknownUri { uri, detail }
    } else {
        LibvirtError::Other { detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Messages as libvirt 11.3 (Debian 13) printed them: `virsh -c URI list`
    // in the project's build root, and libvirt's source for the others.
    #[test]
    fn real_messages_sort_into_what_the_user_can_do() {
        let cases = [
            (
                "Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory",
                false,
                "daemon",
            ),
            (
                "Failed to connect socket to '/run/libvirt/virtqemud-sock': Connection refused",
                false,
                "daemon",
            ),
            (
                "Failed to connect socket to '/var/run/libvirt/libvirt-sock': Permission denied",
                false,
                "denied",
            ),
            (
                "authentication unavailable: no polkit agent available to authenticate action \
                 'org.libvirt.unix.manage'",
                true,
                "denied",
            ),
            ("no connection driver available for bogus:///x", false, "uri"),
            ("Failed to open file '/nonexistent.xml': No such file or directory", false, "other"),
        ];
        for (message, denied_code, want) in cases {
            let got = match classify_open("qemu:///system", message, denied_code) {
                LibvirtError::DaemonNotRunning { .. } => "daemon",
                LibvirtError::PermissionDenied { .. } => "denied",
                LibvirtError::UnknownUri { .. } => "uri",
                _ => "other",
            };
            assert_eq!(got, want, "{message}");
        }
    }
}
