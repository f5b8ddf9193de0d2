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

/// How long connecting to the bus and the `Inspect` call may take together.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Asks the helper on the system bus for the root-only outputs. Blocking:
/// it runs the client on its own current-thread tokio runtime, so it may be
/// called from tokio's blocking pool but not from inside a runtime's task.
/// The error is the `Unknown` text for the facts.
pub fn inspect() -> Result<InspectReport, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("{NEEDS_ROOT} (cannot start a runtime to ask the helper: {error})"))?;
    runtime.block_on(async {
        match tokio::time::timeout(TIMEOUT, ask()).await {
            Ok(result) => result.map_err(|error| unavailable(&error)),
            Err(_) => Err(unavailable(&ClientError::Timeout(TIMEOUT))),
        }
    })
}

async fn ask() -> Result<InspectReport, ClientError> {
    HelperClient::connect().await?.inspect().await
}

/// How long `InspectHost` may take: it runs the rulesets' tools and asks
/// firewalld, each bounded on the helper's side.
pub const HOST_TIMEOUT: Duration = Duration::from_secs(20);

/// Every host fact, read by the helper as root (`InspectHost`): what an app
/// that cannot see the host (the Flatpak sandbox) diagnoses from.
/// `network_names` are the libvirt networks whose dnsmasq is checked.
/// Blocking, like [`inspect`]; the error is the `Unknown` text.
pub fn inspect_host(network_names: &[String]) -> Result<HostFacts, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start a runtime to ask the helper: {error}"))?;
    let report = runtime.block_on(async {
        match tokio::time::timeout(HOST_TIMEOUT, async {
            HelperClient::connect().await?.inspect_host(network_names).await
        })
        .await
        {
            Ok(result) => result.map_err(|error| host_unavailable(&error)),
            Err(_) => Err(host_unavailable(&ClientError::Timeout(HOST_TIMEOUT))),
        }
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
