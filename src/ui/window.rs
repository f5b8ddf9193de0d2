//! The main window: a connection's VMs in the sidebar, the selected VM's
//! network cards in the content pane, and status pages while connecting or
//! when the connection fails.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gettextrs::gettext;
use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::{gio, glib};
use relm4::typed_view::list::TypedListView;
use relm4::{Component, ComponentController, ComponentParts, ComponentSender, Controller, gtk};
use tokio::sync::broadcast;
use vmnet_doctor_core::{Finding, Snapshot, diagnose};
use vmnet_doctor_libvirt::{Hypervisor, LibvirtError, LibvirtEvent};

use crate::cli::GuiOptions;
use crate::connections::{self, Connection};
use crate::i18n::fill;
use crate::ui::error_page::{self, ErrorText};
use crate::ui::first_connection;
use crate::ui::fix_dialog::{FixDialog, FixDialogInit, FixDialogOutput};
use crate::ui::host_page::{HostPage, HostPageMsg, HostView};
use crate::ui::host_row::HostRow;
use crate::ui::live::{self, Live};
use crate::ui::nic_actions::{ActionSink, VmActionRequest};
use crate::ui::vm_action_dialog::{VmActionDialog, VmActionInit, VmActionOutput};
use crate::ui::vm_list_item::VmListItem;
use crate::ui::vm_page::{VmPage, VmPageMsg};
use crate::ui::wizard::{self, Wizard, WizardInit, WizardMsg, WizardOutput};
use crate::ui::{about, actions, menu_names};
use crate::virt_manager::Launcher;
use crate::{settings, startup};

/// What the window shows as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Nothing opened yet (e.g. a connection attempt was cancelled).
    Idle,
    Connecting {
        uri: String,
    },
    Failed {
        uri: String,
        text: ErrorText,
    },
    Connected,
}

impl Phase {
    fn page(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Connecting { .. } => "connecting",
            Phase::Failed { .. } => "failed",
            Phase::Connected => "connected",
        }
    }
}

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
    vm_list: TypedListView<VmListItem, gtk::SingleSelection>,
    selected: Option<String>,
    /// `--vm NAME`: selected once the first snapshot arrives.
    initial_vm: Option<String>,
    vm_page: Controller<VmPage>,
    /// The sidebar's Host entry and the page it opens.
    host_row: HostRow,
    host_page: Controller<HostPage>,
    /// The content pane shows the Host page rather than a VM.
    showing_host: bool,
    split_view: adw::NavigationSplitView,
    settings: Option<gio::Settings>,
    /// virt-manager, when it is installed.
    virt_manager: Option<Launcher>,
    toasts: adw::ToastOverlay,
    /// The open Fix dialog.
    fix_dialog: Option<Controller<FixDialog>>,
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
    OpenDemo,
    AskForUri,
    SelectionChanged,
    ShowHost,
    About,
    SaveWindowState,
    OpenInVirtManager,
    /// A finding's Fix… button.
    Fix(Box<Finding>),
    FixDialog(FixDialogOutput),
    /// A VM page menu's item (a card's link, model, network; the VM's
    /// agent channel, restart).
    VmAction(Box<VmActionRequest>),
    VmActionDialog(VmActionOutput),
    /// Set Up Networking… (main menu, first run, `--setup`).
    Setup,
    Wizard(WizardOutput),
}

/// A connection's handle, its events since just before the first
/// snapshot, and that snapshot.
pub type OpenedConnection = (Arc<Hypervisor>, broadcast::Receiver<LibvirtEvent>, Snapshot);

/// Besides the answers to connecting and refreshing: `Event`, libvirt
/// announced a change (`None`: announcements were missed); `Settled`, the
/// first event of a burst has waited for the rest; `Updated`, the snapshot
/// taken for events. `connection` is the attempt that opened the connection.
#[derive(Debug)]
pub enum WindowCmd {
    Opened { attempt: u64, result: Result<OpenedConnection, LibvirtError> },
    Refreshed { attempt: u64, result: Result<Snapshot, LibvirtError> },
    Event { connection: u64, event: Option<LibvirtEvent> },
    Settled { connection: u64 },
    Updated { connection: u64, result: Result<Snapshot, LibvirtError> },
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

                #[local_ref]
                add_named[Some("connected")] = split_view -> adw::NavigationSplitView {
                    set_min_sidebar_width: 260.0,
                    set_max_sidebar_width: 340.0,

                    #[wrap(Some)]
                    set_sidebar = &adw::NavigationPage {
                        set_title: &gettext("Virtual Machines"),
                        #[wrap(Some)]
                        set_child = &adw::ToolbarView {
                            add_top_bar = &adw::HeaderBar {
                                pack_start = &connection_button(&model.connection_menu),
                                pack_end = &main_menu_button(),
                                pack_end = &gtk::Spinner {
                                    #[watch]
                                    set_spinning: model.refreshing,
                                    #[watch]
                                    set_visible: model.refreshing,
                                    set_tooltip_text: Some(&gettext("Refreshing…")),
                                },
                                #[wrap(Some)]
                                set_title_widget = &adw::WindowTitle {
                                    set_title: &gettext("Virtual Machines"),
                                    #[watch]
                                    set_subtitle: &model.connection_label(),
                                },
                            },
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
                                    vm_list_view -> gtk::ListView {
                                        add_css_class: "navigation-sidebar",
                                        update_property: &[gtk::accessible::Property::Label(&gettext("Virtual machines"))],
                                    },
                                },
                                add_named[Some("empty")] = &adw::StatusPage {
                                    set_icon_name: Some("computer-symbolic"),
                                    set_title: &gettext("No Virtual Machines"),
                                    set_description: Some(&gettext("This connection has no VMs yet. Create one in virt-manager, then refresh.")),
                                    add_css_class: "compact",
                                },
                                #[watch]
                                set_visible_child_name: if model.vm_list.is_empty() { "empty" } else { "list" },
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

                // After the children, so the first call finds its page.
                #[watch]
                set_visible_child_name: model.phase.page(),
            },
            },

            add_breakpoint = breakpoint(&split_view),
        }
    }

    fn init(options: GuiOptions, root: Self::Root, sender: ComponentSender<Self>) -> ComponentParts<Self> {
        let settings = settings::app_settings();
        let explicit = explicit_uri(&options);
        let first = first_uri(&options, settings.as_ref());
        let connections = connections::known(explicit.as_deref(), &connections::from_virt_manager());
        let connection_menu = build_connection_menu(&connections);

        let vm_list: TypedListView<VmListItem, gtk::SingleSelection> = TypedListView::new();
        vm_list.selection_model.set_autoselect(false);
        vm_list.selection_model.set_can_unselect(true);
        vm_list.selection_model.connect_selected_notify({
            let sender = sender.clone();
            move |_| sender.input(WindowMsg::SelectionChanged)
        });

        let fix = |finding| WindowMsg::Fix(Box::new(finding));
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
            vm_list,
            selected: None,
            initial_vm: options.vm,
            vm_page,
            host_row,
            host_page,
            showing_host: false,
            split_view: adw::NavigationSplitView::new(),
            settings,
            virt_manager: Launcher::find(),
            toasts: adw::ToastOverlay::new(),
            fix_dialog: None,
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

        if crate::config::is_development() {
            // GNOME's striped header bar marks development builds.
            root.add_css_class("devel");
        }
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
            WindowMsg::OpenDemo => self.connect(connections::demo_uri(), &sender),
            WindowMsg::Cancel => {
                self.attempt += 1;
                self.refreshing = false;
                self.phase = if self.hypervisor.is_some() { Phase::Connected } else { Phase::Idle };
            }
            WindowMsg::Refresh => {
                if self.refreshing || self.live.is_busy() {
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
            WindowMsg::SelectionChanged => self.show_selected(),
            WindowMsg::ShowHost => self.show_host(),
            WindowMsg::About => about::show(root),
            WindowMsg::SaveWindowState => save_window_state(root, self.settings.as_ref()),
            WindowMsg::OpenInVirtManager => self.open_in_virt_manager(),
            WindowMsg::Fix(finding) => self.open_fix_dialog(*finding, &sender, root),
            WindowMsg::FixDialog(FixDialogOutput::Refresh) => sender.input(WindowMsg::Refresh),
            WindowMsg::FixDialog(FixDialogOutput::Fixed(message)) => {
                self.toasts.add_toast(adw::Toast::new(&message));
            }
            WindowMsg::FixDialog(FixDialogOutput::Closed) => self.fix_dialog = None,
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
            WindowCmd::Opened { attempt, result } if attempt == self.attempt => match result {
                Ok((hypervisor, events, snapshot)) => {
                    if self.hypervisor.as_ref().is_some_and(|old| old.uri() != hypervisor.uri()) {
                        // Another host: the old selection means nothing there.
                        self.selected = None;
                    }
                    if let Some(settings) = &self.settings {
                        // Remembering is a convenience; a read-only settings backend is not an error.
                        let _ = settings.set_string("last-uri", hypervisor.uri());
                    }
                    self.hypervisor = Some(hypervisor);
                    self.phase = Phase::Connected;
                    self.show_snapshot(snapshot);
                    self.follow(events, &sender);
                    if std::mem::take(&mut self.setup_requested) || wizard::first_run(self.settings.as_ref())
                    {
                        sender.input(WindowMsg::Setup);
                    }
                }
                Err(error) => {
                    let uri = match &self.phase {
                        Phase::Connecting { uri } => uri.clone(),
                        _ => String::new(),
                    };
                    self.drop_connection();
                    self.phase = Phase::Failed { uri, text: error_page::describe(&error) };
                    startup::report_connection_failed();
                }
            },
            WindowCmd::Refreshed { attempt, result } if attempt == self.attempt => match result {
                Ok(snapshot) => {
                    self.refreshing = false;
                    self.show_snapshot(snapshot);
                    self.take_up_events(&sender, root);
                }
                Err(error) => {
                    self.refreshing = false;
                    self.connection_lost(&error);
                }
            },
            WindowCmd::Event { connection, event } if connection == self.live.connection() => {
                if self.live.receive(event) {
                    self.settle(&sender);
                }
            }
            WindowCmd::Settled { connection } if connection == self.live.connection() => {
                if self.live.settled(self.refreshing) {
                    self.update_for_events(&sender);
                }
            }
            WindowCmd::Updated { connection, result } if connection == self.live.connection() => {
                self.show_update(result, &sender, root);
            }
            // An answer for an attempt that was cancelled or superseded, or
            // for a connection no longer shown.
            WindowCmd::Opened { .. }
            | WindowCmd::Refreshed { .. }
            | WindowCmd::Event { .. }
            | WindowCmd::Settled { .. }
            | WindowCmd::Updated { .. } => {}
        }
    }
}

impl Window {
    fn connection_label(&self) -> String {
        self.hypervisor.as_ref().map(|h| connections::label(h.uri())).unwrap_or_default()
    }

    /// The content pane's title: the host or the selected VM.
    fn content_title(&self) -> String {
        if self.showing_host {
            let hostname = self.snapshot.as_ref().and_then(|snapshot| snapshot.hostname.clone());
            hostname.unwrap_or_else(|| gettext("Host"))
        } else {
            self.selected.clone().unwrap_or_else(|| gettext("Network Cards"))
        }
    }

    /// Shows the Host page in place of a VM (the sidebar's Host entry, Ctrl+H).
    fn show_host(&mut self) {
        if self.snapshot.is_none() {
            return;
        }
        self.showing_host = true;
        self.host_row.set_selected(true);
        self.vm_list.selection_model.set_selected(gtk::INVALID_LIST_POSITION);
        self.split_view.set_show_content(true);
        if let Some(snapshot) = &self.snapshot {
            crate::ui::host_page::report_shown(snapshot, &self.findings);
        }
    }

    fn connect(&mut self, uri: String, sender: &ComponentSender<Self>) {
        self.attempt += 1;
        self.refreshing = false;
        let attempt = self.attempt;
        if !self.connections.iter().any(|c| c.uri == uri) {
            self.connections.insert(0, Connection { label: connections::label(&uri), uri: uri.clone() });
            self.connection_menu.remove_all();
            fill_connection_menu(&self.connection_menu, &self.connections);
        }
        // The open connection stays until the new one answers, so
        // cancelling returns to it unchanged.
        self.phase = Phase::Connecting { uri: uri.clone() };
        // Already under way since start-up, when this is the first connection.
        let started = first_connection::take(&uri);
        sender.oneshot_command(async move {
            if let Some(started) = started {
                let result = started.await.unwrap_or(Err(LibvirtError::Disconnected));
                return WindowCmd::Opened { attempt, result };
            }
            let result = async {
                let hypervisor = Hypervisor::open(&uri).await?;
                // Subscribed before the first snapshot, so no change after it is missed.
                let events = hypervisor.events();
                let snapshot = with_host_facts(hypervisor.snapshot().await?).await;
                Ok((Arc::new(hypervisor), events, snapshot))
            }
            .await;
            WindowCmd::Opened { attempt, result }
        });
    }

    /// Follows libvirt's events on the connection just opened; the task
    /// ends when that connection's `Hypervisor` is dropped.
    fn follow(&mut self, mut events: broadcast::Receiver<LibvirtEvent>, sender: &ComponentSender<Self>) {
        let connection = self.attempt;
        self.live = Live::new(connection);
        sender.command(move |out, shutdown| {
            shutdown
                .register(async move {
                    loop {
                        let event = match events.recv().await {
                            Ok(event) => Some(event),
                            Err(broadcast::error::RecvError::Lagged(_)) => None,
                            Err(broadcast::error::RecvError::Closed) => break,
                        };
                        if out.send(WindowCmd::Event { connection, event }).is_err() {
                            break;
                        }
                    }
                })
                .drop_on_shutdown()
        });
    }

    /// Waits for the rest of a burst of events (a one-shot timer).
    fn settle(&self, sender: &ComponentSender<Self>) {
        let connection = self.live.connection();
        sender.oneshot_command(async move {
            tokio::time::sleep(live::SETTLE).await;
            WindowCmd::Settled { connection }
        });
    }

    fn update_for_events(&mut self, sender: &ComponentSender<Self>) {
        let Some(hypervisor) = self.hypervisor.clone() else {
            self.live = Live::default();
            return;
        };
        let connection = self.live.connection();
        // Reading the host takes most of a snapshot's time; keep what is
        // shown when the events cannot have changed it.
        let host =
            self.snapshot.as_ref().filter(|_| !self.live.host_may_have_changed()).map(|s| s.host.clone());
        sender.oneshot_command(async move {
            let result = match (hypervisor.snapshot().await, host) {
                (Ok(snapshot), Some(host)) => Ok(Snapshot { host, ..snapshot }),
                (Ok(snapshot), None) => Ok(with_host_facts(snapshot).await),
                (Err(error), _) => Err(error),
            };
            WindowCmd::Updated { connection, result }
        });
    }

    fn show_update(
        &mut self,
        result: Result<Snapshot, LibvirtError>,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        match result {
            Ok(snapshot) => {
                self.show_snapshot(snapshot);
                self.take_up_events(sender, root);
            }
            Err(error) => self.connection_lost(&error),
        }
    }

    /// A snapshot is on screen: reports the events it covered, and takes
    /// up those that came while it was taken.
    fn take_up_events(&mut self, sender: &ComponentSender<Self>, root: &adw::ApplicationWindow) {
        let (covered, again) = self.live.finished();
        if let Some(snapshot) = &self.snapshot {
            live::report_when_painted(root, covered, snapshot);
        }
        if again {
            self.settle(sender);
        }
    }

    fn connection_lost(&mut self, error: &LibvirtError) {
        let uri = self.hypervisor.as_ref().map(|h| h.uri().to_owned()).unwrap_or_default();
        self.drop_connection();
        self.phase = Phase::Failed { uri, text: error_page::describe(error) };
    }

    /// Plans `finding`'s fix in a dialog, which applies it on request.
    fn open_fix_dialog(
        &mut self,
        finding: Finding,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        let (Some(hypervisor), Some(fix)) = (self.hypervisor.clone(), finding.fix.clone()) else {
            return;
        };
        let dialog = FixDialog::builder()
            .launch(FixDialogInit { hypervisor, finding, fix })
            .forward(sender.input_sender(), WindowMsg::FixDialog);
        dialog.widget().present(Some(root));
        self.fix_dialog = Some(dialog);
    }

    /// The setup wizard on the open connection (one at a time).
    fn open_wizard(&mut self, sender: &ComponentSender<Self>, root: &adw::ApplicationWindow) {
        let (Some(hypervisor), Some(snapshot)) = (self.hypervisor.clone(), self.snapshot.clone()) else {
            return;
        };
        if self.wizard.is_some() {
            return;
        }
        let init = WizardInit {
            hypervisor,
            snapshot,
            findings: self.findings.clone(),
            vm: self.selected.clone(),
            connection: self.connection_label(),
            settings: self.settings.clone(),
        };
        let wizard = Wizard::builder().launch(init).forward(sender.input_sender(), WindowMsg::Wizard);
        wizard.widget().present(Some(root));
        self.wizard = Some(wizard);
    }

    /// Plans a change picked on the VM page in a dialog, which applies it
    /// (and restarts the VM) on request.
    fn open_vm_action_dialog(
        &mut self,
        request: VmActionRequest,
        sender: &ComponentSender<Self>,
        root: &adw::ApplicationWindow,
    ) {
        let Some(hypervisor) = self.hypervisor.clone() else {
            return;
        };
        let dialog = VmActionDialog::builder()
            .launch(VmActionInit { hypervisor, request })
            .forward(sender.input_sender(), WindowMsg::VmActionDialog);
        dialog.widget().present(Some(root));
        self.vm_action_dialog = Some(dialog);
    }

    /// Starts virt-manager on the selected VM; says so when it cannot.
    fn open_in_virt_manager(&self) {
        let (Some(launcher), Some(hypervisor), Some(vm)) =
            (&self.virt_manager, &self.hypervisor, &self.selected)
        else {
            return;
        };
        let argv = launcher.argv(hypervisor.uri(), vm);
        let args: Vec<&std::ffi::OsStr> = argv.iter().map(std::ffi::OsStr::new).collect();
        if let Err(error) = gio::Subprocess::newv(&args, gio::SubprocessFlags::NONE) {
            let message =
                fill(&gettext("Could not start virt-manager: {error}"), &[("error", error.message())]);
            self.toasts.add_toast(adw::Toast::new(&message));
        }
    }

    /// Forgets the open connection and everything shown from it.
    fn drop_connection(&mut self) {
        if let Some(wizard) = self.wizard.take() {
            // It works on this connection only.
            wizard.widget().force_close();
        }
        self.hypervisor = None;
        self.live = Live::default();
        self.snapshot = None;
        self.findings.clear();
        self.selected = None;
        self.vm_list.clear();
        self.vm_page.emit(VmPageMsg::Clear);
        self.showing_host = false;
        self.host_row.set_selected(false);
        self.host_page.emit(HostPageMsg::Clear);
    }

    /// Fills the sidebar, keeping the selected VM when it still exists.
    fn show_snapshot(&mut self, snapshot: Snapshot) {
        // Once the pages have dropped the previous snapshot and the list
        // is painted: give what the refresh freed back (src/memory.rs).
        glib::idle_add_local_full(glib::Priority::LOW, || {
            crate::memory::release_freed_heap();
            glib::ControlFlow::Break
        });
        let keep = self.selected.take().or_else(|| self.initial_vm.take());
        self.findings = diagnose(&snapshot);
        let findings = &self.findings;
        let rows = snapshot.domains.iter().map(|domain| VmListItem::new(domain, findings)).collect();
        live::replace_rows(&mut self.vm_list, rows);
        let count = snapshot.domains.len();
        let snapshot = Arc::new(snapshot);
        self.snapshot = Some(Arc::clone(&snapshot));
        let connection = self.connection_label();
        self.host_row.show(&snapshot, &connection, &self.findings);
        if let Some(wizard) = &self.wizard {
            wizard.emit(WizardMsg::Snapshot(Arc::clone(&snapshot), self.findings.clone()));
        }
        let view = HostView { snapshot, findings: self.findings.clone(), connection };
        self.host_page.emit(HostPageMsg::Show(Box::new(view)));

        let wide = !self.split_view.is_collapsed();
        let position = keep
            .and_then(|name| self.vm_list.find(|item| item.name == name))
            // On a wide window, show the first VM rather than an empty pane.
            .or_else(|| (wide && !self.showing_host && count > 0).then_some(0));
        if position.is_none() && wide && count == 0 {
            // Nothing to show but the host.
            self.showing_host = true;
            self.host_row.set_selected(true);
        }
        match position {
            Some(position) => self.vm_list.selection_model.set_selected(position),
            None => self.vm_list.selection_model.set_selected(gtk::INVALID_LIST_POSITION),
        }
        self.show_selected();
        report_populated_when_painted(&self.toasts, count);
    }

    fn show_selected(&mut self) {
        let position = self.vm_list.selection_model.selected();
        let name = self.vm_list.get(position).map(|item| item.borrow().name.clone());
        let domain = name.as_ref().and_then(|name| self.snapshot.as_ref()?.domain(name).cloned());
        match (domain, &self.snapshot) {
            (Some(domain), Some(snapshot)) => {
                let user_picked = self.selected.as_deref() != Some(domain.name());
                self.selected = Some(domain.name().to_owned());
                self.showing_host = false;
                self.host_row.set_selected(false);
                let networks: Vec<&str> =
                    domain.interfaces().iter().filter_map(|nic| nic.network_name()).collect();
                let findings: Vec<Finding> = self
                    .findings
                    .iter()
                    .filter(|finding| finding.subject.concerns_vm(domain.name(), &networks))
                    .cloned()
                    .collect();
                self.vm_page.emit(VmPageMsg::Show(Box::new((domain, Arc::clone(snapshot), findings))));
                if user_picked {
                    self.split_view.set_show_content(true);
                }
            }
            _ => {
                self.selected = None;
                self.vm_page.emit(VmPageMsg::Clear);
            }
        }
    }
}

/// With `VMNET_DOCTOR_REPORT_STARTUP=1`, reports the VM list as populated
/// once a frame showing it has been painted: that is when a user sees it,
/// which can be well after its model was filled (the first connection is
/// read while the window is still being built). Once per process.
fn report_populated_when_painted(widget: &impl IsA<gtk::Widget>, count: usize) {
    static WATCHING: AtomicBool = AtomicBool::new(false);
    if !startup::reporting() || WATCHING.swap(true, Ordering::Relaxed) {
        return;
    }
    let Some(clock) = widget.frame_clock() else {
        // Not realized: nothing will be painted to wait for.
        startup::report_vm_list_populated(count);
        return;
    };
    let handler = Rc::new(Cell::new(None));
    let own_handler = Rc::clone(&handler);
    handler.set(Some(clock.connect_after_paint(move |clock| {
        startup::report_vm_list_populated(count);
        if let Some(id) = own_handler.take() {
            clock.disconnect(id);
        }
    })));
    widget.queue_draw();
}

/// The URI given on the command line (`--connect`, `--demo`), if any.
fn explicit_uri(options: &GuiOptions) -> Option<String> {
    if options.demo { Some(connections::demo_uri()) } else { options.connect.clone() }
}

/// The connection the window opens first: the one asked for on the command
/// line, else the last one used, else the system's.
pub fn first_uri(options: &GuiOptions, settings: Option<&gio::Settings>) -> String {
    explicit_uri(options)
        .or_else(|| settings.map(|s| s.string("last-uri").to_string()).filter(|uri| !uri.is_empty()))
        .unwrap_or_else(|| vmnet_doctor_libvirt::SYSTEM_URI.to_owned())
}

/// Adds the host's network facts; reading them blocks, so on a blocking
/// thread.
pub async fn with_host_facts(mut snapshot: Snapshot) -> Snapshot {
    let uri = snapshot.uri.clone();
    let names: Vec<String> = snapshot.networks.iter().map(|n| n.name().to_owned()).collect();
    snapshot.host = tokio::task::spawn_blocking(move || crate::probe::host_facts(&uri, &names))
        .await
        .unwrap_or_else(|error| vmnet_doctor_core::Fact::Unknown(error.to_string()));
    snapshot
}

fn connecting_title(phase: &Phase) -> String {
    match phase {
        Phase::Connecting { uri } => {
            fill(&gettext("Connecting to {connection}"), &[("connection", &connections::label(uri))])
        }
        _ => String::new(),
    }
}

fn failure(phase: &Phase) -> Option<&ErrorText> {
    match phase {
        Phase::Failed { text, .. } => Some(text),
        _ => None,
    }
}

fn build_connection_menu(connections: &[Connection]) -> gio::Menu {
    let menu = gio::Menu::new();
    fill_connection_menu(&menu, connections);
    menu
}

fn fill_connection_menu(menu: &gio::Menu, connections: &[Connection]) {
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

fn connection_button(menu: &gio::Menu) -> gtk::MenuButton {
    let button = gtk::MenuButton::builder()
        .icon_name("network-server-symbolic")
        .tooltip_text(gettext("Connection"))
        .menu_model(menu)
        .build();
    menu_names::name_items_when_shown(&button);
    button
}

fn main_menu_button() -> gtk::MenuButton {
    let menu = gio::Menu::new();
    let section = gio::Menu::new();
    section.append(Some(&gettext("_Refresh")), Some(actions::REFRESH));
    section.append(Some(&gettext("_Set Up Networking…")), Some(actions::SETUP));
    section.append(Some(&gettext("_Other Connection…")), Some(actions::OTHER_CONNECTION));
    menu.append_section(None, &section);
    let about = gio::Menu::new();
    about.append(Some(&gettext("_About VM Network Doctor")), Some(actions::ABOUT));
    menu.append_section(None, &about);
    let button = gtk::MenuButton::builder()
        .icon_name("open-menu-symbolic")
        .tooltip_text(gettext("Main Menu"))
        .primary(true)
        .menu_model(&menu)
        .build();
    menu_names::name_items_when_shown(&button);
    button
}

fn breakpoint(split_view: &adw::NavigationSplitView) -> adw::Breakpoint {
    let condition = adw::BreakpointCondition::new_length(
        adw::BreakpointConditionLengthType::MaxWidth,
        600.0,
        adw::LengthUnit::Sp,
    );
    let breakpoint = adw::Breakpoint::new(condition);
    breakpoint.add_setter(split_view, "collapsed", Some(&true.to_value()));
    breakpoint
}

fn install_window_actions(window: &adw::ApplicationWindow, sender: &ComponentSender<Window>) {
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

/// "Other Connection…": a URI typed by the user, as in `virsh -c`.
fn ask_for_uri(window: &adw::ApplicationWindow, sender: &ComponentSender<Window>) {
    let dialog = adw::AlertDialog::new(
        Some(&gettext("Open a Connection")),
        Some(&gettext("Enter a libvirt connection URI, as you would give to “virsh -c”.")),
    );
    let entry =
        gtk::Entry::builder().placeholder_text("qemu+ssh://user@host/system").activates_default(true).build();
    entry.update_property(&[gtk::accessible::Property::Label(&gettext("Connection URI"))]);
    dialog.set_extra_child(Some(&entry));
    dialog.add_responses(&[("cancel", &gettext("_Cancel")), ("connect", &gettext("C_onnect"))]);
    dialog.set_response_appearance("connect", adw::ResponseAppearance::Suggested);
    dialog.set_default_response(Some("connect"));
    dialog.set_close_response("cancel");
    dialog.set_response_enabled("connect", false);
    entry.connect_changed({
        let dialog = dialog.clone();
        move |entry| dialog.set_response_enabled("connect", !entry.text().trim().is_empty())
    });
    let sender = sender.clone();
    dialog.connect_response(Some("connect"), move |_, _| {
        let uri = entry.text().trim().to_owned();
        if !uri.is_empty() {
            sender.input(WindowMsg::Connect(uri));
        }
    });
    dialog.present(Some(window));
}

fn restore_window_state(window: &adw::ApplicationWindow, settings: Option<&gio::Settings>) {
    let (width, height, maximized) = match settings {
        Some(s) => (s.int("window-width"), s.int("window-height"), s.boolean("is-maximized")),
        None => (960, 640, false),
    };
    window.set_default_size(width, height);
    if maximized {
        window.maximize();
    }
}

fn save_window_state(window: &adw::ApplicationWindow, settings: Option<&gio::Settings>) {
    let Some(settings) = settings else { return };
    let (width, height) = window.default_size();
    // Failing to remember the size is not worth bothering the user about.
    let _ = settings.set_int("window-width", width);
    let _ = settings.set_int("window-height", height);
    let _ = settings.set_boolean("is-maximized", window.is_maximized());
}
