//! The GTK floor of `tools/bench` (#20): the least a libadwaita app does to
//! show N VMs in a sidebar shaped like ours — an application window with a
//! navigation split view whose sidebar is a one-column grid view of N rows
//! (a state icon, the name and a summary as inscriptions, a status icon)
//! over a static list, and an empty content page. No libvirt, no
//! diagnosis: what is left is GTK's and libadwaita's own cost, which no
//! app can beat.
//!
//!     VMNET_DOCTOR_REPORT_STARTUP=1 bench_gtk_floor N
//!
//! Reports the first frame painted with the rows exactly as the app does
//! (`src/startup.rs`, shared): `vmnet-doctor: vm-list-populated T ms
//! vms=N`, T counted from the process's start.

use relm4::adw::prelude::*;
use relm4::{adw, gtk};

// The app's own start-up timing, so that both count from the same moment
// and report the same way; the floor uses only part of it.
#[allow(dead_code)]
#[path = "../src/startup.rs"]
mod startup;

fn main() -> gtk::glib::ExitCode {
    startup::mark_process_start();
    let Some(count) = std::env::args().nth(1).and_then(|n| n.parse::<usize>().ok()) else {
        eprintln!("usage: bench_gtk_floor N");
        return gtk::glib::ExitCode::FAILURE;
    };
    // A unique application, as the app is: registering its name on the
    // session bus is part of every GNOME app's start (about 40 ms on a
    // fresh bus here), so the floor pays it too.
    let app = adw::Application::builder().application_id("io.github.vmnetdoctor.BenchGtkFloor").build();
    app.connect_activate(move |app| build_window(app, count));
    // GTK's own arguments are not ours to parse.
    app.run_with_args::<&str>(&[])
}

fn build_window(app: &adw::Application, count: usize) {
    let names: Vec<String> = (1..=count).map(|n| format!("vm-{n:04}")).collect();
    let model = gtk::StringList::new(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let factory = gtk::SignalListItemFactory::new();
    factory.connect_setup(|_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else { return };
        let row = gtk::Box::new(gtk::Orientation::Horizontal, 12);
        row.append(&gtk::Image::from_icon_name("media-playback-start-symbolic"));
        let texts = gtk::Box::new(gtk::Orientation::Vertical, 0);
        texts.set_hexpand(true);
        let name = gtk::Inscription::new(None);
        let summary = gtk::Inscription::new(Some("Running · 1 network card"));
        summary.add_css_class("dim-label");
        summary.add_css_class("caption");
        texts.append(&name);
        texts.append(&summary);
        row.append(&texts);
        row.append(&gtk::Image::from_icon_name("dialog-warning-symbolic"));
        item.set_child(Some(&row));
    });
    factory.connect_bind(|_, item| {
        let Some(item) = item.downcast_ref::<gtk::ListItem>() else { return };
        let text = item.item().and_downcast::<gtk::StringObject>().map(|object| object.string());
        let name = item
            .child()
            .and_then(|row| row.first_child())
            .and_then(|icon| icon.next_sibling())
            .and_then(|texts| texts.first_child())
            .and_downcast::<gtk::Inscription>();
        if let (Some(name), Some(text)) = (name, text) {
            name.set_text(Some(&text));
        }
    });
    let list = gtk::GridView::new(Some(gtk::SingleSelection::new(Some(model))), Some(factory));
    list.set_max_columns(1);
    list.add_css_class("navigation-sidebar");
    let scrolled = gtk::ScrolledWindow::builder()
        .hscrollbar_policy(gtk::PolicyType::Never)
        .vexpand(true)
        .child(&list)
        .build();
    let sidebar = adw::ToolbarView::new();
    sidebar.add_top_bar(&adw::HeaderBar::new());
    sidebar.set_content(Some(&scrolled));
    let content = adw::ToolbarView::new();
    content.add_top_bar(&adw::HeaderBar::new());
    content.set_content(Some(&adw::StatusPage::builder().title("Floor").build()));
    let split = adw::NavigationSplitView::new();
    split.set_sidebar(Some(&adw::NavigationPage::new(&sidebar, "Virtual Machines")));
    split.set_content(Some(&adw::NavigationPage::new(&content, "Floor")));
    let window =
        adw::ApplicationWindow::builder().application(app).default_width(1100).default_height(720).build();
    window.set_content(Some(&split));
    window.present();
    // The first frame painted after the window is shown holds the rows.
    startup::report_vm_list_populated_when_painted(&window, count);
}
