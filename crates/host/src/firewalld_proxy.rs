//! firewalld's D-Bus interfaces, as much of them as this app calls
//! (`org.fedoraproject.FirewallD1`, documented in firewalld.dbus(5)).
//! firewalld names its methods in camelCase, so each carries its name.
//!
//! A call that may change the firewall comes twice: once plain, once
//! allowed to make polkit ask for a password (the flag is fixed per method
//! in zbus; the caller picks the one its user's click allows).

use std::collections::HashMap;

use zbus::OwnedObjectPath;

pub const BUS_NAME: &str = "org.fedoraproject.FirewallD1";

/// Zone name → {"interfaces": […], "sources": […]}, as `getActiveZones`
/// returns it.
pub type ActiveZones = HashMap<String, HashMap<String, Vec<String>>>;

/// The runtime zones (`/org/fedoraproject/FirewallD1`).
#[zbus::proxy(
    interface = "org.fedoraproject.FirewallD1.zone",
    default_service = "org.fedoraproject.FirewallD1",
    default_path = "/org/fedoraproject/FirewallD1"
)]
pub trait Zones {
    #[zbus(name = "getActiveZones")]
    fn get_active_zones(&self) -> zbus::Result<ActiveZones>;

    /// The zone `interface` is in now; empty when none.
    #[zbus(name = "getZoneOfInterface")]
    fn get_zone_of_interface(&self, interface: &str) -> zbus::Result<String>;

    /// Moves `interface` into `zone` until firewalld reloads; returns the zone.
    #[zbus(name = "changeZoneOfInterface")]
    fn change_zone_of_interface(&self, zone: &str, interface: &str) -> zbus::Result<String>;

    #[zbus(name = "changeZoneOfInterface", allow_interactive_auth)]
    fn change_zone_of_interface_asking(&self, zone: &str, interface: &str) -> zbus::Result<String>;
}

/// The permanent configuration (`/org/fedoraproject/FirewallD1/config`).
#[zbus::proxy(
    interface = "org.fedoraproject.FirewallD1.config",
    default_service = "org.fedoraproject.FirewallD1",
    default_path = "/org/fedoraproject/FirewallD1/config"
)]
pub trait Config {
    /// The zone `interface` is in permanently; empty when none.
    #[zbus(name = "getZoneOfInterface")]
    fn get_zone_of_interface(&self, interface: &str) -> zbus::Result<String>;

    /// The object of zone `zone`'s permanent settings; an error
    /// (`INVALID_ZONE`) when there is no such zone.
    #[zbus(name = "getZoneByName")]
    fn get_zone_by_name(&self, zone: &str) -> zbus::Result<OwnedObjectPath>;
}

/// One zone's permanent settings (a path [`ConfigProxy::get_zone_by_name`] gave).
#[zbus::proxy(
    interface = "org.fedoraproject.FirewallD1.config.zone",
    default_service = "org.fedoraproject.FirewallD1"
)]
pub trait ConfigZone {
    #[zbus(name = "addInterface")]
    fn add_interface(&self, interface: &str) -> zbus::Result<()>;

    #[zbus(name = "addInterface", allow_interactive_auth)]
    fn add_interface_asking(&self, interface: &str) -> zbus::Result<()>;

    #[zbus(name = "removeInterface")]
    fn remove_interface(&self, interface: &str) -> zbus::Result<()>;

    #[zbus(name = "removeInterface", allow_interactive_auth)]
    fn remove_interface_asking(&self, interface: &str) -> zbus::Result<()>;
}

/// Whether firewalld runs, asked of the bus: calling firewalld itself
/// would D-Bus-activate an installed but stopped one.
pub async fn is_running(connection: &zbus::Connection) -> zbus::Result<bool> {
    let bus = zbus::fdo::DBusProxy::new(connection).await?;
    Ok(bus.name_has_owner(BUS_NAME.try_into()?).await?)
}
