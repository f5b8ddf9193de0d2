//! What the parsers do with XML that is broken, unusual or from a newer
//! libvirt: clear errors for the broken, and everything else is read.
//!
//! The documents here are hand-written (from libvirt's format docs), because
//! the test driver cannot produce them; the captured fixtures are in
//! domain_fixtures.rs and network_fixtures.rs.

mod common;

use common::{TestResult, fixture, fixture_names};
use vmnet_doctor_core::{
    ForwardMode, GuestAgentChannel, InterfaceSource, InterfaceType, LinkState, XmlError, parse_domain_xml,
    parse_network_xml,
};

#[test]
fn malformed_xml_is_a_clear_error() {
    let cases = [
        "",
        "not xml at all",
        "<domain><name>x</name>",
        "<domain><name>x</domain>",
        "<domain><name>x</name></domain><domain/>",
        "<domain type='kvm><name>x</name></domain>",
        "<domain type=kvm><name>x</name></domain>",
        "<domain><name>a &unknown; b</name></domain>",
        "<domain><name>x</name><devices><interface type='network'></devices></domain>",
        "<domain><name>x</name></domain>trailing",
        "<domain><name>x</name><!-- never ends",
    ];
    for xml in cases {
        for result in [parse_domain_xml(xml).map(|_| ()), parse_network_xml(xml).map(|_| ())] {
            let Err(error) = result else {
                panic!("{xml:?} must not parse");
            };
            assert!(matches!(error, XmlError::Malformed { .. }), "{xml:?}: {error:?}");
            let message = error.to_string();
            assert!(message.starts_with("malformed XML at line 1, column "), "{xml:?}: {message}");
        }
    }
}

#[test]
fn errors_give_the_line_of_the_problem() {
    let xml = "<domain type='kvm'>\n  <name>vm</name>\n  <devices>\n    <interface type='network'>\n  </devices>\n</domain>\n";
    let error = parse_domain_xml(xml);
    assert!(
        matches!(&error, Err(XmlError::Malformed { line: 5, message, .. }) if message.contains("interface")),
        "{error:?}"
    );
}

/// Cutting a fixture anywhere gives an error or a value, never a panic; a
/// cut before the root's end tag is always an error.
#[test]
fn truncated_fixtures_never_panic() -> TestResult {
    for folder in ["domains", "networks"] {
        for file in fixture_names(folder)? {
            let xml = fixture(&format!("{folder}/{file}"))?;
            let root_end = xml.rfind("</").ok_or("fixture has an end tag")?;
            for cut in (0..xml.len()).filter(|cut| xml.is_char_boundary(*cut)) {
                let prefix = &xml[..cut];
                let failed = if folder == "domains" {
                    parse_domain_xml(prefix).is_err()
                } else {
                    parse_network_xml(prefix).is_err()
                };
                assert!(failed || cut > root_end, "{folder}/{file} cut at {cut} parsed");
            }
        }
    }
    Ok(())
}

#[test]
fn domain_without_name_is_an_error() {
    for xml in [
        "<domain type='kvm'><uuid>3b2c6f1e-6a0f-4d0b-9a57-2f7c1d8e4a10</uuid><devices/></domain>",
        "<domain type='kvm'><name></name></domain>",
        "<domain type='kvm'><name>  \n </name></domain>",
        // A namespaced name in metadata is not the domain's name.
        "<domain><metadata><app:name xmlns:app='urn:x'>x</app:name></metadata></domain>",
    ] {
        let error = parse_domain_xml(xml);
        assert_eq!(error, Err(XmlError::Missing { element: "domain", missing: "<name>" }), "{xml}");
    }
    let message = parse_domain_xml("<domain/>").map_err(|error| error.to_string());
    assert_eq!(message, Err("<domain> has no <name>".to_owned()));
}

#[test]
fn network_without_name_is_an_error() {
    let error = parse_network_xml("<network><forward mode='nat'/></network>");
    assert_eq!(error, Err(XmlError::Missing { element: "network", missing: "<name>" }));
}

#[test]
fn the_wrong_kind_of_document_is_an_error() -> TestResult {
    let network = fixture("networks/test-default.xml")?;
    let domain = fixture("domains/test-default-running.xml")?;
    assert_eq!(
        parse_domain_xml(&network),
        Err(XmlError::UnexpectedRoot { expected: "domain", found: "network".to_owned() })
    );
    assert_eq!(
        parse_network_xml(&domain),
        Err(XmlError::UnexpectedRoot { expected: "network", found: "domain".to_owned() })
    );
    assert_eq!(
        parse_domain_xml("<domain/>x").map_err(|e| matches!(e, XmlError::Malformed { .. })),
        Err(true)
    );
    Ok(())
}

/// Elements, attributes and namespaces this program does not know are
/// skipped, wherever they are.
#[test]
fn unknown_elements_attributes_and_namespaces_are_ignored() -> TestResult {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE domain>
<!-- not from libvirt: every oddity in one document -->
<domain type='kvm' futureAttr='1' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <name>odd</name>
  <futureElement with='attrs'><nested>text</nested></futureElement>
  <metadata>
    <app:name xmlns:app='urn:example'>not the domain name</app:name>
    <inventory xmlns='urn:default-ns'><name>nor this</name><interface type='bridge'/></inventory>
  </metadata>
  <description><![CDATA[<name>cdata</name> & <devices/>]]></description>
  <?some-instruction?>
  <devices futureAttr='x'>
    <interface type='bridge' futureAttr='y' test:attr='z'>
      <mac address='52:54:00:AA:BB:CC' futureAttr='1'/>
      <source bridge='br0' futureAttr='2'><futureChild/></source>
      <vendor:extension xmlns:vendor='urn:vendor'><vendor:source bridge='wrong'/></vendor:extension>
      <model type='virtio' futureAttr='3'/>
      <futureElement/>
    </interface>
    <futureDevice type='interface'/>
  </devices>
  <test:runstate>5</test:runstate>
</domain>
"#;
    let domain = parse_domain_xml(xml)?;
    assert_eq!(domain.name, "odd");
    assert_eq!(domain.interfaces.len(), 1);
    let nic = domain.interfaces.first().ok_or("one NIC")?;
    assert_eq!(nic.kind, InterfaceType::Bridge);
    assert_eq!(nic.mac.as_deref(), Some("52:54:00:aa:bb:cc"));
    assert_eq!(nic.source, InterfaceSource::Bridge { bridge: "br0".to_owned() });
    assert_eq!(nic.model.as_deref(), Some("virtio"));

    let network = parse_network_xml(
        "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0' connections='2'>\
           <name>n</name><futureElement/><forward mode='nat' futureAttr='1'><nat><port start='1024' end='65535'/></nat></forward>\
           <ip address='10.0.0.1' prefix='8' localPtr='yes'><tftp root='/srv'/><dhcp><bootp file='pxe'/></dhcp></ip>\
           <dnsmasq:options><dnsmasq:option value='x'/></dnsmasq:options>\
         </network>",
    )?;
    assert_eq!(network.forward, ForwardMode::Nat);
    assert_eq!(network.ips.len(), 1);
    assert_eq!(network.ips.first().and_then(|ip| ip.prefix), Some(8));
    Ok(())
}

/// Live XML of a running QEMU guest, in the shape libvirt documents and the
/// test driver cannot produce: `bridge` and `portid` on a network source,
/// the host tap in `<target dev>`, an alias, and the agent channel state.
#[test]
fn live_qemu_style_xml_is_read() -> TestResult {
    let xml = "<domain type='kvm' id='7'>
  <name>debian13</name>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:3a:7c:1e'/>
      <source network='default' portid='0d9a3b5e-6e9c-4f0e-8f4a-1a2b3c4d5e6f' bridge='virbr0'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
      <alias name='net0'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </interface>
    <channel type='spicevmc'>
      <target type='virtio' name='com.redhat.spice.0' state='disconnected'/>
      <alias name='channel1'/>
    </channel>
    <channel type='unix'>
      <source mode='bind' path='/run/libvirt/qemu/channel/7-debian13/org.qemu.guest_agent.0'/>
      <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>
      <alias name='channel0'/>
      <address type='virtio-serial' controller='0' bus='0' port='1'/>
    </channel>
  </devices>
</domain>";
    let domain = parse_domain_xml(xml)?;
    let nic = domain.interfaces.first().ok_or("one NIC")?;
    assert_eq!(
        nic.source,
        InterfaceSource::Network {
            network: "default".into(),
            portgroup: None,
            bridge: Some("virbr0".into())
        }
    );
    assert_eq!(nic.target_dev.as_deref(), Some("vnet3"));
    assert_eq!(nic.alias.as_deref(), Some("net0"));
    assert_eq!(domain.guest_agent_channel, Some(GuestAgentChannel { state: Some("connected".into()) }));
    Ok(())
}

#[test]
fn only_the_qemu_agent_unix_channel_counts() -> TestResult {
    let with_channel = |channel: &str| {
        parse_domain_xml(&format!("<domain><name>x</name><devices>{channel}</devices></domain>"))
            .map(|domain| domain.guest_agent_channel)
    };
    let cases = [
        ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>", Some(None)),
        (
            "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0' state='disconnected'/></channel>",
            Some(Some("disconnected")),
        ),
        ("<channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>", None),
        ("<channel type='unix'><target type='virtio' name='org.libguestfs.channel.0'/></channel>", None),
        ("<channel type='pty'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>", None),
        ("<channel type='unix'><target type='guestfwd' name='org.qemu.guest_agent.0'/></channel>", None),
        ("<channel type='unix'/>", None),
        // Not a channel at all.
        ("<console type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></console>", None),
    ];
    for (channel, want) in cases {
        let want = want.map(|state: Option<&str>| GuestAgentChannel { state: state.map(str::to_owned) });
        assert_eq!(with_channel(channel)?, want, "{channel}");
    }
    Ok(())
}

#[test]
fn interface_edge_cases_follow_libvirt() -> TestResult {
    let xml = "<domain><name>x</name><devices>
      <interface><mac address='52:54:00:00:00:01'/></interface>
      <interface type='quantum-tunnel'><source anything='1'/><model type='virtio'/><link state='down'/></interface>
      <interface type='network'><link state='up'/></interface>
      <interface type='network'><source/><link state='bogus'/></interface>
      <interface type='bridge'/>
      <interface type='direct'><source mode='vepa'/></interface>
      <interface type='vdpa'/>
      <interface type='vhostuser'/>
      <interface type='hostdev'><source><address type='usb' bus='1' device='2'/></source></interface>
      <interface type='udp'><source address='10.0.0.1' port='99999'><local port='nope'/></source></interface>
      <interface type='ethernet'><backend tap='/dev/net/tun' vhost='/dev/vhost-net'/></interface>
    </devices></domain>";
    let nics = parse_domain_xml(xml)?.interfaces;
    let kinds: Vec<&str> = nics.iter().map(|nic| nic.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "user",
            "quantum-tunnel",
            "network",
            "network",
            "bridge",
            "direct",
            "vdpa",
            "vhostuser",
            "hostdev",
            "udp",
            "ethernet"
        ]
    );
    let sources: Vec<&InterfaceSource> = nics.iter().map(|nic| &nic.source).collect();
    assert_eq!(
        sources,
        [
            // libvirt reads an `<interface>` without `type` as user-mode.
            &InterfaceSource::User,
            &InterfaceSource::None,
            &InterfaceSource::None,
            &InterfaceSource::None,
            &InterfaceSource::None,
            &InterfaceSource::None,
            &InterfaceSource::None,
            &InterfaceSource::VhostUser { path: None, mode: None },
            &InterfaceSource::Hostdev { address: None },
            &InterfaceSource::Socket {
                address: Some("10.0.0.1".to_owned()),
                port: None,
                local_address: None,
                local_port: None
            },
            &InterfaceSource::Ethernet,
        ]
    );
    assert_eq!(nics.get(1).map(|nic| &nic.kind), Some(&InterfaceType::Unknown("quantum-tunnel".to_owned())));
    let links: Vec<LinkState> = nics.iter().map(|nic| nic.link_state).collect();
    assert_eq!(links.iter().filter(|link| **link == LinkState::Down).count(), 1);
    assert_eq!(links.get(1), Some(&LinkState::Down));
    // A `<backend>` without `type` (tap/vhost paths) is not a backend choice.
    assert_eq!(nics.last().and_then(|nic| nic.backend.clone()), None);
    assert!(nics.iter().skip(1).all(|nic| nic.mac.is_none()));
    Ok(())
}

#[test]
fn missing_optional_values_are_none() -> TestResult {
    let domain = parse_domain_xml("<domain><name>bare</name></domain>")?;
    assert_eq!(domain.uuid, None);
    assert_eq!(domain.title, None);
    assert_eq!(domain.hypervisor, "");
    assert!(domain.interfaces.is_empty());
    assert_eq!(domain.guest_agent_channel, None);

    let network = parse_network_xml("<network><name>bare</name></network>")?;
    assert_eq!(network.uuid, None);
    assert_eq!(network.forward, ForwardMode::Isolated);
    assert!(network.forward_devs.is_empty());
    assert_eq!(network.bridge, None);
    assert!(network.ips.is_empty());
    assert_eq!(network.domain_name, None);
    Ok(())
}

#[test]
fn network_ip_edge_cases() -> TestResult {
    let network = parse_network_xml(
        "<network><name>n</name>
           <ip address='10.0.0.1' netmask='255.0.255.0'/>
           <ip address='10.0.1.1' prefix='33'/>
           <ip address='10.0.2.1'/>
           <ip family='ipv6' address='fd00::1'/>
           <ip family='ipv6' address='fd00:1::1' prefix='48'>
             <dhcp><range start='fd00:1::10' end='not-an-ip'/><range start='fd00:1::20' end='fd00:1::30'/>
               <host name='only-name'/></dhcp>
           </ip>
           <ip address='not-an-ip' prefix='24'/>
           <ip prefix='24'/>
           <bridge name='virbr9' stp='maybe' delay='-1'/>
           <forward mode='nat' dev='eth0'><interface dev='eth0'/><interface/><pf dev='eth9'/></forward>
         </network>",
    )?;
    let prefixes: Vec<Option<u8>> = network.ips.iter().map(|ip| ip.prefix).collect();
    // Unreadable netmask/prefix → None; no prefix given → None (not guessed);
    // an `<ip>` without a readable address is skipped.
    assert_eq!(prefixes, [None, None, None, None, Some(48)]);
    let v6 = network.ips.last().ok_or("five ips")?;
    assert!(v6.is_ipv6());
    assert_eq!(v6.dhcp_ranges.len(), 1);
    assert_eq!(v6.dhcp_hosts.len(), 1);
    assert!(v6.dhcp_hosts.first().is_some_and(|host| host.mac.is_none() && host.ip.is_none()));
    let bridge = network.bridge.ok_or("bridge")?;
    assert_eq!((bridge.name.as_deref(), bridge.stp, bridge.delay), (Some("virbr9"), None, None));
    assert_eq!(network.forward_devs, ["eth0", "eth9"]);
    Ok(())
}

#[test]
fn unknown_forward_mode_is_kept() -> TestResult {
    let network = parse_network_xml("<network><name>n</name><forward mode='teleport'/></network>")?;
    assert_eq!(network.forward, ForwardMode::Unknown("teleport".to_owned()));
    Ok(())
}
