//! `nft -j list ruleset` into the evaluator's model.
//!
//! See libnftables-json(5). Expressions the model does not cover become
//! [`Cond::Opaque`] with the reason, so they can only make a verdict
//! unknown, never wrong. Notably, rules written by iptables-nft keep
//! matches nft cannot translate as `{"xt": {"type": "match", "name":
//! "conntrack"}}` — the name without its arguments; those tables are read
//! from `iptables-nft-save` instead when it is available.
//!
//! How one match statement becomes a condition (its field, its values,
//! the test on them) is in the `matches` submodule.

mod matches;

use std::collections::HashMap;

use serde_json::Value;

use super::ir::{Action, Base, Chain, Cond, Family, Origin, PortForward, Rule, Table};
use super::packet::Hook;
use matches::{build_test, field, parse_match};

/// Parses the whole ruleset.
pub(crate) fn parse(json: &str) -> Result<Vec<Table>, String> {
    let value: Value =
        serde_json::from_str(json).map_err(|error| format!("`nft -j list ruleset` is not JSON: {error}"))?;
    let items = value
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or("`nft -j list ruleset` has no \"nftables\" array")?;
    let mut tables: Vec<Table> = Vec::new();
    let mut sets: HashMap<(String, String, String), Vec<Value>> = HashMap::new();
    let mut rules: Vec<&Value> = Vec::new();
    for item in items {
        if let Some(table) = item.get("table") {
            let (family, name) = family_and_name(table, "name")?;
            tables.push(Table { origin: Origin::Nft, family, name, chains: Vec::new() });
        } else if let Some(chain) = item.get("chain") {
            let (family, table) = family_and_name(chain, "table")?;
            let name = text(chain, "name")?;
            let base = chain
                .get("hook")
                .and_then(Value::as_str)
                .map(|hook| base_of(chain, hook))
                .transpose()?
                .flatten();
            let table = find_table(&mut tables, family, &table)?;
            table.chains.push(Chain { name, base, rules: Vec::new() });
        } else if let Some(set) = item.get("set").or_else(|| item.get("map")) {
            let (family, table) = family_and_name(set, "table")?;
            let name = text(set, "name")?;
            let elements = set.get("elem").and_then(Value::as_array).cloned().unwrap_or_default();
            sets.insert((family.name().to_owned(), table, name), elements);
        } else if let Some(rule) = item.get("rule") {
            rules.push(rule);
        }
    }
    for rule in rules {
        let (family, table_name) = family_and_name(rule, "table")?;
        let chain_name = text(rule, "chain")?;
        let table_sets =
            |name: &str| sets.get(&(family.name().to_owned(), table_name.clone(), name.to_owned()));
        let parsed = parse_rule(rule, &table_sets);
        let table = find_table(&mut tables, family, &table_name)?;
        let chain = table
            .chains
            .iter_mut()
            .find(|chain| chain.name == chain_name)
            .ok_or_else(|| format!("a rule for unknown chain {chain_name}"))?;
        chain.rules.push(parsed);
    }
    Ok(tables)
}

fn family_and_name(value: &Value, key: &str) -> Result<(Family, String), String> {
    let family = text(value, "family")?;
    let family = Family::from_name(&family).ok_or_else(|| format!("unknown family {family}"))?;
    Ok((family, text(value, key)?))
}

fn text(value: &Value, key: &str) -> Result<String, String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("an object without {key:?}"))
}

fn find_table<'t>(tables: &'t mut [Table], family: Family, name: &str) -> Result<&'t mut Table, String> {
    tables
        .iter_mut()
        .find(|table| table.family == family && table.name == name)
        .ok_or_else(|| format!("a chain or rule for unknown table {} {name}", family.name()))
}

/// The base chain part of a chain object; `None` for hooks this checker
/// does not know.
fn base_of(chain: &Value, hook: &str) -> Result<Option<Base>, String> {
    let Some(hook) = Hook::from_name(hook) else { return Ok(None) };
    let priority = match chain.get("prio") {
        Some(Value::Number(number)) => number.as_i64().and_then(|n| i32::try_from(n).ok()).unwrap_or(0),
        Some(Value::String(name)) => named_priority(name),
        _ => 0,
    };
    let kind = chain.get("type").and_then(Value::as_str).unwrap_or("filter");
    let policy = chain.get("policy").and_then(Value::as_str).unwrap_or("accept");
    Ok(Some(Base { hook, priority, filter: kind == "filter", policy_drop: policy == "drop" }))
}

fn named_priority(name: &str) -> i32 {
    match name {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" => -100,
        "security" => 50,
        "srcnat" => 100,
        _ => 0,
    }
}

type SetLookup<'s> = dyn Fn(&str) -> Option<&'s Vec<Value>> + 's;

/// One rule: its statements in order. Matches become conditions; the
/// verdict statement the action; other statements are side effects.
fn parse_rule<'s>(rule: &Value, sets: &SetLookup<'s>) -> Rule {
    let exprs = rule.get("expr").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut conds = Vec::new();
    let mut action = Action::Continue;
    let mut sets_mark = None;
    let mut port_forward = None;
    let mut words = Vec::new();
    for expr in &exprs {
        let Some((key, body)) = expr.as_object().and_then(|object| object.iter().next()) else { continue };
        words.push(render(key, body));
        match key.as_str() {
            "match" => conds.push(parse_match(body, sets)),
            // Side effects that never decide a packet's fate here.
            "counter" | "log" | "ct helper" | "ct timeout" | "ct expectation" | "notrack" | "dup" | "set" | "flow" => {}
            "limit" | "quota" => conds.push(Cond::Opaque(format!("a {key} (it depends on the traffic rate)"))),
            "mangle" => {
                if body.pointer("/key/meta/key").and_then(Value::as_str) == Some("mark") {
                    sets_mark = Some(body.get("value").and_then(Value::as_u64).and_then(|v| u32::try_from(v).ok()));
                }
            }
            "accept" => action = Action::Accept,
            "drop" | "reject" => action = Action::Drop,
            "return" => action = Action::Return,
            "continue" => action = Action::Continue,
            "jump" | "goto" => {
                let target = body.get("target").and_then(Value::as_str).unwrap_or_default().to_owned();
                action = if key == "jump" { Action::Jump(target) } else { Action::Goto(target) };
            }
            "queue" => action = Action::Unknown("queued to a userspace program, which decides".to_owned()),
            "masquerade" | "snat" => action = Action::Accept,
            "dnat" => {
                action = Action::Accept;
                let to = body.get("addr").and_then(Value::as_str).and_then(|addr| addr.parse().ok());
                port_forward = Some(PortForward::To(to));
            }
            "redirect" => {
                action = Action::Accept;
                port_forward = Some(PortForward::Redirect);
            }
            "vmap" => action = parse_vmap(body, sets),
            "xt" => match xt(body) {
                XtKind::Match(name) => conds.push(Cond::Opaque(format!(
                    "the iptables match `{name}`, whose arguments nft's JSON does not show (iptables-nft-save has them)"
                ))),
                XtKind::Effect => {}
                XtKind::SetsMark => sets_mark = Some(None),
                XtKind::Verdict(verdict) => action = verdict,
            },
            other => conds.push(Cond::Opaque(format!("the statement `{other}`, which this checker does not model"))),
        }
    }
    Rule { conds, action, text: words.join(" "), sets_mark, port_forward }
}

enum XtKind {
    Match(String),
    Effect,
    SetsMark,
    Verdict(Action),
}

fn xt(body: &Value) -> XtKind {
    let name = body.get("name").and_then(Value::as_str).unwrap_or("?").to_owned();
    if body.get("type").and_then(Value::as_str) != Some("target") {
        return XtKind::Match(name);
    }
    match name.as_str() {
        "REJECT" => XtKind::Verdict(Action::Drop),
        "MASQUERADE" | "SNAT" | "DNAT" | "REDIRECT" | "NETMAP" => XtKind::Verdict(Action::Accept),
        "MARK" | "CONNMARK" => XtKind::SetsMark,
        "LOG" | "NFLOG" | "ULOG" | "AUDIT" | "TRACE" | "CHECKSUM" | "TCPMSS" | "CLASSIFY" | "DSCP"
        | "TOS" | "TTL" | "HL" | "CT" | "NOTRACK" | "IDLETIMER" | "LED" | "SECMARK" | "CONNSECMARK" => {
            XtKind::Effect
        }
        "NFQUEUE" | "QUEUE" => {
            XtKind::Verdict(Action::Unknown("queued to a userspace program, which decides".to_owned()))
        }
        other => XtKind::Verdict(Action::Unknown(format!(
            "the iptables target {other}, which this checker does not model"
        ))),
    }
}

/// `{"vmap": {"key": …, "data": {"set": [[key, verdict], …]} | "@map"}}`.
fn parse_vmap<'s>(body: &Value, sets: &SetLookup<'s>) -> Action {
    let Some(key) = body.get("key") else { return Action::Unknown("a verdict map without a key".to_owned()) };
    let field = match field(key) {
        Ok(field) => field,
        Err(what) => return Action::Unknown(format!("a verdict map on {what}")),
    };
    let entries = match body.get("data") {
        Some(Value::String(name)) if name.starts_with('@') => match sets(&name[1..]) {
            Some(elements) => elements.clone(),
            None => {
                return Action::Unknown(format!("the verdict map {name}, which the ruleset does not list"));
            }
        },
        Some(data) => data.get("set").and_then(Value::as_array).cloned().unwrap_or_default(),
        None => Vec::new(),
    };
    let mut parsed = Vec::new();
    for entry in &entries {
        let Some([key, verdict]) = entry.as_array().map(Vec::as_slice) else {
            return Action::Unknown("a verdict map entry this checker cannot read".to_owned());
        };
        let test = match build_test(&field, std::slice::from_ref(key), false) {
            Ok(test) => test,
            Err(what) => return Action::Unknown(format!("a verdict map entry on {what}")),
        };
        let Some((verb, target)) = verdict.as_object().and_then(|object| object.iter().next()) else {
            return Action::Unknown("a verdict map entry without a verdict".to_owned());
        };
        let target_name = target.get("target").and_then(Value::as_str).unwrap_or_default().to_owned();
        let action = match verb.as_str() {
            "accept" => Action::Accept,
            "drop" | "reject" => Action::Drop,
            "return" => Action::Return,
            "continue" => Action::Continue,
            "jump" => Action::Jump(target_name),
            "goto" => Action::Goto(target_name),
            other => Action::Unknown(format!("the verdict {other}")),
        };
        parsed.push((test, action));
    }
    Action::Vmap(parsed)
}

/// A statement in (roughly) nft's own syntax, for evidence.
fn render(key: &str, body: &Value) -> String {
    match key {
        "match" => {
            let op = body.get("op").and_then(Value::as_str).unwrap_or("==");
            let left = body.get("left").map(render_left).unwrap_or_default();
            let right = body.get("right").map(compact).unwrap_or_default();
            if op == "==" || op == "in" { format!("{left} {right}") } else { format!("{left} {op} {right}") }
        }
        "jump" | "goto" => format!("{key} {}", body.get("target").and_then(Value::as_str).unwrap_or("?")),
        "xt" => format!(
            "xt {} {}",
            body.get("type").and_then(Value::as_str).unwrap_or("?"),
            body.get("name").and_then(Value::as_str).unwrap_or("?")
        ),
        "counter" => "counter".to_owned(),
        _ if body.is_null() => key.to_owned(),
        _ => format!("{key} {}", compact(body)),
    }
}

fn render_left(left: &Value) -> String {
    if let Some(key) = left.pointer("/meta/key").and_then(Value::as_str) {
        return format!("meta {key}");
    }
    if let Some(payload) = left.get("payload") {
        let protocol = payload.get("protocol").and_then(Value::as_str).unwrap_or("?");
        let field = payload.get("field").and_then(Value::as_str).unwrap_or("?");
        return format!("{protocol} {field}");
    }
    if let Some(key) = left.pointer("/ct/key").and_then(Value::as_str) {
        return format!("ct {key}");
    }
    compact(left)
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => format!("\"{text}\""),
        Value::Array(items) => items.iter().map(compact).collect::<Vec<_>>().join(","),
        Value::Object(object) => {
            if let Some(items) = object.get("set").and_then(Value::as_array) {
                return format!("{{ {} }}", items.iter().map(compact).collect::<Vec<_>>().join(", "));
            }
            if let Some(prefix) = object.get("prefix") {
                let addr = prefix.get("addr").and_then(Value::as_str).unwrap_or("?");
                let len = prefix.get("len").and_then(Value::as_u64).unwrap_or(0);
                return format!("{addr}/{len}");
            }
            value.to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netfilter::ir::Cond;

    fn rule(json: &str) -> Result<Rule, String> {
        let value: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
        Ok(parse_rule(&value, &|_| None))
    }

    #[test]
    fn reads_libvirts_guest_output_rule() -> Result<(), String> {
        let rule = rule(
            r#"{"expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
            "right": {"prefix": {"addr": "192.168.122.0", "len": 24}}}},
            {"match": {"op": "==", "left": {"meta": {"key": "iif"}}, "right": "virbr0"}},
            {"counter": {"packets": 4, "bytes": 224}}, {"accept": null}]}"#,
        )?;
        assert_eq!(rule.action, Action::Accept);
        assert_eq!(rule.conds.len(), 2);
        assert!(rule.conds.iter().all(|cond| matches!(cond, Cond::Test(_))));
        assert_eq!(rule.text, "ip saddr 192.168.122.0/24 meta iif \"virbr0\" counter accept");
        Ok(())
    }

    #[test]
    fn an_xt_match_is_opaque_and_an_xt_log_target_is_an_effect() -> Result<(), String> {
        let rule = rule(r#"{"expr": [{"xt": {"type": "match", "name": "conntrack"}}, {"accept": null}]}"#)?;
        assert!(matches!(&rule.conds[..], [Cond::Opaque(why)] if why.contains("conntrack")));
        let rule = rule_log()?;
        assert_eq!(rule.action, Action::Continue);
        Ok(())
    }

    fn rule_log() -> Result<Rule, String> {
        rule(
            r#"{"expr": [{"limit": {"rate": 3, "per": "minute"}}, {"xt": {"type": "target", "name": "LOG"}}]}"#,
        )
    }
}
