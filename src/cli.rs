//! The command line: `vmnet-doctor [--connect URI | --demo]`.

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
    /// The finding ids to fix (`network-inactive`, …).
    pub ids: Vec<String>,
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
        _ => {}
    }
    let mut options = GuiOptions::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--demo" => options.demo = true,
            "-c" | "--connect" => match args.next() {
                Some(uri) if !uri.trim().is_empty() => options.connect = Some(uri),
                _ => return Err(gettext("--connect needs a libvirt URI, e.g. qemu:///system")),
            },
            "--vm" => match args.next() {
                Some(name) if !name.trim().is_empty() => options.vm = Some(name),
                _ => return Err(gettext("--vm needs the name of a virtual machine")),
            },
            other => {
                if let Some(uri) = other.strip_prefix("--connect=") {
                    options.connect = Some(uri.to_owned());
                } else if let Some(name) = other.strip_prefix("--vm=") {
                    options.vm = Some(name.to_owned());
                } else {
                    return Err(fill(&gettext("unknown argument “{arg}”"), &[("arg", other)]));
                }
            }
        }
    }
    if options.demo && options.connect.is_some() {
        return Err(gettext("--demo and --connect cannot be used together"));
    }
    Ok(Command::Gui(options))
}

fn parse_check(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut options = CheckOptions::default();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value.to_owned())),
            _ => (arg.clone(), None),
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--demo" => options.demo = true,
            "--json" => options.json = true,
            "-c" | "--connect" => match inline.or_else(|| args.next()) {
                Some(uri) if !uri.trim().is_empty() => options.connect = Some(uri),
                _ => return Err(gettext("--connect needs a libvirt URI, e.g. qemu:///system")),
            },
            "--vm" => match inline.or_else(|| args.next()) {
                Some(vm) if !vm.trim().is_empty() => options.vm = Some(vm),
                _ => return Err(gettext("--vm needs the name of a virtual machine")),
            },
            _ => return Err(fill(&gettext("unknown argument “{arg}”"), &[("arg", &arg)])),
        }
    }
    if options.demo && options.connect.is_some() {
        return Err(gettext("--demo and --connect cannot be used together"));
    }
    Ok(Command::Check(options))
}

/// Splits `--name=value` into the name and its inline value.
fn split_inline(arg: &str) -> (String, Option<String>) {
    match arg.split_once('=') {
        Some((name, value)) if name.starts_with("--") => (name.to_owned(), Some(value.to_owned())),
        _ => (arg.to_owned(), None),
    }
}

fn parse_fix(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut options = FixOptions::default();
    while let Some(arg) = args.next() {
        let (name, inline) = split_inline(&arg);
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--demo" => options.demo = true,
            "--json" => options.json = true,
            "--dry-run" => options.dry_run = true,
            "--all" => options.all = true,
            "-c" | "--connect" => match inline.or_else(|| args.next()) {
                Some(uri) if !uri.trim().is_empty() => options.connect = Some(uri),
                _ => return Err(gettext("--connect needs a libvirt URI, e.g. qemu:///system")),
            },
            "--vm" => match inline.or_else(|| args.next()) {
                Some(vm) if !vm.trim().is_empty() => options.vm = Some(vm),
                _ => return Err(gettext("--vm needs the name of a virtual machine")),
            },
            _ if arg.starts_with('-') => {
                return Err(fill(&gettext("unknown argument “{arg}”"), &[("arg", &arg)]));
            }
            _ if !is_known_finding_id(&arg) => {
                return Err(fill(
                    &gettext(
                        "“{id}” is not a finding id; “vmnet-doctor check” shows each finding's id in brackets at its end",
                    ),
                    &[("id", &arg)],
                ));
            }
            _ => {
                if !options.ids.contains(&arg) {
                    options.ids.push(arg);
                }
            }
        }
    }
    if options.demo && options.connect.is_some() {
        return Err(gettext("--demo and --connect cannot be used together"));
    }
    if options.all != options.ids.is_empty() {
        return Err(gettext("fix needs the ids of the findings to fix, or --all"));
    }
    Ok(Command::Fix(options))
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
                return Err(fill(&gettext("unknown argument “{arg}”"), &[("arg", &arg)]));
            }
            _ => options.transaction = arg,
        }
    }
    if options.transaction.is_empty() {
        return Err(gettext("revert needs the id of a helper transaction, as “vmnet-doctor fix” printed it"));
    }
    Ok(Command::Revert(options))
}

pub fn help_text() -> String {
    format!(
        "{}\n\n{}\n  vmnet-doctor [--connect URI | --demo] [--vm NAME]\n  vmnet-doctor check [--connect URI | --demo] [--vm NAME] [--json]\n  vmnet-doctor fix [--connect URI | --demo] [--vm NAME] [--dry-run] [--json] (FINDING-ID… | --all)\n  vmnet-doctor revert TRANSACTION-ID [--json]\n\n{}\n  -c, --connect URI  {}\n      --demo         {}\n      --vm NAME      {}\n      --json         {}\n      --dry-run      {}\n      --all          {}\n  -h, --help         {}\n  -V, --version      {}\n\n{}\n{}\n{}\n",
        gettext("VM Network Doctor — find and fix why a virtual machine has no network."),
        gettext("Usage:"),
        gettext("Options:"),
        gettext("open this libvirt connection (e.g. qemu:///system, qemu+ssh://host/system)"),
        gettext("open the built-in demo hypervisor"),
        gettext("select this virtual machine (check, fix: only its findings)"),
        gettext("check, fix, revert: print JSON (see docs/check-json.md and docs/fix-json.md)"),
        gettext("fix: show what would change, change nothing"),
        gettext("fix: every finding that has a fix"),
        gettext("show this help"),
        gettext("show the version"),
        gettext(
            "check exits with 0 when nothing is broken, 1 when it found errors, 2 when it could not check."
        ),
        gettext(
            "fix exits with 0 when every chosen finding is gone (or waits only for the VM's next boot), 1 when one remains or a fix failed, 2 on bad arguments or when it could not connect."
        ),
        gettext("revert undoes what the helper did in one transaction of “vmnet-doctor fix”."),
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
        let all = run(&["fix", "--all", "--json", "-c", "qemu:///system"]);
        assert!(matches!(all, Ok(Command::Fix(FixOptions { all: true, json: true, .. }))), "{all:?}");
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
    fn help_and_version_win() {
        assert_eq!(run(&["--demo", "--help"]), Ok(Command::Help));
        assert_eq!(run(&["-V"]), Ok(Command::Version));
    }
}
