//! The client side: calls the helper and sorts its failures into what the
//! user interface has to say about them.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use zbus::fdo;

use crate::conntrack::{ConnectionsReport, MAX_CONNECTION_ADDRESSES};
use crate::error::HelperError;
use crate::fix::{FixRequest, FixWire};
use crate::pending::{Pending, pending_apply, pending_revert};
use crate::proxy::Helper1Proxy;
use crate::types::{
    ApplyResult, Capabilities, HOST_FACTS_FORMAT, HostReport, InspectReport, MAX_HOST_NETWORKS,
    MAX_HOST_REPORT_BYTES, Outcome, Plan, StepResult, TransactionInfo,
};

/// Why a call to the helper did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The helper is not installed, or not reachable from here (a Flatpak
    /// without `--system-talk-name`, its D-Bus policy missing). The UI shows
    /// the commands to run by hand instead.
    #[error("the VM Network Doctor helper is not available: {0}")]
    NotInstalled(String),
    /// There is no system bus to reach it on.
    #[error("cannot reach the system bus: {0}")]
    NoSystemBus(String),
    /// The user dismissed the authentication dialog. Nothing was changed.
    #[error("authentication was dismissed; nothing was changed")]
    Dismissed,
    /// polkit refused (or could not be asked). Nothing was changed.
    #[error("not authorized: {0}; nothing was changed")]
    NotAuthorized(String),
    /// polkit would ask for a password, but this call did not allow it
    /// (see [`HelperClient::set_interactive`]). Nothing was changed.
    #[error("authentication is required; nothing was changed")]
    InteractionRequired,
    /// The helper refused the request before changing anything: an invalid
    /// name, a bridge that is not a libvirt network's, an uplink without a
    /// default route, a tool that is missing.
    #[error("{0}")]
    Rejected(String),
    /// The host changed since the plan was shown: show the new plan.
    /// Nothing was changed.
    #[error("the host changed since the plan was made; nothing was changed: {0}")]
    PlanChanged(String),
    /// A step failed: which one, the tool's message, and whether what was
    /// done before it was undone.
    #[error("{}", describe_failure(&.0.failed, .0.undone))]
    FixFailed(Box<FixFailure>),
    #[error("no such transaction: {0}")]
    UnknownTransaction(String),
    /// The installed helper is older (or newer) than this app and lacks a
    /// call it needs: the helper package wants updating.
    #[error(
        "the installed VM Network Doctor helper does not match this version of the app ({0}); update the helper package"
    )]
    Outdated(String),
    /// The helper did not answer in time.
    #[error("the helper did not answer within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The helper did not answer an `Apply` or `Revert` in time: the
    /// change goes on there, so it may be made (or undone) anyway; what
    /// the helper's journal says of it.
    #[error("the helper did not answer within {} s; the change may still be made: {pending}", .waited.as_secs())]
    NoAnswer { waited: Duration, pending: Pending },
    /// Anything else (the helper crashed, an internal error).
    #[error("the helper failed: {0}")]
    Other(String),
}

/// The details of [`ClientError::FixFailed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixFailure {
    /// The failed step, with the tool's exit status and message.
    pub failed: StepResult,
    /// Whether everything done before it was undone (nothing changed).
    pub undone: bool,
    /// The whole answer, with every step and undo step.
    pub result: ApplyResult,
}

fn describe_failure(failed: &StepResult, undone: bool) -> String {
    let message = failed.message.trim();
    let tool =
        if message.is_empty() { format!("exit status {}", failed.exit_status) } else { message.to_owned() };
    let after = if undone {
        "The steps before it were undone; nothing was changed."
    } else {
        "Undoing the steps before it failed too; see the transaction."
    };
    format!("“{}” failed: {tool}. {after}", failed.step.action.display())
}

impl ClientError {
    /// A name for this error's kind, for carrying it over another channel
    /// (SSH, `vmnet-doctor remote-helper`) with its message; see
    /// [`Self::from_kind`]. Kinds without a simple message travel as
    /// `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotInstalled(_) => "not-installed",
            Self::NoSystemBus(_) => "no-system-bus",
            Self::Dismissed => "dismissed",
            Self::NotAuthorized(_) => "not-authorized",
            Self::InteractionRequired => "interaction-required",
            Self::Rejected(_) => "rejected",
            Self::PlanChanged(_) => "plan-changed",
            Self::UnknownTransaction(_) => "unknown-transaction",
            Self::Outdated(_) => "outdated",
            Self::FixFailed(_) | Self::Timeout(_) | Self::NoAnswer { .. } | Self::Other(_) => "other",
        }
    }

    /// The detail a kind of [`Self::kind`] carries.
    pub fn detail(&self) -> String {
        match self {
            Self::NotInstalled(detail)
            | Self::NoSystemBus(detail)
            | Self::NotAuthorized(detail)
            | Self::Rejected(detail)
            | Self::PlanChanged(detail)
            | Self::UnknownTransaction(detail)
            | Self::Outdated(detail)
            | Self::Other(detail) => detail.clone(),
            other => other.to_string(),
        }
    }

    /// The error [`Self::kind`] and [`Self::detail`] describe.
    pub fn from_kind(kind: &str, detail: String) -> Self {
        match kind {
            "not-installed" => Self::NotInstalled(detail),
            "no-system-bus" => Self::NoSystemBus(detail),
            "dismissed" => Self::Dismissed,
            "not-authorized" => Self::NotAuthorized(detail),
            "interaction-required" => Self::InteractionRequired,
            "rejected" => Self::Rejected(detail),
            "plan-changed" => Self::PlanChanged(detail),
            "unknown-transaction" => Self::UnknownTransaction(detail),
            "outdated" => Self::Outdated(detail),
            _ => Self::Other(detail),
        }
    }

    /// Sorts a D-Bus failure of a call to the helper.
    pub fn from_dbus(error: zbus::Error) -> Self {
        match HelperError::from(error) {
            HelperError::NotAuthorized(message) => Self::NotAuthorized(message),
            HelperError::Dismissed(_) => Self::Dismissed,
            HelperError::InvalidRequest(message) | HelperError::HostCheckFailed(message) => {
                Self::Rejected(message)
            }
            HelperError::PlanChanged(message) => Self::PlanChanged(message),
            HelperError::UnknownTransaction(message) => Self::UnknownTransaction(message),
            HelperError::Failed(message) => Self::Other(message),
            HelperError::ZBus(error) => Self::from_zbus(error),
        }
    }

    fn from_zbus(error: zbus::Error) -> Self {
        let zbus::Error::FDO(fdo_error) = &error else {
            return match error {
                zbus::Error::InputOutput(_) | zbus::Error::Connection(..) | zbus::Error::Handshake(_) => {
                    Self::NoSystemBus(error.to_string())
                }
                other => Self::Other(other.to_string()),
            };
        };
        match fdo_error.as_ref() {
            // No owner and nothing to activate: not installed.
            fdo::Error::ServiceUnknown(message)
            | fdo::Error::NameHasNoOwner(message)
            | fdo::Error::SpawnServiceNotFound(message)
            | fdo::Error::SpawnExecFailed(message)
            | fdo::Error::SpawnFileInvalid(message) => Self::NotInstalled(message.clone()),
            // The bus's policy refused the call: our D-Bus policy is missing
            // (or a sandbox filters the name).
            fdo::Error::AccessDenied(message) => {
                Self::NotInstalled(format!("the system bus refused the call ({message})"))
            }
            fdo::Error::InteractiveAuthorizationRequired(_) => Self::InteractionRequired,
            // A helper from before the call existed.
            fdo::Error::UnknownMethod(message) => Self::Outdated(message.clone()),
            // Arguments past the helper's bounds, or too many calls at once.
            fdo::Error::InvalidArgs(message) | fdo::Error::LimitsExceeded(message) => {
                Self::Rejected(message.clone())
            }
            other => Self::Other(other.to_string()),
        }
    }
}

/// A connection to the helper.
#[derive(Debug, Clone)]
pub struct HelperClient {
    proxy: Helper1Proxy<'static>,
    interactive: bool,
    /// Instead of [`CALL_TIMEOUT`] and [`INTERACTIVE_CALL_TIMEOUT`].
    call_timeout: Option<Duration>,
}

/// How long a call may take when no password dialog can be shown: the
/// helper bounds each tool at 30 s and a fix has a handful of steps.
const CALL_TIMEOUT: Duration = Duration::from_secs(180);
/// With a password dialog, the user takes their time.
const INTERACTIVE_CALL_TIMEOUT: Duration = Duration::from_secs(600);
/// How long reading the journal may take after a call went unanswered.
const JOURNAL_TIMEOUT: Duration = Duration::from_secs(15);

/// Seconds since the epoch, as the helper's journal records them.
fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// Calls the helper's `method` through the proxy: its `…_asking` variant,
/// which lets polkit ask for a password, when the client is interactive.
macro_rules! call {
    ($client:expr, $method:ident, $asking:ident ( $($arg:expr),* )) => {{
        let client = $client;
        if client.interactive {
            client.answer(client.proxy.$asking($($arg),*)).await
        } else {
            client.answer(client.proxy.$method($($arg),*)).await
        }
    }};
}

impl HelperClient {
    /// Connects to the system bus. Calls are not interactive until
    /// [`Self::set_interactive`].
    pub async fn connect() -> Result<Self, ClientError> {
        let connection =
            zbus::Connection::system().await.map_err(|error| ClientError::NoSystemBus(error.to_string()))?;
        Self::with_connection(&connection).await
    }

    pub async fn with_connection(connection: &zbus::Connection) -> Result<Self, ClientError> {
        let proxy = Helper1Proxy::new(connection).await.map_err(ClientError::from_dbus)?;
        Ok(Self { proxy, interactive: false, call_timeout: None })
    }

    /// Whether polkit may show a password dialog for the calls (set it for
    /// calls that follow a user's click; DESIGN.md).
    pub fn set_interactive(&mut self, interactive: bool) {
        self.interactive = interactive;
    }

    /// How long to wait for each answer, instead of the defaults (3 min;
    /// 10 min for an interactive call, where a person types a password).
    pub fn set_call_timeout(&mut self, limit: Duration) {
        self.call_timeout = Some(limit);
    }

    pub fn proxy(&self) -> &Helper1Proxy<'static> {
        &self.proxy
    }

    /// Waits for the answer to `call`, as long as this client waits.
    async fn answer<R>(&self, call: impl Future<Output = zbus::Result<R>>) -> Result<R, ClientError> {
        let limit = self.call_timeout.unwrap_or(if self.interactive {
            INTERACTIVE_CALL_TIMEOUT
        } else {
            CALL_TIMEOUT
        });
        match tokio::time::timeout(limit, call).await {
            Err(_) => Err(ClientError::Timeout(limit)),
            Ok(result) => result.map_err(ClientError::from_dbus),
        }
    }

    pub async fn capabilities(&self) -> Result<Capabilities, ClientError> {
        call!(self, get_capabilities, get_capabilities_asking())
    }

    pub async fn inspect(&self) -> Result<InspectReport, ClientError> {
        call!(self, inspect, inspect_asking())
    }

    /// Every host fact the diagnosis reads, as the helper reads them as
    /// root; `networks` are the libvirt networks whose dnsmasq is checked.
    /// The answer's format and size are checked here; its JSON is
    /// `vmnet_doctor_core::host::HostFacts`.
    pub async fn inspect_host(&self, networks: &[String]) -> Result<HostReport, ClientError> {
        if networks.len() > MAX_HOST_NETWORKS {
            return Err(ClientError::Rejected(format!(
                "at most {MAX_HOST_NETWORKS} networks can be asked about at once"
            )));
        }
        let networks: Vec<&str> = networks.iter().map(String::as_str).collect();
        check_host_report(call!(self, inspect_host, inspect_host_asking(&networks))?)
    }

    /// The NAT translation table of a guest: the kernel's connection-tracking
    /// entries whose original source (connections the guest opened) or
    /// reply source (connections forwarded to the guest) is one of
    /// `addresses`. Read-only (polkit action
    /// [`crate::actions::INSPECT_CONNECTIONS`], allowed to active local
    /// users); call it again to refresh. At most
    /// [`MAX_CONNECTION_ADDRESSES`] addresses; none gives an empty table.
    pub async fn connections(&self, addresses: &[IpAddr]) -> Result<ConnectionsReport, ClientError> {
        if addresses.len() > MAX_CONNECTION_ADDRESSES {
            return Err(ClientError::Rejected(format!(
                "at most {MAX_CONNECTION_ADDRESSES} addresses can be asked about at once"
            )));
        }
        let addresses: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        self.connections_wire(&addresses).await
    }

    /// Calls `Connections` with the strings as they are (tests send what
    /// the typed call would refuse, to check the helper's own checks).
    pub async fn connections_wire(&self, addresses: &[String]) -> Result<ConnectionsReport, ClientError> {
        let addresses: Vec<&str> = addresses.iter().map(String::as_str).collect();
        call!(self, connections, connections_asking(&addresses))
    }

    pub async fn plan(&self, fix: &FixRequest) -> Result<Plan, ClientError> {
        self.plan_wire(&fix.to_wire()).await
    }

    /// Applies `fix` if its steps are still those of `plan`. A failed step
    /// is [`ClientError::FixFailed`].
    /// When this client stops waiting for [`Self::apply`], it reads the
    /// journal ([`ClientError::NoAnswer`]).
    pub async fn apply(&self, fix: &FixRequest, plan: &Plan) -> Result<ApplyResult, ClientError> {
        let wire = fix.to_wire();
        let since = now();
        match self.apply_wire(&wire, &plan.id).await {
            Ok(result) => check_outcome(result),
            Err(ClientError::Timeout(waited)) => {
                let pending = match self.journal().await {
                    Ok((list, states)) => pending_apply(&list, &states, &wire, since),
                    Err(error) => Pending::Unknown(error.to_string()),
                };
                Err(ClientError::NoAnswer { waited, pending })
            }
            Err(error) => Err(error),
        }
    }

    /// Undoes a journaled transaction. A failed undo step is
    /// [`ClientError::FixFailed`] with `undone` false.
    pub async fn revert(&self, transaction: &str) -> Result<ApplyResult, ClientError> {
        match call!(self, revert, revert_asking(transaction)) {
            Ok(result) => check_outcome(result),
            Err(ClientError::Timeout(waited)) => {
                let pending = match self.journal().await {
                    Ok((list, states)) => pending_revert(&list, &states, transaction),
                    Err(error) => Pending::Unknown(error.to_string()),
                };
                Err(ClientError::NoAnswer { waited, pending })
            }
            Err(error) => Err(error),
        }
    }

    pub async fn transactions(&self) -> Result<Vec<TransactionInfo>, ClientError> {
        call!(self, transactions, transactions_asking())
    }

    /// The journal's transactions and their states; a helper older than
    /// `TransactionStates` gives none (the list says applied or reverted).
    async fn journal(&self) -> Result<(Vec<TransactionInfo>, HashMap<String, String>), ClientError> {
        let quick = self.with_timeout(JOURNAL_TIMEOUT);
        let list = quick.transactions().await?;
        let states = match call!(&quick, transaction_states, transaction_states_asking()) {
            Ok(states) => states,
            Err(ClientError::Outdated(_)) => HashMap::new(),
            Err(error) => return Err(error),
        };
        Ok((list, states))
    }

    /// The same client, waiting at most `limit` for each answer, never
    /// asking for a password.
    fn with_timeout(&self, limit: Duration) -> Self {
        Self { proxy: self.proxy.clone(), interactive: false, call_timeout: Some(limit) }
    }

    /// Calls `Apply` with a wire request as it is (tests send what
    /// [`FixRequest`] cannot express, to check the helper's own checks).
    pub async fn apply_wire(&self, fix: &FixWire, plan_id: &str) -> Result<ApplyResult, ClientError> {
        call!(self, apply, apply_asking(fix, plan_id))
    }

    /// Calls `Plan` with a wire request as it is (see [`Self::apply_wire`]).
    pub async fn plan_wire(&self, fix: &FixWire) -> Result<Plan, ClientError> {
        call!(self, plan, plan_asking(fix))
    }
}

/// An `InspectHost` answer this app can read: in its format (a helper
/// older or newer than the app is [`ClientError::Outdated`], "update the
/// helper package") and not too large.
fn check_host_report(report: HostReport) -> Result<HostReport, ClientError> {
    if report.format != HOST_FACTS_FORMAT {
        return Err(ClientError::Outdated(format!(
            "its host facts are in format {}, this app reads format {HOST_FACTS_FORMAT}",
            report.format
        )));
    }
    if report.facts.len() > MAX_HOST_REPORT_BYTES {
        return Err(ClientError::Other(format!(
            "its host facts are {} bytes, more than the {MAX_HOST_REPORT_BYTES} this app accepts",
            report.facts.len()
        )));
    }
    Ok(report)
}

/// An `Apply` or `Revert` answer as the caller takes it: a failed step is
/// [`ClientError::FixFailed`].
pub fn check_outcome(result: ApplyResult) -> Result<ApplyResult, ClientError> {
    let undone = match result.outcome {
        Outcome::Applied | Outcome::NothingToDo | Outcome::Reverted => return Ok(result),
        Outcome::RolledBack => true,
        Outcome::RollbackIncomplete | Outcome::RevertIncomplete => false,
    };
    let failed = result
        .failed_step()
        .or_else(|| result.rollback.iter().find(|step| !step.succeeded()))
        .cloned()
        .ok_or_else(|| {
            ClientError::Other(format!("the helper reported {} without a failed step", result.outcome))
        })?;
    Err(ClientError::FixFailed(Box::new(FixFailure { failed, undone, result })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Action, Step};

    #[test]
    fn an_error_kind_and_detail_give_the_same_error_back() {
        let errors = [
            ClientError::NotInstalled("no activation file".into()),
            ClientError::NoSystemBus("no socket".into()),
            ClientError::Dismissed,
            ClientError::NotAuthorized("polkit said no".into()),
            ClientError::InteractionRequired,
            ClientError::Rejected("virbr9 is no libvirt network's bridge".into()),
            ClientError::PlanChanged("steps differ".into()),
            ClientError::UnknownTransaction("x".into()),
            ClientError::Outdated("no Apply".into()),
            ClientError::Other("crashed".into()),
        ];
        for error in errors {
            let back = ClientError::from_kind(error.kind(), error.detail());
            assert_eq!(
                (back.kind(), back.detail(), back.to_string()),
                (error.kind(), error.detail(), error.to_string())
            );
        }
        let timeout = ClientError::Timeout(Duration::from_secs(5));
        let back = ClientError::from_kind(timeout.kind(), timeout.detail());
        assert!(matches!(back, ClientError::Other(ref detail) if *detail == timeout.to_string()), "{back:?}");
    }

    /// An error reply as zbus hands it to the caller.
    fn method_error(name: &str, message: &str) -> zbus::Error {
        let reply = zbus::Message::method_call("/x", "Apply")
            .build(&())
            .and_then(|call| zbus::Message::error(&call.header(), name).build(&(message,)));
        match reply {
            Ok(reply) => zbus::Error::from(reply),
            Err(error) => error,
        }
    }

    #[test]
    fn sorts_the_errors_the_ui_must_tell_apart() {
        type Expected = fn(&ClientError) -> bool;
        let cases: Vec<(zbus::Error, Expected)> = vec![
            (method_error("org.freedesktop.DBus.Error.ServiceUnknown", "not activatable"), |e| {
                matches!(e, ClientError::NotInstalled(_))
            }),
            (method_error("org.freedesktop.DBus.Error.NameHasNoOwner", "no owner"), |e| {
                matches!(e, ClientError::NotInstalled(_))
            }),
            (method_error("org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", "x"), |e| {
                matches!(e, ClientError::InteractionRequired)
            }),
            (
                method_error("io.github.vmnetdoctor.Helper1.Error.NotAuthorized", "no"),
                |e| matches!(e, ClientError::NotAuthorized(m) if m == "no"),
            ),
            (method_error("io.github.vmnetdoctor.Helper1.Error.Dismissed", "closed"), |e| {
                matches!(e, ClientError::Dismissed)
            }),
            (
                method_error("io.github.vmnetdoctor.Helper1.Error.HostCheckFailed", "not libvirt's"),
                |e| matches!(e, ClientError::Rejected(m) if m == "not libvirt's"),
            ),
            (method_error("io.github.vmnetdoctor.Helper1.Error.PlanChanged", "x"), |e| {
                matches!(e, ClientError::PlanChanged(_))
            }),
            (method_error("org.freedesktop.DBus.Error.UnknownMethod", "no InspectHost"), |e| {
                matches!(e, ClientError::Outdated(_)) && e.to_string().contains("update the helper package")
            }),
        ];
        for (error, expected) in cases {
            let shown = format!("{error:?}");
            let sorted = ClientError::from_dbus(error);
            assert!(expected(&sorted), "{shown} became {sorted:?}");
        }
    }

    #[test]
    fn a_helper_with_older_host_facts_is_told_to_be_updated() {
        // Format 2: the routing tables and rules before their numbers and
        // masks (what 9f02d82 shipped).
        let old = HostReport { format: 2, facts: "{}".to_owned() };
        let Err(error) = check_host_report(old) else { panic!("format 2 was taken") };
        let text = error.to_string();
        assert!(matches!(error, ClientError::Outdated(_)), "{error:?}");
        assert!(text.contains("update the helper package"), "{text}");
        assert!(text.contains("format 2, this app reads format 3"), "{text}");
        let current = HostReport { format: HOST_FACTS_FORMAT, facts: "{}".to_owned() };
        assert_eq!(check_host_report(current.clone()).ok(), Some(current));
        let huge = HostReport { format: HOST_FACTS_FORMAT, facts: " ".repeat(MAX_HOST_REPORT_BYTES + 1) };
        assert!(matches!(check_host_report(huge), Err(ClientError::Other(_))));
    }

    #[test]
    fn a_rolled_back_apply_is_a_fix_failure_naming_the_step() {
        let step = |argv: &[&str]| Step {
            description: String::new(),
            action: Action::Run { argv: argv.iter().map(|s| (*s).to_owned()).collect() },
        };
        let result = ApplyResult {
            transaction: String::new(),
            outcome: Outcome::RolledBack,
            steps: vec![
                StepResult {
                    step: step(&["/usr/sbin/ufw", "allow"]),
                    exit_status: 0,
                    message: String::new(),
                },
                StepResult {
                    step: step(&["/usr/sbin/sysctl", "-w", "net.ipv4.ip_forward=1"]),
                    exit_status: 255,
                    message: "sysctl: permission denied on key \"net.ipv4.ip_forward\"".into(),
                },
            ],
            rollback: Vec::new(),
        };
        let Err(error) = check_outcome(result) else { panic!("a rollback is not a success") };
        let text = error.to_string();
        assert!(text.contains("/usr/sbin/sysctl -w net.ipv4.ip_forward=1"), "{text}");
        assert!(text.contains("permission denied"), "{text}");
        assert!(text.contains("nothing was changed"), "{text}");
    }
}
