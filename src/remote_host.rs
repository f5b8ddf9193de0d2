//! The host of a hypervisor reached over SSH (`qemu+ssh://`): its network
//! facts are read there, by its own `vmnet-doctor facts` (as root or
//! through its helper, as a local check would), over the SSH destination
//! libvirt itself uses: the same user, host, port, key and known hosts,
//! the user's SSH agent, never a password prompt. The host's rules then
//! run here on what it saw, as for a local connection.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use gettextrs::gettext;
use serde_json::Value;
use vmnet_doctor_core::HostFacts;
use vmnet_doctor_host::exec;

use crate::i18n::fill;
use crate::libvirt_uri::{self, unescape};

/// How long the whole reading may take: the SSH login, then the remote
/// tools (the firewall rulesets of a busy Docker host included).
const TIMEOUT: Duration = Duration::from_secs(60);

/// Where libvirt's SSH transport logs in, from the URI's authority and its
/// `keyfile`, `no_verify` and (libssh transports) `known_hosts`
/// parameters (<https://libvirt.org/uri.html#ssh-transport>).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshDestination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub keyfile: Option<String>,
    pub known_hosts: Option<String>,
    pub no_verify: bool,
}

/// The SSH destination of a `DRIVER+ssh://` (or `+libssh`, `+libssh2`) URI.
pub fn ssh_destination(uri: &str) -> Option<SshDestination> {
    let parts = libvirt_uri::parse(uri)?;
    let transport = parts.transport?;
    if !matches!(transport, "ssh" | "libssh" | "libssh2") || parts.host.is_empty() {
        return None;
    }
    let port = match parts.port {
        Some(port) => Some(port.parse().ok()?),
        None => None,
    };
    let mut destination = SshDestination {
        user: parts.user.map(unescape).filter(|user| !user.is_empty()),
        host: parts.host.to_owned(),
        port,
        keyfile: None,
        known_hosts: None,
        no_verify: false,
    };
    for pair in parts.query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "keyfile" => destination.keyfile = Some(unescape(value)),
            // libvirt reads it for its libssh transports only; its ssh
            // transport, like ssh itself, uses ~/.ssh/known_hosts.
            "known_hosts" if transport != "ssh" => destination.known_hosts = Some(unescape(value)),
            "no_verify" => destination.no_verify = value != "0",
            _ => {}
        }
    }
    Some(destination)
}

/// Where the app keeps its SSH connections to servers open between reads.
static SHARED_LOGINS: OnceLock<PathBuf> = OnceLock::new();

/// How long a shared connection stays open after its last use, in seconds:
/// beyond the next refresh, not for the rest of the day.
const SHARED_LOGIN_LINGER: u32 = 60;

/// From now on, every login to the same server shares one SSH connection
/// (OpenSSH's ControlMaster), kept open for a minute after its last use:
/// the app reads a server's facts on every refresh, and a login each time
/// costs the round trips of a handshake (and a line in the server's log).
/// The sockets live in `$XDG_RUNTIME_DIR/vmnet-doctor/ssh`, private to the
/// user; without a runtime directory every read logs in on its own, as a
/// one-shot command does.
pub fn share_logins() {
    let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR").filter(|dir| !dir.is_empty()) else { return };
    let dir = PathBuf::from(runtime).join("vmnet-doctor").join("ssh");
    if private_directory(&dir).is_ok() {
        let _ = SHARED_LOGINS.set(dir);
    }
}

/// Creates `dir` (and its parents) readable by the user alone.
fn private_directory(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

impl SshDestination {
    /// `ssh` logging in without a terminal or a prompt (a key, from the
    /// agent or `keyfile`, or nothing), running `remote_command` there;
    /// through the shared connection once [`share_logins`] was called.
    pub fn argv(&self, ssh: &Path, remote_command: &str) -> Vec<String> {
        self.argv_sharing(ssh, remote_command, SHARED_LOGINS.get().map(PathBuf::as_path))
    }

    fn argv_sharing(&self, ssh: &Path, remote_command: &str, shared: Option<&Path>) -> Vec<String> {
        let mut argv = vec![ssh.display().to_string()];
        let mut option = |name: &str, value: String| argv.extend([name.to_owned(), value]);
        option("-o", "BatchMode=yes".to_owned());
        option("-o", "ConnectTimeout=15".to_owned());
        option("-e", "none".to_owned());
        if let Some(port) = self.port {
            option("-p", port.to_string());
        }
        if let Some(user) = &self.user {
            option("-l", user.clone());
        }
        if let Some(keyfile) = &self.keyfile {
            option("-i", keyfile.clone());
        }
        if let Some(known_hosts) = &self.known_hosts {
            option("-o", format!("UserKnownHostsFile={known_hosts}"));
        }
        if self.no_verify {
            option("-o", "StrictHostKeyChecking=no".to_owned());
        }
        if let Some(dir) = shared {
            // %C: a hash of this host, port and user, so each server has its own.
            option("-o", "ControlMaster=auto".to_owned());
            option("-o", format!("ControlPath={}/%C", dir.display()));
            option("-o", format!("ControlPersist={SHARED_LOGIN_LINGER}"));
        }
        argv.extend(["-T".to_owned(), "--".to_owned(), self.host.clone(), remote_command.to_owned()]);
        argv
    }
}

/// The remote shell's command: `vmnet-doctor facts -- 'NET'…`.
pub fn facts_command(network_names: &[String]) -> String {
    let mut words = vec!["vmnet-doctor".to_owned(), "facts".to_owned(), "--".to_owned()];
    words.extend(network_names.iter().cloned());
    shell_words(&words)
}

/// `words` as one line for the remote shell, each word single-quoted
/// unless it is plain.
pub fn shell_words(words: &[String]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|word| {
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '=' | ':'));
            if plain { word.clone() } else { format!("'{}'", word.replace('\'', r"'\''")) }
        })
        .collect();
    quoted.join(" ")
}

/// What `ssh` needs of this session: the user's agent and home (keys,
/// known hosts, ~/.ssh/config), as libvirt's own ssh has them.
pub fn ssh_environment() -> Vec<(&'static str, String)> {
    ["SSH_AUTH_SOCK", "HOME", "USER", "LOGNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok().map(|value| (name, value)))
        .collect()
}

/// The host facts of the machine at `destination`, read by its own
/// vmnet-doctor; the error says what went wrong and what to do, in words
/// for the user.
pub fn read_facts(destination: &SshDestination, network_names: &[String]) -> Result<HostFacts, String> {
    let host = destination.host.as_str();
    let Some(ssh) = exec::find_program("ssh") else {
        return Err(gettext("ssh is not installed here, so the host of this connection cannot be read."));
    };
    let argv = destination.argv(&ssh, &facts_command(network_names));
    let output = exec::run_with_timeout_env(&argv, &ssh_environment(), TIMEOUT);
    match output.status {
        0 => parse_facts(&output.stdout).map_err(|error| {
            fill(
                &gettext("{host} did not answer with its host facts ({error}); update vmnet-doctor there."),
                &[("host", host), ("error", &error)],
            )
        }),
        // The remote shell's "command not found".
        127 => Err(fill(
            &gettext(
                "vmnet-doctor is not installed on {host}, so its firewall, forwarding and bridges cannot be read from here. Install the vmnet-doctor package there (with vmnet-doctor-helper, which reads the firewall for users other than root).",
            ),
            &[("host", host)],
        )),
        // ssh's own failure: the login, the host key, the network.
        255 | -1 => Err(fill(
            &gettext("Could not log in to {host} over SSH without a password prompt: {message}"),
            &[("host", host), ("message", &output.message())],
        )),
        _ if output.message().contains("facts") => Err(fill(
            &gettext(
                "The vmnet-doctor on {host} is older than this one and cannot report its host network; update it there.",
            ),
            &[("host", host)],
        )),
        _ => Err(fill(
            &gettext("vmnet-doctor on {host} could not read its host network: {message}"),
            &[("host", host), ("message", &output.message())],
        )),
    }
}

/// The document of `vmnet-doctor facts`, checked to be one.
pub fn parse_facts(text: &str) -> Result<HostFacts, String> {
    facts_of_document(serde_json::from_str(text).map_err(|error| error.to_string())?)
}

/// The facts of a parsed `vmnet-doctor facts` document, checked to be one.
pub fn facts_of_document(mut document: Value) -> Result<HostFacts, String> {
    match document["schema"].as_str() {
        Some(crate::remote_protocol::FACTS_SCHEMA) => {}
        other => return Err(format!("schema {}", other.unwrap_or("missing"))),
    }
    serde_json::from_value(document["facts"].take()).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{SshDestination, facts_command, ssh_destination};

    #[test]
    fn the_destination_is_libvirts_own() {
        assert_eq!(
            ssh_destination(
                "qemu+ssh://admin@kvm1.example.com:2222/system?keyfile=/home/ann/.ssh/id_kvm&no_tty=1"
            ),
            Some(SshDestination {
                user: Some("admin".into()),
                host: "kvm1.example.com".into(),
                port: Some(2222),
                keyfile: Some("/home/ann/.ssh/id_kvm".into()),
                known_hosts: None,
                no_verify: false,
            })
        );
        let v6 = ssh_destination("qemu+libssh2://[2001:db8::7]/system?known_hosts=/tmp/k%20h&no_verify=1");
        assert_eq!(
            v6.as_ref().map(|d| (d.host.as_str(), d.port, d.known_hosts.as_deref(), d.no_verify)),
            Some(("2001:db8::7", None, Some("/tmp/k h"), true))
        );
        assert_eq!(
            ssh_destination("qemu+ssh://kvm2/system").map(|d| (d.user, d.host)),
            Some((None, "kvm2".into()))
        );
        for not_ssh in
            ["qemu:///system", "qemu+tcp://kvm1/system", "test:///default", "qemu+ssh:///system", "x"]
        {
            assert_eq!(ssh_destination(not_ssh), None, "{not_ssh}");
        }
        assert_eq!(ssh_destination("qemu+ssh://kvm1:port/system"), None, "a port that is no number");
    }

    #[test]
    fn ssh_never_prompts_and_the_remote_command_quotes_each_name() {
        let destination = SshDestination {
            user: Some("admin".into()),
            host: "kvm1".into(),
            port: Some(2222),
            keyfile: Some("/k".into()),
            known_hosts: Some("/kh".into()),
            no_verify: true,
        };
        let argv = destination.argv(Path::new("/usr/bin/ssh"), "vmnet-doctor facts --");
        let joined = argv.join(" ");
        assert!(joined.starts_with("/usr/bin/ssh -o BatchMode=yes "), "{joined}");
        for part in
            ["-p 2222", "-l admin", "-i /k", "-o UserKnownHostsFile=/kh", "-o StrictHostKeyChecking=no"]
        {
            assert!(joined.contains(part), "{part} in {joined}");
        }
        assert_eq!(argv[argv.len() - 3..], ["--", "kvm1", "vmnet-doctor facts --"]);
        assert!(!joined.contains("Control"), "a login of its own unless shared: {joined}");
        let shared = destination.argv_sharing(Path::new("/usr/bin/ssh"), "true", Some(Path::new("/run/u/s")));
        let shared = shared.join(" ");
        for part in ["-o ControlMaster=auto", "-o ControlPath=/run/u/s/%C", "-o ControlPersist=60"] {
            assert!(shared.contains(part), "{part} in {shared}");
        }
        assert!(shared.ends_with("-T -- kvm1 true"), "{shared}");
        assert_eq!(
            facts_command(&["default".into(), "it's mine".into()]),
            r"vmnet-doctor facts -- default 'it'\''s mine'"
        );
    }
}
