//! Translation helpers shared by every crate with user-visible text.

/// Replaces `{name}` placeholders in a translated template, so translators
/// can reorder them.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn fills_named_placeholders_in_any_order() {
        assert_eq!(fill("{b} then {a}", &[("a", "1"), ("b", "2")]), "2 then 1");
        assert_eq!(fill("no placeholders", &[("a", "1")]), "no placeholders");
    }
}
