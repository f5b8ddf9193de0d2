//! The main window: a connection's VMs in the sidebar, the selected VM's
//! network cards in the content pane, and status pages while connecting or
//! when the connection fails.
//!
//! This module holds the component: its state, its messages, its view and
//! what each message does. The work those messages start lives beside it:
//! `connection` (opening, following and losing a connection), `content`
//! (showing a snapshot: the sidebar, the VM and Host pages), `dialogs` (the
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

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::typed_view::grid::TypedGridView;
use relm4::{Component, ComponentController, ComponentParts, ComponentSender, Controller, gtk};
use vmnet_doctor_core::{Fact, Finding, HostFacts, Snapshot};
use vmnet_doctor_libvirt::{EventKind, Hypervisor, LibvirtError, LibvirtEvent};

use crate::connections::{self, Connection};
use crate::gui_options::GuiOptions;
use crate::probe::with_host_facts;
use crate::settings;
use crate::ui::about;
use crate::ui::first_connection::OpenedConnection;
use crate::ui::fix_all_dialog::FixAllDialog;
use crate::ui::fix_dialog::{FixDialog, FixDialogOutput};
use crate::ui::host_page::HostPage;
use crate::ui::host_row::HostRow;
use crate::ui::live::Live;
use crate::ui::nic_actions::{ActionSink, VmActionRequest};
use crate::ui::reconnect::{Reconnect, Trigger};
use crate::ui::verdict_group::PageRequest;
use crate::ui::vm_action_dialog::{VmActionDialog, VmActionOutput};
use crate::ui::vm_filter::VmFilter;
use crate::ui::vm_list_item::VmListItem;
use crate::ui::vm_page::VmPage;
use crate::ui::vm_search::VmSearch;
use crate::ui::wizard::{Wizard, WizardOutput};
use crate::virt_manager::Launcher;

use chrome::{
    breakpoint, build_connection_menu, connection_button, install_window_actions, main_menu_button,
    restore_window_state, save_window_state,
};
use connection::explicit_uri;
pub use connection::first_uri;
use dialogs::ask_for_uri;
use phase::{Phase, connecting_title, failure};
use search::SidebarList;
use search_bench::SearchBench;

#[derive(Debug)]
pub struct Window {
    phase: Phase,
    connections: Vec<Connection>,
    connection_menu: gio::Menu,
    hypervisor: Option<Arc<Hypervisor>>,
    snapshot: Option<Arc<Snapshot>>,
    /// The diagnosis of `snapshot`.
    findings: Vec<Finding>,
    /// Bumped on every connect or cancel, so a late answer for an attempt the
    /// user gave up on is ignored.
    attempt: u64,
    /// A refresh of the open connection is under way.
    refreshing: bool,
    /// libvirt's events, and the snapshots they bring.
    live: Live,
    /// The shown connection broke and is being reopened; what is shown is
    /// its last snapshot.
    reconnect: Option<Reconnect>,
    /// The shown snapshot's host facts are still being read, for the
    /// connection attempt named here (the list is shown without them).
    host_facts_reading: Option<u64>,
    vm_list: TypedGridView<VmListItem, gtk::SingleSelection>,
    /// The VM whose page is shown: selected in the list, or hidden there
    /// by the search.
    selected: Option<String>,
    /// The sidebar's search, and the filter it set on `vm_list` (shared
    /// with the list's filter function).
    search: VmSearch,
    filter: Rc<RefCell<VmFilter>>,
    /// `VMNET_DOCTOR_BENCH_SEARCH`: the search's benchmark.
    search_bench: Option<SearchBench>,
    /// `--vm NAME`: selected once the first snapshot arrives.
    initial_vm: Option<String>,
    vm_page: Controller<VmPage>,
    /// The sidebar's Host entry and the page it opens.
    host_row: HostRow,
    host_page: Controller<HostPage>,
    /// The content pane shows the Host page rather than a VM.
    showing_host: bool,
    /// The window has not yet painted its first VM list: until it has, the
    /// VM and Host pages are not built. A VM's page is some 300 widgets,
    /// whose styling and layout in the same frame delayed the list by a
    /// third at 10 VMs (docs/benchmarks.md); it follows a frame later.
    pages_wait_for_list: bool,
    /// The Host page shows an older snapshot than `snapshot`: it is rebuilt
    /// only when it is shown, since building and styling it while hidden
    /// took a third of the time from a VM's event to its page on screen.
    host_page_stale: bool,
    split_view: adw::NavigationSplitView,
    settings: Option<gio::Settings>,
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
    /// The open setup wizard.
    wizard: Option<Controller<Wizard>>,
    /// `--setup`: open the wizard once connected.
    setup_requested: bool,
}

#[derive(Debug)]
pub enum WindowMsg {
    Connect(String),
    Refresh,
    Cancel,
    Retry,
    /// The banner's Try Now while reconnecting.
    ReconnectNow,
    OpenDemo,
    AskForUri,
    SelectionChanged,
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
                    set_visible: model.reconnect.is_some(),
                    #[watch]
                    set_revealed: model.reconnect.is_some(),
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
                                    set_spinning: model.refreshing,
                                    #[watch]
                                    set_visible: model.refreshing,
                                    set_tooltip_text: Some(&gettext("Refreshing…")),
                                },
                                #[wrap(Some)]
                                #[name = "sidebar_title"]
                                set_title_widget = &adw::WindowTitle {
                                    set_title: &gettext("Virtual Machines"),
                                    #[watch]
                                    set_subtitle: &model.connection_label(),
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
                            #[local_ref]
                            host_list -> gtk::ListBox {},
                            gtk::Separator {},
                            gtk::Stack {
                                add_named[Some("list")] = &gtk::ScrolledWindow {
                                    set_hscrollbar_policy: gtk::PolicyType::Never,
                                    set_vexpand: true,
                                    #[local_ref]
                                    // A one-column grid view, styled as the sidebar's
                                    // list (src/ui/vm_sidebar.css): it keeps row widgets
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
                                add_named[Some("empty")] = &adw::StatusPage {
                                    set_icon_name: Some("computer-symbolic"),
                                    set_title: &gettext("No Virtual Machines"),
                                    set_description: Some(&gettext("This connection has no VMs yet. Create one in virt-manager, then refresh.")),
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
                                set_visible_child_name: if model.vm_list.is_empty() {
                                    "empty"
                                } else if model.visible_count() == 0 {
                                    "no-match"
                                } else {
                                    "list"
                                },
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
                                #[watch]
                                set_visible_child_name: if model.showing_host { "host" } else { "vm" },
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
        let explicit = explicit_uri(&options);
        let first = first_uri(&options, settings.as_ref());
        let connections = connections::known(explicit.as_deref(), &connections::from_virt_manager());
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
        let host_row = HostRow::new({
            let sender = sender.clone();
            move || sender.input(WindowMsg::ShowHost)
        });
        let model = Window {
            phase: Phase::Idle,
            connections,
            connection_menu,
            hypervisor: None,
            snapshot: None,
            findings: Vec::new(),
            attempt: 0,
            refreshing: false,
            live: Live::default(),
            reconnect: None,
            vm_list,
            selected: None,
            search,
            filter,
            search_bench,
            initial_vm: options.vm,
            sidebar_title_described: RefCell::default(),
            vm_page,
            host_row,
            host_page,
            showing_host: false,
            pages_wait_for_list: true,
            host_page_stale: false,
            host_facts_reading: None,
            split_view: adw::NavigationSplitView::new(),
            settings,
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
        let host_list = model.host_row.widget();
        model.host_row.join_keyboard_navigation(vm_list_view, &model.vm_list.selection_model);
        let toasts = &model.toasts;
        let widgets = view_output!();
        // Typing anywhere in the sidebar (the Host entry, the VM list)
        // opens the search with what was typed.
        model.search.capture_typing_in(&widgets.sidebar);

        if crate::config::is_development() {
            // GNOME's striped header bar marks development builds.
            root.add_css_class("devel");
        }
        crate::ui::style::install(&WidgetExt::display(&root));
        install_window_actions(&root, &sender);
        restore_window_state(&root, model.settings.as_ref());

        sender.input(WindowMsg::Connect(first));

        ComponentParts { model, widgets }
    }

    fn update(&mut self, msg: WindowMsg, sender: ComponentSender<Self>, root: &Self::Root) {
        match msg {
            WindowMsg::Connect(uri) => self.connect(uri, &sender),
            WindowMsg::Retry => {
                if let Phase::Failed { uri, .. } = &self.phase {
                    let uri = uri.clone();
                    self.connect(uri, &sender);
                }
            }
            WindowMsg::ReconnectNow => self.try_reconnect(Trigger::User, &sender),
            WindowMsg::OpenDemo => self.connect(connections::demo_uri(), &sender),
            WindowMsg::Cancel => {
                self.attempt += 1;
                self.refreshing = false;
                self.phase = if self.hypervisor.is_some() { Phase::Connected } else { Phase::Idle };
                if self.hypervisor.as_ref().is_some_and(|h| h.is_closed()) {
                    // It broke while another was being opened.
                    self.lost("closed", &sender);
                }
            }
            WindowMsg::Refresh => {
                if self.reconnect.is_some() {
                    self.try_reconnect(Trigger::User, &sender);
                } else if self.refreshing || self.live.is_busy() {
                    // One refresh at a time; the running one brings the news.
                } else if let Some(hypervisor) = self.hypervisor.clone() {
                    self.refreshing = true;
                    let attempt = self.attempt;
                    sender.oneshot_command(async move {
                        let result = match hypervisor.snapshot().await {
                            Ok(snapshot) => Ok(with_host_facts(snapshot).await),
                            Err(error) => Err(error),
                        };
                        WindowCmd::Refreshed { attempt, result }
                    });
                } else if let Phase::Failed { uri, .. } = &self.phase {
                    let uri = uri.clone();
                    self.connect(uri, &sender);
                }
            }
            WindowMsg::AskForUri => ask_for_uri(root, &sender),
            WindowMsg::SelectionChanged => self.selection_changed(),
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
            WindowMsg::FixDialog(FixDialogOutput::Refresh) => sender.input(WindowMsg::Refresh),
            WindowMsg::FixDialog(FixDialogOutput::Fixed(message)) => {
                self.toasts.add_toast(adw::Toast::new(&message));
            }
            WindowMsg::FixDialog(FixDialogOutput::Closed) => {
                (self.fix_dialog, self.fix_all_dialog) = (None, None);
            }
            WindowMsg::FixAll(findings) => self.open_fix_all_dialog(findings, &sender, root),
            WindowMsg::VmAction(request) => self.open_vm_action_dialog(*request, &sender, root),
            WindowMsg::VmActionDialog(VmActionOutput::Refresh) => sender.input(WindowMsg::Refresh),
            WindowMsg::VmActionDialog(VmActionOutput::Done(message)) => {
                self.toasts.add_toast(adw::Toast::new(&message));
            }
            WindowMsg::VmActionDialog(VmActionOutput::Closed) => self.vm_action_dialog = None,
            WindowMsg::Setup => self.open_wizard(&sender, root),
            WindowMsg::Wizard(WizardOutput::Fix(finding)) => self.open_fix_dialog(*finding, &sender, root),
            WindowMsg::Wizard(WizardOutput::Closed) => self.wizard = None,
        }
    }

    fn update_cmd(&mut self, cmd: WindowCmd, sender: ComponentSender<Self>, root: &Self::Root) {
        match cmd {
            WindowCmd::Opened { attempt, result } if attempt == self.attempt => self.opened(result, &sender),
            WindowCmd::Refreshed { attempt, result } if attempt == self.attempt => {
                self.refreshed(result, &sender, root);
            }
            WindowCmd::Event { connection, event } if connection == self.live.connection() => match event {
                Some(LibvirtEvent { kind: EventKind::ConnectionClosed(reason), .. }) => {
                    self.lost(reason.as_str(), &sender);
                }
                event => {
                    self.live.receive(event);
                    self.take_up_news(&sender);
                }
            },
            WindowCmd::ReconnectDue { attempt } if attempt == self.attempt => {
                self.try_reconnect(Trigger::Timer, &sender);
            }
            WindowCmd::Reconnected { attempt, result } if attempt == self.attempt => {
                self.reconnected(result, &sender, root);
            }
            WindowCmd::Updated { connection, result, host_read } if connection == self.live.connection() => {
                self.show_update(result, host_read, &sender, root);
            }
            WindowCmd::HostFacts { attempt, facts } if self.host_facts_reading == Some(attempt) => {
                self.host_facts_read(facts);
            }
            // An answer for an attempt that was cancelled or superseded, or
            // for a connection no longer shown.
            WindowCmd::Opened { .. }
            | WindowCmd::ReconnectDue { .. }
            | WindowCmd::Reconnected { .. }
            | WindowCmd::Refreshed { .. }
            | WindowCmd::Event { .. }
            | WindowCmd::Updated { .. }
            | WindowCmd::HostFacts { .. } => {}
        }
    }
}
