//! firewalld, asked over its D-Bus API on the system bus (read-only calls
//! that firewalld's polkit policy allows every user).

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use vmnet_doctor_core::host::{Fact, Firewalld};
use zbus::proxy::CacheProperties;

use crate::firewalld_proxy::{self, ActiveZones, ZonesProxy};
use crate::system_bus::{self, BusError};

/// How long the whole conversation with the bus may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The file `tests/firewall-lab/capture.sh` records
/// `busctl --json=short call … getActiveZones` in, when firewalld runs.
pub const RECORDED_FILE: &str = "firewalld-getActiveZones.json";

/// Where firewalld's state comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirewalldSource {
    /// The system bus (`DBUS_SYSTEM_BUS_ADDRESS` or the standard socket).
    SystemBus,
    /// A recorded `busctl --json=short` answer to `getActiveZones`; a
    /// missing file means firewalld was not running.
    Recorded(PathBuf),
}

pub fn read_firewalld(source: &FirewalldSource) -> Fact<Firewalld> {
    match source {
        FirewalldSource::SystemBus => read_from_bus(),
        FirewalldSource::Recorded(path) => match fs::read_to_string(path) {
            Ok(text) => parse_busctl_active_zones(&text)
                .map_or_else(|why| Fact::Unknown(format!("{}: {why}", path.display())), Fact::Known),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                Fact::Known(Firewalld { running: false, interface_zones: Vec::new() })
            }
            Err(error) => Fact::Unknown(format!("cannot read {}: {error}", path.display())),
        },
    }
}

/// Asks firewalld on the process's one bus connection ([`system_bus`]).
fn read_from_bus() -> Fact<Firewalld> {
    system_bus::call(TIMEOUT, TIMEOUT, |connection| async move { ask_bus(&connection).await })
        .map_or_else(Fact::Unknown, Fact::Known)
}

async fn ask_bus(connection: &zbus::Connection) -> Result<Firewalld, BusError> {
    let running = firewalld_proxy::is_running(connection)
        .await
        .map_err(|error| BusError::from_zbus(format!("NameHasOwner failed: {error}"), &error))?;
    if !running {
        return Ok(Firewalld { running: false, interface_zones: Vec::new() });
    }
    let zones = ZonesProxy::builder(connection)
        .cache_properties(CacheProperties::No)
        .build()
        .await
        .map_err(|error| BusError::from_zbus(format!("firewalld: {error}"), &error))?
        .get_active_zones()
        .await
        .map_err(|error| BusError::from_zbus(format!("firewalld getActiveZones failed: {error}"), &error))?;
    Ok(Firewalld { running: true, interface_zones: interface_zones(zones) })
}

/// (interface, zone) pairs, sorted for stable output.
fn interface_zones(zones: ActiveZones) -> Vec<(String, String)> {
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    for (zone, members) in zones {
        for interface in members.get("interfaces").into_iter().flatten() {
            pairs.insert(interface.clone(), zone.clone());
        }
    }
    pairs.into_iter().collect()
}

/// `busctl --json=short call … getActiveZones`:
/// `{"type":"a{sa{sas}}","data":[{"libvirt":{"interfaces":["virbr0"],"sources":[]}}]}`.
pub fn parse_busctl_active_zones(text: &str) -> Result<Firewalld, String> {
    let value: Value = serde_json::from_str(text).map_err(|error| format!("invalid JSON: {error}"))?;
    if value.get("type").and_then(Value::as_str) != Some("a{sa{sas}}") {
        return Err("not a getActiveZones reply (type a{sa{sas}})".to_owned());
    }
    let zones = value.pointer("/data/0").and_then(Value::as_object).ok_or("no data")?;
    let mut parsed: ActiveZones = HashMap::new();
    for (zone, members) in zones {
        let members = members.as_object().ok_or("a zone without members")?;
        let mut map = HashMap::new();
        for (kind, names) in members {
            let names = names.as_array().ok_or("members are not a list")?;
            map.insert(kind.clone(), names.iter().filter_map(Value::as_str).map(str::to_owned).collect());
        }
        parsed.insert(zone.clone(), map);
    }
    Ok(Firewalld { running: true, interface_zones: interface_zones(parsed) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_busctl_output() -> Result<(), String> {
        let text = r#"{"type":"a{sa{sas}}","data":[{"libvirt":{"interfaces":["virbr0"],"sources":[]},"public":{"interfaces":["enp3s0"],"sources":[]}}]}"#;
        let firewalld = parse_busctl_active_zones(text)?;
        assert!(firewalld.running);
        assert_eq!(
            firewalld.interface_zones,
            [("enp3s0".to_owned(), "public".to_owned()), ("virbr0".to_owned(), "libvirt".to_owned())]
        );
        assert!(parse_busctl_active_zones(r#"{"type":"s","data":["x"]}"#).is_err());
        Ok(())
    }

    #[test]
    fn a_missing_recording_means_not_running() {
        let fact = read_firewalld(&FirewalldSource::Recorded(PathBuf::from("/nonexistent/firewalld.json")));
        assert_eq!(fact, Fact::Known(Firewalld { running: false, interface_zones: Vec::new() }));
    }
}
