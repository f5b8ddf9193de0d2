//! Plain texts on an `adw::ActionRow` built with use-markup off.
//!
//! libadwaita (1.7) parses a title or subtitle given at construction as
//! markup even when `use-markup: false` is given beside it: the flag takes
//! effect only after construction. A text with `<` or `&` (XML quoted in an
//! explanation, a VM's description, a shell command) then failed to show,
//! with a GTK warning. Set after construction, the texts are plain.

use relm4::adw;
use relm4::adw::prelude::*;

/// `row` (built with use-markup off) with `title` and `subtitle` as plain
/// text; an empty subtitle leaves none.
pub fn plain_texts(row: adw::ActionRow, title: &str, subtitle: &str) -> adw::ActionRow {
    debug_assert!(!row.uses_markup(), "plain_texts needs a row built with use-markup off");
    row.set_title(title);
    if !subtitle.is_empty() {
        row.set_subtitle(subtitle);
    }
    row
}
