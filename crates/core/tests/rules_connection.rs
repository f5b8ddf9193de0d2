//! `connection_findings`: the findings for a connection that failed, one
//! per problem kind. libvirt's messages below are real ones (libvirt 11.3,
//! the errors `crates/libvirt` classifies).

use vmnet_doctor_core::rules::{ConnectionProblem, connection_findings};
use vmnet_doctor_core::{Severity, Subject};

#[test]
fn each_problem_has_its_id() {
    let cases = [
        (
            ConnectionProblem::DaemonNotRunning,
            "qemu:///system",
            "Failed to connect socket to '/var/run/libvirt/virtqemud-sock': No such file or directory",
            "libvirt-unreachable",
            "systemctl",
        ),
        (
            ConnectionProblem::DaemonNotRunning,
            "qemu:///session",
            "Failed to connect socket to '/run/user/1000/libvirt/virtqemud-sock': Connection refused",
            "libvirt-unreachable",
            "systemctl --user",
        ),
        (
            ConnectionProblem::PermissionDenied,
            "qemu:///system",
            "authentication unavailable: no polkit agent available to authenticate action 'org.libvirt.unix.manage'",
            "libvirt-permission-denied",
            "libvirt",
        ),
        (
            ConnectionProblem::UnknownUri,
            "qemu:///sytem",
            "no connection driver available for qemu:///sytem",
            "libvirt-unknown-uri",
            "driver",
        ),
        (
            ConnectionProblem::NoAnswer,
            "qemu+ssh://server/system",
            "no answer within 30 s",
            "libvirt-no-answer",
            "SSH",
        ),
        (
            ConnectionProblem::Other,
            "qemu+ssh://server/system",
            "End of file while reading data",
            "libvirt-error",
            "libvirt",
        ),
    ];
    for (problem, uri, detail, id, mentions) in cases {
        let findings = connection_findings(problem, uri, detail);
        assert_eq!(findings.len(), 1, "{problem:?}");
        let Some(finding) = findings.first() else { continue };
        assert_eq!(finding.id, id);
        assert!(vmnet_doctor_core::rules::CONNECTION_IDS.contains(&finding.id));
        assert_eq!(finding.severity, Severity::Error);
        assert_eq!(finding.subject, Subject::Connection);
        assert!(finding.title.contains(uri), "{}", finding.title);
        assert!(finding.explanation.contains(mentions), "{id}: {mentions:?} not in {}", finding.explanation);
        assert!(finding.evidence.iter().any(|e| e.what == "uri" && e.value == uri));
        assert!(finding.evidence.iter().any(|e| e.what == "libvirt" && e.value == detail));
        assert_eq!(finding.fix, None);
    }
}

#[test]
fn an_empty_detail_is_left_out() {
    let findings = connection_findings(ConnectionProblem::Other, "qemu:///system", "  ");
    assert!(findings.iter().all(|f| f.evidence.iter().all(|e| e.what != "libvirt")));
}
