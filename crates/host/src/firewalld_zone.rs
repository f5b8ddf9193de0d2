//! Puts a libvirt bridge into a firewalld zone through firewalld's own
//! D-Bus API, now and permanently — what `firewall-cmd
//! --zone=ZONE --change-interface=BRIDGE` does without and with
//! `--permanent`. firewalld checks polkit itself (its
//! `org.fedoraproject.FirewallD1.*` actions), so no helper is involved.

use std::fmt;
use std::time::Duration;

use zbus::OwnedObjectPath;
use zbus::proxy::{CacheProperties, MethodFlags};

const BUS_NAME: &str = "org.fedoraproject.FirewallD1";
const PATH: &str = "/org/fedoraproject/FirewallD1";
const CONFIG_PATH: &str = "/org/fedoraproject/FirewallD1/config";
const ZONE_INTERFACE: &str = "org.fedoraproject.FirewallD1.zone";
const CONFIG_INTERFACE: &str = "org.fedoraproject.FirewallD1.config";
const CONFIG_ZONE_INTERFACE: &str = "org.fedoraproject.FirewallD1.config.zone";

/// A call without a password dialog; firewalld answers at once.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// With a password dialog the user takes their time.
const INTERACTIVE_CALL_TIMEOUT: Duration = Duration::from_secs(600);

/// One firewalld call of the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneStep {
    /// `zone.changeZoneOfInterface(ZONE, BRIDGE)`: in effect now, until
    /// firewalld reloads or restarts.
    ChangeRuntimeZone { from: Option<String> },
    /// `config.zone.removeInterface(BRIDGE)` on the zone that holds the
    /// bridge in the permanent configuration.
    RemovePermanent { from: String },
    /// `config.zone.addInterface(BRIDGE)` on ZONE: kept across reloads
    /// and reboots.
    AddPermanent,
}

/// The calls that would put `bridge` into `zone`; empty when it is there
/// already, now and permanently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZonePlan {
    pub bridge: String,
    pub zone: String,
    pub steps: Vec<ZoneStep>,
}

/// Why firewalld could not be asked or refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewalldError {
    /// Nothing owns `org.fedoraproject.FirewallD1`.
    NotRunning,
    NoSystemBus(String),
    /// polkit (through firewalld) refused, or would have asked and could not.
    NotAuthorized(String),
    /// firewalld's own error (e.g. `INVALID_ZONE: …`), or no answer.
    Failed(String),
}

impl fmt::Display for FirewalldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRunning => write!(f, "firewalld is not running"),
            Self::NoSystemBus(detail) => write!(f, "cannot reach the system bus: {detail}"),
            Self::NotAuthorized(detail) => write!(f, "firewalld refused: {detail}"),
            Self::Failed(detail) => write!(f, "firewalld failed: {detail}"),
        }
    }
}

impl std::error::Error for FirewalldError {}

/// A failed call: which one, what was done before it (kept), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneFailure {
    pub failed: ZoneStep,
    pub done: Vec<ZoneStep>,
    pub error: FirewalldError,
}

/// A connection to a running firewalld.
#[derive(Debug, Clone)]
pub struct Firewalld {
    connection: zbus::Connection,
    interactive: bool,
}

impl Firewalld {
    /// Connects to the system bus and checks that firewalld runs (without
    /// starting it: calling it would D-Bus-activate a stopped firewalld).
    /// `interactive`: whether polkit may ask for a password.
    pub async fn connect(interactive: bool) -> Result<Self, FirewalldError> {
        let connection = zbus::Connection::system()
            .await
            .map_err(|error| FirewalldError::NoSystemBus(error.to_string()))?;
        let reply = connection
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "NameHasOwner",
                &(BUS_NAME,),
            )
            .await
            .map_err(|error| FirewalldError::NoSystemBus(error.to_string()))?;
        let running: bool =
            reply.body().deserialize().map_err(|error| FirewalldError::Failed(error.to_string()))?;
        if !running {
            return Err(FirewalldError::NotRunning);
        }
        Ok(Self { connection, interactive })
    }

    /// What would put `bridge` into `zone`, from firewalld's answers now.
    pub async fn plan(&self, bridge: &str, zone: &str) -> Result<ZonePlan, FirewalldError> {
        let runtime: String = self.call(PATH, ZONE_INTERFACE, "getZoneOfInterface", &(bridge,)).await?;
        let permanent: String =
            self.call(CONFIG_PATH, CONFIG_INTERFACE, "getZoneOfInterface", &(bridge,)).await?;
        // The zone must exist (libvirt's package installs `libvirt`).
        let _: OwnedObjectPath = self.call(CONFIG_PATH, CONFIG_INTERFACE, "getZoneByName", &(zone,)).await?;
        let mut steps = Vec::new();
        if runtime != zone {
            steps.push(ZoneStep::ChangeRuntimeZone { from: nonempty(runtime) });
        }
        if permanent != zone {
            if let Some(from) = nonempty(permanent) {
                steps.push(ZoneStep::RemovePermanent { from });
            }
            steps.push(ZoneStep::AddPermanent);
        }
        Ok(ZonePlan { bridge: bridge.to_owned(), zone: zone.to_owned(), steps })
    }

    /// Makes the planned calls in order; the first failure stops.
    pub async fn apply(&self, plan: &ZonePlan) -> Result<Vec<ZoneStep>, Box<ZoneFailure>> {
        let mut done = Vec::new();
        for step in &plan.steps {
            if let Err(error) = self.run(plan, step).await {
                return Err(Box::new(ZoneFailure { failed: step.clone(), done, error }));
            }
            done.push(step.clone());
        }
        Ok(done)
    }

    async fn run(&self, plan: &ZonePlan, step: &ZoneStep) -> Result<(), FirewalldError> {
        let bridge = plan.bridge.as_str();
        match step {
            ZoneStep::ChangeRuntimeZone { .. } => {
                let _: String = self
                    .call(PATH, ZONE_INTERFACE, "changeZoneOfInterface", &(plan.zone.as_str(), bridge))
                    .await?;
            }
            ZoneStep::RemovePermanent { from } => {
                let path = self.zone_config(from).await?;
                let () =
                    self.call(path.as_str(), CONFIG_ZONE_INTERFACE, "removeInterface", &(bridge,)).await?;
            }
            ZoneStep::AddPermanent => {
                let path = self.zone_config(&plan.zone).await?;
                let () = self.call(path.as_str(), CONFIG_ZONE_INTERFACE, "addInterface", &(bridge,)).await?;
            }
        }
        Ok(())
    }

    async fn zone_config(&self, zone: &str) -> Result<OwnedObjectPath, FirewalldError> {
        self.call(CONFIG_PATH, CONFIG_INTERFACE, "getZoneByName", &(zone,)).await
    }

    async fn call<B, R>(
        &self,
        path: &str,
        interface: &str,
        method: &str,
        body: &B,
    ) -> Result<R, FirewalldError>
    where
        B: serde::Serialize + zbus::zvariant::DynamicType,
        R: for<'d> zbus::zvariant::DynamicDeserialize<'d>,
    {
        let failed = |error: zbus::Error| FirewalldError::Failed(error.to_string());
        let proxy = zbus::proxy::Builder::<zbus::Proxy<'_>>::new(&self.connection)
            .destination(BUS_NAME)
            .path(path)
            .interface(interface)
            .cache_properties(CacheProperties::No)
            .build()
            .await
            .map_err(failed)?;
        let (flags, limit) = if self.interactive {
            (MethodFlags::ALLOW_INTERACTIVE_AUTH, INTERACTIVE_CALL_TIMEOUT)
        } else {
            (MethodFlags::empty(), CALL_TIMEOUT)
        };
        match tokio::time::timeout(limit, proxy.call_with_flags(method, flags, body)).await {
            Err(_) => {
                Err(FirewalldError::Failed(format!("no answer to {method} within {} s", limit.as_secs())))
            }
            Ok(Err(error)) => Err(classify(&error)),
            Ok(Ok(Some(reply))) => Ok(reply),
            Ok(Ok(None)) => Err(FirewalldError::Failed(format!("no reply to {method}"))),
        }
    }
}

/// firewalld's refusals (`org.fedoraproject.FirewallD1.NotAuthorizedException`,
/// the bus's `AccessDenied`, polkit's "interaction required") apart from
/// its other errors, keeping its own words.
fn classify(error: &zbus::Error) -> FirewalldError {
    if let zbus::Error::MethodError(name, detail, _) = error {
        let detail = detail.clone().unwrap_or_default();
        let name = name.as_str();
        return if ["NotAuthorized", "AccessDenied", "InteractiveAuthorizationRequired"]
            .iter()
            .any(|refusal| name.contains(refusal))
        {
            FirewalldError::NotAuthorized(if detail.is_empty() { name.to_owned() } else { detail })
        } else {
            FirewalldError::Failed(if detail.is_empty() { name.to_owned() } else { detail })
        };
    }
    FirewalldError::Failed(error.to_string())
}

fn nonempty(zone: String) -> Option<String> {
    (!zone.trim().is_empty()).then_some(zone)
}
