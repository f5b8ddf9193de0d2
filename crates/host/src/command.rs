//! Running the few outside tools the probe needs, safely, or reading their
//! recorded output.
//!
//! A tool is run by absolute path (looked up in a fixed list of system
//! directories, never `$PATH`), without a shell, with a cleared environment
//! (only a fixed `PATH` for tools that run helpers, and `LC_ALL=C` so the
//! output we parse is never translated), stdin closed, and killed after a
//! timeout.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vmnet_doctor_helper_api::{InspectReport, ToolOutput, ToolStatus};

use crate::NEEDS_ROOT;
use crate::exec;
pub use crate::exec::find_program;

/// The outside tools the probe runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// `ip -j -d addr show`: every link with its addresses (unprivileged).
    IpAddr,
    /// `nft -j list ruleset` (root).
    NftRuleset,
    /// `iptables-nft-save` (root): the tables iptables-nft wrote, with the
    /// match parameters `nft -j` shows only as opaque `xt` expressions.
    IptablesNftSave,
    /// `iptables-legacy-save` (root).
    IptablesLegacySave,
    /// `ufw status verbose` (root).
    UfwStatus,
    /// `ip -N -j -4 route show table all`: the IPv4 routes of every table,
    /// tables by number (unprivileged).
    IpRoute4,
    /// `ip -N -j -6 route show table all`.
    IpRoute6,
    /// `ip -N -j -4 rule show`: the IPv4 policy rules (unprivileged).
    IpRule4,
    /// `ip -N -j -6 rule show`.
    IpRule6,
}

impl Tool {
    /// The program's file name and its arguments.
    pub fn argv(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Self::IpAddr => ("ip", &["-j", "-d", "addr", "show"]),
            Self::NftRuleset => ("nft", &["-j", "list", "ruleset"]),
            Self::IptablesNftSave => ("iptables-nft-save", &[]),
            Self::IptablesLegacySave => ("iptables-legacy-save", &[]),
            Self::UfwStatus => ("ufw", &["status", "verbose"]),
            Self::IpRoute4 => ("ip", &["-N", "-j", "-4", "route", "show", "table", "all"]),
            Self::IpRoute6 => ("ip", &["-N", "-j", "-6", "route", "show", "table", "all"]),
            Self::IpRule4 => ("ip", &["-N", "-j", "-4", "rule", "show"]),
            Self::IpRule6 => ("ip", &["-N", "-j", "-6", "rule", "show"]),
        }
    }

    /// Whether only root may run it (netlink dumps of netfilter need
    /// CAP_NET_ADMIN; `ufw` refuses to run for other users).
    pub fn needs_root(self) -> bool {
        !matches!(self, Self::IpAddr | Self::IpRoute4 | Self::IpRoute6 | Self::IpRule4 | Self::IpRule6)
    }

    /// The file `tests/firewall-lab/capture.sh` records its output in.
    pub fn recorded_file(self) -> &'static str {
        match self {
            Self::IpAddr => "ip-addr.json",
            Self::NftRuleset => "nft-list-ruleset.json",
            Self::IptablesNftSave => "iptables-nft-save.txt",
            Self::IptablesLegacySave => "iptables-legacy-save.txt",
            Self::UfwStatus => "ufw-status-verbose.txt",
            Self::IpRoute4 => "ip-route4.json",
            Self::IpRoute6 => "ip-route6.json",
            Self::IpRule4 => "ip-rule4.json",
            Self::IpRule6 => "ip-rule6.json",
        }
    }

    /// How the command reads in a message.
    pub fn display(self) -> String {
        let (program, args) = self.argv();
        std::iter::once(program).chain(args.iter().copied()).collect::<Vec<_>>().join(" ")
    }
}

/// Where tool output comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tools {
    /// Run the installed tools. Root-only tools run only when `privileged`
    /// (the process is root); otherwise they are "needs the helper or root".
    System { privileged: bool },
    /// Read the output recorded in `dir` (one file per tool, see
    /// [`Tool::recorded_file`]); a missing file means the tool is not
    /// installed. `privileged` false replays a normal user's view.
    Recorded { dir: PathBuf, privileged: bool },
    /// Not root: the unprivileged tools run here, the root-only outputs
    /// are those of the helper's `Inspect` call (see [`crate::helper`]), or
    /// why the helper did not give them.
    Helper { report: Result<InspectReport, String> },
}

/// Why a tool gave no output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// Only root (or the helper) may run it and we are not root.
    NeedsRoot,
    /// Not installed in any system directory.
    NotInstalled,
    /// It ran and failed, timed out, or printed something unreadable.
    Failed(String),
    /// The whole reason, as given: why the helper could not be asked, or
    /// how the tool failed when the helper ran it.
    Reported(String),
}

impl ToolError {
    /// The reason as a fact's `Unknown` text.
    pub fn reason(&self, tool: Tool) -> String {
        match self {
            Self::NeedsRoot => NEEDS_ROOT.to_owned(),
            Self::NotInstalled => format!("{} is not installed", tool.argv().0),
            Self::Failed(why) => format!("`{}` failed: {why}", tool.display()),
            Self::Reported(why) => why.clone(),
        }
    }
}

/// How long any tool may run.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(10);

impl Tools {
    /// The tool's standard output.
    pub fn output(&self, tool: Tool) -> Result<String, ToolError> {
        match self {
            Self::System { privileged } => {
                if tool.needs_root() && !privileged {
                    return Err(ToolError::NeedsRoot);
                }
                let (program, args) = tool.argv();
                let path = find_program(program).ok_or(ToolError::NotInstalled)?;
                run(&path, args, TOOL_TIMEOUT).map_err(ToolError::Failed)
            }
            Self::Recorded { dir, privileged } => {
                if tool.needs_root() && !privileged {
                    return Err(ToolError::NeedsRoot);
                }
                let path = dir.join(tool.recorded_file());
                if !path.exists() {
                    return Err(ToolError::NotInstalled);
                }
                fs::read_to_string(&path)
                    .map_err(|error| ToolError::Failed(format!("{}: {error}", path.display())))
            }
            Self::Helper { report } => {
                let report = match report {
                    Ok(report) => report,
                    Err(why) if tool.needs_root() => return Err(ToolError::Reported(why.clone())),
                    Err(_) => return Self::System { privileged: false }.output(tool),
                };
                helper_output(report, tool)
                    .map_or_else(|| Self::System { privileged: false }.output(tool), from_helper)
            }
        }
    }

    /// Whether the tool exists (installed, or recorded).
    pub fn has(&self, tool: Tool) -> bool {
        match self {
            // The helper runs on this host: the same programs.
            Self::System { .. } | Self::Helper { .. } => find_program(tool.argv().0).is_some(),
            Self::Recorded { dir, .. } => dir.join(tool.recorded_file()).exists(),
        }
    }

    /// Why the root-only tools give no output, if they do not: not root,
    /// or the helper could not be asked.
    pub fn root_only_unavailable(&self) -> Option<String> {
        match self {
            Self::System { privileged } | Self::Recorded { privileged, .. } => {
                (!privileged).then(|| NEEDS_ROOT.to_owned())
            }
            Self::Helper { report } => report.as_ref().err().cloned(),
        }
    }
}

/// The helper's answer for a root-only tool; `None` for the others.
fn helper_output(report: &InspectReport, tool: Tool) -> Option<&ToolOutput> {
    match tool {
        Tool::IpAddr | Tool::IpRoute4 | Tool::IpRoute6 | Tool::IpRule4 | Tool::IpRule6 => None,
        Tool::NftRuleset => Some(&report.nft_ruleset),
        Tool::IptablesNftSave => Some(&report.iptables_nft_save),
        Tool::IptablesLegacySave => Some(&report.iptables_legacy_save),
        Tool::UfwStatus => Some(&report.ufw_status),
    }
}

fn from_helper(output: &ToolOutput) -> Result<String, ToolError> {
    match output.status {
        ToolStatus::Ok => Ok(output.text.clone()),
        ToolStatus::NotInstalled => Err(ToolError::NotInstalled),
        // The helper skips a tool only when it has nothing to show
        // (iptables-legacy-save without legacy tables): an empty output.
        ToolStatus::NotRun => Ok(String::new()),
        ToolStatus::Failed => Err(ToolError::Reported(format!("the helper: {}", output.text))),
    }
}

/// Runs `program args…` and returns its stdout if it exits with status 0
/// within `timeout`. The error says why not, with the first line of stderr.
pub fn run(program: &Path, args: &[&str], timeout: Duration) -> Result<String, String> {
    let argv: Vec<String> = std::iter::once(program.to_string_lossy().into_owned())
        .chain(args.iter().map(|arg| (*arg).to_owned()))
        .collect();
    let output = exec::run_with_timeout(&argv, timeout);
    if output.success() {
        return Ok(output.stdout);
    }
    let first = output.stderr.lines().find(|line| !line.trim().is_empty()).unwrap_or("").trim();
    Err(match (output.status, first.is_empty()) {
        // Not started, killed, timed out: the runner's own words.
        (-1, true) => "did not exit normally".to_owned(),
        (-1, false) => first.to_owned(),
        (status, true) => format!("exited with status {status}"),
        (status, false) => format!("exited with status {status}: {first}"),
    })
}

/// The effective uid of this process, from `PROC/self/status` (no libc).
pub fn effective_uid(proc: &Path) -> Option<u32> {
    let status = fs::read_to_string(proc.join("self/status")).ok()?;
    let line = status.lines().find_map(|line| line.strip_prefix("Uid:"))?;
    // Real, effective, saved, file-system.
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn runs_a_program_without_a_shell_or_environment() -> Result<(), String> {
        let env = find_program("env").ok_or("no env program")?;
        let output = run(&env, &[], Duration::from_secs(5))?;
        let mut lines: Vec<&str> = output.lines().collect();
        lines.sort_unstable();
        assert_eq!(lines, ["LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]);
        Ok(())
    }

    #[test]
    fn a_failing_program_reports_its_status() -> Result<(), String> {
        let program = find_program("false").ok_or("no false program")?;
        let error = run(&program, &[], Duration::from_secs(5)).err().ok_or("false succeeded")?;
        assert!(error.starts_with("exited with"), "{error}");
        Ok(())
    }

    #[test]
    fn a_hanging_program_is_killed_at_the_timeout() -> Result<(), String> {
        let program = find_program("sleep").ok_or("no sleep program")?;
        let started = Instant::now();
        let error = run(&program, &["30"], Duration::from_millis(200)).err().ok_or("sleep returned")?;
        assert!(error.contains("timed out"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
        Ok(())
    }

    #[test]
    fn root_only_tools_are_not_run_without_privileges() {
        let tools = Tools::System { privileged: false };
        assert_eq!(tools.output(Tool::NftRuleset), Err(ToolError::NeedsRoot));
        assert_eq!(ToolError::NeedsRoot.reason(Tool::NftRuleset), NEEDS_ROOT);
    }

    fn helper_report() -> InspectReport {
        let out = |status, text: &str| ToolOutput { status, text: text.to_owned() };
        InspectReport {
            ipv4_forward: out(ToolStatus::Ok, "1"),
            ufw_status: out(ToolStatus::Ok, "Status: inactive\n"),
            ufw_added: out(ToolStatus::Ok, ""),
            nft_ruleset: out(ToolStatus::Ok, "{\"nftables\": []}"),
            iptables_nft_save: out(ToolStatus::Failed, "`iptables-nft-save ` failed: exit status 1"),
            iptables_legacy_save: out(ToolStatus::NotRun, "no legacy iptables tables exist"),
        }
    }

    #[test]
    fn root_only_outputs_come_from_the_helpers_report() {
        let tools = Tools::Helper { report: Ok(helper_report()) };
        assert_eq!(tools.root_only_unavailable(), None);
        assert_eq!(tools.output(Tool::UfwStatus), Ok("Status: inactive\n".to_owned()));
        assert_eq!(tools.output(Tool::NftRuleset), Ok("{\"nftables\": []}".to_owned()));
        assert_eq!(tools.output(Tool::IptablesLegacySave), Ok(String::new()));
        let Err(failed) = tools.output(Tool::IptablesNftSave) else { panic!("a failure is not an output") };
        assert_eq!(
            failed.reason(Tool::IptablesNftSave),
            "the helper: `iptables-nft-save ` failed: exit status 1"
        );
    }

    #[test]
    fn without_the_helper_root_only_tools_say_why() {
        let why = format!("{NEEDS_ROOT}: the helper is not installed");
        let tools = Tools::Helper { report: Err(why.clone()) };
        assert_eq!(tools.root_only_unavailable(), Some(why.clone()));
        assert_eq!(tools.output(Tool::UfwStatus).map_err(|error| error.reason(Tool::UfwStatus)), Err(why));
        // The unprivileged tools still run here.
        assert_ne!(tools.output(Tool::IpAddr).err(), Some(ToolError::NeedsRoot));
    }

    #[test]
    fn reads_the_effective_uid() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        fs::create_dir_all(dir.path().join("self"))?;
        fs::write(
            dir.path().join("self/status"),
            "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n",
        )?;
        assert_eq!(effective_uid(dir.path()), Some(0));
        assert!(effective_uid(Path::new("/proc")).is_some());
        Ok(())
    }
}
