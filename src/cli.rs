//! The command line: `vmnet-doctor [--connect URI | --demo]`.

use gettextrs::gettext;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Gui(GuiOptions),
    Check(CheckOptions),
    Help,
    Version,
}

/// Parses the arguments after the program name; the error is a translated
/// sentence naming the bad argument.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    if args.peek().map(String::as_str) == Some("check") {
        args.next();
        return parse_check(args);
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

pub fn help_text() -> String {
    format!(
        "{}\n\n{}\n  vmnet-doctor [--connect URI | --demo] [--vm NAME]\n  vmnet-doctor check [--connect URI | --demo] [--vm NAME] [--json]\n\n{}\n  -c, --connect URI  {}\n      --demo         {}\n      --vm NAME      {}\n      --json         {}\n  -h, --help         {}\n  -V, --version      {}\n\n{}\n",
        gettext("VM Network Doctor — find and fix why a virtual machine has no network."),
        gettext("Usage:"),
        gettext("Options:"),
        gettext("open this libvirt connection (e.g. qemu:///system, qemu+ssh://host/system)"),
        gettext("open the built-in demo hypervisor"),
        gettext("select this virtual machine (check: only its findings)"),
        gettext("check: print JSON (see docs/check-json.md)"),
        gettext("show this help"),
        gettext("show the version"),
        gettext(
            "check exits with 0 when nothing is broken, 1 when it found errors, 2 when it could not check."
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
    fn help_and_version_win() {
        assert_eq!(run(&["--demo", "--help"]), Ok(Command::Help));
        assert_eq!(run(&["-V"]), Ok(Command::Version));
    }
}
