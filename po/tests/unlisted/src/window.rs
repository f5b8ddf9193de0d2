pub fn title() -> String {
    gettextrs::gettext("Not listed")
}
