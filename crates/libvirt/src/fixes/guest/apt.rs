//! The guide's "Alternative (APT-only)": APT told to use IPv4 only, and
//! its revert. Nothing to apply: APT reads the file at its next run.

use super::{FixPreview, ask, file_steps, read};
use crate::agent::AgentChannel;
use crate::error::LibvirtError;

/// The guide's file and line, verbatim
/// (`echo 'Acquire::ForceIPv4 "true";' | sudo tee /etc/apt/apt.conf.d/99force-ipv4`).
pub const FORCE_IPV4_PATH: &str = "/etc/apt/apt.conf.d/99force-ipv4";
pub const FORCE_IPV4_CONTENTS: &str = "Acquire::ForceIPv4 \"true\";\n";

pub(super) fn plan_force(
    guest: &dyn AgentChannel,
    vm: &str,
    preview: &mut FixPreview,
) -> Result<(), LibvirtError> {
    if !ask(guest, vm, &["test", "-d", "/etc/apt/apt.conf.d"])?.succeeded() {
        return Err(LibvirtError::Unsupported {
            detail: format!("{vm} has no APT: /etc/apt/apt.conf.d does not exist in the guest"),
        });
    }
    let current = read(guest, vm, FORCE_IPV4_PATH)?;
    file_steps(vm, FORCE_IPV4_PATH, current, Some(FORCE_IPV4_CONTENTS), preview);
    Ok(())
}

/// Puts the file back as it was before the fix (`None`: removes it).
pub(super) fn plan_revert(
    guest: &dyn AgentChannel,
    vm: &str,
    previous: Option<&str>,
    preview: &mut FixPreview,
) -> Result<(), LibvirtError> {
    let current = read(guest, vm, FORCE_IPV4_PATH)?;
    file_steps(vm, FORCE_IPV4_PATH, current, previous, preview);
    Ok(())
}
