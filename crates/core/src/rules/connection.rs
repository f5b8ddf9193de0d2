//! Findings for a connection that could not be opened. There is no
//! snapshot then, so these are not rules of [`super::diagnose`]: the caller
//! classifies libvirt's error (core does not depend on libvirt) and asks
//! for the findings.

use gettextrs::gettext;

use super::common::is_session;
use crate::finding::{Evidence, Finding, Severity, Subject};
use crate::i18n::fill;

/// Why opening a libvirt connection failed, as far as the user can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionProblem {
    /// Nothing listens on the daemon's socket.
    DaemonNotRunning,
    /// The socket or polkit refused the user.
    PermissionDenied,
    /// No libvirt driver accepts the URI.
    UnknownUri,
    /// The connection did not finish within the time the user gave it.
    NoAnswer,
    /// Anything else libvirt reported.
    Other,
}

/// The finding for a connection to `uri` that failed with `problem`;
/// `detail` is libvirt's own message (may be empty).
pub fn connection_findings(problem: ConnectionProblem, uri: &str, detail: &str) -> Vec<Finding> {
    let values = [("uri", uri)];
    let (id, title, explanation) = match problem {
        ConnectionProblem::DaemonNotRunning => (
            "libvirt-unreachable",
            fill(&gettext("The libvirt daemon for {uri} is not running"), &values),
            if is_session(uri) {
                gettext(
                    "Nothing answers on the socket of your own libvirt daemon, which normally starts on demand. Check that virtqemud (or libvirtd) is installed; “systemctl --user status virtqemud.socket” shows whether its socket is enabled. Until it runs, no VM of this connection can be listed or started.",
                )
            } else {
                gettext(
                    "Nothing answers on libvirt's socket: the daemon is stopped or not installed. Start it with “sudo systemctl enable --now libvirtd” (or “virtqemud.socket” where libvirt runs as separate daemons). Until it runs, no VM can be listed, started or given a network.",
                )
            },
        ),
        ConnectionProblem::PermissionDenied => (
            "libvirt-permission-denied",
            fill(&gettext("You may not manage the VMs of {uri}"), &values),
            gettext(
                "libvirt refused the connection: your user is not in the “libvirt” group and no administrator password was asked for (no polkit agent, or it was cancelled). Add yourself to the group with “sudo usermod -aG libvirt $USER” and log in again, or use qemu:///session for VMs of your own.",
            ),
        ),
        ConnectionProblem::UnknownUri => (
            "libvirt-unknown-uri",
            fill(&gettext("libvirt does not know the connection {uri}"), &values),
            gettext(
                "No libvirt driver accepts this address: it has a typo, or the driver for it is not installed (for KVM/QEMU virtual machines: the libvirt QEMU driver, e.g. the package libvirt-daemon-driver-qemu or libvirt-daemon-system).",
            ),
        ),
        ConnectionProblem::NoAnswer => (
            "libvirt-no-answer",
            fill(&gettext("{uri} did not answer in time"), &values),
            gettext(
                "Opening the connection and reading its VMs took longer than --timeout allows. The host may be down or unreachable, SSH may be waiting for a password or for a new host key to be accepted (which a run without a terminal cannot give; use a key in your SSH agent), or the daemon may hang. “virsh -c URI list” shows where it stops.",
            ),
        ),
        ConnectionProblem::Other => (
            "libvirt-error",
            fill(&gettext("Could not read the libvirt connection {uri}"), &values),
            gettext(
                "libvirt reported an error while connecting or listing VMs and networks; its message is below.",
            ),
        ),
    };
    let mut evidence = vec![Evidence::new("uri", uri)];
    if !detail.trim().is_empty() {
        evidence.push(Evidence::new("libvirt", detail.trim()));
    }
    vec![Finding {
        id,
        severity: Severity::Error,
        subject: Subject::Connection,
        title,
        explanation,
        evidence,
        fix: None,
    }]
}
