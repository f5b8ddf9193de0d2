fn main() { let _ = gettextrs::gettext("Listed"); }
