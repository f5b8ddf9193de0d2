//! Every finding id is documented in docs/check-json.md, the contract of
//! `vmnet-doctor check --json`.

use vmnet_doctor_core::rules::{CONNECTION_IDS, FIREWALL_RULE_IDS, LIBVIRT_RULE_IDS};

#[test]
fn every_id_is_documented() -> Result<(), Box<dyn std::error::Error>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/check-json.md"))?;
    let missing: Vec<&str> = CONNECTION_IDS
        .iter()
        .chain(LIBVIRT_RULE_IDS)
        .chain(FIREWALL_RULE_IDS)
        .filter(|id| !doc.contains(&format!("| `{id}` |")))
        .copied()
        .collect();
    assert!(missing.is_empty(), "not in docs/check-json.md: {missing:?}");
    Ok(())
}
