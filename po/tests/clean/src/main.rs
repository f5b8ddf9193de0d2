use gettextrs::{gettext, ngettext, pgettext};

fn describe<'a>(name: &'a str) -> String {
    // Translators: the name of a virtual machine follows
    gettext("Virtual machine")
}

fn count(n: u32) -> String {
    ngettext("{} network card", "{} network cards", n)
}

fn source() -> String {
    let quote = '"';
    let apostrophe = '\'';
    pgettext("network source", "Bridge")
}

fn dynamic(key: &str) -> String {
    gettext(key)
}
