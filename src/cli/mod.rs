//! The command line: `vmnet-doctor --help` lists its commands, [`parse`]
//! reads which one was asked for, and each command lives in a module of
//! its own here (`check`, `fix`, `revert`, `verify`, `nat`, `posture`,
//! `facts`, `remote-helper`),
//! apart from the GUI (`crate::ui`), which never uses this module.

mod args;
pub mod check;
pub mod facts;
pub mod fix;
pub mod nat;
mod polkit_agent;
pub mod posture;
pub mod remote_helper;
pub mod revert;
pub mod verify;

use gettextrs::gettext;

pub use self::args::Command;
use self::args::{
    Parsed, Takes, parse_check, parse_fix, parse_options, parse_revert, parse_verify, unknown_argument,
};
use crate::gui_options::GuiOptions;

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
            return parse_check(args).and_then(|command| match command {
                Command::Check(options) => options.for_posture().map(Command::Posture),
                other => Ok(other),
            });
        }
        Some("verify") => {
            args.next();
            return parse_verify(args);
        }
        Some("facts") => {
            args.next();
            return facts::parse(args);
        }
        Some("remote-helper") => {
            args.next();
            return remote_helper::parse(args);
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
    // The window shows every connection given, the demo's beside them.
    Ok(Command::Gui(GuiOptions { connect: shared.connect, demo: shared.demo, vm: shared.vm, setup }))
}

pub fn help_text() -> String {
    format!(
        "{}\n\n{}\n  vmnet-doctor [--connect URI…] [--demo] [--vm NAME] [--setup]\n  vmnet-doctor check [--connect URI… | --demo] [--vm NAME] [--json | --format FORMAT] [--timeout SECONDS] [--output FILE]\n  vmnet-doctor fix [--connect URI | --demo] [--vm NAME] [--dry-run] [--alternative] [--json] (FINDING-ID… | --all)\n  vmnet-doctor revert [--connect URI] TRANSACTION-ID [--json]\n  vmnet-doctor verify [--connect URI | --demo] VM [--json] [--gateway IP] [--ping ADDRESS] [--dns NAME] [--http URL]\n  vmnet-doctor nat [--connect URI | --demo] VM [--json]\n  vmnet-doctor posture [--connect URI | --demo] [--json]\n  vmnet-doctor facts [NETWORK…]\n\n{}\n  -c, --connect URI  {}\n      --demo         {}\n      --vm NAME      {}\n      --setup        {}\n      --json         {}\n      --format FORMAT {}\n      --timeout SECONDS {}\n  -o, --output FILE  {}\n      --dry-run      {}\n      --all          {}\n      --alternative  {}\n      --gateway IP   {}\n      --ping ADDRESS {}\n      --dns NAME     {}\n      --http URL     {}\n  -h, --help         {}\n  -V, --version      {}\n\n{}\n{}\n{}\n{}\n{}\n",
        gettext("VM Network Doctor — find and fix why a virtual machine has no network."),
        gettext("Usage:"),
        gettext("Options:"),
        gettext(
            "open this libvirt connection (e.g. qemu:///system, qemu+ssh://host/system); check takes several and checks them at once"
        ),
        gettext("open the built-in demo hypervisor"),
        gettext(
            "select this virtual machine (check, fix: only its findings; check also looks inside its guest)"
        ),
        gettext("open the setup wizard once connected (also in the main menu: Set Up Networking…)"),
        gettext(
            "check, fix, revert, verify, nat, posture: print JSON (see docs/check-json.md, docs/fix-json.md, docs/verify-json.md, docs/nat-json.md, docs/posture-json.md)"
        ),
        gettext(
            "check: text, json or prometheus (metrics for node_exporter's textfile collector; see docs/fleet.md)"
        ),
        gettext("check: give each connection this long, then report it as not answering"),
        gettext("check: write the report to this file, replacing it in one step"),
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
            "check exits with 0 when nothing is broken, 1 when it found errors, 2 when it could not check; with several connections, the worst of these."
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
        gettext(
            "facts prints this machine's host network as JSON, for a desktop that checks it over SSH (see docs/fleet.md)."
        ),
    )
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::path::PathBuf;
    use std::time::Duration;

    use super::args::{CheckOptions, FixOptions, ReportFormat, RevertOptions, VerifyOptions};
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
            Command::Gui(GuiOptions { connect: vec!["test:///default".into()], ..GuiOptions::default() });
        assert_eq!(run(&["--connect", "test:///default"]), Ok(want));
        let want =
            Command::Gui(GuiOptions { connect: vec!["qemu:///session".into()], ..GuiOptions::default() });
        assert_eq!(run(&["--connect=qemu:///session"]), Ok(want));
    }

    #[test]
    fn the_window_opens_every_connection_given() {
        let want = Command::Gui(GuiOptions {
            connect: vec!["qemu:///system".into(), "qemu+ssh://root@server/system".into()],
            demo: true,
            ..GuiOptions::default()
        });
        assert_eq!(
            run(&["-c", "qemu:///system", "--demo", "--connect", "qemu+ssh://root@server/system"]),
            Ok(want)
        );
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
    }

    #[test]
    fn check_is_a_subcommand_with_its_own_options() {
        let want = Command::Check(CheckOptions {
            connect: vec!["qemu:///system".into()],
            vm: Some("win11".into()),
            format: ReportFormat::Json,
            ..CheckOptions::default()
        });
        assert_eq!(run(&["check", "--connect", "qemu:///system", "--vm=win11", "--json"]), Ok(want));
        assert_eq!(run(&["check"]), Ok(Command::Check(CheckOptions::default())));
        assert!(run(&["check", "--frobnicate"]).is_err());
        assert!(run(&["check", "--demo", "--connect", "x"]).is_err());
    }

    #[test]
    fn check_takes_a_fleet_and_writes_metrics_to_a_file() {
        let want = Command::Check(CheckOptions {
            connect: vec!["qemu+ssh://kvm1/system".into(), "qemu+ssh://kvm2/system".into()],
            format: ReportFormat::Prometheus,
            timeout: Some(Duration::from_secs(90)),
            output: Some(PathBuf::from("/var/lib/node_exporter/vmnet-doctor.prom")),
            ..CheckOptions::default()
        });
        let args = [
            "check",
            "-c",
            "qemu+ssh://kvm1/system",
            "--connect=qemu+ssh://kvm2/system",
            "--format=prometheus",
            "--timeout",
            "90",
            "-o",
            "/var/lib/node_exporter/vmnet-doctor.prom",
        ];
        assert_eq!(run(&args), Ok(want));
        assert!(run(&["check", "--format", "xml"]).is_err());
        assert!(run(&["check", "--json", "--format=prometheus"]).is_err());
        assert!(matches!(
            run(&["check", "--json", "--format=json"]),
            Ok(Command::Check(CheckOptions { format: ReportFormat::Json, .. }))
        ));
        for timeout in ["0", "-1", "soon", "NaN", "inf", "100000"] {
            assert!(run(&["check", "--timeout", timeout]).is_err(), "{timeout}");
        }
        assert!(run(&["check", "-c", "a", "-c", "b", "--vm", "web"]).is_err());
        // The others but the window work on one connection and say so.
        for command in [&["posture"][..], &["fix", "--all"], &["verify", "vm"], &["nat", "vm"]] {
            let twice = [command, &["-c", "qemu:///system", "-c", "qemu:///session"]].concat();
            assert!(run(&twice).is_err(), "{twice:?}");
        }
        assert!(run(&["posture", "--format=prometheus"]).is_err());
        assert!(run(&["posture", "--output", "x"]).is_err());
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
        let want = Command::Revert(RevertOptions {
            transaction: "1700000000-ufw-allow-bridge".into(),
            json: true,
            connect: None,
        });
        assert_eq!(run(&["revert", "--json", "1700000000-ufw-allow-bridge"]), Ok(want));
        let on_server = run(&["revert", "-c", "qemu+ssh://root@kvm1/system", "1700000000-ufw-allow-bridge"]);
        assert!(
            matches!(on_server, Ok(Command::Revert(RevertOptions { ref connect, .. })) if connect.as_deref() == Some("qemu+ssh://root@kvm1/system")),
            "{on_server:?}"
        );
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
    fn facts_takes_network_names() {
        let want = Command::Facts(args::FactsOptions { networks: vec!["default".into(), "-odd".into()] });
        assert_eq!(run(&["facts", "default", "--", "-odd"]), Ok(want));
        assert_eq!(run(&["facts"]), Ok(Command::Facts(args::FactsOptions::default())));
        assert!(run(&["facts", "--json"]).is_err());
        assert!(run(&["facts", " "]).is_err());
    }

    #[test]
    fn help_and_version_win() {
        assert_eq!(run(&["--demo", "--help"]), Ok(Command::Help));
        assert_eq!(run(&["-V"]), Ok(Command::Version));
    }
}
