//! UFW: its configuration files (world-readable) and, as root,
//! `ufw status verbose`.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use vmnet_doctor_core::host::{Fact, Ufw, UfwRule, UfwStatus};

use crate::command::{Tool, Tools};

/// UFW as configured; `Known(None)` when it is not installed (no
/// `/etc/ufw/ufw.conf` or no `ufw` program — a removed but not purged
/// package leaves the configuration behind).
pub fn read_ufw(etc: &Path, tools: &Tools) -> Fact<Option<Ufw>> {
    let conf_path = etc.join("ufw/ufw.conf");
    let conf = match fs::read_to_string(&conf_path) {
        Ok(text) => text,
        Err(error) if error.kind() == ErrorKind::NotFound => return Fact::Known(None),
        Err(error) => return Fact::Unknown(format!("cannot read {}: {error}", conf_path.display())),
    };
    if !tools.has(Tool::UfwStatus) {
        return Fact::Known(None);
    }
    let enabled_in_config =
        shell_var(&conf, "ENABLED").is_some_and(|value| value.eq_ignore_ascii_case("yes"));
    let default_path = etc.join("default/ufw");
    let default_forward_policy = match fs::read_to_string(&default_path) {
        Ok(text) => shell_var(&text, "DEFAULT_FORWARD_POLICY"),
        Err(error) if error.kind() == ErrorKind::NotFound => None,
        Err(error) => return Fact::Unknown(format!("cannot read {}: {error}", default_path.display())),
    };
    let status = match tools.output(Tool::UfwStatus) {
        Ok(text) => parse_status(&text).map_or_else(Fact::Unknown, Fact::Known),
        Err(error) => Fact::Unknown(error.reason(Tool::UfwStatus)),
    };
    Fact::Known(Some(Ufw { enabled_in_config, default_forward_policy, status }))
}

/// The value of `NAME=value` (or `NAME="value"`) in a shell-style file;
/// the last assignment wins, as when the shell sources it.
pub fn shell_var(text: &str, name: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let value = line.strip_prefix(name)?.strip_prefix('=')?;
            let value = value.split(" #").next().unwrap_or(value).trim();
            Some(value.trim_matches(|c| c == '"' || c == '\'').to_owned())
        })
        .next_back()
}

/// The verbs of `ufw status verbose`'s Action column.
const ACTIONS: &[&str] = &["ALLOW", "DENY", "REJECT", "LIMIT"];
const DIRECTIONS: &[&str] = &["IN", "OUT", "FWD"];

/// Parses `ufw status verbose` (English: the tool runs with `LC_ALL=C`).
pub fn parse_status(text: &str) -> Result<UfwStatus, String> {
    let mut lines = text.lines();
    let status_line =
        lines.by_ref().find(|line| !line.trim().is_empty()).ok_or("`ufw status verbose` printed nothing")?;
    let active = match status_line.trim().strip_prefix("Status:").map(str::trim) {
        Some("active") => true,
        Some("inactive") => false,
        _ => return Err(format!("`ufw status verbose`: unexpected first line {status_line:?}")),
    };
    let mut status = UfwStatus {
        active,
        default_incoming: None,
        default_outgoing: None,
        default_routed: None,
        rules: Vec::new(),
    };
    let mut in_table = false;
    for line in lines {
        if let Some(defaults) = line.strip_prefix("Default:") {
            // "deny (incoming), allow (outgoing), disabled (routed)"
            for part in defaults.split(',') {
                let mut words = part.split_whitespace();
                let (Some(policy), Some(which)) = (words.next(), words.next()) else { continue };
                let policy = Some(policy.to_owned());
                match which {
                    "(incoming)" => status.default_incoming = policy,
                    "(outgoing)" => status.default_outgoing = policy,
                    "(routed)" => status.default_routed = policy,
                    _ => {}
                }
            }
        } else if line.starts_with("--") {
            in_table = true;
        } else if in_table && !line.trim().is_empty() {
            status.rules.push(
                parse_rule(line).ok_or_else(|| format!("`ufw status verbose`: unreadable rule {line:?}"))?,
            );
        }
    }
    if active && status.default_routed.is_none() {
        return Err("`ufw status verbose` has no \"Default:\" line".to_owned());
    }
    Ok(status)
}

/// One row of the rule table: "To", then the action (`ALLOW IN`,
/// `DENY`…), then "From", then an optional `# comment`. Columns are
/// padded, but a long "To" pushes the rest right, so the row is split at
/// the action words rather than at fixed columns.
fn parse_rule(line: &str) -> Option<UfwRule> {
    let words: Vec<(usize, &str)> = word_positions(line);
    let index = words.iter().position(|(_, word)| ACTIONS.contains(word))?;
    let (action_start, verb) = words[index];
    let (action, after) = match words.get(index + 1) {
        Some((start, direction)) if DIRECTIONS.contains(direction) => {
            (format!("{verb} {direction}"), start + direction.len())
        }
        _ => (verb.to_owned(), action_start + verb.len()),
    };
    let to = line[..action_start].trim().to_owned();
    let rest = &line[after..];
    let (from, comment) = match rest.find(" # ") {
        Some(at) => (&rest[..at], Some(rest[at + 3..].trim().to_owned())),
        None => (rest, None),
    };
    let from = from.trim().to_owned();
    if to.is_empty() || from.is_empty() {
        return None;
    }
    Some(UfwRule { action, to, from, comment })
}

fn word_positions(line: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start = None;
    for (index, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(begin)) => {
                words.push((begin, &line[begin..index]));
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
    }
    if let Some(begin) = start {
        words.push((begin, &line[begin..]));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_shell_variables() {
        let text = "# comment\nDEFAULT_FORWARD_POLICY=\"ACCEPT\"\nDEFAULT_FORWARD_POLICY=\"DROP\"\nENABLED=yes # on\n";
        assert_eq!(shell_var(text, "DEFAULT_FORWARD_POLICY").as_deref(), Some("DROP"));
        assert_eq!(shell_var(text, "ENABLED").as_deref(), Some("yes"));
        assert_eq!(shell_var(text, "MISSING"), None);
    }

    #[test]
    fn parses_a_long_to_column_and_comments() -> Result<(), String> {
        let text = "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), disabled (routed)\n\
New profiles: skip\n\nTo                         Action      From\n--                         ------      ----\n\
22/tcp                     LIMIT IN    Anywhere                   # ssh\n\
192.168.122.0/24 on virbr0 ALLOW FWD   Anywhere on virbr0\n\
Anywhere (v6) on enp3s0    DENY        Anywhere (v6)\n";
        let status = parse_status(text)?;
        assert!(status.active);
        assert_eq!(status.default_routed.as_deref(), Some("disabled"));
        assert_eq!(status.rules.len(), 3);
        assert_eq!(status.rules[0].action, "LIMIT IN");
        assert_eq!(status.rules[0].comment.as_deref(), Some("ssh"));
        assert_eq!(status.rules[1].to, "192.168.122.0/24 on virbr0");
        assert_eq!(status.rules[1].action, "ALLOW FWD");
        assert_eq!(status.rules[1].from, "Anywhere on virbr0");
        assert_eq!(status.rules[2].action, "DENY");
        Ok(())
    }

    #[test]
    fn inactive_has_no_defaults() -> Result<(), String> {
        let status = parse_status("Status: inactive\n")?;
        assert!(!status.active);
        assert!(status.rules.is_empty());
        Ok(())
    }

    #[test]
    fn an_error_message_is_not_a_status() {
        assert!(parse_status("ERROR: You need to be root to run this script\n").is_err());
        assert!(parse_status("").is_err());
    }
}
