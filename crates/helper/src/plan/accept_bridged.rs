//! Planning the accept-bridged fix: with `br_netfilter` loaded (Docker
//! loads it), frames a host bridge forwards between its ports — VMs on the
//! bridge and its LAN side — traverse iptables' FORWARD chain as BRIDGE to
//! BRIDGE, where Docker's DROP policy discards them. One accept rule for
//! that bridge, where Docker documents it (`DOCKER-USER`), fixes it.

use vmnet_doctor_helper_api::{IfaceName, RULE_COMMENT};

use super::accept_forward::{
    chain_place, ipv4_iptables, missing_forward_rules, probe_iptables, select_ip6tables,
};
use super::{PlanError, Planned, with_steps};
use crate::changes::{Family, ForwardRule};
use crate::exec::Ran;
use crate::host::Host;

pub(super) fn plan_accept_bridged(host: &Host, bridge: &IfaceName, ran: &Ran) -> Result<Planned, PlanError> {
    let vms = host.check_vm_bridge(bridge).map_err(PlanError::HostCheck)?;
    if !host.bridge_nf_call(false).map_err(PlanError::Failed)? {
        return Err(PlanError::HostCheck(format!(
            "frames bridged by {bridge} do not pass through iptables here (net.bridge.bridge-nf-call-iptables \
             is not 1): there is nothing for this fix to accept"
        )));
    }
    let (backend, chain) = ipv4_iptables(host, ran)?;
    let only_out = [ForwardRule::Out];
    let mut changes = missing_forward_rules(backend, Family::Ipv4, chain, &only_out, bridge, bridge, ran)?;
    let mut summary = format!(
        "Accepts the frames host bridge {bridge} forwards between its ports (the VMs on it: {}; and its LAN \
         side), which br_netfilter passes through iptables, in {} ({}).",
        vms.join(", "),
        chain_place(chain),
        backend.program(Family::Ipv4)
    );
    if host.bridge_nf_call(true).map_err(PlanError::Failed)? {
        let probes = probe_iptables(host, Family::Ipv6, ran).map_err(PlanError::Failed)?;
        if let Some((backend, chain)) = select_ip6tables(&probes) {
            changes.extend(missing_forward_rules(
                backend,
                Family::Ipv6,
                chain,
                &only_out,
                bridge,
                bridge,
                ran,
            )?);
            summary.push_str(&format!(
                " IPv6 frames pass through ip6tables too, whose FORWARD policy drops: the same rule goes into {} \
                 ({}).",
                chain_place(chain),
                backend.program(Family::Ipv6)
            ));
        }
    }
    summary.push_str(&format!(
        " The rule carries the comment “{RULE_COMMENT}”; reverting deletes only it. It is not saved: it is gone \
         after a reboot (or a reload of the whole firewall). To keep it, add it to your firewall's saved \
         configuration, or apply the fix again after a reboot."
    ));
    with_steps(host, summary, changes)
}
