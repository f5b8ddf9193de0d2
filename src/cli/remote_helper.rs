//! `vmnet-doctor remote-helper plan|apply|revert …`: this host's helper, for
//! a desktop that fixes this hypervisor over SSH (`crate::fixes::remote`).
//! Each call is one call to the helper on this host's system bus,
//! authorized by polkit here, for the user SSH logged in; never
//! interactive (nothing could answer a prompt). One JSON document on
//! standard output: `{"plan": …}`, `{"result": …}` (the helper's own
//! answers, a failed step included), or `{"error": {"kind", "detail"}}`
//! ([`ClientError::kind`]); exit status 0, or 1 with an error.
//!
//!     vmnet-doctor remote-helper plan KIND [NAME=VALUE…]
//!     vmnet-doctor remote-helper apply PLAN-ID KIND [NAME=VALUE…]
//!     vmnet-doctor remote-helper revert TRANSACTION-ID

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;

use gettextrs::gettext;
use serde_json::{Value, json};
use vmnet_doctor_host::helper_api::{ClientError, FixWire, HelperClient};

use super::args::{Command, unknown_argument};
use crate::i18n::fill;
use crate::remote_protocol::RemoteHelperCall;

pub(super) fn parse(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let args: Vec<String> = args.collect();
    let usage = || {
        gettext(
            "remote-helper needs plan KIND [NAME=VALUE…], apply PLAN-ID KIND [NAME=VALUE…] or revert TRANSACTION-ID",
        )
    };
    let call = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["plan", kind, rest @ ..] => RemoteHelperCall::Plan(wire(kind, rest)?),
        ["apply", plan_id, kind, rest @ ..] => {
            RemoteHelperCall::Apply { plan_id: (*plan_id).to_owned(), fix: wire(kind, rest)? }
        }
        ["revert", transaction] => RemoteHelperCall::Revert((*transaction).to_owned()),
        _ => return Err(usage()),
    };
    Ok(Command::RemoteHelper(call))
}

/// The request as the helper's wire has it; the helper checks it as it
/// checks any caller's.
fn wire(kind: &str, args: &[&str]) -> Result<FixWire, String> {
    let mut named = BTreeMap::new();
    for arg in args {
        let Some((name, value)) = arg.split_once('=') else {
            return Err(unknown_argument(arg));
        };
        named.insert(name.to_owned(), value.to_owned());
    }
    Ok(FixWire { kind: kind.to_owned(), args: named })
}

pub fn run(call: &RemoteHelperCall) -> ExitCode {
    let answer = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(ask(call)),
        Err(error) => Err(ClientError::Other(error.to_string())),
    };
    let (document, status) = match answer {
        Ok(document) => (document, ExitCode::SUCCESS),
        Err(error) => {
            (json!({ "error": { "kind": error.kind(), "detail": error.detail() } }), ExitCode::from(1))
        }
    };
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{document}").and_then(|()| stdout.flush()).is_err() {
        return ExitCode::from(2);
    }
    status
}

async fn ask(call: &RemoteHelperCall) -> Result<Value, ClientError> {
    let mut client = HelperClient::connect().await?;
    client.set_interactive(false);
    let to_json = |value: serde_json::Result<Value>| {
        value.map_err(|error| {
            ClientError::Other(fill(
                &gettext("cannot write the answer: {error}"),
                &[("error", &error.to_string())],
            ))
        })
    };
    Ok(match call {
        RemoteHelperCall::Plan(fix) => {
            json!({ "plan": to_json(serde_json::to_value(client.plan_wire(fix).await?))? })
        }
        // The helper's answer as it is: the desktop judges a failed step.
        RemoteHelperCall::Apply { plan_id, fix } => {
            json!({ "result": to_json(serde_json::to_value(client.apply_wire(fix, plan_id).await?))? })
        }
        RemoteHelperCall::Revert(transaction) => {
            json!({ "result": to_json(serde_json::to_value(client.revert(transaction).await.or_else(
                |error| match error {
                    // Its answer, not the error made of it.
                    ClientError::FixFailed(failure) => Ok(failure.result),
                    other => Err(other),
                }
            )?))? })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::cli::args::Command;
    use crate::remote_protocol::{RemoteHelperCall, arguments};

    #[test]
    fn a_call_reads_back_from_its_arguments() {
        for words in [
            &["plan", "ufw-allow-bridge", "bridge=virbr0", "uplink=enp3s0"][..],
            &["apply", "3f2a", "enable-ipv4-forwarding"],
            &["revert", "ufw-allow-bridge-1-2-0"],
        ] {
            let parsed = parse(words.iter().map(|word| (*word).to_owned()));
            let Ok(Command::RemoteHelper(call)) = parsed else {
                panic!("{words:?}: {parsed:?}");
            };
            assert_eq!(arguments(&call), words);
            assert!(matches!(
                (words[0], &call),
                ("plan", RemoteHelperCall::Plan(_))
                    | ("apply", RemoteHelperCall::Apply { .. })
                    | ("revert", RemoteHelperCall::Revert(_))
            ));
        }
        for bad in [&[][..], &["plan"], &["apply", "id"], &["revert"], &["plan", "x", "no-equals"], &["frob"]]
        {
            assert!(parse(bad.iter().map(|word| (*word).to_owned())).is_err(), "{bad:?}");
        }
    }
}
