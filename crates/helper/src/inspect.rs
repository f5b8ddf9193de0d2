//! Read-only facts: the firewall tools on the host and the root-only
//! outputs the diagnosis needs.

use vmnet_doctor_helper_api::{
    API_VERSION, Capabilities, FixKind, InspectReport, ToolInfo, ToolOutput, ToolStatus,
};

use crate::exec::{self, Ran};
use crate::host::Host;

fn output(program: &str, args: &[&str], ran: &Ran) -> ToolOutput {
    let Some(path) = exec::find_program(program) else {
        return ToolOutput { status: ToolStatus::NotInstalled, text: format!("{program} is not installed") };
    };
    let argv: Vec<String> = std::iter::once(path.to_string_lossy().into_owned())
        .chain(args.iter().map(|arg| (*arg).to_owned()))
        .collect();
    let result = exec::run(&argv, ran);
    if result.success() {
        ToolOutput { status: ToolStatus::Ok, text: result.stdout }
    } else {
        ToolOutput {
            status: ToolStatus::Failed,
            text: format!("`{program} {}` failed: {}", args.join(" "), result.message()),
        }
    }
}

pub fn inspect(host: &Host, ran: &Ran) -> InspectReport {
    let ipv4_forward = match host.ip_forward() {
        Ok(value) => ToolOutput { status: ToolStatus::Ok, text: value },
        Err(why) => ToolOutput { status: ToolStatus::Failed, text: why },
    };
    // Every refresh of a desktop app that is not root waits for this call:
    // the tools run side by side. UFW's two are Python, most of the time;
    // UFW itself waits for its lock (/run/ufw.lock), so the second's
    // interpreter starts while the first runs, and they never overlap.
    std::thread::scope(|scope| {
        let ufw_status = scope.spawn(|| output("ufw", &["status", "verbose"], ran));
        let ufw_added = scope.spawn(|| output("ufw", &["show", "added"], ran));
        let nft_ruleset = scope.spawn(|| output("nft", &["-j", "list", "ruleset"], ran));
        let iptables_nft_save = output("iptables-nft-save", &[], ran);
        let iptables_legacy_save = if host.has_legacy_iptables_tables() {
            output("iptables-legacy-save", &[], ran)
        } else {
            ToolOutput {
                status: ToolStatus::NotRun,
                text: "no legacy iptables tables exist (/proc/net/ip_tables_names is empty)".to_owned(),
            }
        };
        let joined = |tool: std::thread::ScopedJoinHandle<'_, ToolOutput>, program: &str| {
            tool.join().unwrap_or_else(|_| ToolOutput {
                status: ToolStatus::Failed,
                text: format!("running {program} failed inside the helper"),
            })
        };
        let (ufw_status, ufw_added) = (joined(ufw_status, "ufw"), joined(ufw_added, "ufw"));
        let nft_ruleset = joined(nft_ruleset, "nft");
        InspectReport {
            ipv4_forward,
            ufw_status,
            ufw_added,
            nft_ruleset,
            iptables_nft_save,
            iptables_legacy_save,
        }
    })
}

pub fn capabilities(host: &Host, ran: &Ran) -> Capabilities {
    let mut tools = Vec::new();
    let info = |name: &str, active: bool, detail: String| ToolInfo {
        name: name.to_owned(),
        path: exec::find_program(name).map(|path| path.to_string_lossy().into_owned()).unwrap_or_default(),
        active,
        detail,
    };
    let ufw = output("ufw", &["status"], ran);
    let ufw_active = ufw.ok().is_some_and(|text| text.lines().any(|line| line.trim() == "Status: active"));
    tools.push(info("ufw", ufw_active, first_line(&ufw.text)));
    let nft = output("nft", &["list", "tables"], ran);
    let tables = nft.ok().map(|text| text.lines().filter(|line| line.starts_with("table ")).count());
    tools.push(info(
        "nft",
        tables.is_some_and(|count| count > 0),
        tables.map_or_else(|| first_line(&nft.text), |count| format!("{count} tables")),
    ));
    // iptables-nft keeps its rules in nftables tables named like iptables'.
    let iptables_tables = nft.ok().map_or(0, |text| {
        text.lines()
            .filter(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                matches!(words.as_slice(), ["table", "ip" | "ip6", "filter" | "nat" | "mangle" | "raw"])
            })
            .count()
    });
    tools.push(info(
        "iptables-nft",
        iptables_tables > 0,
        format!("{iptables_tables} iptables tables in nftables"),
    ));
    let legacy = host.has_legacy_iptables_tables();
    tools.push(info(
        "iptables-legacy",
        legacy,
        if legacy { "legacy tables exist" } else { "no legacy tables" }.to_owned(),
    ));
    // The NAT table (`Connections`) needs conntrack-tools.
    let conntrack = exec::find_program("conntrack").is_some();
    tools.push(info(
        "conntrack",
        conntrack,
        if conntrack { "reads the NAT table" } else { "not installed: the NAT table cannot be read" }
            .to_owned(),
    ));
    let forward = host.ip_forward().unwrap_or_else(|why| why);
    tools.push(info("sysctl", true, format!("net.ipv4.ip_forward = {forward}")));
    Capabilities {
        api_version: API_VERSION,
        fixes: FixKind::ALL.iter().map(|kind| kind.as_str().to_owned()).collect(),
        tools,
    }
}

fn first_line(text: &str) -> String {
    text.lines().find(|line| !line.trim().is_empty()).unwrap_or("").trim().chars().take(200).collect()
}
