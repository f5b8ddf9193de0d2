//! A property row for one fact of the host, marked fine, broken or unknown
//! with an icon that also says so to screen readers. What was not checked
//! gets a question mark, never a tick.

use crate::ui::plain_texts::plain_texts;
use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;

/// How a fact bears on the VMs' network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Good,
    Bad,
    Unknown,
    /// Worth showing, neither good nor bad (e.g. a bridge name).
    Neutral,
}

/// A row whose subtitle is the value (libadwaita's `property` style),
/// selectable so names and addresses can be copied.
pub fn build(title: &str, value: &str, health: Health) -> adw::ActionRow {
    let row = plain_texts(
        adw::ActionRow::builder().use_markup(false).subtitle_selectable(true).build(),
        title,
        value,
    );
    row.add_css_class("property");
    if let Some(icon) = health_icon(health) {
        row.add_suffix(&icon);
    }
    row
}

/// The icon for `health`, named for screen readers; none for neutral facts.
pub fn health_icon(health: Health) -> Option<gtk::Image> {
    let (icon, style, label) = match health {
        Health::Good => ("object-select-symbolic", "success", gettext("Fine")),
        Health::Bad => ("dialog-error-symbolic", "error", gettext("Problem")),
        Health::Unknown => ("dialog-question-symbolic", "dim-label", gettext("Not known")),
        Health::Neutral => return None,
    };
    Some(labelled_icon(icon, style, &label))
}

/// An icon in `style` that says `label` as tooltip and to screen readers.
pub fn labelled_icon(icon: &str, style: &str, label: &str) -> gtk::Image {
    let image = gtk::Image::from_icon_name(icon);
    image.add_css_class(style);
    image.set_valign(gtk::Align::Center);
    image.set_tooltip_text(Some(label));
    image.update_property(&[gtk::accessible::Property::Label(label)]);
    image
}
