//! Planning the UFW fix: the guide's rules for a bridge that UFW does not
//! have yet, or why there is nothing to do while UFW is not enabled.

use vmnet_doctor_helper_api::{IfaceName, RULE_COMMENT};

use super::{PlanError, Planned, with_steps};
use crate::changes::{self, Change, UfwRuleKind, UfwState};
use crate::exec::Ran;
use crate::host::{self, Host};

pub(super) fn plan_ufw(
    host: &Host,
    bridge: &IfaceName,
    uplink: &IfaceName,
    ran: &Ran,
) -> Result<Planned, PlanError> {
    let network = host.check_bridge_and_uplink(bridge, uplink).map_err(PlanError::HostCheck)?.name;
    let ufw = changes::tool("ufw").map_err(|_| PlanError::HostCheck("UFW is not installed".to_owned()))?;
    let state = UfwState::read(&ufw, ran).map_err(PlanError::Failed)?;
    if !state.active {
        // `ufw status` says inactive when UFW's chains are not loaded. With
        // ENABLED=no in ufw.conf it filters nothing now or after a reboot,
        // and rules added now would only surprise whoever enables it later.
        // With ENABLED=yes it failed to start (or was flushed): adding rules
        // then would touch chains that are not there.
        let conf = host.etc.join("ufw/ufw.conf");
        let text = host::read_optional(&conf, changes::FILE_LIMIT).map_err(PlanError::Failed)?;
        let enabled = text
            .as_deref()
            .and_then(|text| vmnet_doctor_host::ufw::shell_var(text, "ENABLED"))
            .is_some_and(|value| value.eq_ignore_ascii_case("yes"));
        if enabled {
            return Err(PlanError::HostCheck(format!(
                "UFW is enabled in {} but its rules are not loaded (`ufw status`: inactive): start it \
                 (`ufw enable`, or check why it failed at boot), then plan this fix again",
                conf.display()
            )));
        }
        return Ok(Planned {
            summary: format!(
                "Nothing to do: UFW is installed but not enabled, so it blocks none of the traffic of \
                 libvirt's network “{network}” on {bridge}, now or after a reboot. If you enable UFW later, \
                 plan this fix again: it then adds the rules {bridge} needs."
            ),
            changes: Vec::new(),
        });
    }
    let mut changes: Vec<Change> = UfwRuleKind::ALL
        .into_iter()
        // A rule that exists already, with any comment, is left alone: adding
        // it again would make UFW replace its comment with ours.
        .filter(|rule| state.find(&changes::ufw_spec(*rule, bridge, uplink)).is_none())
        .map(|rule| Change::UfwRule { rule, bridge: bridge.clone(), uplink: uplink.clone() })
        .collect();
    if !changes.is_empty() {
        changes.push(Change::UfwReload);
    }
    let summary = format!(
        "Adds the UFW rules libvirt's network “{network}” needs: traffic between its VMs and the host on \
         {bridge} (DHCP, DNS), and their traffic routed from {bridge} out through {uplink}. Each rule \
         carries the comment “{RULE_COMMENT}”; reverting deletes only those rules."
    );
    with_steps(host, summary, changes)
}
