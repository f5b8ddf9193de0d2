//! Nothing here is translated: gettext("in a comment") does not count,
/* nor gettext("in a block comment") */
pub const NOTE: &str = "gettext(\"in a string\") does not count either";
pub const RAW: &str = r#"ngettext("raw", "raws", 2)"#;

pub fn i18n_f(format: &str, args: &[(&str, &str)]) -> String {
    format.to_owned()
}
