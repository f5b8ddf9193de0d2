//! The root-only outputs, asked of VM Network Doctor's helper
//! (`io.github.vmnetdoctor.Helper1`, its read-only `Inspect` call) when
//! this process is not root.
//!
//! The call is not interactive (no password dialog while reading) and
//! bounded by [`TIMEOUT`]. When it fails, every root-only fact stays
//! "needs the helper or root", followed by why the helper did not answer.

use std::time::Duration;

use vmnet_doctor_core::host::HostFacts;
use vmnet_doctor_helper_api::{ClientError, HelperClient, InspectReport};

use crate::NEEDS_ROOT;
use crate::system_bus::{self, BusError};

/// How long connecting to the bus and the `Inspect` call may take together.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Asks the helper on the system bus for the root-only outputs, on the
/// process's one bus connection ([`system_bus`]). Blocking: from tokio's
/// blocking pool or a plain thread, not from inside a runtime's task.
/// The error is the `Unknown` text for the facts.
pub fn inspect() -> Result<InspectReport, String> {
    system_bus::call(TIMEOUT, TIMEOUT, |connection| async move {
        let client = HelperClient::with_connection(&connection)
            .await
            .map_err(|error| bus_error(&error, unavailable))?;
        client.inspect().await.map_err(|error| bus_error(&error, unavailable))
    })
    .map_err(|why| if why.starts_with(NEEDS_ROOT) { why } else { format!("{NEEDS_ROOT}: {why}") })
}

/// A helper call's failure for [`system_bus::call`], worded by `words`.
fn bus_error(error: &ClientError, words: fn(&ClientError) -> String) -> BusError {
    BusError { message: words(error), broken: matches!(error, ClientError::NoSystemBus(_)) }
}

/// How long `InspectHost` may take: it runs the rulesets' tools and asks
/// firewalld, each bounded on the helper's side.
pub const HOST_TIMEOUT: Duration = Duration::from_secs(20);

/// Every host fact, read by the helper as root (`InspectHost`): what an app
/// that cannot see the host (the Flatpak sandbox) diagnoses from.
/// `network_names` are the libvirt networks whose dnsmasq is checked.
/// Blocking, like [`inspect`]; the error is the `Unknown` text.
pub fn inspect_host(network_names: &[String]) -> Result<HostFacts, String> {
    let networks = network_names.to_vec();
    let report = system_bus::call(HOST_TIMEOUT, HOST_TIMEOUT, move |connection| async move {
        let client = HelperClient::with_connection(&connection)
            .await
            .map_err(|error| bus_error(&error, host_unavailable))?;
        client.inspect_host(&networks).await.map_err(|error| bus_error(&error, host_unavailable))
    })?;
    serde_json::from_str(&report.facts).map_err(|error| {
        host_unavailable(&ClientError::Outdated(format!("its host facts do not read as this app's: {error}")))
    })
}

/// Why the helper could not give the host facts: [`unavailable`]'s reason
/// without its "needs the helper or root", which the caller says its way.
fn host_unavailable(error: &ClientError) -> String {
    let text = unavailable(error);
    text.strip_prefix(NEEDS_ROOT).map_or(text.clone(), |why| why.trim_start_matches(": ").to_owned())
}

/// The `Unknown` text when the helper could not supply the outputs.
pub fn unavailable(error: &ClientError) -> String {
    let why = match error {
        ClientError::NotInstalled(detail) => format!("the helper is not installed ({detail})"),
        ClientError::NoSystemBus(detail) => {
            format!("the helper cannot be asked: there is no system bus ({detail})")
        }
        ClientError::NotAuthorized(detail) => {
            format!("the helper refused to read the firewall: not authorized ({detail})")
        }
        ClientError::InteractionRequired | ClientError::Dismissed => {
            "the helper refused to read the firewall: it needs authentication, which a check does not ask for"
                .to_owned()
        }
        ClientError::Timeout(limit) => format!("the helper did not answer within {} s", limit.as_secs()),
        ClientError::Outdated(_) => error.to_string(),
        other => format!("the helper failed: {other}"),
    };
    format!("{NEEDS_ROOT}: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reasons_start_with_needs_root_and_say_why() {
        let missing = unavailable(&ClientError::NotInstalled("no io.github.vmnetdoctor.Helper1".into()));
        assert!(missing.starts_with(NEEDS_ROOT), "{missing}");
        assert!(missing.contains("not installed"), "{missing}");
        let denied = unavailable(&ClientError::NotAuthorized("polkit said no".into()));
        assert!(denied.starts_with(NEEDS_ROOT), "{denied}");
        assert!(denied.contains("refused") && denied.contains("polkit said no"), "{denied}");
    }
}
