//! The About dialog.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;

use crate::config;

pub fn show(parent: &impl IsA<gtk::Widget>) {
    let dialog = adw::AboutDialog::builder()
        .application_name(gettext("VM Network Doctor"))
        .application_icon(config::APP_ID)
        .developer_name(gettext("The VM Network Doctor developers"))
        .version(config::VERSION)
        .comments(gettext(
            "Shows every network card of your libvirt virtual machines, explains in plain words why one has no network, and fixes it.",
        ))
        .website("https://github.com/vmnetdoctor/vmnet-doctor")
        .issue_url("https://github.com/vmnetdoctor/vmnet-doctor/issues")
        .license_type(gtk::License::Gpl30)
        // Translators: replace with your name and e-mail, one per line.
        .translator_credits(gettext("translator-credits"))
        .build();
    dialog.present(Some(parent));
}
