//! The helper of a hypervisor reached over SSH: each call runs the
//! server's `vmnet-doctor remote-helper` (`crate::cli::remote_helper`)
//! over libvirt's own SSH destination, so a host fix for that server is
//! planned, applied and reverted by the server's helper and authorized by
//! polkit there, for the user SSH logs in as — never by this machine's.

use std::time::Duration;

use gettextrs::gettext;
use serde_json::Value;
use vmnet_doctor_host::exec;
use vmnet_doctor_host::helper_api::{ApplyResult, ClientError, FixRequest, Pending, Plan, check_outcome};

use crate::i18n::fill;
use crate::remote_host::{SshDestination, shell_words};
use crate::remote_protocol::{RemoteHelperCall, arguments};

/// A plan reads the host; an apply or revert runs its tools (a UFW reload
/// on a busy host takes seconds), beside the SSH login.
const PLAN_TIMEOUT: Duration = Duration::from_secs(60);
const CHANGE_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone)]
pub struct RemoteHelper {
    destination: SshDestination,
}

impl RemoteHelper {
    pub fn new(destination: SshDestination) -> Self {
        Self { destination }
    }

    pub fn host(&self) -> &str {
        &self.destination.host
    }

    pub async fn plan(&self, request: &FixRequest) -> Result<Plan, ClientError> {
        let answer = self.call(RemoteHelperCall::Plan(request.to_wire()), PLAN_TIMEOUT).await?;
        serde_json::from_value(field(answer, "plan")).map_err(|error| bad_answer("plan", &error))
    }

    pub async fn apply(&self, request: &FixRequest, plan: &Plan) -> Result<ApplyResult, ClientError> {
        let call = RemoteHelperCall::Apply { plan_id: plan.id.clone(), fix: request.to_wire() };
        check_outcome(result(self.change(call).await?)?)
    }

    pub async fn revert(&self, transaction: &str) -> Result<ApplyResult, ClientError> {
        check_outcome(result(self.change(RemoteHelperCall::Revert(transaction.to_owned())).await?)?)
    }

    /// A call that changes the server: one that gets no answer may have
    /// made its change there all the same.
    async fn change(&self, call: RemoteHelperCall) -> Result<Value, ClientError> {
        match self.call(call, CHANGE_TIMEOUT).await {
            Err(ClientError::Timeout(waited)) => Err(ClientError::NoAnswer {
                waited,
                pending: Pending::Unknown(fill(
                    &gettext(
                        "SSH to {host} gave no answer; “vmnet-doctor revert” there lists its transactions",
                    ),
                    &[("host", &self.destination.host)],
                )),
            }),
            other => other,
        }
    }

    async fn call(&self, call: RemoteHelperCall, timeout: Duration) -> Result<Value, ClientError> {
        let Some(ssh) = exec::find_program("ssh") else {
            return Err(ClientError::NotInstalled(gettext("ssh is not installed on this machine")));
        };
        let mut words = vec!["vmnet-doctor".to_owned(), "remote-helper".to_owned()];
        words.extend(arguments(&call));
        let argv = self.destination.argv(&ssh, &shell_words(&words));
        let env = crate::remote_host::ssh_environment();
        let host = self.destination.host.clone();
        let output = tokio::task::spawn_blocking(move || exec::run_with_timeout_env(&argv, &env, timeout))
            .await
            .map_err(|error| ClientError::Other(error.to_string()))?;
        let answer: Option<Value> = serde_json::from_str(&output.stdout).ok();
        match (output.status, answer) {
            (0, Some(answer)) => Ok(answer),
            (1, Some(answer)) => {
                let error = &answer["error"];
                let kind = error["kind"].as_str().unwrap_or("other");
                Err(ClientError::from_kind(kind, error["detail"].as_str().unwrap_or_default().to_owned()))
            }
            (127, _) => Err(ClientError::NotInstalled(fill(
                &gettext("vmnet-doctor is not installed on {host}"),
                &[("host", &host)],
            ))),
            (-1, _) if output.stderr.contains("timed out") => Err(ClientError::Timeout(timeout)),
            (255 | -1, _) => Err(ClientError::Other(fill(
                &gettext("SSH to {host} failed: {message}"),
                &[("host", &host), ("message", &output.message())],
            ))),
            (_, _) if output.message().contains("remote-helper") => Err(ClientError::Outdated(fill(
                &gettext(
                    "the vmnet-doctor on {host} cannot make host changes for another machine; update it there",
                ),
                &[("host", &host)],
            ))),
            (status, _) => Err(ClientError::Other(fill(
                &gettext("vmnet-doctor on {host} failed (exit status {status}): {message}"),
                &[("host", &host), ("status", &status.to_string()), ("message", &output.message())],
            ))),
        }
    }
}

fn field(mut answer: Value, name: &str) -> Value {
    answer[name].take()
}

fn result(answer: Value) -> Result<ApplyResult, ClientError> {
    serde_json::from_value(field(answer, "result")).map_err(|error| bad_answer("result", &error))
}

fn bad_answer(name: &str, error: &serde_json::Error) -> ClientError {
    ClientError::Other(fill(
        &gettext("the server's answer has no {name}: {error}"),
        &[("name", name), ("error", &error.to_string())],
    ))
}
