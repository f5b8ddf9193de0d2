//! The host's part of a refresh, timed (issue #20 item 6; `tools/bench`'s
//! refresh section runs it in the lab). One process reads the facts
//! `--reads` times, as the app does on each refresh, so the system-bus
//! connection it keeps for its life is made once:
//!
//!     bench_host_facts [--reads N] [--whole-host-from-helper] [NETWORK…]
//!
//! Without `--whole-host-from-helper` it reads as the distribution's app
//! does (`read_host_facts`: everything in this process as root; without
//! root, the root-only tools' output from the helper's `Inspect`). With
//! it, as the Flatpak does: the helper reads the whole host
//! (`InspectHost`). Prints one JSON object: each read's milliseconds, the
//! bus connections made, and whether the root-only facts (the netfilter
//! rulesets) were known or why not.

use std::error::Error;
use std::time::Instant;

use serde_json::json;
use vmnet_doctor_core::host::{Fact, HostFacts};
use vmnet_doctor_host::{helper, read_host_facts, system_bus};

fn main() -> Result<(), Box<dyn Error>> {
    let mut reads = 10_usize;
    let mut whole_host_from_helper = false;
    let mut networks = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reads" => {
                let value = args.next().ok_or("--reads needs a number")?;
                reads = value.parse().map_err(|_| format!("--reads: not a number: {value}"))?;
            }
            "--whole-host-from-helper" => whole_host_from_helper = true,
            other if other.starts_with("--") => return Err(format!("unknown option {other}").into()),
            _ => networks.push(arg),
        }
    }
    if reads == 0 {
        return Err("--reads must be at least 1".into());
    }
    if networks.is_empty() {
        networks.push("default".to_owned());
    }

    let mut times = Vec::with_capacity(reads);
    let mut last: Result<HostFacts, String> = Err("not read".to_owned());
    for _ in 0..reads {
        let start = Instant::now();
        last = if whole_host_from_helper {
            helper::inspect_host(&networks)
        } else {
            Ok(read_host_facts(&networks))
        };
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let root_only = match &last {
        Ok(facts) => match &facts.netfilter {
            Fact::Known(_) => json!({"known": true}),
            Fact::Unknown(why) => json!({"known": false, "why": why}),
        },
        Err(why) => json!({"known": false, "why": why}),
    };
    println!(
        "{}",
        json!({
            "reads_ms": times,
            "bus_connections": system_bus::connections_made(),
            "root_only_facts": root_only,
        })
    );
    Ok(())
}
