fn label<'a>(_name: &str) -> String { gettextrs::gettext("Lost after a lifetime") }
