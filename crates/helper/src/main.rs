//! `vmnet-doctor-helper`: VM Network Doctor's root helper.
//!
//! A D-Bus-activated system service (started by systemd through
//! `io.github.vmnetdoctor.Helper1.service`) that applies a closed set of
//! typed host fixes — IPv4 forwarding, UFW rules for a libvirt bridge,
//! iptables and ip6tables accept rules (nft or legacy, whichever holds
//! Docker's chains) ahead of Docker's FORWARD policy, libvirt's firewall
//! backend in network.conf with a restart of its network driver through
//! systemd — after polkit allowed the caller, and undoes them on request.
//! It also reads, without changing anything, the host's firewall state
//! (`Inspect`) and the connection-tracking (NAT) entries of guest addresses
//! (`Connections`). It exits when idle.
//!
//!     vmnet-doctor-helper [--idle-timeout SECONDS]

mod atomic_file;
mod audit;
mod bounded;
mod changes;
mod connections;
mod engine;
mod exec;
mod forwarding;
mod host;
mod host_facts;
mod in_place_file;
mod inspect;
mod journal;
mod plan;
mod polkit;
mod service;
mod state_lock;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::signal::unix::{SignalKind, signal};
use vmnet_doctor_helper_api::{BUS_NAME, OBJECT_PATH};

use crate::host::Host;
use crate::service::{Helper, Shared};

/// Idle time after which the helper exits; D-Bus starts it again on the
/// next call.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    let idle_timeout = match parse_args(std::env::args().skip(1)) {
        Ok(Some(timeout)) => timeout,
        Ok(None) => return ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("vmnet-doctor-helper: {why}");
            return ExitCode::from(2);
        }
    };
    // One thread serves the bus; tools and files run on a few blocking
    // threads (the calls themselves are limited to 32 at once).
    let runtime =
        match tokio::runtime::Builder::new_current_thread().max_blocking_threads(16).enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("vmnet-doctor-helper: cannot start: {error}");
                return ExitCode::FAILURE;
            }
        };
    match runtime.block_on(serve(idle_timeout)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("vmnet-doctor-helper: {why}");
            ExitCode::FAILURE
        }
    }
}

/// The idle timeout, or `None` after printing help or the version.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Duration>, String> {
    let mut idle_timeout = DEFAULT_IDLE_TIMEOUT;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--idle-timeout" => {
                let value = args.next().ok_or("--idle-timeout needs a number of seconds")?;
                let seconds: u64 = value
                    .parse()
                    .map_err(|_| format!("--idle-timeout: not a number of seconds: {value:?}"))?;
                idle_timeout = Duration::from_secs(seconds.max(1));
            }
            "--version" => {
                println!("vmnet-doctor-helper {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--help" | "-h" => {
                println!("Usage: vmnet-doctor-helper [--idle-timeout SECONDS]");
                println!("VM Network Doctor's root helper, started by D-Bus as {BUS_NAME}.");
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(Some(idle_timeout))
}

async fn serve(idle_timeout: Duration) -> Result<(), String> {
    // Caught, so that a stop (systemd's SIGTERM when the name is released,
    // or any `systemctl stop`) lets the calls in flight finish first.
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|error| format!("cannot catch SIGTERM: {error}"))?;
    let shared = Shared::new(Host::system());
    let connection = zbus::connection::Builder::system()
        .serve_at(OBJECT_PATH, Helper::new(Arc::clone(&shared)))
        .name(BUS_NAME)
        .build()
        .await
        .map_err(|error| format!("cannot own {BUS_NAME} on the system bus: {error}"))?;
    eprintln!("vmnet-doctor-helper: serving {BUS_NAME}; exits after {} s idle", idle_timeout.as_secs());

    // Idle means no call running (idle_for is zero while one is), so the
    // helper only ever leaves between calls.
    loop {
        tokio::select! {
            _ = terminate.recv() => {
                eprintln!("vmnet-doctor-helper: stopping (SIGTERM)");
                break;
            }
            () = tokio::time::sleep(Duration::from_millis(500)) => {
                if shared.activity.idle_for() >= idle_timeout {
                    eprintln!("vmnet-doctor-helper: idle for {} s, exiting", idle_timeout.as_secs());
                    break;
                }
            }
        }
    }
    // Give the name up first, so the bus starts a new helper for the next
    // call (it waits for this one's mutations: state_lock), then finish the
    // calls that reached this one. Under systemd the release brings a
    // SIGTERM, which is caught and changes nothing.
    if let Err(error) = connection.release_name(BUS_NAME).await {
        eprintln!("vmnet-doctor-helper: cannot release {BUS_NAME}: {error}");
    }
    drain(&shared, &mut terminate).await;
    Ok(())
}

/// How long calls in flight may take to finish once the helper stops: the
/// longest tool timeout (a network driver restart) and then some; the
/// unit's TimeoutStopSec= is longer still.
const DRAIN_LIMIT: Duration = Duration::from_secs(150);

/// Waits until no call is running, at most [`DRAIN_LIMIT`].
async fn drain(shared: &Shared, terminate: &mut tokio::signal::unix::Signal) {
    let deadline = Instant::now() + DRAIN_LIMIT;
    // A call the bus delivered just before the release may not have begun.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while shared.activity.in_flight() > 0 && Instant::now() < deadline {
        let running = shared.activity.in_flight();
        tokio::select! {
            _ = terminate.recv() => {
                eprintln!("vmnet-doctor-helper: still finishing {running} call(s) before stopping");
            }
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    if shared.activity.in_flight() > 0 {
        eprintln!(
            "vmnet-doctor-helper: calls still running after {} s; stopping anyway",
            DRAIN_LIMIT.as_secs()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>().into_iter()
    }

    #[test]
    fn reads_the_idle_timeout_and_refuses_anything_else() {
        assert_eq!(parse_args(args(&[])), Ok(Some(DEFAULT_IDLE_TIMEOUT)));
        assert_eq!(parse_args(args(&["--idle-timeout", "5"])), Ok(Some(Duration::from_secs(5))));
        assert!(parse_args(args(&["--idle-timeout"])).is_err());
        assert!(parse_args(args(&["--idle-timeout", "soon"])).is_err());
        assert!(parse_args(args(&["--root", "/tmp"])).is_err());
    }
}
