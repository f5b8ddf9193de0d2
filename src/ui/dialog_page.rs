//! The pages the Fix and VM action dialogs share: a spinner while working,
//! libvirt's plan, an icon with a result, the widgets they are made of, and
//! showing a page with its main button focused once it is on screen.

use std::cell::Cell;
use std::rc::Rc;

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk;
use relm4::{Component, ComponentSender};
use vmnet_doctor_libvirt::FixPreview;

use crate::fixes::describe as fix_text;

/// A stage's content, and the widget that takes the keyboard focus (its
/// main button, or the first choice).
pub(crate) struct Page {
    pub(crate) widget: gtk::Widget,
    pub(crate) focus: Option<gtk::Widget>,
}

/// A dialog with room for a plan's XML diff.
pub(crate) fn dialog() -> adw::Dialog {
    adw::Dialog::builder().content_width(640).content_height(560).build()
}

/// Puts a toolbar view under `header` in the dialog, for [`show`] to fill,
/// and has the dialog send `closed` once it is closed.
pub(crate) fn frame<C: Component>(
    root: &adw::Dialog,
    header: &adw::HeaderBar,
    sender: &ComponentSender<C>,
    closed: impl Fn() -> C::Output + 'static,
) -> adw::ToolbarView {
    // The dialog's title wraps instead of losing its end: a finding's title
    // in a long translation does not fit one line at 360 px
    // (tests/gui/a11y/long_text.py measures it).
    let title = gtk::Label::builder()
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .justify(gtk::Justification::Center)
        // A wrapping label's natural width is a few words; on a wide dialog
        // the title asks for one line.
        .max_width_chars(80)
        .hexpand(true)
        .css_classes(["title"])
        .build();
    root.bind_property("title", &title, "label").sync_create().build();
    header.set_title_widget(Some(&title));
    let toolbar = adw::ToolbarView::new();
    toolbar.add_top_bar(header);
    root.set_child(Some(&toolbar));
    let sender = sender.clone();
    root.connect_closed(move |_| {
        let _ = sender.output(closed());
    });
    toolbar
}

/// Puts `page` in the dialog, its focus widget focused and, when it is a
/// button, the default; then reports `event` for the GUI tests once the
/// page takes keys.
pub(crate) fn show(root: &adw::Dialog, toolbar: &adw::ToolbarView, page: &Page, event: Option<String>) {
    let Some(focus) = page.focus.clone() else {
        toolbar.set_content(Some(&page.widget));
        root.set_default_widget(None::<&gtk::Widget>);
        if let Some(event) = event {
            report_event(&event);
        }
        return;
    };
    // A page that replaces one whose focused button went away gets no
    // focus from set_focus, nor from a grab while it maps (GTK clears
    // the lost focus after): its button grabs it once mapped, on the
    // next idle turn, and only then does Enter press it.
    let pending = Rc::new(Cell::new(Some(event)));
    let grab_when_idle = {
        let pending = Rc::clone(&pending);
        move |focus: &gtk::Widget| {
            let Some(event) = pending.take() else { return };
            let focus = focus.clone();
            gtk::glib::idle_add_local_once(move || {
                focus.grab_focus();
                if let Some(event) = event {
                    report_event(&event);
                }
            });
        }
    };
    // Mapped now when the dialog shows, later when it is yet to be presented.
    focus.connect_map({
        let grab_when_idle = grab_when_idle.clone();
        move |focus| grab_when_idle(focus)
    });
    toolbar.set_content(Some(&page.widget));
    // A button is also the default (Enter); a chosen row activates itself.
    root.set_default_widget(focus.downcast_ref::<gtk::Button>());
    root.set_focus(Some(&focus));
    if focus.is_mapped() {
        grab_when_idle(&focus);
    }
}

/// Says on stderr what a dialog did, for the GUI tests
/// (`VMNET_DOCTOR_REPORT_STARTUP=1`, as `crate::startup` reports).
pub(crate) fn report_event(event: &str) {
    if crate::startup::reporting() {
        eprintln!("vmnet-doctor: {event}");
    }
}

/// A button (label with a mnemonic) that sends `msg` to the dialog.
pub(crate) fn button<C: Component>(
    label: &str,
    sender: &ComponentSender<C>,
    msg: impl Fn() -> C::Input + 'static,
) -> gtk::Button {
    let button = gtk::Button::with_mnemonic(label);
    let sender = sender.clone();
    button.connect_clicked(move |_| sender.input(msg()));
    button
}

/// A spinner, what is happening, the steps under way; `cancel` below them
/// while leaving is safe.
pub(crate) fn working_page(what: &str, steps: &[String], cancel: Option<gtk::Button>) -> Page {
    let body = page_box();
    body.set_valign(gtk::Align::Center);
    let spinner = gtk::Spinner::builder().spinning(true).width_request(32).height_request(32).build();
    body.append(&spinner);
    let label = heading(what);
    label.set_xalign(0.5);
    label.set_justify(gtk::Justification::Center);
    body.append(&label);
    for step in steps {
        let line = text(step);
        line.add_css_class("dim-label");
        body.append(&line);
    }
    if let Some(cancel) = &cancel {
        cancel.set_halign(gtk::Align::Center);
        cancel.add_css_class("pill");
        body.append(cancel);
    }
    Page { widget: body.upcast(), focus: cancel.map(Cast::upcast) }
}

/// An icon, a title, what happened and what to do.
pub(crate) fn result_body(icon: &str, title: &str, message: &str, hint: Option<&str>) -> gtk::Box {
    let body = page_box();
    body.append(&gtk::Image::builder().icon_name(icon).pixel_size(48).build());
    let title = text(title);
    title.set_xalign(0.5);
    title.set_justify(gtk::Justification::Center);
    title.add_css_class("title-2");
    body.append(&title);
    let message = text(message);
    message.set_selectable(true);
    body.append(&message);
    if let Some(hint) = hint {
        let hint = text(hint);
        hint.set_selectable(true);
        hint.add_css_class("dim-label");
        body.append(&hint);
    }
    body
}

/// [`result_body`] with a Close button (`close`) under it.
pub(crate) fn result_page(
    icon: &str,
    title: &str,
    message: &str,
    hint: Option<&str>,
    close: gtk::Button,
) -> Page {
    let body = result_body(icon, title, message, hint);
    Page { widget: with_buttons(&body, &button_row(&[&close])), focus: Some(close.upcast()) }
}

/// libvirt's calls, the XML diff of each definition and when it takes effect.
pub(crate) fn libvirt_plan(body: &gtk::Box, preview: &FixPreview) {
    if preview.is_nothing_to_do() {
        body.append(&text(&gettext("libvirt already has this change: nothing to do.")));
        return;
    }
    body.append(&heading(&gettext("libvirt calls")));
    for (number, step) in preview.steps.iter().enumerate() {
        body.append(&text(&format!("{}. {}", number + 1, fix_text::step(step))));
    }
    let (now, after) = fix_text::diff_labels();
    for change in &preview.changes {
        body.append(&heading(&fix_text::definition(&change.definition)));
        body.append(&code(&change.diff(&now, &after)));
    }
    body.append(&heading(&gettext("When it takes effect")));
    body.append(&text(&fix_text::planned_effect(preview.effect)));
}

pub(crate) fn page_box() -> gtk::Box {
    gtk::Box::builder()
        .orientation(gtk::Orientation::Vertical)
        .spacing(12)
        .margin_top(12)
        .margin_bottom(18)
        .margin_start(18)
        .margin_end(18)
        .build()
}

pub(crate) fn text(label: &str) -> gtk::Label {
    gtk::Label::builder()
        .label(label)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .xalign(0.0)
        .build()
}

pub(crate) fn heading(label: &str) -> gtk::Label {
    let heading = text(label);
    heading.add_css_class("heading");
    heading
}

/// Text to read and copy exactly (XML, commands, file contents).
pub(crate) fn code(contents: &str) -> gtk::Widget {
    // A label, not a text view: a wrapping text view measured before its
    // text was laid out kept a zero height here (a long command showed as
    // a 12 px strip); a label measures its height for the width it gets.
    let label = gtk::Label::builder()
        .label(contents.trim_end_matches('\n'))
        .selectable(true)
        .wrap(true)
        .wrap_mode(gtk::pango::WrapMode::WordChar)
        .xalign(0.0)
        .css_classes(["monospace"])
        .margin_top(6)
        .margin_bottom(6)
        .margin_start(6)
        .margin_end(6)
        .build();
    let frame = gtk::Frame::new(None);
    frame.set_child(Some(&label));
    frame.upcast()
}

/// The buttons at the bottom of a page.
pub(crate) fn button_row(buttons: &[&gtk::Button]) -> gtk::Box {
    let row = gtk::Box::builder().spacing(12).halign(gtk::Align::End).margin_top(6).build();
    for button in buttons {
        button.add_css_class("pill");
        row.append(*button);
    }
    row
}

/// A scrolled body above a row of buttons.
pub(crate) fn with_buttons(body: &gtk::Box, buttons: &gtk::Box) -> gtk::Widget {
    let scrolled = gtk::ScrolledWindow::builder()
        .hscrollbar_policy(gtk::PolicyType::Never)
        .propagate_natural_height(true)
        .vexpand(true)
        .child(body)
        .build();
    let page = gtk::Box::new(gtk::Orientation::Vertical, 0);
    page.append(&scrolled);
    buttons.set_margin_start(18);
    buttons.set_margin_end(18);
    buttons.set_margin_bottom(18);
    page.append(buttons);
    page.upcast()
}
