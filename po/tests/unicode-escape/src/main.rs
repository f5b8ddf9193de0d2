fn label() -> String {
    gettextrs::gettext("Checking\u{2026}")
}
