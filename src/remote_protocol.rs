//! What a desktop and a server say to each other over SSH (`qemu+ssh://`),
//! through the server's own vmnet-doctor: `vmnet-doctor facts` (its host
//! network, read by `crate::remote_host`) and `vmnet-doctor remote-helper`
//! (its helper's calls, made by `crate::fixes::RemoteHelper`). The server
//! side is in `crate::cli::facts` and `crate::cli::remote_helper`.

use vmnet_doctor_host::helper_api::FixWire;

/// The schema of `vmnet-doctor facts`'s document. Bumped on any
/// incompatible change; its `facts` are the core's `HostFacts`, whose
/// fields may be added to (an older reader fills their defaults).
pub const FACTS_SCHEMA: &str = "vmnet-doctor-facts/1";

/// One call to a server's helper, as `vmnet-doctor remote-helper` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteHelperCall {
    Plan(FixWire),
    Apply { plan_id: String, fix: FixWire },
    Revert(String),
}

/// The words after `vmnet-doctor remote-helper` for `call`.
pub fn arguments(call: &RemoteHelperCall) -> Vec<String> {
    match call {
        RemoteHelperCall::Plan(fix) => [vec!["plan".to_owned()], fix_words(fix)].concat(),
        RemoteHelperCall::Apply { plan_id, fix } => {
            [vec!["apply".to_owned(), plan_id.clone()], fix_words(fix)].concat()
        }
        RemoteHelperCall::Revert(transaction) => vec!["revert".to_owned(), transaction.clone()],
    }
}

/// `KIND NAME=VALUE…`
fn fix_words(fix: &FixWire) -> Vec<String> {
    std::iter::once(fix.kind.clone())
        .chain(fix.args.iter().map(|(name, value)| format!("{name}={value}")))
        .collect()
}
