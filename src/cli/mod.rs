//! The command line: `vmnet-doctor [--connect URI | --demo]` and its
//! commands, each in a module of its own here (`check`, `fix`, `revert`,
//! `verify`, `nat`, `posture`).

pub mod check;
pub mod fix;
pub mod nat;
mod polkit_agent;
pub mod posture;
pub mod revert;
pub mod verify;

use std::net::IpAddr;

use gettextrs::gettext;
use vmnet_doctor_core::rules;

use crate::i18n::fill;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuiOptions {
    /// A libvirt URI to open instead of the last one used.
    pub connect: Option<String>,
    /// Open the built-in demo hypervisor.
    pub demo: bool,
    /// Select this VM once the connection is open.
    pub vm: Option<String>,
    /// Open the setup wizard once the connection is open.
    pub setup: bool,
}

/// `vmnet-doctor check`: the diagnosis without a window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckOptions {
    pub connect: Option<String>,
    pub demo: bool,
    /// Only this VM's findings (and those of its networks and the host).
    pub vm: Option<String>,
    pub json: bool,
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
    pub transaction: String,
    pub json: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Gui(GuiOptions),
    Check(CheckOptions),
    Fix(FixOptions),
    Revert(RevertOptions),
    Verify(VerifyOptions),
    Nat(nat::NatOptions),
    Posture(CheckOptions),
    Help,
    Version,
}

/// Parses the arguments after the program name; the error is a translated
/// sentence naming the bad argument.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    match args.peek().map(String::as_str) {
        Some("check") => {
            args.next();
            return parse_check(args);
        }
        Some("fix") => {
            args.next();
            return parse_fix(args);
        }
        Some("revert") => {
            args.next();
            return parse_revert(args);
        }
        Some("nat") => {
            args.next();
            return nat::parse(args);
        }
        Some("posture") => {
            args.next();
            return parse_check(args).map(|command| match command {
                Command::Check(options) => Command::Posture(options),
                other => other,
            });
        }
        Some("verify") => {
            args.next();
            return parse_verify(args);
        }
        _ => {}
    }
    let mut setup = false;
    let parsed = parse_options(args, Takes { vm: true, json: false }, |arg, _| match arg.name.as_str() {
        "-V" | "--version" => Ok(Some(Command::Version)),
        "--setup" => {
            setup = true;
            Ok(None)
        }
        _ => Err(unknown_argument(&arg.whole)),
    })?;
    let shared = match parsed {
        Parsed::Options(shared) => shared,
        Parsed::Answer(command) => return Ok(command),
    };
    shared.refuse_demo_with_connect()?;
    Ok(Command::Gui(GuiOptions { connect: shared.connect, demo: shared.demo, vm: shared.vm, setup }))
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
    pub connect: Option<String>,
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
                options.connect =
                    Some(args.value(&arg, || gettext("--connect needs a libvirt URI, e.g. qemu:///system"))?);
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
        if self.demo && self.connect.is_some() {
            return Err(gettext("--demo and --connect cannot be used together"));
        }
        Ok(())
    }
}

pub(crate) fn unknown_argument(arg: &str) -> String {
    fill(&gettext("unknown argument “{arg}”"), &[("arg", arg)])
}

fn parse_check(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let parsed =
        parse_options(args, Takes { vm: true, json: true }, |arg, _| Err(unknown_argument(&arg.whole)))?;
    let shared = match parsed {
        Parsed::Options(shared) => shared,
        Parsed::Answer(command) => return Ok(command),
    };
    shared.refuse_demo_with_connect()?;
    Ok(Command::Check(CheckOptions {
        connect: shared.connect,
        demo: shared.demo,
        vm: shared.vm,
        json: shared.json,
    }))
}

fn parse_fix(args: impl Iterator<Item = String>) -> Result<Command, String> {
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
        connect: shared.connect,
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

fn parse_revert(args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut options = RevertOptions::default();
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => options.json = true,
            _ if arg.starts_with('-') || !options.transaction.is_empty() => {
                return Err(unknown_argument(&arg));
            }
            _ => options.transaction = arg,
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

fn parse_verify(args: impl Iterator<Item = String>) -> Result<Command, String> {
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
        connect: shared.connect,
        demo: shared.demo,
        json: shared.json,
        ..verify
    }))
}

pub fn help_text() -> String {
    format!(
        "{}\n\n{}\n  vmnet-doctor [--connect URI | --demo] [--vm NAME] [--setup]\n  vmnet-doctor check [--connect URI | --demo] [--vm NAME] [--json]\n  vmnet-doctor fix [--connect URI | --demo] [--vm NAME] [--dry-run] [--alternative] [--json] (FINDING-ID… | --all)\n  vmnet-doctor revert TRANSACTION-ID [--json]\n  vmnet-doctor verify [--connect URI | --demo] VM [--json] [--gateway IP] [--ping ADDRESS] [--dns NAME] [--http URL]\n  vmnet-doctor nat [--connect URI | --demo] VM [--json]\n  vmnet-doctor posture [--connect URI | --demo] [--json]\n\n{}\n  -c, --connect URI  {}\n      --demo         {}\n      --vm NAME      {}\n      --setup        {}\n      --json         {}\n      --dry-run      {}\n      --all          {}\n      --alternative  {}\n      --gateway IP   {}\n      --ping ADDRESS {}\n      --dns NAME     {}\n      --http URL     {}\n  -h, --help         {}\n  -V, --version      {}\n\n{}\n{}\n{}\n{}\n",
        gettext("VM Network Doctor — find and fix why a virtual machine has no network."),
        gettext("Usage:"),
        gettext("Options:"),
        gettext("open this libvirt connection (e.g. qemu:///system, qemu+ssh://host/system)"),
        gettext("open the built-in demo hypervisor"),
        gettext(
            "select this virtual machine (check, fix: only its findings; check also looks inside its guest)"
        ),
        gettext("open the setup wizard once connected (also in the main menu: Set Up Networking…)"),
        gettext(
            "check, fix, revert, verify, nat, posture: print JSON (see docs/check-json.md, docs/fix-json.md, docs/verify-json.md, docs/nat-json.md, docs/posture-json.md)"
        ),
        gettext("fix: show what would change, change nothing"),
        gettext("fix: every finding that has a fix"),
        gettext(
            "fix: the guide's other way where there is one (APT's ForceIPv4 instead of turning IPv6 off)"
        ),
        gettext("verify: ping this gateway instead of the guest's default gateway"),
        gettext("verify: ping this address instead of 8.8.8.8"),
        gettext("verify: resolve this name instead of google.com"),
        gettext("verify: fetch this URL instead of http://archive.ubuntu.com/"),
        gettext("show this help"),
        gettext("show the version"),
        gettext(
            "check exits with 0 when nothing is broken, 1 when it found errors, 2 when it could not check."
        ),
        gettext(
            "fix exits with 0 when every chosen finding is gone (or waits only for the VM's next boot), 1 when one remains or a fix failed, 2 on bad arguments or when it could not connect."
        ),
        gettext(
            "revert undoes one transaction of “vmnet-doctor fix”: the helper's on the host, or a fix made inside a guest."
        ),
        gettext(
            "verify runs the guide's checklist inside the guest through its agent and exits with 0 when every step passed, 1 when one failed, 2 when it could not verify, 3 when the guest agent cannot run it (the commands to type in the guest are printed instead)."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn no_arguments_open_the_gui_with_defaults() {
        assert_eq!(run(&[]), Ok(Command::Gui(GuiOptions::default())));
    }

    #[test]
    fn connect_takes_a_uri_in_both_spellings() {
        let want =
            Command::Gui(GuiOptions { connect: Some("test:///default".into()), ..GuiOptions::default() });
        assert_eq!(run(&["--connect", "test:///default"]), Ok(want));
        let want =
            Command::Gui(GuiOptions { connect: Some("qemu:///session".into()), ..GuiOptions::default() });
        assert_eq!(run(&["--connect=qemu:///session"]), Ok(want));
    }

    #[test]
    fn vm_selects_a_machine() {
        let want = Command::Gui(GuiOptions { demo: true, vm: Some("win11".into()), ..GuiOptions::default() });
        assert_eq!(run(&["--demo", "--vm", "win11"]), Ok(want.clone()));
        assert_eq!(run(&["--demo", "--vm=win11"]), Ok(want));
        assert!(run(&["--vm"]).is_err());
    }

    #[test]
    fn setup_opens_the_wizard() {
        let want = Command::Gui(GuiOptions { demo: true, setup: true, ..GuiOptions::default() });
        assert_eq!(run(&["--demo", "--setup"]), Ok(want));
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        assert!(run(&["--connect"]).is_err());
        assert!(run(&["--connect", " "]).is_err());
        assert!(run(&["--frobnicate"]).is_err());
        assert!(run(&["--demo", "--connect", "qemu:///system"]).is_err());
    }

    #[test]
    fn check_is_a_subcommand_with_its_own_options() {
        let want = Command::Check(CheckOptions {
            connect: Some("qemu:///system".into()),
            vm: Some("win11".into()),
            json: true,
            demo: false,
        });
        assert_eq!(run(&["check", "--connect", "qemu:///system", "--vm=win11", "--json"]), Ok(want));
        assert_eq!(run(&["check"]), Ok(Command::Check(CheckOptions::default())));
        assert!(run(&["check", "--frobnicate"]).is_err());
        assert!(run(&["check", "--demo", "--connect", "x"]).is_err());
    }

    #[test]
    fn fix_takes_finding_ids_or_all() {
        let want = Command::Fix(FixOptions {
            demo: true,
            dry_run: true,
            vm: Some("kali-linux".into()),
            ids: vec!["network-inactive".into(), "nic-link-down".into()],
            ..FixOptions::default()
        });
        let args = ["fix", "--demo", "--dry-run", "--vm=kali-linux", "network-inactive", "nic-link-down"];
        assert_eq!(run(&args), Ok(want));
        let all = run(&["fix", "--all", "--json", "--alternative", "-c", "qemu:///system"]);
        assert!(
            matches!(all, Ok(Command::Fix(FixOptions { all: true, json: true, alternative: true, .. }))),
            "{all:?}"
        );
        // The same id twice is fixed once.
        let twice = run(&["fix", "ipv4-forwarding-off", "ipv4-forwarding-off"]);
        assert!(matches!(twice, Ok(Command::Fix(FixOptions { ref ids, .. })) if ids.len() == 1), "{twice:?}");
    }

    #[test]
    fn fix_refuses_unknown_ids_and_missing_choices() {
        assert!(run(&["fix"]).is_err());
        assert!(run(&["fix", "--all", "network-inactive"]).is_err());
        assert!(run(&["fix", "no-such-finding"]).is_err_and(|message| message.contains("no-such-finding")));
        assert!(run(&["fix", "--frobnicate", "network-inactive"]).is_err());
        assert!(run(&["fix", "--demo", "--connect", "x", "--all"]).is_err());
    }

    #[test]
    fn revert_takes_one_transaction() {
        let want =
            Command::Revert(RevertOptions { transaction: "1700000000-ufw-allow-bridge".into(), json: true });
        assert_eq!(run(&["revert", "--json", "1700000000-ufw-allow-bridge"]), Ok(want));
        assert!(run(&["revert"]).is_err());
        assert!(run(&["revert", "a", "b"]).is_err());
    }

    #[test]
    fn verify_takes_a_vm_and_its_targets() {
        let want = Command::Verify(VerifyOptions {
            connect: Some("qemu:///system".into()),
            vm: "debian13".into(),
            json: true,
            gateway: Some(IpAddr::from([192, 168, 122, 1])),
            ping: Some("203.0.113.80".into()),
            dns: Some("www.lab.example".into()),
            http: Some("http://www.lab.example/".into()),
            demo: false,
        });
        let args = [
            "verify",
            "-c",
            "qemu:///system",
            "debian13",
            "--json",
            "--gateway=192.168.122.1",
            "--ping",
            "203.0.113.80",
            "--dns",
            "www.lab.example",
            "--http",
            "http://www.lab.example/",
        ];
        assert_eq!(run(&args), Ok(want));
    }

    #[test]
    fn verify_refuses_targets_a_guest_program_would_read_as_options() {
        assert!(run(&["verify"]).is_err());
        assert!(run(&["verify", "a", "b"]).is_err());
        assert!(run(&["verify", "vm", "--ping", "-f"]).is_err());
        assert!(run(&["verify", "vm", "--dns", "a b"]).is_err());
        assert!(run(&["verify", "vm", "--http", "file:///etc/shadow"]).is_err());
        assert!(run(&["verify", "vm", "--gateway", "router"]).is_err());
    }

    #[test]
    fn shared_options_are_spelled_alike_and_only_where_they_apply() {
        for command in ["check", "fix", "verify", "nat", "posture"] {
            assert_eq!(run(&[command, "--demo", "--help"]), Ok(Command::Help), "{command}");
            assert!(run(&[command, "--connect="]).is_err(), "{command}");
        }
        assert!(run(&["--connect="]).is_err());
        assert!(run(&["--json"]).is_err());
        assert!(run(&["verify", "--vm", "a", "b"]).is_err());
        assert!(run(&["nat", "--vm=a"]).is_err());
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(run(&["--demo", "--help"]), Ok(Command::Help));
        assert_eq!(run(&["-V"]), Ok(Command::Version));
    }
}
