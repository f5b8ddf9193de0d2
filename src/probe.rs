//! One full look at a connection: libvirt's snapshot, plus the host's
//! network stack when libvirt runs on this machine, or on one reached
//! over SSH (read there by its own vmnet-doctor).

use gettextrs::gettext;
use vmnet_doctor_core::{Fact, HostFacts, Snapshot};

use crate::connections;
use crate::helper_install;
use crate::i18n::fill;
use crate::libvirt_uri;
use crate::remote_host;

/// Whether `uri` names a libvirt on this machine (so our host facts are
/// its host facts).
pub fn is_local(uri: &str) -> bool {
    libvirt_uri::parse(uri)
        .is_some_and(|parts| parts.driver != "test" && matches!(parts.host, "" | "localhost"))
}

/// The server of a `+ssh` URI naming another machine: where its host's
/// facts are read and its host fixes made, over SSH.
pub fn ssh_server(uri: &str) -> Option<remote_host::SshDestination> {
    remote_host::ssh_destination(uri).filter(|_| !is_local(uri))
}

/// Reads the host facts into `snapshot` when they belong to it; otherwise
/// records why they are not known. Blocking: run off the UI thread.
pub fn attach_host_facts(snapshot: &mut Snapshot) {
    snapshot.host = if connections::is_demo(&snapshot.uri) {
        demo_host_facts(snapshot)
    } else {
        host_facts(&snapshot.uri, &network_names(snapshot))
    };
}

/// The demo's recorded host as it is while its running networks run.
fn demo_host_facts(snapshot: &Snapshot) -> Fact<Box<HostFacts>> {
    crate::demo_host::facts(snapshot.networks.iter().filter(|n| n.active).map(|n| n.name()))
}

/// Adds the host's network facts; reading them blocks, so on a blocking
/// thread.
pub async fn with_host_facts(mut snapshot: Snapshot) -> Snapshot {
    if connections::is_demo(&snapshot.uri) {
        snapshot.host = demo_host_facts(&snapshot);
        return snapshot;
    }
    let uri = snapshot.uri.clone();
    let names = network_names(&snapshot);
    snapshot.host = tokio::task::spawn_blocking(move || host_facts(&uri, &names))
        .await
        .unwrap_or_else(|error| Fact::Unknown(error.to_string()));
    snapshot
}

/// The names of `snapshot`'s libvirt networks, whose bridges and dnsmasq
/// the host facts describe.
pub fn network_names(snapshot: &Snapshot) -> Vec<String> {
    snapshot.networks.iter().map(|n| n.name().to_owned()).collect()
}

/// Whether reading the host facts of a connection to `uri` takes time (the
/// host's firewall as root, or a login over SSH), so that the VM list is
/// better shown before them. The demo's and an unreachable host's answer
/// is known at once.
pub fn host_facts_take_time(uri: &str) -> bool {
    is_local(uri) || (ssh_server(uri).is_some() && !helper_install::sandboxed())
}

/// A snapshot's host facts while they are being read: not known yet, and
/// said so wherever the host's part of the diagnosis is shown.
pub fn host_facts_pending() -> Fact<Box<HostFacts>> {
    Fact::Unknown(gettext("The host's network is still being read."))
}

/// The host facts for a connection to `uri` with these libvirt networks
/// (the demo's are its snapshot's: [`attach_host_facts`]).
pub fn host_facts(uri: &str, network_names: &[String]) -> Fact<Box<HostFacts>> {
    if uri.starts_with("test:") {
        Fact::Unknown(gettext("libvirt's test driver has no host network of its own."))
    } else if let Some(destination) = ssh_server(uri) {
        if helper_install::sandboxed() {
            // The Flatpak has no network of its own to reach the server by.
            return Fact::Unknown(fill(
                &gettext(
                    "libvirt runs on {host}; the Flatpak cannot reach it to read its host network. The distribution's vmnet-doctor package reads it over SSH, or run “vmnet-doctor check” there.",
                ),
                &[("host", &destination.host)],
            ));
        }
        match remote_host::read_facts(&destination, network_names) {
            Ok(facts) => Fact::Known(Box::new(facts)),
            Err(why) => Fact::Unknown(why),
        }
    } else if !is_local(uri) {
        Fact::Unknown(fill(
            &gettext(
                "libvirt runs on another machine ({uri}); run “vmnet-doctor check” there to check its host network.",
            ),
            &[("uri", uri)],
        ))
    } else if helper_install::sandboxed() {
        // The sandbox has its own network namespace, /sys and /run: what it
        // reads of them is not the host's and would give false findings.
        // The helper reads the host for it, as root, with the same reader.
        match vmnet_doctor_host::helper::inspect_host(network_names) {
            Ok(facts) => Fact::Known(Box::new(facts)),
            Err(why) => Fact::Unknown(fill(
                &gettext(
                    "Inside the Flatpak sandbox the host's network cannot be seen without the helper ({why}). {advice}",
                ),
                &[("why", &why), ("advice", &helper_install::advice())],
            )),
        }
    } else {
        Fact::Known(Box::new(vmnet_doctor_host::read_host_facts(network_names)))
    }
}

#[cfg(test)]
mod tests {
    use super::is_local;

    #[test]
    fn local_means_libvirt_on_this_machine() {
        assert!(is_local("qemu:///system"));
        assert!(is_local("qemu:///session"));
        assert!(is_local("qemu+unix:///system?socket=/run/libvirt/libvirt-sock"));
        assert!(is_local("qemu+ssh://root@localhost/system"));
        assert!(!is_local("qemu+ssh://root@server.lan/system"));
        assert!(!is_local("qemu+tcp://10.0.0.5:16509/system"));
        assert!(!is_local("test:///default"));
        assert!(!is_local("not a uri"));
    }
}
