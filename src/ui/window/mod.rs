//! The main window: every libvirt connection's host and VMs in the
//! sidebar, the selected VM's network cards (or a host's page) in the
//! content pane, and status pages while nothing is open yet or when every
//! connection failed.
//!
//! This module holds the component: its state, its messages, its view and
//! what each message does. The work those messages start lives beside it:
//! `session` (one connection's state), `connection` (opening, following
//! and losing each connection), `reconnecting` (getting a broken one
//! back), `sidebar` (the one list of every connection's entries),
//! `content` (showing a snapshot: the pages and titles), `dialogs` (the
//! dialogs the window opens), `chrome` (menus, actions, window size),
//! `phase` (what the window shows as a whole) and `search` (the sidebar's
//! search, with `search_bench`, its benchmark).

mod chrome;
mod connection;
mod content;
mod dialogs;
mod guest_load_bench;
mod phase;
mod reconnecting;
mod search;
mod search_bench;
mod session;
mod sidebar;

use std::cell::RefCell;
use std::rc::Rc;

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::typed_view::grid::TypedGridView;
use relm4::{Component, ComponentController, ComponentParts, ComponentSender, Controller, gtk};
use vmnet_doctor_core::{Fact, Finding, HostFacts, Snapshot};
use vmnet_doctor_libvirt::{LibvirtError, LibvirtEvent};

use crate::connections::{self, Connection};
use crate::gui_options::GuiOptions;
use crate::settings;
use crate::ui::about;
use crate::ui::first_connection::OpenedConnection;
use crate::ui::fix_all_dialog::FixAllDialog;
use crate::ui::fix_dialog::{FixDialog, FixDialogOutput};
use crate::ui::host_page::HostPage;
use crate::ui::nic_actions::{ActionSink, VmActionRequest};
use crate::ui::reconnect::Trigger;
use crate::ui::sidebar_item::{SessionId, SidebarItem};
use crate::ui::verdict_group::PageRequest;
use crate::ui::vm_action_dialog::{VmActionDialog, VmActionOutput};
use crate::ui::vm_filter::VmFilter;
use crate::ui::vm_page::VmPage;
use crate::ui::vm_search::VmSearch;
use crate::ui::wizard::{Wizard, WizardOutput};
use crate::virt_manager::Launcher;

use chrome::{
    breakpoint, build_connection_menu, connection_button, install_window_actions, main_menu_button,
    restore_window_state, save_window_state,
};
pub use connection::start_uris;
use dialogs::ask_for_uri;
use phase::{Phase, connecting_title, failure};
use search::SidebarList;
use search_bench::SearchBench;
use session::Session;

#[derive(Debug)]
pub struct Window {
    phase: Phase,
    connections: Vec<Connection>,
    connection_menu: gio::Menu,
    /// Every connection in the sidebar, in its order.
    sessions: Vec<Session>,
    /// The last request number given out: connecting, refreshing and
    /// reconnecting each take a new one, unique across connections, so
    /// an answer finds its connection, and a late one for a request given
    /// up on finds none.
    attempts: u64,
    next_session: SessionId,
    /// Every connection's host and VMs, one group after another.
    vm_list: TypedGridView<SidebarItem, gtk::SingleSelection>,
    /// The connection whose page is shown: its host, or one of its VMs.
    shown: Option<SessionId>,
    /// The VM whose page is shown: selected in the list, or hidden there
    /// by the search.
    selected: Option<String>,
    /// The sidebar's search, and the filter it set on `vm_list` (shared
    /// with the list's filter function).
    search: VmSearch,
    filter: Rc<RefCell<VmFilter>>,
    /// `VMNET_DOCTOR_BENCH_SEARCH`: the search's benchmark.
    search_bench: Option<SearchBench>,
    /// `--vm NAME`: selected once a snapshot with it arrives.
    initial_vm: Option<String>,
    vm_page: Controller<VmPage>,
    host_page: Controller<HostPage>,
    /// The content pane shows the shown connection's Host page (or, while
    /// it is not open, what became of it) rather than a VM.
    showing_host: bool,
    /// The window has not yet painted its first VM list: until it has, the
    /// VM and Host pages are not built. A VM's page is some 300 widgets,
    /// whose styling and layout in the same frame delayed the list by a
    /// third at 10 VMs (docs/benchmarks.md); it follows a frame later.
    pages_wait_for_list: bool,
    /// The Host page shows an older snapshot than its connection's: it is
    /// rebuilt only when it is shown, since building and styling it while
    /// hidden took a third of the time from a VM's event to its page on screen.
    host_page_stale: bool,
    split_view: adw::NavigationSplitView,
    settings: Option<gio::Settings>,
    /// The connections came from the command line: they are not remembered.
    explicit: bool,
    /// virt-manager, when it is installed.
    virt_manager: Option<Launcher>,
    toasts: adw::ToastOverlay,
    /// What the sidebar title's labels last told screen readers: set again
    /// only when it changes, not on every update (each is an AT-SPI event).
    sidebar_title_described: RefCell<String>,
    /// The open Fix dialog.
    fix_dialog: Option<Controller<FixDialog>>,
    fix_all_dialog: Option<Controller<FixAllDialog>>,
    /// The open dialog of a change picked on the VM page.
    vm_action_dialog: Option<Controller<VmActionDialog>>,
    /// The open setup wizard, and the connection it works on.
    wizard: Option<(SessionId, Controller<Wizard>)>,
    /// `--setup`: open the wizard once connected.
    setup_requested: bool,
}

#[derive(Debug)]
pub enum WindowMsg {
    /// Opens the connection (added to the sidebar) and shows its host.
    Connect(String),
    /// The connections of the start.
    ConnectAll(Vec<String>),
    /// Every connection.
    Refresh,
    /// The connection of the page shown, or the wizard's (after a fix).
    RefreshShown,
    /// Removes the shown connection from the sidebar.
    CloseConnection,
    Cancel,
    Retry,
    /// The banner's Try Now while reconnecting.
    ReconnectNow,
    OpenDemo,
    AskForUri,
    SelectionChanged,
    /// Enter or a double click on the list's entry at this position.
    Activated(u32),
    /// The first frame showing the VM list was painted: the pages follow.
    ListPainted,
    /// Ctrl+F.
    FindVm,
    /// The search's text or toggle changed.
    Filter(VmFilter),
    /// Enter in the search.
    OpenFirstMatch,
    SearchClosed,
    ShowHost,
    About,
    SaveWindowState,
    OpenInVirtManager,
    /// A finding's Fix… button.
    Fix(Box<Finding>),
    FixDialog(FixDialogOutput),
    /// Fix All… on a VM's or the host's page, with its findings.
    FixAll(Vec<Finding>),
    /// A VM page menu's item (a card's link, model, network; the VM's
    /// agent channel, restart).
    VmAction(Box<VmActionRequest>),
    VmActionDialog(VmActionOutput),
    /// Set Up Networking… (main menu, first run, `--setup`).
    Setup,
    Wizard(WizardOutput),
}

/// Besides the answers to connecting and refreshing: `Event`, libvirt
/// announced a change (`None`: announcements were missed); `Updated`, the snapshot
/// taken for events. `connection` is the attempt that opened the connection.
/// `ReconnectDue`, the back-off's wait is over; `Reconnected`, a try's answer.
#[derive(Debug)]
pub enum WindowCmd {
    Opened {
        attempt: u64,
        result: Result<OpenedConnection, LibvirtError>,
    },
    ReconnectDue {
        attempt: u64,
    },
    Reconnected {
        attempt: u64,
        result: Result<OpenedConnection, LibvirtError>,
    },
    Refreshed {
        attempt: u64,
        result: Result<Snapshot, LibvirtError>,
    },
    Event {
        connection: u64,
        event: Option<LibvirtEvent>,
    },
    /// `host_read`: the snapshot's host facts were read for it (not kept
    /// from the one before).
    Updated {
        connection: u64,
        result: Result<Snapshot, LibvirtError>,
        host_read: bool,
    },
    /// The host facts of the snapshot shown when the connection opened.
    HostFacts {
        attempt: u64,
        facts: Fact<Box<HostFacts>>,
    },
}

#[relm4::component(pub)]
impl Component for Window {
    type Init = GuiOptions;
    type Input = WindowMsg;
    type Output = ();
    type CommandOutput = WindowCmd;

    view! {
        adw::ApplicationWindow {
            set_title: Some(&gettext("VM Network Doctor")),
            set_width_request: 360,
            set_height_request: 294,
            connect_close_request[sender] => move |_| {
                sender.input(WindowMsg::SaveWindowState);
                glib::Propagation::Proceed
            },

            #[local_ref]
            toasts -> adw::ToastOverlay {
            #[name = "pages"]
            gtk::Stack {
                set_transition_type: gtk::StackTransitionType::Crossfade,
                // Only the page shown counts for the window's minimum size.
                set_hhomogeneous: false,
                set_vhomogeneous: false,

                add_named[Some("idle")] = &adw::ToolbarView {
                    add_top_bar = &adw::HeaderBar {
                        pack_start = &connection_button(&model.connection_menu),
                        pack_end = &main_menu_button(),
                    },
                    #[wrap(Some)]
                    set_content = &adw::StatusPage {
                        set_icon_name: Some("network-server-symbolic"),
                        set_title: &gettext("No Connection"),
                        set_description: Some(&gettext("Choose a libvirt connection from the menu in the header bar.")),
                        #[wrap(Some)]
                        set_child = &gtk::Button {
                            set_label: &gettext("Open Demo Hypervisor"),
                            set_halign: gtk::Align::Center,
                            add_css_class: "pill",
                            connect_clicked => WindowMsg::OpenDemo,
                        },
                    },
                },

                add_named[Some("connecting")] = &adw::ToolbarView {
                    add_top_bar = &adw::HeaderBar {
                        pack_start = &connection_button(&model.connection_menu),
                        pack_end = &main_menu_button(),
                    },
                    #[wrap(Some)]
                    set_content = &adw::StatusPage {
                        #[watch]
                        set_title: &connecting_title(&model.phase),
                        set_description: Some(&gettext("Reading virtual machines and networks…")),
                        #[wrap(Some)]
                        set_child = &gtk::Box {
                            set_orientation: gtk::Orientation::Vertical,
                            set_spacing: 24,
                            gtk::Spinner {
                                #[watch]
                                set_spinning: matches!(model.phase, Phase::Connecting { .. }),
                                set_size_request: (32, 32),
                                set_halign: gtk::Align::Center,
                            },
                            gtk::Button {
                                set_label: &gettext("Cancel"),
                                set_halign: gtk::Align::Center,
                                add_css_class: "pill",
                                connect_clicked => WindowMsg::Cancel,
                            },
                        },
                    },
                },

                add_named[Some("failed")] = &adw::ToolbarView {
                    add_top_bar = &adw::HeaderBar {
                        pack_start = &connection_button(&model.connection_menu),
                        pack_end = &main_menu_button(),
                    },
                    #[wrap(Some)]
                    set_content = &adw::StatusPage {
                        set_icon_name: Some("network-offline-symbolic"),
                        #[watch]
                        set_title: &failure(&model.phase).map(|t| t.title.clone()).unwrap_or_default(),
                        #[watch]
                        set_description: failure(&model.phase).map(|t| t.advice.as_str()),
                        #[wrap(Some)]
                        set_child = &adw::Clamp {
                            set_maximum_size: 560,
                            gtk::Box {
                                set_orientation: gtk::Orientation::Vertical,
                                set_spacing: 18,
                                gtk::Box {
                                    set_orientation: gtk::Orientation::Vertical,
                                    set_spacing: 12,
                                    set_halign: gtk::Align::Center,
                                    gtk::Button {
                                        set_label: &gettext("Try Again"),
                                        add_css_class: "pill",
                                        add_css_class: "suggested-action",
                                        connect_clicked => WindowMsg::Retry,
                                    },
                                    gtk::Button {
                                        set_label: &gettext("Open Demo Hypervisor"),
                                        add_css_class: "pill",
                                        connect_clicked => WindowMsg::OpenDemo,
                                    },
                                },
                                gtk::Expander {
                                    set_label: Some(&gettext("Details")),
                                    #[watch]
                                    set_visible: failure(&model.phase).is_some_and(|t| t.detail.is_some()),
                                    gtk::Label {
                                        #[watch]
                                        set_label: failure(&model.phase).and_then(|t| t.detail.as_deref()).unwrap_or_default(),
                                        set_wrap: true,
                                        set_selectable: true,
                                        set_xalign: 0.0,
                                        add_css_class: "monospace",
                                    },
                                },
                            },
                        },
                    },
                },

                add_named[Some("connected")] = &gtk::Box {
                set_orientation: gtk::Orientation::Vertical,
                // The connection broke: what is shown is its last state.
                adw::Banner {
                    set_title: &gettext("Lost the connection to libvirt. What is shown may be out of date. Reconnecting…"),
                    set_button_label: Some(&gettext("Try Now")),
                    // Hidden, not only concealed, while connected: screen
                    // readers then find no banner text in the tree.
                    #[watch]
                    set_visible: model.shown_reconnecting(),
                    #[watch]
                    set_revealed: model.shown_reconnecting(),
                    connect_button_clicked => WindowMsg::ReconnectNow,
                },
                #[local_ref]
                split_view -> adw::NavigationSplitView {
                    set_vexpand: true,
                    set_min_sidebar_width: 260.0,
                    set_max_sidebar_width: 340.0,
                    // A little over libadwaita's quarter, so that the title
                    // still fits beside the search button on a usual window.
                    set_sidebar_width_fraction: 0.27,

                    #[wrap(Some)]
                    set_sidebar = &adw::NavigationPage {
                        set_title: &gettext("Virtual Machines"),
                        #[wrap(Some)]
                        #[name = "sidebar"]
                        set_child = &adw::ToolbarView {
                            add_top_bar = &adw::HeaderBar {
                                pack_start = &connection_button(&model.connection_menu),
                                pack_start: model.search.button(),
                                pack_end = &main_menu_button(),
                                pack_end = &gtk::Spinner {
                                    #[watch]
                                    set_spinning: model.any_refreshing(),
                                    #[watch]
                                    set_visible: model.any_refreshing(),
                                    set_tooltip_text: Some(&gettext("Refreshing…")),
                                },
                                #[wrap(Some)]
                                #[name = "sidebar_title"]
                                set_title_widget = &adw::WindowTitle {
                                    set_title: &gettext("Virtual Machines"),
                                    #[watch]
                                    set_subtitle: &model.sidebar_subtitle(),
                                    // Beside five buttons at 360 px a long
                                    // translation is ellipsized: the tooltip
                                    // (and the description screen readers
                                    // read) has it in full.
                                    #[watch]
                                    set_tooltip_text: Some(&model.sidebar_title_in_full()),
                                },
                            },
                            add_top_bar: model.search.bar(),
                            #[wrap(Some)]
                            set_content = &gtk::Box {
                            set_orientation: gtk::Orientation::Vertical,
                            gtk::ScrolledWindow {
                                set_hscrollbar_policy: gtk::PolicyType::Never,
                                // With no VM to show, the hosts' entries take
                                // only their height, above the placeholder.
                                set_propagate_natural_height: true,
                                #[watch]
                                set_vexpand: model.visible_count() > 0,
                                #[local_ref]
                                // A one-column grid view, styled as the sidebar's
                                // list (src/ui/style.css): it keeps row widgets
                                // for about 30 items where a list view keeps 200, so
                                // a search key press rebuilds a sixth as many rows
                                // (docs/benchmarks.md, "Find a VM").
                                vm_list_view -> gtk::GridView {
                                    set_max_columns: 1,
                                    add_css_class: "navigation-sidebar",
                                    add_css_class: "vm-sidebar",
                                    update_property: &[gtk::accessible::Property::Label(&gettext("Virtual machines"))],
                                },
                            },
                            gtk::Stack {
                                #[watch]
                                set_visible: model.visible_count() == 0,
                                set_vexpand: true,
                                add_named[Some("empty")] = &adw::StatusPage {
                                    set_icon_name: Some("computer-symbolic"),
                                    set_title: &gettext("No Virtual Machines"),
                                    #[watch]
                                    set_description: Some(&model.empty_description()),
                                    add_css_class: "compact",
                                },
                                add_named[Some("no-match")] = &adw::StatusPage {
                                    set_icon_name: Some("edit-find-symbolic"),
                                    set_title: &gettext("No Matching VMs"),
                                    #[watch]
                                    set_description: Some(&model.no_match_description()),
                                    add_css_class: "compact",
                                },
                                #[watch]
                                set_visible_child_name: if model.vm_count() == 0 { "empty" } else { "no-match" },
                            },
                            },
                        },
                    },

                    #[wrap(Some)]
                    set_content = &adw::NavigationPage {
                        #[watch]
                        set_title: &model.content_title(),
                        #[wrap(Some)]
                        set_child = &adw::ToolbarView {
                            add_top_bar = &adw::HeaderBar {
                                pack_end = &gtk::Button {
                                    // The label gives way (ellipsised) before the
                                    // window does: it must fit in 360 px.
                                    #[wrap(Some)]
                                    set_child = &adw::ButtonContent {
                                        set_icon_name: "document-edit-symbolic",
                                        set_label: &gettext("Open in virt-manager"),
                                        set_can_shrink: true,
                                    },
                                    set_tooltip_text: Some(&gettext("Edit this VM's hardware in Virtual Machine Manager")),
                                    #[watch]
                                    set_visible: model.virt_manager.is_some() && model.selected.is_some() && !model.showing_host,
                                    connect_clicked => WindowMsg::OpenInVirtManager,
                                },
                            },
                            #[wrap(Some)]
                            set_content = &gtk::Stack {
                                // Only the page shown counts for the minimum width.
                                set_hhomogeneous: false,
                                add_named: (model.vm_page.widget(), Some("vm")),
                                add_named: (model.host_page.widget(), Some("host")),
                                // A connection still opening, or that failed,
                                // while others are shown.
                                add_named[Some("connection")] = &adw::StatusPage {
                                    #[watch]
                                    set_icon_name: model.shown_failure().map(|_| "network-offline-symbolic"),
                                    #[watch]
                                    set_title: &model.shown_status_title(),
                                    #[watch]
                                    set_description: Some(&model.shown_status_description()),
                                    #[wrap(Some)]
                                    set_child = &gtk::Box {
                                        set_orientation: gtk::Orientation::Vertical,
                                        set_spacing: 12,
                                        set_halign: gtk::Align::Center,
                                        gtk::Spinner {
                                            #[watch]
                                            set_visible: model.shown_failure().is_none(),
                                            #[watch]
                                            set_spinning: model.shown_failure().is_none() && model.showing_connection_status(),
                                            set_size_request: (32, 32),
                                            set_halign: gtk::Align::Center,
                                        },
                                        gtk::Button {
                                            set_label: &gettext("Try Again"),
                                            add_css_class: "pill",
                                            add_css_class: "suggested-action",
                                            #[watch]
                                            set_visible: model.shown_failure().is_some(),
                                            connect_clicked => WindowMsg::RefreshShown,
                                        },
                                        gtk::Button {
                                            set_label: &gettext("Close Connection"),
                                            add_css_class: "pill",
                                            connect_clicked => WindowMsg::CloseConnection,
                                        },
                                    },
                                },
                                #[watch]
                                set_visible_child_name: model.content_page(),
                            },
                        },
                    },
                },
                },

                // After the children, so the first call finds its page.
                #[watch]
                set_visible_child_name: model.phase.page(),
            },
            },

            add_breakpoint = breakpoint(&split_view),
        }
    }

    /// The sidebar's title, ellipsized beside five buttons at 360 px in a
    /// long translation, says itself in full to screen readers too.
    fn post_view() {
        let in_full = model.sidebar_title_in_full();
        if *model.sidebar_title_described.borrow() != in_full {
            chrome::describe_labels(sidebar_title.upcast_ref(), &in_full);
            model.sidebar_title_described.replace(in_full);
        }
    }

    fn init(options: GuiOptions, root: Self::Root, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let settings = settings::app_settings();
        let explicit = connection::explicit_uris(&options);
        let uris = start_uris(&options, settings.as_ref());
        let connections = connections::known(&explicit, &connections::from_virt_manager());
        let connection_menu = build_connection_menu(&connections);

        let SidebarList { vm_list, filter, search, search_bench } = SidebarList::new(&sender);
        let fix = |request| match request {
            PageRequest::Fix(finding) => WindowMsg::Fix(Box::new(finding)),
            PageRequest::FixAll(findings) => WindowMsg::FixAll(findings),
        };
        let on_action = ActionSink::new({
            let sender = sender.clone();
            move |request| sender.input(WindowMsg::VmAction(Box::new(request)))
        });
        let vm_page = VmPage::builder().launch(on_action).forward(sender.input_sender(), fix);
        let host_page = HostPage::builder().launch(()).forward(sender.input_sender(), fix);
        let model = Window {
            phase: Phase::Idle,
            connections,
            connection_menu,
            sessions: Vec::new(),
            attempts: 0,
            next_session: 0,
            vm_list,
            shown: None,
            selected: None,
            search,
            filter,
            search_bench,
            initial_vm: options.vm,
            sidebar_title_described: RefCell::default(),
            vm_page,
            host_page,
            showing_host: false,
            pages_wait_for_list: true,
            host_page_stale: false,
            split_view: adw::NavigationSplitView::new(),
            settings,
            explicit: !explicit.is_empty(),
            virt_manager: Launcher::find(),
            toasts: adw::ToastOverlay::new(),
            fix_dialog: None,
            fix_all_dialog: None,
            vm_action_dialog: None,
            wizard: None,
            setup_requested: options.setup,
        };
        let split_view = &model.split_view;
        let vm_list_view = &model.vm_list.view;
        let toasts = &model.toasts;
        let widgets = view_output!();
        // Typing anywhere in the sidebar opens the search with what was typed.
        model.search.capture_typing_in(&widgets.sidebar);

        if crate::config::is_development() {
            // GNOME's striped header bar marks development builds.
            root.add_css_class("devel");
        }
        crate::ui::style::install(&WidgetExt::display(&root));
        install_window_actions(&root, &sender);
        restore_window_state(&root, model.settings.as_ref());

        sender.input(WindowMsg::ConnectAll(uris));

        ComponentParts { model, widgets }
    }

    fn update(&mut self, msg: WindowMsg, sender: ComponentSender<Self>, root: &Self::Root) {
        match msg {
            WindowMsg::Connect(uri) => self.connect(uri, &sender),
            WindowMsg::ConnectAll(uris) => self.connect_all(uris, &sender),
            WindowMsg::Retry => self.retry_failed(&sender),
            WindowMsg::ReconnectNow => {
                if let Some(id) = self.shown {
                    self.try_reconnect(id, Trigger::User, &sender);
                }
            }
            WindowMsg::OpenDemo => self.connect(connections::demo_uri(), &sender),
            WindowMsg::Cancel => self.cancel_connecting(),
            WindowMsg::Refresh => {
                for id in self.session_ids(|_| true) {
                    self.refresh(id, &sender);
                }
            }
            WindowMsg::RefreshShown => {
                // After a fix: that of the wizard's connection, when it is open.
                if let Some(id) = self.wizard.as_ref().map(|(id, _)| *id).or(self.shown) {
                    self.refresh(id, &sender);
                }
            }
            WindowMsg::CloseConnection => self.close_shown(),
            WindowMsg::AskForUri => ask_for_uri(root, &sender),
            WindowMsg::SelectionChanged => self.selection_changed(),
            WindowMsg::Activated(position) => self.activated(position),
            WindowMsg::ListPainted => self.list_painted(),
            WindowMsg::FindVm => self.find_vm(),
            WindowMsg::Filter(filter) => self.apply_filter(filter),
            WindowMsg::OpenFirstMatch => self.open_first_match(),
            WindowMsg::SearchClosed => self.search_closed(),
            WindowMsg::ShowHost => self.show_host(),
            WindowMsg::About => about::show(root),
            WindowMsg::SaveWindowState => save_window_state(root, self.settings.as_ref()),
            WindowMsg::OpenInVirtManager => self.open_in_virt_manager(),
            WindowMsg::Fix(finding) => self.open_fix_dialog(*finding, &sender, root),
            WindowMsg::FixDialog(FixDialogOutput::Refresh) => sender.input(WindowMsg::RefreshShown),
            WindowMsg::FixDialog(FixDialogOutput::Fixed(message)) => {
                self.toasts.add_toast(adw::Toast::new(&message));
            }
            WindowMsg::FixDialog(FixDialogOutput::Closed) => {
                (self.fix_dialog, self.fix_all_dialog) = (None, None);
            }
            WindowMsg::FixAll(findings) => self.open_fix_all_dialog(findings, &sender, root),
            WindowMsg::VmAction(request) => self.open_vm_action_dialog(*request, &sender, root),
            WindowMsg::VmActionDialog(VmActionOutput::Refresh) => sender.input(WindowMsg::RefreshShown),
            WindowMsg::VmActionDialog(VmActionOutput::Done(message)) => {
                self.toasts.add_toast(adw::Toast::new(&message));
            }
            WindowMsg::VmActionDialog(VmActionOutput::Closed) => self.vm_action_dialog = None,
            WindowMsg::Setup => self.open_wizard(&sender, root),
            WindowMsg::Wizard(WizardOutput::Fix(finding)) => self.open_fix_dialog(*finding, &sender, root),
            WindowMsg::Wizard(WizardOutput::Closed) => self.wizard = None,
        }
        self.phase = self.current_phase();
    }

    fn update_cmd(&mut self, cmd: WindowCmd, sender: ComponentSender<Self>, root: &Self::Root) {
        let by_attempt = |window: &Self, attempt: u64| {
            window.sessions.iter().find(|session| session.attempt == attempt).map(|session| session.id)
        };
        match cmd {
            WindowCmd::Opened { attempt, result } => {
                if let Some(id) = by_attempt(self, attempt) {
                    self.opened(id, result, &sender);
                }
            }
            WindowCmd::Refreshed { attempt, result } => {
                if let Some(id) = by_attempt(self, attempt) {
                    self.refreshed(id, result, &sender, root);
                }
            }
            WindowCmd::Event { connection, event } => {
                if let Some(id) = self.following(connection) {
                    self.received(id, event, &sender);
                }
            }
            WindowCmd::ReconnectDue { attempt } => {
                if let Some(id) = by_attempt(self, attempt) {
                    self.try_reconnect(id, Trigger::Timer, &sender);
                }
            }
            WindowCmd::Reconnected { attempt, result } => {
                if let Some(id) = by_attempt(self, attempt) {
                    self.reconnected(id, result, &sender, root);
                }
            }
            WindowCmd::Updated { connection, result, host_read } => {
                if let Some(id) = self.following(connection) {
                    self.show_update(id, result, host_read, &sender, root);
                }
            }
            WindowCmd::HostFacts { attempt, facts } => {
                let reading =
                    self.sessions.iter().find(|session| session.host_facts_reading == Some(attempt));
                if let Some(id) = reading.map(|session| session.id) {
                    self.host_facts_read(id, facts);
                }
            }
        }
        // An answer for a request that was cancelled or superseded, or for
        // a connection closed since, finds no connection above.
        self.phase = self.current_phase();
    }
}
