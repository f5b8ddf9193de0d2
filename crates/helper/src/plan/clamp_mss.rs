//! Planning the MSS clamp: when the uplink's MTU is smaller than the
//! guests' and ICMP "fragmentation needed" is lost on the way, a guest's
//! TCP connections announce an MSS its path cannot carry, and large
//! transfers stall. Clamping the MSS of the SYNs forwarded from the bridge
//! to the uplink to the route's MTU (iptables' mangle table) avoids it.

use vmnet_doctor_helper_api::{IfaceName, RULE_COMMENT};

use super::accept_forward::ipv4_iptables;
use super::{PlanError, Planned, with_steps};
use crate::changes::{self, Change, Family, mss_clamp_argv};
use crate::exec::{self, Ran};
use crate::host::Host;

pub(super) fn plan_clamp_mss(
    host: &Host,
    bridge: &IfaceName,
    uplink: &IfaceName,
    ran: &Ran,
) -> Result<Planned, PlanError> {
    let network = host.check_bridge_and_uplink(bridge, uplink).map_err(PlanError::HostCheck)?;
    let (backend, _) = ipv4_iptables(host, ran)?;
    let program = changes::tool(backend.program(Family::Ipv4)).map_err(PlanError::HostCheck)?;
    let check = exec::run(&mss_clamp_argv(&program, "-C", bridge, uplink), ran);
    let changes = match check.status {
        0 => Vec::new(),
        1 => vec![Change::MssClamp { backend, bridge: bridge.clone(), uplink: uplink.clone() }],
        _ => {
            return Err(PlanError::Failed(format!(
                "cannot check the mangle table of {}: {}",
                backend.program(Family::Ipv4),
                check.message()
            )));
        }
    };
    let summary = format!(
        "Clamps the MSS of the TCP connections the VMs of libvirt's network “{}” open from {bridge} out through \
         {uplink} to the MTU of that route, in the FORWARD chain of iptables' mangle table ({}), so that no \
         peer sends them packets larger than {uplink} carries. The rule carries the comment “{RULE_COMMENT}”; \
         reverting deletes only it. It is not saved: it is gone after a reboot (or a reload of the whole \
         firewall); to keep it, add it to your firewall's saved configuration, or apply the fix again.",
        network.name,
        backend.program(Family::Ipv4)
    );
    with_steps(host, summary, changes)
}
