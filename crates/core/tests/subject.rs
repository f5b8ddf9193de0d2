//! Which findings belong on a VM's page (and in `check --vm`).

use vmnet_doctor_core::Subject;

#[test]
fn a_vm_sees_its_own_its_networks_and_the_hosts_findings() {
    let networks = ["default"];
    assert!(Subject::Host.concerns_vm("win11", &networks));
    assert!(Subject::Connection.concerns_vm("win11", &networks));
    assert!(Subject::Network { name: "default".into() }.concerns_vm("win11", &networks));
    assert!(!Subject::Network { name: "isolated".into() }.concerns_vm("win11", &networks));
    assert!(
        Subject::Nic { vm: "win11".into(), mac: "52:54:00:00:00:01".into() }.concerns_vm("win11", &networks)
    );
    assert!(Subject::Vm { name: "win11".into() }.concerns_vm("win11", &networks));
    assert!(!Subject::Vm { name: "rocky9".into() }.concerns_vm("win11", &networks));
}
