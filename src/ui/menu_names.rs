//! Menus built from a `gio::Menu` when they first open, with names for
//! screen readers on their items.
//!
//! A `gtk::PopoverMenu` made up front is some forty widgets per menu, all
//! styled before the window's first frame; the window has eight of them
//! and every network card one more, so they are made on first use.
//!
//! GTK 4.18 labels each item of a `gtk::PopoverMenu` by a relation to a
//! label it keeps out of the accessibility tree, so AT-SPI reports every
//! item with an empty name (seen with a plain GTK test program too, not
//! only here): a screen reader says "menu item" and nothing else. The
//! relation outranks a label property, so it is dropped and the item's own
//! text given instead, each time the menu opens (GTK rebuilds the items
//! when the model changes).

use relm4::gtk;
use relm4::gtk::gio;
use relm4::gtk::prelude::*;

/// Gives `button` the menu of `model`, made when it first opens, its
/// items named whenever it opens.
pub fn menu_made_when_opened(button: &gtk::MenuButton, model: &impl IsA<gio::MenuModel>) {
    let model = model.clone().upcast::<gio::MenuModel>();
    button.set_create_popup_func(move |button| {
        if button.popover().is_some() {
            return;
        }
        button.set_menu_model(Some(&model));
        if let Some(popover) = button.popover() {
            popover.connect_map(|popover| name_items(popover.upcast_ref()));
        }
    });
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
