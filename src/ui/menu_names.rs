//! Names for screen readers on the items of menus built from a `gio::Menu`.
//!
//! GTK 4.18 labels each item of a `gtk::PopoverMenu` by a relation to a
//! label it keeps out of the accessibility tree, so AT-SPI reports every
//! item with an empty name (seen with a plain GTK test program too, not
//! only here): a screen reader says "menu item" and nothing else. The
//! relation outranks a label property, so it is dropped and the item's own
//! text given instead, each time the menu opens (GTK rebuilds the items
//! when the model changes).

use relm4::gtk;
use relm4::gtk::prelude::*;

/// Keeps the items of `button`'s menu named whenever it opens.
pub fn name_items_when_shown(button: &gtk::MenuButton) {
    if let Some(popover) = button.popover() {
        popover.connect_map(|popover| name_items(popover.upcast_ref()));
    }
}

fn name_items(widget: &gtk::Widget) {
    let mut child = widget.first_child();
    while let Some(item) = child {
        if item.css_name() == "modelbutton" {
            let text: Option<String> = item.property("text");
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                item.reset_relation(gtk::AccessibleRelation::LabelledBy);
                item.update_property(&[gtk::accessible::Property::Label(&without_mnemonic(&text))]);
            }
        }
        name_items(&item);
        child = item.next_sibling();
    }
}

/// The text as shown: items' labels use underlines for mnemonics ("_About"
/// shows "About"; "__" shows one underscore).
fn without_mnemonic(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '_' => shown.extend(chars.next()),
            c => shown.push(c),
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::without_mnemonic;

    #[test]
    fn mnemonics_are_not_spoken() {
        assert_eq!(without_mnemonic("_About VM Network Doctor"), "About VM Network Doctor");
        assert_eq!(without_mnemonic("qemu__system"), "qemu_system");
        assert_eq!(without_mnemonic("Refresh"), "Refresh");
    }
}
