//! The app's style sheet (`style.css`), compiled in so that plain `cargo
//! run` looks the same as the installed app.

use relm4::gtk::{self, gdk};

/// Adds the style sheet to `display`, above the theme.
pub fn install(display: &gdk::Display) {
    let provider = gtk::CssProvider::new();
    provider.load_from_string(include_str!("style.css"));
    gtk::style_context_add_provider_for_display(display, &provider, gtk::STYLE_PROVIDER_PRIORITY_APPLICATION);
}
