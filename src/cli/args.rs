//! The command line's arguments: each command's options, and reading them
//! (the options every command shares, then each command's own).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use gettextrs::gettext;
use vmnet_doctor_core::rules;

use crate::gui_options::GuiOptions;
use crate::i18n::fill;

/// `vmnet-doctor check`: the diagnosis without a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// Each `--connect`, in the order given: several are checked at once
    /// (a fleet); none is libvirt's default connection.
    pub connect: Vec<String>,
    pub demo: bool,
    /// Only this VM's findings (and those of its networks and the host).
    pub vm: Option<String>,
    pub format: ReportFormat,
    /// How long each connection may take before it counts as not
    /// answering (`--timeout SECONDS`); unset, as long as libvirt waits.
    pub timeout: Option<Duration>,
    /// Where the report goes instead of standard output (`--output FILE`):
    /// the file is replaced in one step, as a metrics collector reading it
    /// at any moment needs.
    pub output: Option<PathBuf>,
}

/// How `check` writes what it found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// For a person at a terminal.
    #[default]
    Text,
    /// One document (`docs/check-json.md`).
    Json,
    /// Prometheus' text exposition format, for node_exporter's textfile
    /// collector (`docs/fleet.md`).
    Prometheus,
}

/// `vmnet-doctor fix`: apply the fixes of chosen findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixOptions {
    pub connect: Option<String>,
    pub demo: bool,
    /// Only findings that concern this VM (as `check --vm`).
    pub vm: Option<String>,
    /// Show the plans, change nothing.
    pub dry_run: bool,
    pub json: bool,
    /// Every finding that has a fix.
    pub all: bool,
    /// The guide's other way where a finding has one (APT's ForceIPv4
    /// instead of turning IPv6 off).
    pub alternative: bool,
    /// The finding ids to fix (`network-inactive`, …).
    pub ids: Vec<String>,
}

/// `vmnet-doctor verify`: the guide's checklist run inside a guest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    pub connect: Option<String>,
    pub demo: bool,
    pub vm: String,
    pub json: bool,
    /// Instead of the guest's own default gateway.
    pub gateway: Option<IpAddr>,
    /// Instead of the guide's public address, name and URL.
    pub ping: Option<String>,
    pub dns: Option<String>,
    pub http: Option<String>,
}

/// `vmnet-doctor revert`: undo one of the helper's transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevertOptions {
    /// The connection whose fix it was: a server reached over SSH has the
    /// transaction in its own helper's journal.
    pub connect: Option<String>,
    pub transaction: String,
    pub json: bool,
}

/// `vmnet-doctor nat`: a running VM's NAT translation table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatOptions {
    pub connect: Option<String>,
    pub demo: bool,
    pub vm: String,
    pub json: bool,
}

/// `vmnet-doctor facts`: this host's network facts, for a desktop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsOptions {
    /// The libvirt networks whose dnsmasq and leases to read.
    pub networks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Gui(GuiOptions),
    Check(CheckOptions),
    Fix(FixOptions),
    Revert(RevertOptions),
    Verify(VerifyOptions),
    Nat(NatOptions),
    Posture(CheckOptions),
    Facts(FactsOptions),
    RemoteHelper(crate::remote_protocol::RemoteHelperCall),
    Help,
    Version,
}

/// One argument, `--name=value` split into its name and inline value.
pub(crate) struct Arg {
    /// As typed, for error messages and positional arguments.
    pub whole: String,
    pub name: String,
    inline: Option<String>,
}

/// The arguments of one command, read one by one.
pub(crate) struct Args<I> {
    rest: I,
}

impl<I: Iterator<Item = String>> Args<I> {
    fn next_arg(&mut self) -> Option<Arg> {
        let whole = self.rest.next()?;
        let (name, inline) = match whole.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value.to_owned())),
            _ => (whole.clone(), None),
        };
        Some(Arg { whole, name, inline })
    }

    /// An option's value: its inline `=value` or else the next argument;
    /// `missing` when there is none or it is blank.
    fn value(&mut self, arg: &Arg, missing: impl FnOnce() -> String) -> Result<String, String> {
        match arg.inline.clone().or_else(|| self.rest.next()) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(missing()),
        }
    }
}

/// Which shared options a command takes besides `--connect`, `--demo` and `--help`.
#[derive(Clone, Copy)]
pub(crate) struct Takes {
    pub vm: bool,
    pub json: bool,
}

/// The options the commands that open a connection share.
#[derive(Debug, Default)]
pub(crate) struct SharedOptions {
    /// Every `--connect`; only `check` takes more than one.
    pub connect: Vec<String>,
    pub demo: bool,
    pub vm: Option<String>,
    pub json: bool,
}

/// What [`parse_options`] found.
pub(crate) enum Parsed {
    Options(SharedOptions),
    /// An argument that is answered at once (`--help`, `--version`).
    Answer(Command),
}

/// Reads the shared options of a command and hands every other argument
/// to `own`, which returns a command when that argument is answered at once.
pub(crate) fn parse_options<I: Iterator<Item = String>>(
    args: I,
    takes: Takes,
    mut own: impl FnMut(Arg, &mut Args<I>) -> Result<Option<Command>, String>,
) -> Result<Parsed, String> {
    let mut args = Args { rest: args };
    let mut options = SharedOptions::default();
    while let Some(arg) = args.next_arg() {
        match arg.name.as_str() {
            "-h" | "--help" => return Ok(Parsed::Answer(Command::Help)),
            "--demo" => options.demo = true,
            "--json" if takes.json => options.json = true,
            "-c" | "--connect" => {
                options.connect.push(
                    args.value(&arg, || gettext("--connect needs a libvirt URI, e.g. qemu:///system"))?,
                );
            }
            "--vm" if takes.vm => {
                options.vm = Some(args.value(&arg, || gettext("--vm needs the name of a virtual machine"))?);
            }
            _ => {
                if let Some(command) = own(arg, &mut args)? {
                    return Ok(Parsed::Answer(command));
                }
            }
        }
    }
    Ok(Parsed::Options(options))
}

impl SharedOptions {
    /// The demo hypervisor is a connection of its own.
    pub fn refuse_demo_with_connect(&self) -> Result<(), String> {
        if self.demo && !self.connect.is_empty() {
            return Err(gettext("--demo and --connect cannot be used together"));
        }
        Ok(())
    }

    /// The one `--connect` of a command that works on one connection.
    pub fn connection(&self) -> Result<Option<String>, String> {
        match self.connect.as_slice() {
            [] => Ok(None),
            [uri] => Ok(Some(uri.clone())),
            _ => {
                Err(gettext("--connect can be given only once here; only check and the window take several"))
            }
        }
    }
}

pub(crate) fn unknown_argument(arg: &str) -> String {
    fill(&gettext("unknown argument “{arg}”"), &[("arg", arg)])
}

pub(super) fn parse_check(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let (mut format, mut timeout, mut output) = (None, None, None);
    let parsed = parse_options(args, Takes { vm: true, json: true }, |arg, args| {
        match arg.name.as_str() {
            "--format" => {
                let text = args.value(&arg, || gettext("--format needs text, json or prometheus"))?;
                format = Some(match text.as_str() {
                    "text" => ReportFormat::Text,
                    "json" => ReportFormat::Json,
                    "prometheus" => ReportFormat::Prometheus,
                    _ => {
                        return Err(fill(
                            &gettext("--format needs text, json or prometheus, not “{value}”"),
                            &[("value", &text)],
                        ));
                    }
                });
            }
            "--timeout" => {
                let text = args.value(&arg, || gettext("--timeout needs a number of seconds"))?;
                timeout = Some(seconds(&text).ok_or_else(|| {
                    fill(&gettext("--timeout needs a number of seconds, not “{value}”"), &[("value", &text)])
                })?);
            }
            "-o" | "--output" => {
                output = Some(PathBuf::from(args.value(&arg, || gettext("--output needs a file name"))?));
            }
            _ => return Err(unknown_argument(&arg.whole)),
        }
        Ok(None)
    })?;
    let shared = match parsed {
        Parsed::Options(shared) => shared,
        Parsed::Answer(command) => return Ok(command),
    };
    shared.refuse_demo_with_connect()?;
    let format = match (shared.json, format) {
        (true, Some(format)) if format != ReportFormat::Json => {
            return Err(gettext("--json is --format=json; give one format"));
        }
        (true, _) => ReportFormat::Json,
        (false, format) => format.unwrap_or_default(),
    };
    if shared.vm.is_some() && shared.connect.len() > 1 {
        return Err(gettext("--vm names a VM of one connection; give one --connect with it"));
    }
    Ok(Command::Check(CheckOptions {
        connect: shared.connect,
        demo: shared.demo,
        vm: shared.vm,
        format,
        timeout,
        output,
    }))
}

/// A positive number of seconds, at most a day (a mistyped unit, not a
/// wish to wait for days).
fn seconds(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().parse().ok()?;
    (seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0).then(|| Duration::from_secs_f64(seconds))
}

impl CheckOptions {
    /// The options of `posture`, which reads one connection and writes
    /// text or JSON.
    pub(super) fn for_posture(self) -> Result<Self, String> {
        if self.connect.len() > 1 {
            return Err(gettext("posture checks one connection; give --connect once"));
        }
        if self.format == ReportFormat::Prometheus || self.timeout.is_some() || self.output.is_some() {
            return Err(gettext(
                "posture writes text or JSON to standard output; --format=prometheus, --timeout and --output are check's",
            ));
        }
        Ok(self)
    }
}

pub(super) fn parse_fix(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let (mut dry_run, mut all, mut alternative, mut ids) = (false, false, false, Vec::<String>::new());
    let parsed = parse_options(args, Takes { vm: true, json: true }, |arg, _| {
        match arg.name.as_str() {
            "--dry-run" => dry_run = true,
            "--all" => all = true,
            "--alternative" => alternative = true,
            _ if arg.whole.starts_with('-') => return Err(unknown_argument(&arg.whole)),
            _ if !is_known_finding_id(&arg.whole) => {
                return Err(fill(
                    &gettext(
                        "“{id}” is not a finding id; “vmnet-doctor check” shows each finding's id in brackets at its end",
                    ),
                    &[("id", &arg.whole)],
                ));
            }
            _ => {
                if !ids.contains(&arg.whole) {
                    ids.push(arg.whole);
                }
            }
        }
        Ok(None)
    })?;
    let shared = match parsed {
        Parsed::Options(shared) => shared,
        Parsed::Answer(command) => return Ok(command),
    };
    shared.refuse_demo_with_connect()?;
    if all != ids.is_empty() {
        return Err(gettext("fix needs the ids of the findings to fix, or --all"));
    }
    Ok(Command::Fix(FixOptions {
        connect: shared.connection()?,
        demo: shared.demo,
        vm: shared.vm,
        dry_run,
        json: shared.json,
        all,
        alternative,
        ids,
    }))
}

/// Whether any rule can report this id.
fn is_known_finding_id(id: &str) -> bool {
    [rules::LIBVIRT_RULE_IDS, rules::FIREWALL_RULE_IDS, rules::CONNECTION_IDS]
        .iter()
        .any(|ids| ids.contains(&id))
}

pub(super) fn parse_revert(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut options = RevertOptions::default();
    let mut args = Args { rest: args };
    while let Some(arg) = args.next_arg() {
        match arg.name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => options.json = true,
            "-c" | "--connect" if options.connect.is_none() => {
                options.connect =
                    Some(args.value(&arg, || gettext("--connect needs a libvirt URI, e.g. qemu:///system"))?);
            }
            _ if arg.whole.starts_with('-') || !options.transaction.is_empty() => {
                return Err(unknown_argument(&arg.whole));
            }
            _ => options.transaction = arg.whole,
        }
    }
    if options.transaction.is_empty() {
        return Err(gettext("revert needs the id of a helper transaction, as “vmnet-doctor fix” printed it"));
    }
    Ok(Command::Revert(options))
}

/// A host name or address a guest program gets as an argument: never one
/// that it would read as an option.
fn is_host(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && text.len() <= 253
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'))
}

pub(super) fn parse_verify(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut verify = VerifyOptions::default();
    let parsed = parse_options(args, Takes { vm: false, json: true }, |arg, args| {
        let name = arg.name.as_str();
        match name {
            "--gateway" => {
                let text = args.value(&arg, || gettext("--gateway needs an IP address"))?;
                verify.gateway = Some(text.parse().map_err(|_| {
                    fill(&gettext("--gateway needs an IP address, not “{value}”"), &[("value", &text)])
                })?);
            }
            "--ping" | "--dns" => {
                let text = args.value(&arg, || {
                    fill(&gettext("{option} needs a host name or address"), &[("option", name)])
                })?;
                if !is_host(&text) {
                    return Err(fill(
                        &gettext("{option} needs a host name or address, not “{value}”"),
                        &[("option", name), ("value", &text)],
                    ));
                }
                if name == "--ping" { verify.ping = Some(text) } else { verify.dns = Some(text) }
            }
            "--http" => {
                let text = args.value(&arg, || gettext("--http needs an http:// or https:// URL"))?;
                let valid = (text.starts_with("http://") || text.starts_with("https://"))
                    && !text.chars().any(char::is_whitespace);
                if !valid {
                    return Err(fill(
                        &gettext("--http needs an http:// or https:// URL, not “{value}”"),
                        &[("value", &text)],
                    ));
                }
                verify.http = Some(text);
            }
            _ if arg.whole.starts_with('-') || !verify.vm.is_empty() => {
                return Err(unknown_argument(&arg.whole));
            }
            _ => verify.vm = arg.whole,
        }
        Ok(None)
    })?;
    let shared = match parsed {
        Parsed::Options(shared) => shared,
        Parsed::Answer(command) => return Ok(command),
    };
    shared.refuse_demo_with_connect()?;
    if verify.vm.is_empty() {
        return Err(gettext("verify needs the name of a virtual machine"));
    }
    Ok(Command::Verify(VerifyOptions {
        connect: shared.connection()?,
        demo: shared.demo,
        json: shared.json,
        ..verify
    }))
}
