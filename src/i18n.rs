//! gettext set-up and a small helper for named placeholders.

use gettextrs::{LocaleCategory, bind_textdomain_codeset, bindtextdomain, setlocale, textdomain};

use crate::config::{GETTEXT_PACKAGE, LOCALEDIR};

/// Must run first in `main`, before any other thread exists.
pub fn init() {
    // SAFETY: setlocale is not thread-safe; this runs at the start of main,
    // while the process has a single thread.
    #[allow(unsafe_code)]
    unsafe {
        setlocale(LocaleCategory::LcAll, "");
    }
    // A missing catalogue only means English; it is not worth stopping for.
    let _ = bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    let _ = bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    let _ = textdomain(GETTEXT_PACKAGE);
}

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
