//! `iptables-save` output (from `iptables-nft-save` or
//! `iptables-legacy-save`) into the evaluator's model.
//!
//! Options and modules outside the model become [`Cond::Opaque`]; unknown
//! targets make the verdict unknown.

use std::net::Ipv4Addr;

use super::ir::{Action, Base, Chain, Cond, Family, IfName, Net, Origin, PortForward, Rule, Table, Test};
use super::packet::{
    AddrType, CtState, Hook, PROTO_ICMP, PktType, ct_status, icmp_type_from_name, proto_from_name,
};

/// Parses every table of a save file.
pub(crate) fn parse(text: &str, origin: Origin) -> Result<Vec<Table>, String> {
    let mut tables: Vec<Table> = Vec::new();
    let mut current: Option<Table> = None;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        let at = |why: String| format!("line {}: {why}", number + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('*') {
            if let Some(table) = current.take() {
                tables.push(table);
            }
            current = Some(Table { origin, family: Family::Ip, name: name.to_owned(), chains: Vec::new() });
        } else if line == "COMMIT" {
            if let Some(table) = current.take() {
                tables.push(table);
            }
        } else if let Some(declaration) = line.strip_prefix(':') {
            let table = current.as_mut().ok_or_else(|| at("a chain outside a table".to_owned()))?;
            let mut words = declaration.split_whitespace();
            let name = words.next().ok_or_else(|| at("a chain without a name".to_owned()))?.to_owned();
            let policy = words.next().unwrap_or("-");
            let base = builtin(&table.name, &name).map(|(hook, priority, filter)| Base {
                hook,
                priority,
                filter,
                policy_drop: policy == "DROP",
            });
            table.chains.push(Chain { name, base, rules: Vec::new() });
        } else if line.starts_with("-A ") || line.starts_with("--append ") {
            let table = current.as_mut().ok_or_else(|| at("a rule outside a table".to_owned()))?;
            let words = split_words(line).map_err(&at)?;
            let chain_name = words.get(1).ok_or_else(|| at("a rule without a chain".to_owned()))?.clone();
            let chain_names: Vec<String> = table.chains.iter().map(|chain| chain.name.clone()).collect();
            let rule = parse_rule(&words[2..], &chain_names, line);
            let chain = table
                .chains
                .iter_mut()
                .find(|chain| chain.name == chain_name)
                .ok_or_else(|| at(format!("a rule for undeclared chain {chain_name}")))?;
            chain.rules.push(rule);
        } else {
            return Err(at(format!("unexpected line {line:?}")));
        }
    }
    if let Some(table) = current {
        tables.push(table);
    }
    Ok(tables)
}

/// Hook, priority and whether it filters, for the built-in chains
/// (`NF_IP_PRI_*`).
fn builtin(table: &str, chain: &str) -> Option<(Hook, i32, bool)> {
    let hook = match chain {
        "PREROUTING" => Hook::Prerouting,
        "INPUT" => Hook::Input,
        "FORWARD" => Hook::Forward,
        "OUTPUT" => Hook::Output,
        "POSTROUTING" => Hook::Postrouting,
        _ => return None,
    };
    let (priority, filter) = match table {
        "raw" => (-300, true),
        "mangle" => (-150, true),
        "nat" => (if hook == Hook::Postrouting || hook == Hook::Input { 100 } else { -100 }, false),
        "filter" => (0, true),
        "security" => (50, true),
        _ => return None,
    };
    Some((hook, priority, filter))
}

/// Splits a save line into words; double quotes group, `\"` escapes.
fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err("an unterminated quote".to_owned());
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The arguments after `-A CHAIN`.
fn parse_rule(words: &[String], chains: &[String], line: &str) -> Rule {
    let mut conds: Vec<Cond> = Vec::new();
    let mut action = Action::Continue;
    let mut sets_mark = None;
    let mut module = String::new();
    let mut proto: Option<u8> = None;
    let mut negate = false;
    let mut limited = false;
    let mut index = 0;
    // The next word, as an option's argument.
    let arg = |index: &mut usize| -> Option<String> {
        *index += 1;
        words.get(*index).cloned()
    };
    while index < words.len() {
        let word = words[index].as_str();
        if word == "!" {
            negate = true;
            index += 1;
            continue;
        }
        let neg = std::mem::take(&mut negate);
        let cond = match word {
            "-i" | "--in-interface" | "-o" | "--out-interface" => arg(&mut index).map(|name| {
                Cond::Test(Test::Iface {
                    out: word.starts_with("-o") || word.starts_with("--out"),
                    names: vec![IfName::parse(&name, '+')],
                    negate: neg,
                })
            }),
            "-s" | "--source" | "--src" | "-d" | "--destination" | "--dst" => arg(&mut index).map(|value| {
                let dst = word.starts_with("-d") || word.starts_with("--d");
                value.split(',').map(parse_net).collect::<Option<Vec<_>>>().map_or_else(
                    || Cond::Opaque(format!("the address {value}")),
                    |nets| Cond::Test(Test::Addr { dst, nets, negate: neg }),
                )
            }),
            "-p" | "--protocol" => arg(&mut index).map(|name| {
                if name == "all" || name == "0" {
                    return Cond::Test(Test::Ipv4 { yes: !neg });
                }
                match proto_from_name(&name) {
                    Some(number) => {
                        proto = Some(number);
                        Cond::Test(Test::Proto { protos: vec![number], negate: neg })
                    }
                    None => Cond::Opaque(format!("the protocol {name}")),
                }
            }),
            "-f" | "--fragment" => Some(Cond::Test(Test::Ipv4 { yes: neg })),
            "-m" | "--match" => {
                module = arg(&mut index).unwrap_or_default();
                limited = false;
                None
            }
            "-j" | "--jump" | "-g" | "--goto" => {
                let target = arg(&mut index).unwrap_or_default();
                let goto = word == "-g" || word == "--goto";
                if chains.contains(&target) {
                    action = if goto { Action::Goto(target) } else { Action::Jump(target) };
                } else {
                    let (target_action, marks) = target_action(&target);
                    action = target_action;
                    if marks {
                        sets_mark = Some(mark_value(words, index));
                    }
                }
                module = String::from("target");
                None
            }
            "-c" | "--set-counters" => {
                index += 1;
                None
            }
            option if option.starts_with("--") => {
                Some(module_option(&module, proto, option, neg, &mut index, words, &mut limited))
            }
            other => Some(Cond::Opaque(format!("the option {other}"))),
        };
        if let Some(cond) = cond {
            conds.push(cond);
        }
        index += 1;
    }
    let port_forward = port_forward(words);
    Rule { conds, action, text: line.to_owned(), sets_mark, port_forward }
}

/// `-j DNAT --to-destination ADDR[:PORT]` and `-j REDIRECT`: where the
/// rule forwards to. A range or anything unreadable is `To(None)`.
fn port_forward(words: &[String]) -> Option<PortForward> {
    let target = words.iter().position(|word| word == "-j" || word == "-g")?;
    match words.get(target + 1)?.as_str() {
        "REDIRECT" => Some(PortForward::Redirect),
        "DNAT" => {
            let to = words
                .iter()
                .skip(target)
                .position(|word| word == "--to-destination")
                .and_then(|at| words.get(target + at + 1))
                .and_then(|value| {
                    // ADDR, ADDR:PORT, [ADDR6]:PORT; ranges are not read.
                    let address = match value.strip_prefix('[') {
                        Some(rest) => rest.split(']').next()?,
                        None if value.matches(':').count() > 1 => value.as_str(),
                        None => value.split(':').next()?,
                    };
                    address.parse().ok()
                });
            Some(PortForward::To(to))
        }
        _ => None,
    }
}

/// The action of a non-chain target, and whether it sets the mark.
fn target_action(target: &str) -> (Action, bool) {
    match target {
        "ACCEPT" => (Action::Accept, false),
        "DROP" | "REJECT" => (Action::Drop, false),
        "RETURN" => (Action::Return, false),
        "MASQUERADE" | "SNAT" | "DNAT" | "REDIRECT" | "NETMAP" => (Action::Accept, false),
        "MARK" | "CONNMARK" => (Action::Continue, true),
        "LOG" | "NFLOG" | "ULOG" | "AUDIT" | "TRACE" | "CHECKSUM" | "TCPMSS" | "CLASSIFY" | "DSCP"
        | "TOS" | "TTL" | "HL" | "CT" | "NOTRACK" | "IDLETIMER" | "LED" | "SECMARK" | "CONNSECMARK" => {
            (Action::Continue, false)
        }
        "QUEUE" | "NFQUEUE" => {
            (Action::Unknown("queued to a userspace program, which decides".to_owned()), false)
        }
        other => (Action::Unknown(format!("the target {other}, which this checker does not model")), false),
    }
}

/// `-j MARK --set-mark V` / `--set-xmark V/M`: the mark when it is a plain
/// value, `None` otherwise.
fn mark_value(words: &[String], target_index: usize) -> Option<u32> {
    let position = words.iter().skip(target_index).position(|word| word == "--set-mark")?;
    let value = words.get(target_index + position + 1)?;
    parse_u32(value.split('/').next()?)
}

fn parse_u32(text: &str) -> Option<u32> {
    match text.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn parse_net(text: &str) -> Option<Net> {
    let (address, mask) = text.split_once('/').unwrap_or((text, "32"));
    let address: Ipv4Addr = address.parse().ok()?;
    let len = match mask.parse::<u8>() {
        Ok(len) if len <= 32 => len,
        _ => crate::network::ipv4_mask_prefix(mask.parse::<Ipv4Addr>().ok()?)?,
    };
    Some(Net::Prefix(address, len))
}

fn parse_ports(text: &str) -> Option<Vec<(u16, u16)>> {
    text.split(',')
        .map(|part| match part.split_once(':') {
            Some((low, high)) => {
                let low = if low.is_empty() { 0 } else { low.parse().ok()? };
                let high = if high.is_empty() { u16::MAX } else { high.parse().ok()? };
                Some((low, high))
            }
            None => part.parse().ok().map(|port| (port, port)),
        })
        .collect()
}

/// An option of the current module (`-m conntrack --ctstate …`), or of the
/// target after `-j`.
fn module_option(
    module: &str,
    proto: Option<u8>,
    option: &str,
    negate: bool,
    index: &mut usize,
    words: &[String],
    limited: &mut bool,
) -> Cond {
    // Options without an argument.
    const FLAGS: &[&str] = &[
        "--syn",
        "--checksum-fill",
        "--log-uid",
        "--log-tcp-sequence",
        "--log-tcp-options",
        "--log-ip-options",
        "--notrack",
        "--clamp-mss-to-pmtu",
        "--random",
        "--random-fully",
        "--persistent",
        "--rcheck",
        "--update",
        "--set",
        "--remove",
        "--physdev-is-bridged",
        "--physdev-is-in",
        "--physdev-is-out",
        "--queue-bypass",
    ];
    // Options with two arguments.
    const PAIRS: &[&str] = &["--tcp-flags", "--match-set"];
    let value = if FLAGS.contains(&option) {
        String::new()
    } else {
        *index += 1;
        words.get(*index).cloned().unwrap_or_default()
    };
    if PAIRS.contains(&option) {
        *index += 1;
    }
    if module == "target" {
        // The target's own options (--reject-with, --log-prefix…).
        return Cond::Test(Test::Ipv4 { yes: true });
    }
    let opaque = || Cond::Opaque(format!("`-m {module} {option}`, which this checker does not model"));
    match (module, option) {
        (
            "tcp" | "udp" | "sctp" | "dccp" | "udplite",
            "--dport" | "--destination-port" | "--sport" | "--source-port",
        )
        | ("multiport", "--dports" | "--destination-ports" | "--sports" | "--source-ports" | "--ports") => {
            if option == "--ports" {
                return opaque();
            }
            let dst = option.starts_with("--d");
            match parse_ports(&value) {
                Some(ranges) => Cond::Test(Test::Port { dst, proto, ranges, negate }),
                None => opaque(),
            }
        }
        ("conntrack", "--ctstate") | ("state", "--state") => {
            match value.split(',').map(CtState::from_name).collect::<Option<Vec<_>>>() {
                Some(states) => Cond::Test(Test::CtState { states, negate }),
                None => opaque(),
            }
        }
        ("conntrack", "--ctstatus") => {
            match value.split(',').map(ct_status::from_name).sum::<Option<u32>>() {
                Some(bits) => Cond::Test(Test::CtStatus { bits, negate }),
                None => opaque(),
            }
        }
        ("conntrack", "--ctdir") => Cond::Test(Test::CtReply { reply: (value == "REPLY") != negate }),
        ("addrtype", "--src-type" | "--dst-type") => {
            let dst = option == "--dst-type";
            let types = value.split(',').map(AddrType::from_name).collect::<Option<Vec<_>>>();
            match types {
                Some(types) => Cond::Test(Test::AddrType { dst, types, negate }),
                // UNSPEC, ANYCAST, BLACKHOLE…: none of them is ours.
                None if value.split(',').all(|name| AddrType::from_name(name).is_none()) => {
                    Cond::Test(Test::Ipv4 { yes: negate })
                }
                None => opaque(),
            }
        }
        ("icmp", "--icmp-type") => {
            let (kind, code) = value.split_once('/').unwrap_or((&value, ""));
            let code = if code.is_empty() { None } else { code.parse().ok() };
            if value == "any" {
                return Cond::Test(Test::Proto { protos: vec![PROTO_ICMP], negate });
            }
            match icmp_type_from_name(kind) {
                Some(kind) => Cond::Test(Test::Icmp { types: vec![(kind, code)], negate }),
                None => opaque(),
            }
        }
        ("pkttype", "--pkt-type") => match PktType::from_name(&value) {
            Some(kind) => Cond::Test(Test::PktType { types: vec![kind], negate }),
            None => opaque(),
        },
        ("mark", "--mark") => {
            let (mark, mask) = value.split_once('/').unwrap_or((&value, "0xffffffff"));
            match (parse_u32(mark), parse_u32(mask)) {
                (Some(value), Some(mask)) => Cond::Test(Test::Mark { value, mask, negate }),
                _ => opaque(),
            }
        }
        ("iprange", "--src-range" | "--dst-range") => {
            let dst = option == "--dst-range";
            let range =
                value.split_once('-').and_then(|(low, high)| Some((low.parse().ok()?, high.parse().ok()?)));
            match range {
                Some((low, high)) => {
                    Cond::Test(Test::Addr { dst, nets: vec![Net::Range(low, high)], negate })
                }
                None => opaque(),
            }
        }
        ("comment", "--comment") => Cond::Test(Test::Ipv4 { yes: true }),
        ("limit" | "hashlimit", _) => {
            // One condition per module, whatever its options.
            if std::mem::replace(limited, true) {
                Cond::Test(Test::Ipv4 { yes: true })
            } else {
                Cond::Opaque("a rate limit (it depends on the traffic rate)".to_owned())
            }
        }
        _ => opaque(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_words() -> Result<(), String> {
        let words =
            split_words(r#"-A ufw-logging-deny -m limit --limit 3/min -j LOG --log-prefix "[UFW BLOCK] ""#)?;
        assert_eq!(words.last().map(String::as_str), Some("[UFW BLOCK] "));
        Ok(())
    }

    #[test]
    fn reads_policies_and_chains() -> Result<(), String> {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:DOCKER-USER - [0:0]\n\
-A FORWARD -j DOCKER-USER\n-A FORWARD -i virbr0 -o enp3s0 -j ACCEPT\n-A DOCKER-USER -j RETURN\nCOMMIT\n";
        let tables = parse(text, Origin::IptablesLegacy)?;
        let forward = tables[0].chain("FORWARD").ok_or("no FORWARD")?;
        assert!(forward.base.as_ref().is_some_and(|base| base.policy_drop && base.hook == Hook::Forward));
        assert_eq!(forward.rules[0].action, Action::Jump("DOCKER-USER".to_owned()));
        assert_eq!(forward.rules[1].conds.len(), 2);
        assert_eq!(forward.rules[1].action, Action::Accept);
        Ok(())
    }

    #[test]
    fn unknown_modules_are_opaque() {
        let words: Vec<String> =
            ["-m", "recent", "--rcheck", "--seconds", "60", "-j", "DROP"].map(String::from).into();
        let rule = parse_rule(&words, &[], "");
        assert!(rule.conds.iter().all(|cond| matches!(cond, Cond::Opaque(_))));
        assert_eq!(rule.conds.len(), 2);
        assert_eq!(rule.action, Action::Drop);
    }

    #[test]
    fn reads_masks_and_port_ranges() {
        assert_eq!(
            parse_net("192.168.122.0/255.255.255.0"),
            Some(Net::Prefix(Ipv4Addr::new(192, 168, 122, 0), 24))
        );
        assert_eq!(parse_net("10.0.0.1"), Some(Net::Prefix(Ipv4Addr::new(10, 0, 0, 1), 32)));
        assert_eq!(parse_ports("1024:,53"), Some(vec![(1024, u16::MAX), (53, 53)]));
    }
}
