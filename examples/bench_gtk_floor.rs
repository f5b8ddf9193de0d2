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
//!
//! Its sidebar has a search as the app's has (an entry and an "only VMs
//! with problems" toggle in a search bar) over a `GtkFilterListModel` with
//! GTK's own filters. With `VMNET_DOCTOR_BENCH_SEARCH=TEXT` it runs the
//! app's search benchmark on it (`src/ui/window/search_bench.rs`, shared):
//! GTK's least cost for each step. The rows are named as `make-host.py`
//! names its VMs, so the same text leaves as many; every eighth VM has no
//! problem.

use std::cell::Cell;
use std::rc::Rc;

use relm4::adw::prelude::*;
use relm4::{adw, gtk};

// The app's own start-up timing, so that both count from the same moment
// and report the same way; the floor uses only part of it.
#[allow(dead_code)]
#[path = "../src/startup.rs"]
mod startup;

#[path = "../src/ui/window/search_bench.rs"]
mod search_bench;

use search_bench::{SearchBench, SearchKeys};

/// `tools/bench/make-host.py`'s names, in its order.
const OSES: [&str; 5] = ["fedora", "debian", "ubuntu", "win11", "rocky"];

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
    let names: Vec<String> = (0..count).map(|vm| format!("{}-{vm:04}", OSES[vm % OSES.len()])).collect();
    let model = gtk::StringList::new(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let search = FloorSearch::new(model);
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
    let list =
        gtk::GridView::new(Some(gtk::SingleSelection::new(Some(search.filtered.clone()))), Some(factory));
    list.set_max_columns(1);
    list.add_css_class("navigation-sidebar");
    let scrolled = gtk::ScrolledWindow::builder()
        .hscrollbar_policy(gtk::PolicyType::Never)
        .vexpand(true)
        .child(&list)
        .build();
    let sidebar = adw::ToolbarView::new();
    sidebar.add_top_bar(&adw::HeaderBar::new());
    sidebar.add_top_bar(&search.bar);
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
    if let Some(bench) = SearchBench::from_env(search.clone()) {
        let (steps, filtered, view) = (bench.clone(), search.filtered.clone(), list.clone());
        search.entry.connect_search_changed(move |_| steps.applied(filtered.n_items(), &view));
        let (steps, filtered) = (bench.clone(), search.filtered.clone());
        search.problems.connect_toggled(move |_| steps.applied(filtered.n_items(), &list));
        bench.start();
    }
}

/// The floor's search: GTK's substring filter on the names, and a custom
/// filter for the toggle, told how its change narrows or widens the list.
#[derive(Debug, Clone)]
struct FloorSearch {
    bar: gtk::SearchBar,
    entry: gtk::SearchEntry,
    problems: gtk::ToggleButton,
    filtered: gtk::FilterListModel,
}

impl FloorSearch {
    fn new(names: gtk::StringList) -> Self {
        let entry = gtk::SearchEntry::new();
        entry.set_hexpand(true);
        entry.set_search_delay(0);
        let problems = gtk::ToggleButton::new();
        problems.set_icon_name("dialog-warning-symbolic");
        let controls = gtk::Box::new(gtk::Orientation::Horizontal, 6);
        controls.append(&entry);
        controls.append(&problems);
        let bar = gtk::SearchBar::new();
        bar.set_child(Some(&controls));
        bar.connect_entry(&entry);

        let by_name = gtk::StringFilter::new(Some(gtk::PropertyExpression::new(
            gtk::StringObject::static_type(),
            None::<&gtk::Expression>,
            "string",
        )));
        by_name.set_ignore_case(true);
        by_name.set_match_mode(gtk::StringFilterMatchMode::Substring);
        // As the app's, the filter changes on "search-changed".
        entry.connect_search_changed({
            let by_name = by_name.clone();
            move |entry| by_name.set_search(Some(&entry.text()))
        });
        let only_problems = Rc::new(Cell::new(false));
        let with_problems = gtk::CustomFilter::new({
            let only_problems = Rc::clone(&only_problems);
            move |item| {
                !only_problems.get()
                    || item
                        .downcast_ref::<gtk::StringObject>()
                        .is_some_and(|name| has_problem(&name.string()))
            }
        });
        problems.connect_toggled({
            let with_problems = with_problems.clone();
            move |problems| {
                only_problems.set(problems.is_active());
                with_problems.changed(if problems.is_active() {
                    gtk::FilterChange::MoreStrict
                } else {
                    gtk::FilterChange::LessStrict
                });
            }
        });
        let both = gtk::EveryFilter::new();
        both.append(by_name);
        both.append(with_problems);
        let filtered = gtk::FilterListModel::new(Some(names), Some(both));
        Self { bar, entry, problems, filtered }
    }
}

/// Every eighth VM (by its number) has no problem.
fn has_problem(name: &str) -> bool {
    let number = name.rsplit('-').next().and_then(|n| n.parse::<usize>().ok());
    number.is_none_or(|vm| vm % 8 != 0)
}

impl SearchKeys for FloorSearch {
    fn open(&self) {
        self.bar.set_search_mode(true);
        self.entry.grab_focus();
    }

    fn entry(&self) -> &gtk::SearchEntry {
        &self.entry
    }

    fn problems_only(&self) -> &gtk::ToggleButton {
        &self.problems
    }
}
