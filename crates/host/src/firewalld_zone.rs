//! Puts a libvirt bridge into a firewalld zone through firewalld's own
//! D-Bus API, now and permanently — what `firewall-cmd
//! --zone=ZONE --change-interface=BRIDGE` does without and with
//! `--permanent`. firewalld checks polkit itself (its
//! `org.fedoraproject.FirewallD1.*` actions), so no helper is involved.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use zbus::OwnedObjectPath;
use zbus::proxy::CacheProperties;

use crate::firewalld_proxy::{self, ConfigProxy, ConfigZoneProxy, ZonesProxy};

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
    zones: ZonesProxy<'static>,
    config: ConfigProxy<'static>,
    interactive: bool,
}

impl Firewalld {
    /// Connects to the system bus and checks that firewalld runs (without
    /// starting it: calling it would D-Bus-activate a stopped firewalld).
    /// `interactive`: whether polkit may ask for a password.
    pub async fn connect(interactive: bool) -> Result<Self, FirewalldError> {
        let no_bus = |error: zbus::Error| FirewalldError::NoSystemBus(error.to_string());
        let connection = zbus::Connection::system().await.map_err(no_bus)?;
        if !firewalld_proxy::is_running(&connection).await.map_err(no_bus)? {
            return Err(FirewalldError::NotRunning);
        }
        let failed = |error: zbus::Error| FirewalldError::Failed(error.to_string());
        let zones = ZonesProxy::builder(&connection)
            .cache_properties(CacheProperties::No)
            .build()
            .await
            .map_err(failed)?;
        let config = ConfigProxy::builder(&connection)
            .cache_properties(CacheProperties::No)
            .build()
            .await
            .map_err(failed)?;
        Ok(Self { connection, zones, config, interactive })
    }

    /// What would put `bridge` into `zone`, from firewalld's answers now.
    pub async fn plan(&self, bridge: &str, zone: &str) -> Result<ZonePlan, FirewalldError> {
        let runtime = self.answer("getZoneOfInterface", self.zones.get_zone_of_interface(bridge)).await?;
        let permanent = self.answer("getZoneOfInterface", self.config.get_zone_of_interface(bridge)).await?;
        // The zone must exist (libvirt's package installs `libvirt`).
        self.zone_config(zone).await?;
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
        let (bridge, zone, asking) = (plan.bridge.as_str(), plan.zone.as_str(), self.interactive);
        match step {
            ZoneStep::ChangeRuntimeZone { .. } => {
                let method = "changeZoneOfInterface";
                if asking {
                    self.answer(method, self.zones.change_zone_of_interface_asking(zone, bridge)).await?;
                } else {
                    self.answer(method, self.zones.change_zone_of_interface(zone, bridge)).await?;
                }
            }
            ZoneStep::RemovePermanent { from } => {
                let config = self.zone_config(from).await?;
                if asking {
                    self.answer("removeInterface", config.remove_interface_asking(bridge)).await?;
                } else {
                    self.answer("removeInterface", config.remove_interface(bridge)).await?;
                }
            }
            ZoneStep::AddPermanent => {
                let config = self.zone_config(zone).await?;
                if asking {
                    self.answer("addInterface", config.add_interface_asking(bridge)).await?;
                } else {
                    self.answer("addInterface", config.add_interface(bridge)).await?;
                }
            }
        }
        Ok(())
    }

    /// The permanent settings of `zone`; firewalld's INVALID_ZONE when
    /// there is none.
    async fn zone_config(&self, zone: &str) -> Result<ConfigZoneProxy<'static>, FirewalldError> {
        let path: OwnedObjectPath = self.answer("getZoneByName", self.config.get_zone_by_name(zone)).await?;
        let failed = |error: zbus::Error| FirewalldError::Failed(error.to_string());
        ConfigZoneProxy::builder(&self.connection)
            .path(path)
            .cache_properties(CacheProperties::No)
            .build()
            .await
            .map_err(failed)
    }

    /// Waits for the answer to `call` (firewalld's `method`): a while for
    /// a plain call, long enough for a person to type a password when
    /// polkit may ask.
    async fn answer<R>(
        &self,
        method: &str,
        call: impl Future<Output = zbus::Result<R>>,
    ) -> Result<R, FirewalldError> {
        let limit = if self.interactive { INTERACTIVE_CALL_TIMEOUT } else { CALL_TIMEOUT };
        match tokio::time::timeout(limit, call).await {
            Err(_) => {
                Err(FirewalldError::Failed(format!("no answer to {method} within {} s", limit.as_secs())))
            }
            Ok(result) => result.map_err(|error| classify(&error)),
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
