//! Translation helpers shared by every crate with user-visible text.

/// Replaces `{name}` placeholders in a translated template, so translators
/// can reorder them. One pass over the template: a value is never searched
/// for placeholders itself (a VM named `{mac}` stays `{mac}`). A `{…}` that
/// names no value is kept as it is.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values.iter().find(|(key, _)| *key == name).map(|(_, value)| (*value, close))
        });
        match value {
            Some((value, close)) => {
                text.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn fills_named_placeholders_in_any_order() {
        assert_eq!(fill("{b} then {a}", &[("a", "1"), ("b", "2")]), "2 then 1");
        assert_eq!(fill("no placeholders", &[("a", "1")]), "no placeholders");
        assert_eq!(fill("{a}{a}", &[("a", "x")]), "xx");
    }

    #[test]
    fn a_value_is_never_filled_itself() {
        assert_eq!(
            fill("{vm} has card {mac}", &[("vm", "{mac}"), ("mac", "52:54:00:01:02:03")]),
            "{mac} has card 52:54:00:01:02:03"
        );
    }

    #[test]
    fn unknown_and_unclosed_braces_stay() {
        assert_eq!(fill("{x} and {a", &[("a", "1")]), "{x} and {a");
        assert_eq!(fill("{{a}}", &[("a", "1")]), "{1}");
        assert_eq!(fill("ünï{a}cödé", &[("a", "→")]), "ünï→cödé");
    }
}
