//! Keyboard shortcuts and the menus' action names.

use relm4::adw;
use relm4::gtk::prelude::*;

pub const REFRESH: &str = "win.refresh";
pub const OTHER_CONNECTION: &str = "win.other-connection";
pub const CONNECT: &str = "win.connect";
pub const CLOSE_CONNECTION: &str = "win.close-connection";
pub const ABOUT: &str = "win.about";
pub const SHOW_HOST: &str = "win.show-host";
pub const SETUP: &str = "win.setup";
pub const FIND_VM: &str = "win.find-vm";
pub const CLOSE: &str = "window.close";

pub fn install_app_accels(app: &adw::Application) {
    app.set_accels_for_action(REFRESH, &["<Control>r", "F5"]);
    app.set_accels_for_action(OTHER_CONNECTION, &["<Control>o"]);
    app.set_accels_for_action(SHOW_HOST, &["<Control>h"]);
    app.set_accels_for_action(SETUP, &["<Control><Shift>s"]);
    app.set_accels_for_action(FIND_VM, &["<Control>f"]);
    app.set_accels_for_action(CLOSE, &["<Control>w", "<Control>q"]);
}
