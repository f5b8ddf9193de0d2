//! The window's chrome: the header bar's connection and main menus, the
//! window actions they and the shortcuts trigger, the breakpoint that
//! collapses the sidebar, and the window size kept in GSettings. Apart
//! from the component because none of it depends on its state.

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::{ComponentSender, gtk};

use super::{Window, WindowMsg};
use crate::connections::Connection;
use crate::ui::{actions, menu_names};

pub(super) fn build_connection_menu(connections: &[Connection]) -> gio::Menu {
    let menu = gio::Menu::new();
    fill_connection_menu(&menu, connections);
    menu
}

pub(super) fn fill_connection_menu(menu: &gio::Menu, connections: &[Connection]) {
    let known = gio::Menu::new();
    for connection in connections {
        let item = gio::MenuItem::new(Some(&connection.label), None);
        item.set_action_and_target_value(Some(actions::CONNECT), Some(&connection.uri.to_variant()));
        known.append_item(&item);
    }
    menu.append_section(Some(&gettext("Connections")), &known);
    let other = gio::Menu::new();
    other.append(Some(&gettext("Other Connection…")), Some(actions::OTHER_CONNECTION));
    menu.append_section(None, &other);
}

pub(super) fn connection_button(menu: &gio::Menu) -> gtk::MenuButton {
    let button = gtk::MenuButton::builder()
        .icon_name("network-server-symbolic")
        .tooltip_text(gettext("Connection"))
        .build();
    menu_names::menu_made_when_opened(&button, menu);
    button
}

pub(super) fn main_menu_button() -> gtk::MenuButton {
    let menu = gio::Menu::new();
    let section = gio::Menu::new();
    section.append(Some(&gettext("_Refresh")), Some(actions::REFRESH));
    section.append(Some(&gettext("_Set Up Networking…")), Some(actions::SETUP));
    section.append(Some(&gettext("_Other Connection…")), Some(actions::OTHER_CONNECTION));
    section.append(Some(&gettext("_Close Connection")), Some(actions::CLOSE_CONNECTION));
    menu.append_section(None, &section);
    let about = gio::Menu::new();
    about.append(Some(&gettext("_About VM Network Doctor")), Some(actions::ABOUT));
    menu.append_section(None, &about);
    let button = gtk::MenuButton::builder()
        .icon_name("open-menu-symbolic")
        .tooltip_text(gettext("Main Menu"))
        .primary(true)
        .build();
    menu_names::menu_made_when_opened(&button, &menu);
    button
}

pub(super) fn breakpoint(split_view: &adw::NavigationSplitView) -> adw::Breakpoint {
    let condition = adw::BreakpointCondition::new_length(
        adw::BreakpointConditionLengthType::MaxWidth,
        600.0,
        adw::LengthUnit::Sp,
    );
    let breakpoint = adw::Breakpoint::new(condition);
    breakpoint.add_setter(split_view, "collapsed", Some(&true.to_value()));
    breakpoint
}

pub(super) fn install_window_actions(window: &adw::ApplicationWindow, sender: &ComponentSender<Window>) {
    let group = gio::SimpleActionGroup::new();
    let simple = |name: &str, msg: fn() -> WindowMsg| {
        let action = gio::SimpleAction::new(name, None);
        let sender = sender.clone();
        action.connect_activate(move |_, _| sender.input(msg()));
        group.add_action(&action);
    };
    simple("refresh", || WindowMsg::Refresh);
    simple("show-host", || WindowMsg::ShowHost);
    simple("other-connection", || WindowMsg::AskForUri);
    simple("about", || WindowMsg::About);
    simple("setup", || WindowMsg::Setup);
    simple("find-vm", || WindowMsg::FindVm);
    simple("close-connection", || WindowMsg::CloseConnection);
    let connect = gio::SimpleAction::new("connect", Some(glib::VariantTy::STRING));
    connect.connect_activate({
        let sender = sender.clone();
        move |_, target| {
            if let Some(uri) = target.and_then(|v| v.get::<String>()) {
                sender.input(WindowMsg::Connect(uri));
            }
        }
    });
    group.add_action(&connect);
    window.insert_action_group("win", Some(&group));
}

pub(super) fn restore_window_state(window: &adw::ApplicationWindow, settings: Option<&gio::Settings>) {
    let (width, height, maximized) = match settings {
        Some(s) => (s.int("window-width"), s.int("window-height"), s.boolean("is-maximized")),
        None => (960, 640, false),
    };
    window.set_default_size(width, height);
    if maximized {
        window.maximize();
    }
}

pub(super) fn save_window_state(window: &adw::ApplicationWindow, settings: Option<&gio::Settings>) {
    let Some(settings) = settings else { return };
    let (width, height) = window.default_size();
    // Failing to remember the size is not worth bothering the user about.
    let _ = settings.set_int("window-width", width);
    let _ = settings.set_int("window-height", height);
    let _ = settings.set_boolean("is-maximized", window.is_maximized());
}

/// Gives every label inside `widget` the accessible description `text`.
/// For AdwWindowTitle: its own node is a generic one, whose description
/// AT-SPI does not carry, so screen readers find it on its labels.
pub(super) fn describe_labels(widget: &gtk::Widget, text: &str) {
    let mut pending = vec![widget.clone()];
    while let Some(widget) = pending.pop() {
        if widget.is::<gtk::Label>() {
            widget.update_property(&[gtk::accessible::Property::Description(text)]);
        }
        let mut child = widget.first_child();
        while let Some(next) = child {
            child = next.next_sibling();
            pending.push(next);
        }
    }
}
