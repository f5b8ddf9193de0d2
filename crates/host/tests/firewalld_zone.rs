//! The firewalld zone fix against a real firewalld on a private system bus
//! (`tests/firewalld/with-firewalld.sh`): a bridge put into the wrong zone
//! with firewall-cmd, moved through our D-Bus calls, and firewall-cmd shows
//! it in the right zone now and permanently.

use std::error::Error;
use std::process::Command;

use vmnet_doctor_core::host::Fact;
use vmnet_doctor_host::firewalld::{FirewalldSource, read_firewalld};
use vmnet_doctor_host::firewalld_zone::{Firewalld, ZoneStep};
use vmnet_doctor_host::system_bus;

type TestResult = Result<(), Box<dyn Error>>;

/// One test at a time: a reload in one must not drop another's runtime change.
static FIREWALLD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn run(program: &str, args: &[&str]) -> Result<String, Box<dyn Error>> {
    let output = Command::new(program).args(args).output()?;
    if !output.status.success() {
        return Err(
            format!("{program} {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr)).into()
        );
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

fn zone_of(bridge: &str, permanent: bool) -> Result<String, Box<dyn Error>> {
    let flag = format!("--get-zone-of-interface={bridge}");
    let args: Vec<&str> = if permanent { vec!["--permanent", &flag] } else { vec![&flag] };
    // firewall-cmd exits 2 ("no zone") when the interface is in none.
    let output = Command::new("firewall-cmd").args(&args).output()?;
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// The zone of `bridge` as the diagnosis reads it (`getActiveZones`).
async fn active_zone_of(bridge: &str) -> Result<Option<String>, Box<dyn Error>> {
    let Fact::Known(firewalld) =
        tokio::task::spawn_blocking(|| read_firewalld(&FirewalldSource::SystemBus)).await?
    else {
        return Err("firewalld's zones were not read".into());
    };
    assert!(firewalld.running);
    Ok(firewalld.interface_zones.into_iter().find(|(interface, _)| interface == bridge).map(|(_, zone)| zone))
}

#[tokio::test]
#[ignore = "needs firewalld: run through tests/firewalld/with-firewalld.sh"]
async fn a_bridge_in_the_wrong_zone_moves_to_libvirts_now_and_permanently() -> TestResult {
    let _alone = FIREWALLD.lock().await;
    let bridge = "virbr-fwz";
    run("ip", &["link", "add", bridge, "type", "bridge"])?;
    run("firewall-cmd", &["--zone=public", &format!("--change-interface={bridge}")])?;
    run("firewall-cmd", &["--permanent", "--zone=public", &format!("--change-interface={bridge}")])?;
    assert_eq!((zone_of(bridge, false)?, zone_of(bridge, true)?), ("public".into(), "public".into()));
    assert_eq!(active_zone_of(bridge).await?.as_deref(), Some("public"));

    let firewalld = Firewalld::connect(false).await?;
    let plan = firewalld.plan(bridge, "libvirt").await?;
    assert_eq!(
        plan.steps,
        [
            ZoneStep::ChangeRuntimeZone { from: Some("public".into()) },
            ZoneStep::RemovePermanent { from: "public".into() },
            ZoneStep::AddPermanent
        ]
    );
    let done = firewalld.apply(&plan).await.map_err(|failure| failure.error)?;
    assert_eq!(done, plan.steps);
    assert_eq!((zone_of(bridge, false)?, zone_of(bridge, true)?), ("libvirt".into(), "libvirt".into()));
    assert_eq!(active_zone_of(bridge).await?.as_deref(), Some("libvirt"));
    // Nothing is left to do, and a reload keeps it.
    assert!(firewalld.plan(bridge, "libvirt").await?.steps.is_empty());
    run("firewall-cmd", &["--reload"])?;
    assert_eq!(zone_of(bridge, false)?, "libvirt");
    // Every read above (and in the other tests) shared one bus connection.
    assert_eq!(system_bus::connections_made(), 1, "each read of firewalld made its own bus connection");
    Ok(())
}

#[tokio::test]
#[ignore = "needs firewalld: run through tests/firewalld/with-firewalld.sh"]
async fn a_bridge_in_no_zone_is_added_and_an_unknown_zone_is_refused() -> TestResult {
    let _alone = FIREWALLD.lock().await;
    let bridge = "virbr-fwn";
    run("ip", &["link", "add", bridge, "type", "bridge"])?;
    let firewalld = Firewalld::connect(false).await?;
    let plan = firewalld.plan(bridge, "libvirt").await?;
    assert_eq!(plan.steps, [ZoneStep::ChangeRuntimeZone { from: None }, ZoneStep::AddPermanent]);
    firewalld.apply(&plan).await.map_err(|failure| failure.error)?;
    assert_eq!((zone_of(bridge, false)?, zone_of(bridge, true)?), ("libvirt".into(), "libvirt".into()));
    let unknown = firewalld.plan(bridge, "no-such-zone").await;
    assert!(unknown.as_ref().is_err_and(|error| error.to_string().contains("INVALID_ZONE")), "{unknown:?}");
    Ok(())
}
