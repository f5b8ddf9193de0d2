//! The conntrack parser against real captures from the lab
//! (`tests/fixtures/conntrack/`, each file's `#` header says how it was
//! made: `tests/lab/exposure.sh --capture DIR` in the Debian 13 root).

use std::net::IpAddr;
use std::path::Path;

use vmnet_doctor_helper_api::parse_conntrack;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A capture without its `#` header (conntrack itself never prints `#`).
fn capture(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conntrack").join(name);
    let text = std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(text.lines().filter(|line| !line.starts_with('#')).map(|line| format!("{line}\n")).collect())
}

fn in_default_network(address: IpAddr) -> bool {
    matches!(address, IpAddr::V4(v4) if v4.octets()[..3] == [192, 168, 122])
}

#[test]
fn the_lab_guests_fetch_through_nat_is_read() -> TestResult {
    let parsed = parse_conntrack(&capture("lab-guest-fetch.txt")?);
    assert!(parsed.unparsed.is_empty(), "{:?}", parsed.unparsed);
    assert!(!parsed.entries.is_empty());
    // Every entry was asked for with --orig-src GUEST.
    let guest = parsed.entries[0].original.source.address;
    assert!(in_default_network(guest), "{guest}");
    assert!(parsed.entries.iter().all(|entry| entry.original.source.address == guest));

    // The HTTP fetch from the lab's internet host: masqueraded to the
    // uplink's address (203.0.113.2), the guide's step 3.
    let www: IpAddr = "203.0.113.80".parse()?;
    let fetches: Vec<_> = parsed
        .entries
        .iter()
        .filter(|entry| entry.protocol == "tcp" && entry.original.destination.address == www)
        .collect();
    assert!(!fetches.is_empty(), "{:?}", parsed.entries);
    for fetch in fetches {
        assert_eq!(fetch.original.destination.port, Some(80));
        assert_eq!(fetch.translated_source().address, "203.0.113.2".parse::<IpAddr>()?);
        assert!(fetch.translated_source().port.is_some());
        assert!(fetch.source_translated());
        assert!(!fetch.destination_translated());
        assert!(fetch.replied());
        assert!(fetch.flags.iter().any(|flag| flag == "ASSURED"), "{:?}", fetch.flags);
        assert!(fetch.state.is_some());
        assert!(fetch.summary().contains("seen outside as 203.0.113.2:"), "{}", fetch.summary());
    }

    // The ping: ICMP has no ports; its source address is translated too.
    let pings: Vec<_> = parsed.entries.iter().filter(|entry| entry.protocol == "icmp").collect();
    assert_eq!(pings.len(), 1, "{:?}", parsed.entries);
    let ping = pings[0];
    assert_eq!(ping.original.destination.address, www);
    assert_eq!((ping.original.source.port, ping.original.destination.port), (None, None));
    assert_eq!(ping.translated_source().to_string(), "203.0.113.2");
    assert!(ping.source_translated() && ping.state.is_none());

    // DNS to libvirt's dnsmasq on the bridge stays on the host: no NAT.
    let bridge: IpAddr = "192.168.122.1".parse()?;
    let lookups: Vec<_> = parsed
        .entries
        .iter()
        .filter(|entry| entry.protocol == "udp" && entry.original.destination.address == bridge)
        .collect();
    assert!(!lookups.is_empty());
    for lookup in lookups {
        assert_eq!(lookup.original.destination.port, Some(53));
        assert!(!lookup.source_translated(), "{lookup:?}");
        assert_eq!(lookup.translated_source(), lookup.original.source);
        assert!(lookup.state.is_none());
    }
    Ok(())
}

#[test]
fn a_capture_cut_anywhere_never_panics_and_never_invents_entries() -> TestResult {
    let text = capture("lab-guest-fetch.txt")?;
    let whole = parse_conntrack(&text).entries.len();
    for cut in (0..text.len()).filter(|at| text.is_char_boundary(*at)) {
        let parsed = parse_conntrack(&text[..cut]);
        assert!(parsed.entries.len() <= whole);
    }
    Ok(())
}
