//! The helper's own D-Bus errors.

use zbus::DBusError;

/// An error reply of the helper, named `io.github.vmnetdoctor.Helper1.Error.*`.
/// The helper also answers the standard
/// `org.freedesktop.DBus.Error.InteractiveAuthorizationRequired` when
/// polkit would ask for a password but the call did not allow it.
#[derive(Debug, DBusError)]
#[zbus(prefix = "io.github.vmnetdoctor.Helper1.Error")]
pub enum HelperError {
    #[zbus(error)]
    ZBus(zbus::Error),
    /// polkit refused, or could not be asked (the helper fails closed).
    NotAuthorized(String),
    /// The user dismissed the authentication dialog.
    Dismissed(String),
    /// A malformed request: unknown fix, bad name, too large.
    InvalidRequest(String),
    /// The host does not allow this fix: the bridge is not a libvirt
    /// network's, the uplink carries no default route, UFW is missing…
    HostCheckFailed(String),
    /// The steps `Apply` would run now differ from the plan it was given.
    PlanChanged(String),
    /// No journaled transaction has that id.
    UnknownTransaction(String),
    /// The helper itself failed (journal, I/O).
    Failed(String),
}
