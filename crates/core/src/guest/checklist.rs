//! The guide's "Verification Checklist (Inside VM)": an IPv4 address on
//! the card, the gateway and a public address answering ping, a name
//! resolving, an HTTP fetch and the package manager's update. Planned from
//! what the probe found in the guest (which programs, busybox or GNU), run
//! by `vmnet-doctor verify` through the agent, and judged here from each
//! program's exit status and output.

use std::net::IpAddr;
use std::time::Duration;

use gettextrs::gettext;

use super::{GuestAddress, GuestNetwork};
use crate::i18n::fill;

/// The guide's own targets (`ping -c 3 8.8.8.8`, `ping -c 3 google.com`,
/// `curl http://archive.ubuntu.com`); only contacted when the user runs
/// the checklist, and each can be replaced.
pub const DEFAULT_PING: &str = "8.8.8.8";
pub const DEFAULT_DNS: &str = "google.com";
pub const DEFAULT_HTTP: &str = "http://archive.ubuntu.com/";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepKind {
    /// An IPv4 address on the card (from the agent, no program run).
    Address,
    Gateway,
    Ping,
    Dns,
    Http,
    /// apt-get update, dnf check-update or pacman -Sy.
    Packages,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::Gateway => "gateway",
            Self::Ping => "ping",
            Self::Dns => "dns",
            Self::Http => "http",
            Self::Packages => "packages",
        }
    }

    /// A step that passes but takes longer than this passed slowly: the
    /// guide's checklist says every step should succeed without delay.
    /// Each bound leaves the program its own time (ping -c 3 sends for 2 s)
    /// and the agent's round trips on a loaded host; a resolver that waits
    /// out a dead server or an IPv6 attempt takes its whole timeout (5 s
    /// by default), well above them.
    pub fn slow_after(self) -> Option<Duration> {
        match self {
            Self::Address => None,
            Self::Gateway | Self::Ping => Some(Duration::from_secs(6)),
            Self::Dns => Some(Duration::from_secs(3)),
            Self::Http => Some(Duration::from_secs(5)),
            Self::Packages => Some(Duration::from_secs(60)),
        }
    }

    /// How long the step may take inside the guest.
    pub fn timeout(self) -> Duration {
        Duration::from_secs(match self {
            Self::Address => 10,
            Self::Gateway | Self::Ping => 12,
            Self::Dns => 15,
            Self::Http => 15,
            Self::Packages => 180,
        })
    }
}

/// Where the steps point; the lab points them at its own internet host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    /// `None`: the guest's own IPv4 default gateway.
    pub gateway: Option<IpAddr>,
    pub ping: String,
    pub dns: String,
    pub http: String,
}

impl Default for Targets {
    fn default() -> Self {
        Self {
            gateway: None,
            ping: DEFAULT_PING.to_owned(),
            dns: DEFAULT_DNS.to_owned(),
            http: DEFAULT_HTTP.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// It did not finish in its time.
    Timeout,
    /// Not applicable here (no package manager, no such program).
    Skip,
    /// The agent could not run it.
    Error,
    /// It worked, but only after a delay (see [`StepKind::slow_after`]): a
    /// warning, with its likely cause.
    Slow,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Timeout => "timeout",
            Self::Skip => "skip",
            Self::Error => "error",
            Self::Slow => "slow",
        }
    }

    /// Whether the step did its job (a slow step did, with a warning).
    pub fn is_ok(self) -> bool {
        matches!(self, Self::Pass | Self::Skip | Self::Slow)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    /// What was seen, in a few words (the program's own words where they say it best).
    pub detail: String,
}

impl Verdict {
    fn new(status: Status, detail: impl Into<String>) -> Self {
        Self { status, detail: detail.into() }
    }
}

/// One step: the program to run in the guest, or a verdict known without
/// running anything (no such program, no default route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub kind: StepKind,
    /// What it checks: the gateway, address, name, URL or package manager.
    pub target: String,
    /// Program and arguments, run without a shell; empty when `decided`.
    pub argv: Vec<String>,
    pub timeout: Duration,
    pub decided: Option<Verdict>,
}

impl Step {
    /// The command as it would be typed, for the user to run by hand.
    pub fn command_line(&self) -> String {
        self.argv.join(" ")
    }
}

/// The steps after the address check, in the guide's order.
pub fn plan(network: &GuestNetwork, targets: &Targets) -> Vec<Step> {
    let mut steps = Vec::new();
    let gateway = targets.gateway.or_else(|| network.ipv4_gateway());
    steps.push(match gateway {
        Some(gateway) => ping(network, StepKind::Gateway, &gateway.to_string()),
        None => decided(StepKind::Gateway, "", Status::Fail, gettext("The guest has no IPv4 default route.")),
    });
    steps.push(ping(network, StepKind::Ping, &targets.ping));
    steps.push(dns(network, &targets.dns));
    steps.push(http(network, &targets.http));
    steps.push(packages(network));
    steps
}

fn decided(kind: StepKind, target: &str, status: Status, detail: String) -> Step {
    Step {
        kind,
        target: target.to_owned(),
        argv: Vec::new(),
        timeout: kind.timeout(),
        decided: Some(Verdict::new(status, detail)),
    }
}

fn missing(kind: StepKind, target: &str, programs: &str) -> Step {
    decided(
        kind,
        target,
        Status::Skip,
        fill(&gettext("The guest has none of these programs: {programs}."), &[("programs", programs)]),
    )
}

fn command(network: &GuestNetwork, kind: StepKind, target: &str, argv: &[&str]) -> Step {
    let timeout = kind.timeout();
    let mut full: Vec<String> = Vec::new();
    // The guest ends the program itself when it overruns, so nothing is
    // left running in it; coreutils and busybox take the same arguments.
    if network.has_tool("timeout") {
        full.push("timeout".to_owned());
        full.push(timeout.as_secs().to_string());
    }
    full.extend(argv.iter().map(|arg| (*arg).to_owned()));
    Step { kind, target: target.to_owned(), argv: full, timeout, decided: None }
}

fn ping(network: &GuestNetwork, kind: StepKind, target: &str) -> Step {
    if !network.has_tool("ping") {
        return missing(kind, target, "ping");
    }
    // -W: iputils waits that long for each reply, busybox for the first.
    command(network, kind, target, &["ping", "-c", "3", "-W", "2", target])
}

fn dns(network: &GuestNetwork, name: &str) -> Step {
    // getent asks the C library's resolver, as apt and curl do.
    if network.has_tool("getent") {
        command(network, StepKind::Dns, name, &["getent", "ahosts", name])
    } else if network.has_tool("nslookup") {
        command(network, StepKind::Dns, name, &["nslookup", name])
    } else if network.has_tool("host") {
        command(network, StepKind::Dns, name, &["host", name])
    } else {
        missing(StepKind::Dns, name, "getent, nslookup, host")
    }
}

fn http(network: &GuestNetwork, url: &str) -> Step {
    let seconds = (StepKind::Http.timeout().as_secs() - 3).to_string();
    if network.has_tool("curl") {
        command(
            network,
            StepKind::Http,
            url,
            &["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", &seconds, url],
        )
    } else if network.has_tool("wget") {
        // -S prints the status line; GNU wget would otherwise retry 20 times.
        if network.is_busybox("wget") {
            command(network, StepKind::Http, url, &["wget", "-S", "-O", "/dev/null", "-T", &seconds, url])
        } else {
            command(
                network,
                StepKind::Http,
                url,
                &["wget", "-S", "-O", "/dev/null", "-T", &seconds, "-t", "1", url],
            )
        }
    } else {
        missing(StepKind::Http, url, "curl, wget")
    }
}

fn packages(network: &GuestNetwork) -> Step {
    if network.has_tool("apt-get") {
        command(network, StepKind::Packages, "apt-get", &["apt-get", "-q", "update"])
    } else if network.has_tool("dnf") {
        command(network, StepKind::Packages, "dnf", &["dnf", "-q", "check-update", "--refresh"])
    } else if network.has_tool("pacman") {
        command(network, StepKind::Packages, "pacman", &["pacman", "-Sy", "--noconfirm"])
    } else {
        decided(StepKind::Packages, "", Status::Skip, gettext("The guest has no apt-get, dnf or pacman."))
    }
}

/// The IPv4 addresses an interface has, as the agent reports them.
pub fn judge_address(interface: Option<&str>, addresses: &[GuestAddress]) -> Verdict {
    let Some(interface) = interface else {
        return Verdict::new(Status::Fail, gettext("The guest reports no interface with this MAC address."));
    };
    let ipv4: Vec<String> = addresses
        .iter()
        .filter(|address| match address.ip {
            IpAddr::V4(ip) => !ip.is_link_local(),
            IpAddr::V6(_) => false,
        })
        .map(|address| format!("{}/{}", address.ip, address.prefix))
        .collect();
    if ipv4.is_empty() {
        Verdict::new(
            Status::Fail,
            fill(&gettext("{interface} has no IPv4 address."), &[("interface", interface)]),
        )
    } else {
        Verdict::new(Status::Pass, ipv4.join(", "))
    }
}

/// A passed step that took longer than its kind allows becomes slow, with
/// the time it took and what usually causes that delay.
pub fn judge_time(kind: StepKind, verdict: Verdict, elapsed: Duration) -> Verdict {
    let Some(limit) = kind.slow_after() else { return verdict };
    if verdict.status != Status::Pass || elapsed <= limit {
        return verdict;
    }
    let seconds = format!("{:.1}", elapsed.as_secs_f64());
    let cause = match kind {
        StepKind::Address => return verdict,
        StepKind::Gateway | StepKind::Ping => gettext(
            "The replies came, but the step took {seconds} s: the path is congested or the host overloaded.",
        ),
        StepKind::Dns => gettext(
            "The name resolved only after {seconds} s: a DNS server did not answer at first and the resolver waited for its timeout before asking again or asking the next one, or an IPv6 lookup timed out first.",
        ),
        StepKind::Http | StepKind::Packages => gettext(
            "It worked only after {seconds} s: usually a slow name lookup, or IPv6 tried first with no route out, timing out before IPv4 is used.",
        ),
    };
    Verdict::new(Status::Slow, format!("{} {}", verdict.detail, fill(&cause, &[("seconds", &seconds)])))
}

/// What one step's program said.
pub fn judge(step: &Step, exit_code: Option<i64>, stdout: &str, stderr: &str) -> Verdict {
    if let Some(verdict) = &step.decided {
        return verdict.clone();
    }
    let timed_out =
        step.argv.first().is_some_and(|program| program == "timeout") && matches!(exit_code, Some(124 | 143));
    if timed_out {
        return Verdict::new(
            Status::Timeout,
            fill(
                &gettext("No answer within {seconds} s."),
                &[("seconds", &step.timeout.as_secs().to_string())],
            ),
        );
    }
    let program = step.argv.iter().find(|arg| *arg != "timeout" && arg.parse::<u64>().is_err());
    let combined = format!("{stdout}\n{stderr}");
    match step.kind {
        StepKind::Address => Verdict::new(Status::Error, String::new()),
        StepKind::Gateway | StepKind::Ping => judge_ping(exit_code, &combined),
        StepKind::Dns => judge_dns(program.map(String::as_str), exit_code, &combined),
        StepKind::Http => judge_http(program.map(String::as_str), exit_code, stdout, &combined),
        StepKind::Packages => judge_packages(program.map(String::as_str), exit_code, &combined),
    }
}

/// The last line that says something, for a failure's detail.
fn last_words(output: &str) -> String {
    output.lines().map(str::trim).rfind(|line| !line.is_empty()).unwrap_or_default().to_owned()
}

fn exit_text(exit_code: Option<i64>) -> String {
    match exit_code {
        Some(code) => fill(&gettext("exit status {code}"), &[("code", &code.to_string())]),
        None => gettext("killed by a signal"),
    }
}

fn judge_ping(exit_code: Option<i64>, output: &str) -> Verdict {
    // iputils: "3 packets transmitted, 3 received, 0% packet loss, time 2004ms";
    // busybox: "3 packets transmitted, 3 packets received, 0% packet loss".
    let statistics = output.lines().find(|line| line.contains("packets transmitted")).map(str::trim);
    let received = statistics
        .and_then(|line| line.split(',').nth(1))
        .and_then(|part| part.split_whitespace().next())
        .and_then(|count| count.parse::<u32>().ok())
        .unwrap_or(0);
    if exit_code == Some(0) && received > 0 {
        return Verdict::new(Status::Pass, statistics.unwrap_or_default());
    }
    // The reason, when ping gave one ("Network is unreachable",
    // "Destination Host Unreachable"), else its statistics.
    let reason = output
        .lines()
        .map(str::trim)
        .find(|line| line.contains("nreachable") || line.starts_with("ping:"))
        .or(statistics)
        .map(str::to_owned)
        .unwrap_or_else(|| exit_text(exit_code));
    Verdict::new(Status::Fail, reason)
}

fn judge_dns(program: Option<&str>, exit_code: Option<i64>, output: &str) -> Verdict {
    let mut addresses: Vec<IpAddr> = Vec::new();
    let mut push = |text: &str| {
        if let Ok(ip) = text.trim().parse::<IpAddr>()
            && !addresses.contains(&ip)
        {
            addresses.push(ip);
        }
    };
    match program {
        // "203.0.113.80    STREAM www.lab.example"
        Some("getent") => {
            output.lines().filter_map(|line| line.split_whitespace().next()).for_each(&mut push);
        }
        // "host has address 203.0.113.80", "host has IPv6 address …"
        Some("host") => output
            .lines()
            .filter(|line| line.contains(" has address ") || line.contains(" has IPv6 address "))
            .filter_map(|line| line.split_whitespace().last())
            .for_each(&mut push),
        // After "Name:", "Address: 203.0.113.80" (bind, busybox) or
        // "Address 1: 203.0.113.80 name" (older busybox); the server's own
        // "Address:" line comes before.
        _ => output
            .lines()
            .skip_while(|line| !line.starts_with("Name:"))
            .filter(|line| line.starts_with("Address"))
            .filter_map(|line| line.split_once(':').map(|(_, rest)| rest))
            .filter_map(|rest| rest.split_whitespace().next())
            .for_each(&mut push),
    }
    if exit_code == Some(0) && !addresses.is_empty() {
        let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        return Verdict::new(Status::Pass, list.join(", "));
    }
    let words = last_words(output);
    Verdict::new(
        Status::Fail,
        if words.is_empty() {
            fill(&gettext("The name did not resolve ({exit})."), &[("exit", &exit_text(exit_code))])
        } else {
            words
        },
    )
}

fn judge_http(program: Option<&str>, exit_code: Option<i64>, stdout: &str, output: &str) -> Verdict {
    let status = if program == Some("curl") {
        // -w '%{http_code}': 000 when no answer came.
        Some(stdout.trim()).filter(|code| code.len() == 3 && *code != "000").map(str::to_owned)
    } else {
        // wget -S: "  HTTP/1.1 200 OK"; the last one, after redirects.
        output
            .lines()
            .filter_map(|line| line.trim().strip_prefix("HTTP/"))
            .filter_map(|rest| rest.split_whitespace().nth(1))
            .next_back()
            .map(str::to_owned)
    };
    match status {
        // Any answer proves the way there and back; the status is shown.
        Some(code) => Verdict::new(Status::Pass, fill(&gettext("HTTP status {code}"), &[("code", &code)])),
        None => {
            let words = last_words(output);
            Verdict::new(Status::Fail, if words.is_empty() { exit_text(exit_code) } else { words })
        }
    }
}

fn judge_packages(program: Option<&str>, exit_code: Option<i64>, output: &str) -> Verdict {
    match program {
        Some("apt-get") => {
            // apt-get update exits 0 even when sources failed ("W: Failed to
            // fetch", "W: Some index files failed to download").
            let problem = output.lines().map(str::trim).find(|line| {
                line.starts_with("Err:")
                    || line.starts_with("E:")
                    || line.starts_with("W: Failed to fetch")
                    || line.starts_with("W: Some index files failed")
            });
            match (exit_code, problem) {
                (Some(0), None) => {
                    let fetched = output.lines().map(str::trim).rfind(|line| line.starts_with("Fetched "));
                    Verdict::new(
                        Status::Pass,
                        fetched.map_or_else(|| gettext("Package lists are up to date."), str::to_owned),
                    )
                }
                (_, Some(line)) => Verdict::new(Status::Fail, line),
                (code, None) => Verdict::new(Status::Fail, exit_text(code)),
            }
        }
        // dnf check-update: 100 means updates are available.
        Some("dnf") => match exit_code {
            Some(0) => Verdict::new(Status::Pass, gettext("No updates available.")),
            Some(100) => Verdict::new(Status::Pass, gettext("Updates are available.")),
            code => Verdict::new(Status::Fail, {
                let w = last_words(output);
                if w.is_empty() { exit_text(code) } else { w }
            }),
        },
        _ => match exit_code {
            Some(0) => Verdict::new(Status::Pass, last_words(output)),
            code => Verdict::new(Status::Fail, {
                let w = last_words(output);
                if w.is_empty() { exit_text(code) } else { w }
            }),
        },
    }
}

/// The checklist as commands to type in the guest, when the agent cannot
/// run it: the interface, gateway and package manager filled in when known
/// (`os_id`: os-release `ID`).
pub fn manual_commands(
    interface: Option<&str>,
    gateway: Option<IpAddr>,
    os_id: Option<&str>,
    targets: &Targets,
) -> Vec<(StepKind, String)> {
    let gateway = targets.gateway.or(gateway);
    let packages = match os_id {
        Some("fedora" | "rhel" | "centos" | "rocky" | "almalinux" | "ol") => "sudo dnf check-update",
        Some("arch" | "manjaro" | "endeavouros") => "sudo pacman -Sy",
        _ => "sudo apt update",
    };
    vec![
        (
            StepKind::Address,
            match interface {
                Some(name) => format!("ip -4 addr show dev {name}"),
                None => "ip -o link show | awk -F': ' '{print $2}'; ip -4 addr".to_owned(),
            },
        ),
        (
            StepKind::Gateway,
            match gateway {
                Some(gateway) => format!("ping -c 3 {gateway}"),
                None => "ip route show default; ping -c 3 GATEWAY".to_owned(),
            },
        ),
        (StepKind::Ping, format!("ping -c 3 {}", targets.ping)),
        (StepKind::Dns, format!("getent ahosts {}", targets.dns)),
        (StepKind::Http, format!("curl -sSI {}", targets.http)),
        (StepKind::Packages, packages.to_owned()),
    ]
}
