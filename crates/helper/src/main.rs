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

mod audit;
mod changes;
mod connections;
mod engine;
mod exec;
mod host;
mod host_facts;
mod inspect;
mod journal;
mod plan;
mod polkit;
mod service;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
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
    let shared = Shared::new(Host::system());
    let connection = zbus::connection::Builder::system()
        .serve_at(OBJECT_PATH, Helper::new(Arc::clone(&shared)))
        .name(BUS_NAME)
        .build()
        .await
        .map_err(|error| format!("cannot own {BUS_NAME} on the system bus: {error}"))?;
    eprintln!("vmnet-doctor-helper: serving {BUS_NAME}; exits after {} s idle", idle_timeout.as_secs());

    while shared.activity.idle_for() < idle_timeout {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("vmnet-doctor-helper: idle for {} s, exiting", idle_timeout.as_secs());
    // Give the name up first, so the bus starts a new helper for the next
    // call, then finish the calls that reached this one meanwhile.
    if let Err(error) = connection.release_name(BUS_NAME).await {
        eprintln!("vmnet-doctor-helper: cannot release {BUS_NAME}: {error}");
    }
    let deadline = Instant::now() + Duration::from_secs(600);
    tokio::time::sleep(Duration::from_millis(200)).await;
    while shared.activity.in_flight() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
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
