//! The D-Bus interface `io.github.vmnetdoctor.Helper1`.
//!
//! Every method, in this order: bounds the request's size, asks polkit
//! about the caller (fails closed), validates the request, then works — on
//! a blocking thread, and for `Apply` and `Revert` one at a time. Each
//! request leaves one audit line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vmnet_doctor_helper_api::{
    ApplyResult, Capabilities, ConnectionsReport, FixKind, FixRequest, FixWire, HelperError, HostReport,
    InspectReport, MAX_CONNECTION_ADDRESSES, MAX_HOST_NETWORKS, MAX_REQUEST_BYTES, Plan, TransactionInfo,
    actions,
};
use zbus::message::Header;
use zbus::names::{BusName, ErrorName, WellKnownName};
use zbus::{DBusError, fdo, interface};

use crate::audit::Audit;
use crate::bounded::{Bounded, BoundedList};
use crate::engine::{self, EngineError};
use crate::exec::Ran;
use crate::host::Host;
use crate::plan::{self, PlanError};
use crate::polkit::{self, Denial, Details};
use crate::{connections, host_facts, inspect, journal, state_lock};

/// When the helper last finished a request, and the requests running, by
/// sender.
#[derive(Debug)]
pub struct Activity {
    last: Mutex<Instant>,
    running: Mutex<HashMap<String, usize>>,
}

impl Activity {
    pub fn new() -> Self {
        Self { last: Mutex::new(Instant::now()), running: Mutex::new(HashMap::new()) }
    }

    /// How long no request has been running (zero while one is).
    pub fn idle_for(&self) -> Duration {
        if self.in_flight() > 0 {
            return Duration::ZERO;
        }
        self.last.lock().map(|last| last.elapsed()).unwrap_or_default()
    }

    /// How many requests are running (a poisoned lock counts as busy).
    pub fn in_flight(&self) -> usize {
        self.running.lock().map_or(1, |running| running.values().sum())
    }
}

/// At most this many calls run at once (waiting for polkit included), and
/// at most [`MAX_CALLS_PER_SENDER`] of one caller: more are refused at once,
/// so no caller can pile up calls (and their messages) in this process.
const MAX_CALLS: usize = 32;
const MAX_CALLS_PER_SENDER: usize = 4;

/// Counts a request as running while it lives, in all and for its sender.
#[derive(Debug)]
struct Busy {
    shared: Arc<Shared>,
    sender: String,
}

impl Busy {
    /// Counts the call in, unless the limits are reached.
    fn admit(shared: &Arc<Shared>, sender: &str) -> Result<Self, String> {
        let mut senders =
            shared.activity.running.lock().map_err(|_| "internal error: a lock was poisoned".to_owned())?;
        let total: usize = senders.values().sum();
        let mine = senders.get(sender).copied().unwrap_or(0);
        if total >= MAX_CALLS {
            return Err(format!("{total} calls are running; try again when they are done"));
        }
        if mine >= MAX_CALLS_PER_SENDER {
            return Err(format!(
                "this caller has {mine} calls running; at most {MAX_CALLS_PER_SENDER} are served at once"
            ));
        }
        *senders.entry(sender.to_owned()).or_insert(0) += 1;
        Ok(Self { shared: Arc::clone(shared), sender: sender.to_owned() })
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Ok(mut last) = self.shared.activity.last.lock() {
            *last = Instant::now();
        }
        if let Ok(mut senders) = self.shared.activity.running.lock()
            && let Some(count) = senders.get_mut(&self.sender)
        {
            *count = count.saturating_sub(1);
            if *count == 0 {
                senders.remove(&self.sender);
            }
        }
    }
}

#[derive(Debug)]
pub struct Shared {
    pub host: Host,
    /// Held by `Apply` and `Revert`: one mutation at a time in this
    /// process (and [`state_lock`] across processes).
    mutation: tokio::sync::Mutex<()>,
    pub activity: Activity,
}

impl Shared {
    pub fn new(host: Host) -> Arc<Self> {
        Arc::new(Self { host, mutation: tokio::sync::Mutex::new(()), activity: Activity::new() })
    }
}

/// The served object.
#[derive(Debug)]
pub struct Helper {
    shared: Arc<Shared>,
}

impl Helper {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

/// An error reply: the helper's own, or a standard one.
#[derive(Debug)]
pub enum ReplyError {
    Helper(HelperError),
    Standard(fdo::Error),
}

impl DBusError for ReplyError {
    fn create_reply(&self, call: &Header<'_>) -> zbus::Result<zbus::Message> {
        match self {
            Self::Helper(error) => error.create_reply(call),
            Self::Standard(error) => error.create_reply(call),
        }
    }

    fn name(&self) -> ErrorName<'_> {
        match self {
            Self::Helper(error) => error.name(),
            Self::Standard(error) => error.name(),
        }
    }

    fn description(&self) -> Option<&str> {
        match self {
            Self::Helper(error) => error.description(),
            Self::Standard(error) => error.description(),
        }
    }
}

/// One request being served: its audit record, its count as running and,
/// for a mutation, the state directory's lock. Fields drop in order: the
/// audit line is written before the lock is let go, so another helper's
/// mutation, and its audit line, come after this one's.
struct Request {
    audit: Audit,
    _busy: Busy,
    _state_lock: Option<state_lock::StateLock>,
}

impl Request {
    /// Admits a call: bounded by its size and by the calls running, before
    /// anything waits (a refused call's message is dropped at once), then
    /// looks up the caller's uid for the audit line.
    async fn begin(
        shared: &Arc<Shared>,
        method: &'static str,
        header: &Header<'_>,
        connection: &zbus::Connection,
    ) -> Result<Self, ReplyError> {
        let mut audit = Audit::new(method);
        audit.interactive = polkit::allows_interaction(header);
        audit.sender = header.sender().map(ToString::to_string).unwrap_or_default();
        let size = header.primary().body_len();
        if size > MAX_REQUEST_BYTES {
            let why = format!("the request is {size} bytes; at most {MAX_REQUEST_BYTES} are accepted");
            audit.outcome = format!("invalid request: {why}");
            return Err(ReplyError::Helper(HelperError::InvalidRequest(why)));
        }
        let busy = match Busy::admit(shared, &audit.sender) {
            Ok(busy) => busy,
            Err(why) => {
                audit.outcome = format!("refused: {why}");
                return Err(ReplyError::Standard(fdo::Error::LimitsExceeded(why)));
            }
        };
        if let Some(sender) = header.sender() {
            // For the audit line only: polkit looks the caller up itself.
            if let Ok(bus) = fdo::DBusProxy::new(connection).await {
                audit.uid = bus.get_connection_unix_user(BusName::Unique(sender.clone())).await.ok();
            }
        }
        Ok(Self { audit, _busy: busy, _state_lock: None })
    }

    fn invalid(&mut self, why: String) -> ReplyError {
        self.audit.outcome = format!("invalid request: {why}");
        ReplyError::Helper(HelperError::InvalidRequest(why))
    }

    async fn authorize(
        &mut self,
        connection: &zbus::Connection,
        header: &Header<'_>,
        action: &str,
        details: &Details,
    ) -> Result<(), ReplyError> {
        self.audit.action = action.to_owned();
        match polkit::authorize(connection, header, action, details).await {
            Ok(()) => {
                self.audit.decision = "allowed".to_owned();
                // A line now too: a long call is on record while it runs.
                self.audit.write_starting();
                Ok(())
            }
            Err(denial) => {
                self.audit.decision = denial.audit();
                Err(match denial {
                    Denial::NotAuthorized(why) => ReplyError::Helper(HelperError::NotAuthorized(why)),
                    Denial::Dismissed => ReplyError::Helper(HelperError::Dismissed(
                        "the authentication dialog was dismissed".to_owned(),
                    )),
                    Denial::InteractionRequired => {
                        ReplyError::Standard(fdo::Error::InteractiveAuthorizationRequired(format!(
                            "polkit needs to authenticate the caller for {action}; call again allowing interactive authorization"
                        )))
                    }
                })
            }
        }
    }

    /// Runs the mutation `work` on a blocking thread under the state
    /// directory's lock (other helpers' mutations wait), which the request
    /// keeps until its audit line is written.
    async fn mutation<T: Send + 'static>(
        &mut self,
        host: Host,
        work: impl FnOnce(&Host, &Ran) -> Result<T, EngineError> + Send + 'static,
    ) -> Result<Result<T, EngineError>, ReplyError> {
        let (result, lock) = self
            .blocking(move |ran| match state_lock::lock(&host) {
                Ok(lock) => (work(&host, ran), Some(lock)),
                Err(why) => (Err(EngineError::Failed(why)), None),
            })
            .await?;
        self._state_lock = lock;
        Ok(result)
    }

    /// Runs `work` on a blocking thread and keeps what it ran for the audit.
    async fn blocking<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&Ran) -> T + Send + 'static,
    ) -> Result<T, ReplyError> {
        let joined = tokio::task::spawn_blocking(move || {
            let ran = Ran::default();
            let value = work(&ran);
            (value, ran.take())
        })
        .await;
        match joined {
            Ok((value, ran)) => {
                self.audit.ran.extend(ran);
                Ok(value)
            }
            Err(error) => {
                self.audit.outcome = format!("internal error: {error}");
                Err(ReplyError::Helper(HelperError::Failed(format!("internal error: {error}"))))
            }
        }
    }

    fn engine_error(&mut self, error: EngineError) -> ReplyError {
        let (outcome, error) = match error {
            EngineError::HostCheck(why) => ("refused by host check", HelperError::HostCheckFailed(why)),
            EngineError::PlanChanged(why) => ("plan changed", HelperError::PlanChanged(why)),
            EngineError::UnknownTransaction(why) => {
                ("unknown transaction", HelperError::UnknownTransaction(why))
            }
            EngineError::Failed(why) => ("failed", HelperError::Failed(why)),
        };
        self.audit.outcome = format!("{outcome}: {}", error.description().unwrap_or_default());
        ReplyError::Helper(error)
    }

    /// Parses a fix request after the size check, noting it for the audit.
    fn fix(&mut self, wire: &FixWire) -> Result<FixRequest, ReplyError> {
        let fix = FixRequest::from_wire(wire).map_err(|error| self.invalid(error.0))?;
        self.audit.request = fix.to_string();
        Ok(fix)
    }
}

/// The first `count` of a request's strings, each cut at `width`
/// characters, for its audit line (before they are checked).
fn shortened(items: &[String], count: usize, width: usize) -> String {
    items
        .iter()
        .take(count)
        .map(|item| item.chars().take(width).collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What polkit's rules may look up about a fix: `fix` (its kind), and
/// `bridge` and `uplink`, or `backend` — only from a request that is valid
/// (else just the kind, and validation refuses it after the check).
fn fix_details(wire: &FixWire) -> Details {
    match FixRequest::from_wire(wire) {
        Ok(fix) => {
            let wire = fix.to_wire();
            let mut details = vec![("fix", wire.kind)];
            for key in ["bridge", "uplink", "backend"] {
                if let Some(value) = wire.args.get(key) {
                    details.push((key, value.clone()));
                }
            }
            details
        }
        Err(_) => FixKind::from_name(&wire.kind)
            .map(|kind| vec![("fix", kind.as_str().to_owned())])
            .unwrap_or_default(),
    }
}

/// A request as it arrived, shortened, for the audit line of a request
/// that is refused before it is parsed.
fn describe_wire(wire: &FixWire) -> String {
    let short = |text: &str| text.chars().take(40).collect::<String>();
    let args: Vec<(String, String)> =
        wire.args.iter().take(4).map(|(key, value)| (short(key), short(value))).collect();
    format!("{} {args:?}", short(&wire.kind))
}

#[interface(name = "io.github.vmnetdoctor.Helper1")]
impl Helper {
    #[zbus(out_args("capabilities"))]
    async fn get_capabilities(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(Capabilities,), ReplyError> {
        let mut request = Request::begin(&self.shared, "GetCapabilities", &header, connection).await?;
        request.authorize(connection, &header, actions::INSPECT, &Details::new()).await?;
        let host = self.shared.host.clone();
        let mut capabilities = request.blocking(move |ran| inspect::capabilities(&host, ran)).await?;
        // firewalld has a D-Bus API of its own; it is only reported here.
        let firewalld = match fdo::DBusProxy::new(connection).await {
            Ok(bus) => bus
                .name_has_owner(
                    WellKnownName::from_static_str_unchecked("org.fedoraproject.FirewallD1").into(),
                )
                .await
                .unwrap_or(false),
            Err(_) => false,
        };
        capabilities.tools.push(vmnet_doctor_helper_api::ToolInfo {
            name: "firewalld".to_owned(),
            path: String::new(),
            active: firewalld,
            detail: if firewalld { "running (change it through its own D-Bus API)" } else { "not running" }
                .to_owned(),
        });
        request.audit.outcome = "ok".to_owned();
        Ok((capabilities,))
    }

    #[zbus(out_args("report"))]
    async fn inspect(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(InspectReport,), ReplyError> {
        let mut request = Request::begin(&self.shared, "Inspect", &header, connection).await?;
        request.authorize(connection, &header, actions::INSPECT, &Details::new()).await?;
        let host = self.shared.host.clone();
        let report = request.blocking(move |ran| inspect::inspect(&host, ran)).await?;
        request.audit.outcome = "ok".to_owned();
        Ok((report,))
    }

    #[zbus(out_args("report"))]
    async fn inspect_host(
        &self,
        networks: BoundedList<MAX_HOST_NETWORKS>,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(HostReport,), ReplyError> {
        let mut request = Request::begin(&self.shared, "InspectHost", &header, connection).await?;
        let networks = networks.0;
        request.audit.request = shortened(&networks, 8, 70);
        request.authorize(connection, &header, actions::INSPECT, &Details::new()).await?;
        let networks = host_facts::parse_networks(&networks).map_err(|why| request.invalid(why))?;
        let host = self.shared.host.clone();
        match request.blocking(move |_| host_facts::read(&host, &networks)).await? {
            Ok(report) => {
                request.audit.outcome = format!("ok: {} bytes of host facts", report.facts.len());
                Ok((report,))
            }
            Err(why) => Err(request.engine_error(EngineError::Failed(why))),
        }
    }

    #[zbus(out_args("report"))]
    async fn connections(
        &self,
        addresses: BoundedList<MAX_CONNECTION_ADDRESSES>,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(ConnectionsReport,), ReplyError> {
        let mut request = Request::begin(&self.shared, "Connections", &header, connection).await?;
        let addresses = addresses.0;
        request.audit.request = shortened(&addresses, 4, 50);
        request.authorize(connection, &header, actions::INSPECT_CONNECTIONS, &Details::new()).await?;
        let addresses = connections::parse_addresses(&addresses).map_err(|why| request.invalid(why))?;
        let host = self.shared.host.clone();
        let checked = addresses.clone();
        let check = request.blocking(move |_| connections::check_addresses(&host, &checked)).await?;
        if let Err(why) = check {
            return Err(request.engine_error(EngineError::HostCheck(why)));
        }
        let report = request.blocking(move |ran| connections::connections(&addresses, ran)).await?;
        request.audit.outcome = format!("{:?}: {} entries", report.status, report.entries.len());
        Ok((report,))
    }

    #[zbus(out_args("plan"))]
    async fn plan(
        &self,
        fix: Bounded<FixWire>,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(Plan,), ReplyError> {
        let mut request = Request::begin(&self.shared, "Plan", &header, connection).await?;
        let fix = fix.0;
        request.audit.request = describe_wire(&fix);
        request.authorize(connection, &header, actions::INSPECT, &fix_details(&fix)).await?;
        let fix = request.fix(&fix)?;
        let host = self.shared.host.clone();
        let planned = request.blocking(move |ran| plan::plan(&fix, &host, ran)).await?;
        match planned {
            Ok(planned) => {
                let plan = planned.to_plan();
                request.audit.outcome = format!("plan {} with {} steps", plan.id, plan.steps.len());
                Ok((plan,))
            }
            Err(PlanError::HostCheck(why)) => Err(request.engine_error(EngineError::HostCheck(why))),
            Err(PlanError::Failed(why)) => Err(request.engine_error(EngineError::Failed(why))),
        }
    }

    #[zbus(out_args("result"))]
    async fn apply(
        &self,
        fix: Bounded<FixWire>,
        plan_id: Bounded<String>,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(ApplyResult,), ReplyError> {
        let mut request = Request::begin(&self.shared, "Apply", &header, connection).await?;
        let (fix, plan_id) = (fix.0, plan_id.0);
        request.audit.request = describe_wire(&fix);
        let kind = FixKind::from_name(&fix.kind).ok_or_else(|| request.invalid("unknown fix".to_owned()))?;
        request.authorize(connection, &header, kind.action(), &fix_details(&fix)).await?;
        let fix = request.fix(&fix)?;
        if plan_id.len() > 64 {
            return Err(request.invalid("the plan id is too long".to_owned()));
        }
        let _one_at_a_time = self.shared.mutation.lock().await;
        let result = request
            .mutation(self.shared.host.clone(), move |host, ran| engine::apply(host, &fix, &plan_id, ran))
            .await?;
        match result {
            Ok(result) => {
                request.audit.outcome = if result.transaction.is_empty() {
                    result.outcome.to_string()
                } else {
                    format!("{} transaction={}", result.outcome, result.transaction)
                };
                Ok((result,))
            }
            Err(error) => Err(request.engine_error(error)),
        }
    }

    #[zbus(out_args("result"))]
    async fn revert(
        &self,
        transaction: Bounded<String>,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(ApplyResult,), ReplyError> {
        let mut request = Request::begin(&self.shared, "Revert", &header, connection).await?;
        let transaction = transaction.0;
        request.audit.request = transaction.chars().take(100).collect();
        // The id names the fix kind, hence the action; the journal, the
        // details for polkit's rules (which bridge it was for).
        let kind = journal::kind_of_id(&transaction)
            .ok_or_else(|| request.invalid("not a transaction id".to_owned()))?;
        let (journal_dir, id) = (self.shared.host.journal.clone(), transaction.clone());
        let recorded =
            tokio::task::spawn_blocking(move || journal::load(&journal_dir, &id).ok()).await.ok().flatten();
        let mut details = match recorded {
            Some(record) => fix_details(&record.fix),
            None => vec![("fix", kind.as_str().to_owned())],
        };
        details.push(("transaction", transaction.clone()));
        request.authorize(connection, &header, kind.action(), &details).await?;
        let _one_at_a_time = self.shared.mutation.lock().await;
        let result = request
            .mutation(self.shared.host.clone(), move |host, ran| engine::revert(host, &transaction, ran))
            .await?;
        match result {
            Ok(result) => {
                request.audit.outcome = result.outcome.to_string();
                Ok((result,))
            }
            Err(error) => Err(request.engine_error(error)),
        }
    }

    #[zbus(out_args("states"))]
    async fn transaction_states(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(HashMap<String, String>,), ReplyError> {
        let mut request = Request::begin(&self.shared, "TransactionStates", &header, connection).await?;
        request.authorize(connection, &header, actions::INSPECT, &Details::new()).await?;
        let host = self.shared.host.clone();
        let states = request.blocking(move |_| engine::transaction_states(&host)).await?;
        request.audit.outcome = format!("{} transactions", states.len());
        Ok((states,))
    }

    #[zbus(out_args("transactions"))]
    async fn transactions(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] connection: &zbus::Connection,
    ) -> Result<(Vec<TransactionInfo>,), ReplyError> {
        let mut request = Request::begin(&self.shared, "Transactions", &header, connection).await?;
        request.authorize(connection, &header, actions::INSPECT, &Details::new()).await?;
        let host = self.shared.host.clone();
        let list = request.blocking(move |_| engine::transactions(&host)).await?;
        request.audit.outcome = format!("{} transactions", list.len());
        Ok((list,))
    }
}
