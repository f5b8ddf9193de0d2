//! VM Network Doctor: find and fix why a virtual machine has no network.

mod cli;
mod config;
mod connections;
mod demo_host;
mod describe;
mod fixes;
mod guest_checklist;
mod gui_options;
mod helper_install;
mod i18n;
mod libvirt_uri;
mod memory;
mod probe;
mod remote_host;
mod remote_protocol;
mod settings;
mod startup;
mod ui;
mod verdict_words;
mod virt_manager;

use std::process::ExitCode;

use gettextrs::gettext;
use relm4::gtk::{gio, glib, prelude::*};
use relm4::{RelmApp, adw, gtk};

use crate::cli::Command;
use crate::gui_options::GuiOptions;

fn main() -> ExitCode {
    startup::mark_process_start();
    i18n::init();
    match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{}", cli::help_text());
            ExitCode::SUCCESS
        }
        Ok(Command::Version) => {
            println!("vmnet-doctor {}", config::VERSION);
            ExitCode::SUCCESS
        }
        Ok(Command::Gui(options)) => run_gui(options),
        Ok(Command::Check(options)) => cli::check::run(&options),
        Ok(Command::Fix(options)) => cli::fix::run(&options),
        Ok(Command::Revert(options)) => cli::revert::run(&options),
        Ok(Command::Verify(options)) => cli::verify::run(&options),
        Ok(Command::Nat(options)) => cli::nat::run(&options),
        Ok(Command::Posture(options)) => cli::posture::run(&options),
        Ok(Command::Facts(options)) => cli::facts::run(&options),
        Ok(Command::RemoteHelper(call)) => cli::remote_helper::run(&call),
        Err(message) => {
            eprintln!("vmnet-doctor: {message}");
            eprintln!("{}", gettext("Run “vmnet-doctor --help” to see the options."));
            ExitCode::from(2)
        }
    }
}

fn run_gui(options: GuiOptions) -> ExitCode {
    // Without a display GTK cannot start; say so instead of panicking.
    // GTK first: it takes GLib's default main context for this thread, and
    // libvirt's event loop (started with the first connection) iterates that
    // same context; started first, libvirt's thread would hold it and GTK
    // would refuse to initialise.
    if gtk::init().is_err() {
        eprintln!(
            "vmnet-doctor: {}",
            gettext(
                "cannot open a display. Run VM Network Doctor in a graphical session (Wayland or X11), or set DISPLAY / WAYLAND_DISPLAY."
            )
        );
        return ExitCode::FAILURE;
    }
    // libvirt connects and reads every VM of every connection while the window is built
    // (ui::first_connection); only once there is a display to show them on,
    // so a start that fails touches no libvirt.
    // A server reached over SSH has its facts read on every refresh: over
    // one shared login, not a new one each time.
    remote_host::share_logins();
    for uri in ui::window::start_uris(&options, settings::app_settings().as_ref()) {
        ui::first_connection::start(uri);
    }
    if adw::init().is_err() {
        eprintln!("vmnet-doctor: {}", gettext("libadwaita could not be initialised."));
        return ExitCode::FAILURE;
    }
    gio::resources_register_include!("vmnet-doctor.gresource").unwrap_or_else(|error| {
        // The bundle is compiled into the binary; failing here is a build bug.
        eprintln!("vmnet-doctor: the built-in resources are broken: {error}");
    });
    glib::set_application_name(&gettext("VM Network Doctor"));
    gtk::Window::set_default_icon_name(config::APP_ID);

    let app = adw::Application::new(Some(config::APP_ID), gio::ApplicationFlags::default());
    app.set_resource_base_path(Some(config::RESOURCE_BASE));
    ui::actions::install_app_accels(&app);

    // Our own arguments are already parsed; GApplication must not see them.
    RelmApp::from_app(app).with_args(Vec::new()).run::<ui::window::Window>(options);
    ExitCode::SUCCESS
}
