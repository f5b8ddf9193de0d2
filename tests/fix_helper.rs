//! `vmnet-doctor fix` and `revert` through the real helper: D-Bus-activated
//! on a private system bus with a real polkitd, beside a real libvirtd, in
//! private namespaces (tests/helper/with-private-bus.sh inside
//! tests/libvirtd/with-libvirtd.sh). Run as root:
//!
//! ```sh
//! tests/libvirtd/with-libvirtd.sh "$PWD/tests/helper/with-private-bus.sh" \
//!     "$PWD/target/debug/vmnet-doctor-helper" \
//!     cargo test -p vmnet-doctor --test fix_helper -- --ignored --test-threads=1
//! ```

use std::error::Error;
use std::fs;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

type TestResult = Result<(), Box<dyn Error>>;

const FORWARDING: &str = "/proc/sys/net/ipv4/ip_forward";
const SYSCTL_FILE: &str = "/etc/sysctl.d/90-vmnet-doctor.conf";

/// The private system bus whose helper polkit checks with tests/helper/test.rules.
fn helper_bus() -> Result<String, Box<dyn Error>> {
    std::env::var("VMND_TEST_BUS")
        .map_err(|_| "VMND_TEST_BUS is not set: run through tests/helper/with-private-bus.sh".into())
}

/// `vmnet-doctor ARGS…` on the helper's bus, as root or (with `uid`) as
/// that user.
fn doctor(uid: Option<u32>, args: &[&str]) -> Result<Output, Box<dyn Error>> {
    let binary = env!("CARGO_BIN_EXE_vmnet-doctor");
    let mut command = match uid {
        Some(uid) => {
            let mut setpriv = Command::new("setpriv");
            setpriv.args([
                &format!("--reuid={uid}"),
                &format!("--regid={uid}"),
                "--clear-groups",
                "--",
                binary,
            ]);
            setpriv
        }
        None => Command::new(binary),
    };
    Ok(command
        .args(args)
        .env("DBUS_SYSTEM_BUS_ADDRESS", helper_bus()?)
        .env("LANG", "C.UTF-8")
        // No terminal: polkit is not asked interactively.
        .stdin(Stdio::null())
        .output()?)
}

fn json(output: &Output) -> Result<Value, Box<dyn Error>> {
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn forwarding() -> Result<String, Box<dyn Error>> {
    Ok(fs::read_to_string(FORWARDING)?.trim().to_owned())
}

/// tests/helper/test.rules refuses this user everything.
const DENIED_UID: u32 = 4002;

#[test]
#[ignore = "needs the helper on a private bus: run through tests/helper/with-private-bus.sh"]
fn forwarding_is_fixed_through_the_helper_and_reverted() -> TestResult {
    let was = forwarding()?;
    fs::write(FORWARDING, "0\n")?;

    let output = doctor(None, &["fix", "--connect", "qemu:///system", "--json", "ipv4-forwarding-off"])?;
    let document = json(&output)?;
    assert_eq!(output.status.code(), Some(0), "{document}");
    let result = &document["results"][0];
    assert_eq!(result["status"], "fixed", "{document}");
    assert_eq!(result["route"], "helper");
    assert_eq!(result["plan"]["request"]["kind"], "enable-ipv4-forwarding");
    let argvs: Vec<&Value> =
        result["plan"]["steps"].as_array().into_iter().flatten().map(|s| &s["argv"]).collect();
    assert!(
        argvs
            .iter()
            .any(|argv| **argv == serde_json::json!(["/usr/sbin/sysctl", "-w", "net.ipv4.ip_forward=1"])),
        "{result}"
    );
    assert_eq!(result["applied"]["outcome"], "applied");
    let transaction = result["transaction"].as_str().ok_or("no transaction")?.to_owned();
    assert_eq!(forwarding()?, "1");
    assert!(fs::read_to_string(SYSCTL_FILE)?.contains("net.ipv4.ip_forward = 1"));

    // A user polkit refuses cannot undo it, and is told that nothing changed.
    let refused = doctor(Some(DENIED_UID), &["revert", "--json", &transaction])?;
    assert_eq!(refused.status.code(), Some(1));
    let message = json(&refused)?["error"]["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("polkit did not allow") && message.contains("nothing was changed"), "{message}");
    assert_eq!(forwarding()?, "1");

    let reverted = doctor(None, &["revert", "--json", &transaction])?;
    let document = json(&reverted)?;
    assert_eq!(reverted.status.code(), Some(0), "{document}");
    assert_eq!(document["result"]["outcome"], "reverted");
    assert_eq!(forwarding()?, "0", "revert restores what was there");
    assert!(!std::path::Path::new(SYSCTL_FILE).exists());

    fs::write(FORWARDING, format!("{was}\n"))?;
    Ok(())
}

#[test]
#[ignore = "needs the helper on a private bus: run through tests/helper/with-private-bus.sh"]
fn the_human_output_shows_the_helpers_plan_and_how_to_undo_it() -> TestResult {
    let was = forwarding()?;
    fs::write(FORWARDING, "0\n")?;
    let output = doctor(None, &["fix", "-c", "qemu:///system", "ipv4-forwarding-off"])?;
    let text = String::from_utf8(output.stdout)?;
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("Plan (VM Network Doctor helper, as root):"), "{text}");
    assert!(text.contains("/usr/sbin/sysctl -w net.ipv4.ip_forward=1"), "{text}");
    assert!(text.contains("| net.ipv4.ip_forward = 1"), "the file's contents are shown: {text}");
    let transaction = text
        .lines()
        .find_map(|line| line.split("vmnet-doctor revert ").nth(1))
        .ok_or(format!("no revert command in {text}"))?
        .trim()
        .to_owned();
    assert!(text.contains("ipv4-forwarding-off [host]: fixed"), "{text}");
    let reverted = doctor(None, &["revert", &transaction])?;
    assert_eq!(reverted.status.code(), Some(0), "{}", String::from_utf8_lossy(&reverted.stdout));
    fs::write(FORWARDING, format!("{was}\n"))?;
    Ok(())
}
