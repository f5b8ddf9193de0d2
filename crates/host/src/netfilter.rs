//! The netfilter rulesets, as root reads them: `nft -j list ruleset`,
//! `iptables-nft-save` and `iptables-legacy-save`.
//!
//! Dumping netfilter needs CAP_NET_ADMIN: without root they come from the
//! helper; when it cannot be asked the whole fact is "needs the helper or
//! root", with why.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use vmnet_doctor_core::host::{Fact, Netfilter};

use crate::command::{Tool, ToolError, Tools};

pub fn read_netfilter(proc: &Path, tools: &Tools) -> Fact<Netfilter> {
    if let Some(why) = tools.root_only_unavailable() {
        return Fact::Unknown(why);
    }
    let nft_json = match tools.output(Tool::NftRuleset) {
        Ok(json) => Some(json),
        // Without nft, nothing can show the nf_tables ruleset: if iptables
        // is the nft variant, its tables stay unseen.
        Err(ToolError::NotInstalled) => {
            return Fact::Unknown("nft is not installed: the nftables ruleset cannot be read".to_owned());
        }
        Err(error) => return Fact::Unknown(error.reason(Tool::NftRuleset)),
    };
    let iptables_nft_save = match read_iptables_nft_save(tools) {
        Ok(save) => save,
        Err(why) => return Fact::Unknown(why),
    };
    let iptables_legacy_save = match read_legacy(proc, tools) {
        Ok(save) => save,
        Err(why) => return Fact::Unknown(why),
    };
    Fact::Known(Netfilter { nft_json, iptables_nft_save, iptables_legacy_save })
}

/// `iptables-nft-save`: the tables iptables-nft wrote (UFW, Docker,
/// libvirt's iptables backend, firewalld's direct rules), with every match
/// parameter. `nft -j` prints these matches only as opaque `xt`
/// expressions (their name, not their arguments), so evaluating such a
/// ruleset needs this text too. `Ok(None)` when iptables-nft is not
/// installed or wrote no table.
pub fn read_iptables_nft_save(tools: &Tools) -> Result<Option<String>, String> {
    match tools.output(Tool::IptablesNftSave) {
        // No table written by iptables-nft: it prints nothing.
        Ok(save) if save.lines().all(|line| line.trim().is_empty() || line.starts_with('#')) => Ok(None),
        Ok(save) => Ok(Some(save)),
        Err(ToolError::NotInstalled) => Ok(None),
        Err(error) => Err(error.reason(Tool::IptablesNftSave)),
    }
}

/// `iptables-legacy-save`, only when legacy tables exist.
///
/// It is not run when `/proc/net/ip_tables_names` is missing or empty:
/// then no legacy table exists, and running it would make the kernel load
/// the ip_tables module as a side effect. The helper makes the same check
/// (as root: that file is not readable by other users).
fn read_legacy(proc: &Path, tools: &Tools) -> Result<Option<String>, String> {
    if let Tools::System { .. } = tools {
        let names = proc.join("net/ip_tables_names");
        match fs::read_to_string(&names) {
            Ok(text) if text.trim().is_empty() => return Ok(None),
            Ok(_) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(format!("cannot read {}: {error}", names.display())),
        }
    }
    match tools.output(Tool::IptablesLegacySave) {
        Ok(save) if save.lines().all(|line| line.trim().is_empty() || line.starts_with('#')) => Ok(None),
        Ok(save) => Ok(Some(save)),
        // Legacy tables exist but the tool does not: they cannot be read.
        Err(ToolError::NotInstalled) => match tools {
            Tools::System { .. } | Tools::Helper { .. } => {
                Err("legacy iptables tables exist but iptables-legacy-save is not installed".to_owned())
            }
            Tools::Recorded { .. } => Ok(None),
        },
        Err(error) => Err(error.reason(Tool::IptablesLegacySave)),
    }
}
