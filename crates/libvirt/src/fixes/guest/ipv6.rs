//! The guide's "Recommended Fix: Disable IPv6 in the VM", and its revert.

use super::{FixPreview, file_steps, read, run_step};
use crate::agent::AgentChannel;
use crate::error::LibvirtError;

/// The guide's file, verbatim.
pub const DISABLE_IPV6_PATH: &str = "/etc/sysctl.d/99-disable-ipv6.conf";
pub const DISABLE_IPV6_CONTENTS: &str =
    "net.ipv6.conf.all.disable_ipv6 = 1\nnet.ipv6.conf.default.disable_ipv6 = 1\n";
/// Applies just that file: `sysctl -p FILE` is understood by procps
/// (every distribution) and busybox alike, unlike `sysctl --system`.
pub const DISABLE_IPV6_APPLY: [&str; 3] = ["sysctl", "-p", DISABLE_IPV6_PATH];
/// Turns IPv6 back on now: `all` reaches every interface, `default` the
/// ones that appear later.
const ENABLE_IPV6_NOW: [&str; 4] =
    ["sysctl", "-w", "net.ipv6.conf.all.disable_ipv6=0", "net.ipv6.conf.default.disable_ipv6=0"];

fn disabled_now(guest: &dyn AgentChannel, vm: &str) -> Result<bool, LibvirtError> {
    Ok(read(guest, vm, "/proc/sys/net/ipv6/conf/all/disable_ipv6")?.is_some_and(|value| value.trim() == "1"))
}

pub(super) fn plan_disable(
    guest: &dyn AgentChannel,
    vm: &str,
    preview: &mut FixPreview,
) -> Result<(), LibvirtError> {
    let current = read(guest, vm, DISABLE_IPV6_PATH)?;
    file_steps(vm, DISABLE_IPV6_PATH, current, Some(DISABLE_IPV6_CONTENTS), preview);
    if !preview.steps.is_empty() || !disabled_now(guest, vm)? {
        preview.steps.push(run_step(vm, &DISABLE_IPV6_APPLY));
    }
    Ok(())
}

/// Puts the file back as it was before the fix (`previous`; `None`: it did
/// not exist), turns IPv6 on now and applies the old file again, if any.
pub(super) fn plan_revert(
    guest: &dyn AgentChannel,
    vm: &str,
    previous: Option<&str>,
    preview: &mut FixPreview,
) -> Result<(), LibvirtError> {
    let current = read(guest, vm, DISABLE_IPV6_PATH)?;
    file_steps(vm, DISABLE_IPV6_PATH, current, previous, preview);
    if !preview.steps.is_empty() || disabled_now(guest, vm)? {
        preview.steps.push(run_step(vm, &ENABLE_IPV6_NOW));
        if previous.is_some() {
            preview.steps.push(run_step(vm, &DISABLE_IPV6_APPLY));
        }
    }
    Ok(())
}
