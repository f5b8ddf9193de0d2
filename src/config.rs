//! Build-time configuration. meson sets these through the environment of
//! `cargo build`; plain `cargo build`/`cargo run` falls back to development
//! values that work from the source tree.

macro_rules! or_default {
    ($name:literal, $default:expr) => {
        match option_env!($name) {
            Some(value) => value,
            None => $default,
        }
    };
}

/// The application id; development builds end in `.Devel`.
pub const APP_ID: &str = or_default!("VMNET_DOCTOR_APP_ID", "io.github.vmnetdoctor.VmNetDoctor.Devel");
/// `default` for releases, `development` otherwise.
pub const PROFILE: &str = or_default!("VMNET_DOCTOR_PROFILE", "development");
pub const VERSION: &str = or_default!("VMNET_DOCTOR_VERSION", env!("CARGO_PKG_VERSION"));
pub const GETTEXT_PACKAGE: &str = "vmnet-doctor";
pub const LOCALEDIR: &str = or_default!("VMNET_DOCTOR_LOCALEDIR", "/usr/share/locale");
/// Where the demo hypervisor lives: the installed data, or the source tree.
pub const PKGDATADIR: &str =
    or_default!("VMNET_DOCTOR_PKGDATADIR", concat!(env!("CARGO_MANIFEST_DIR"), "/data"));
/// The GSettings schema keeps the release id for every profile, so a
/// development build shares the user's settings.
pub const SCHEMA_ID: &str = "io.github.vmnetdoctor.VmNetDoctor";
/// Where the gresource bundle's files live.
pub const RESOURCE_BASE: &str = "/io/github/vmnetdoctor/VmNetDoctor";

pub fn is_development() -> bool {
    PROFILE == "development"
}

pub fn demo_hypervisor_path() -> std::path::PathBuf {
    std::path::Path::new(PKGDATADIR).join("demo").join("demo-hypervisor.xml")
}

/// The demo's host network: a recording of a real host (see `demo_host`).
pub fn demo_host_facts_path() -> std::path::PathBuf {
    std::path::Path::new(PKGDATADIR).join("demo").join("host-facts.json")
}
