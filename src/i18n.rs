//! gettext set-up and a small helper for named placeholders.

use gettextrs::{LocaleCategory, bind_textdomain_codeset, bindtextdomain, setlocale, textdomain};

use crate::config::{GETTEXT_PACKAGE, LOCALEDIR};

/// Must run first in `main`, before any other thread exists.
pub fn init() {
    // SAFETY: setlocale is not thread-safe; this runs at the start of main,
    // while the process has a single thread.
    #[allow(unsafe_code)]
    unsafe {
        setlocale(LocaleCategory::LcAll, "");
    }
    // A missing catalogue only means English; it is not worth stopping for.
    let _ = bindtextdomain(GETTEXT_PACKAGE, locale_dir());
    let _ = bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    let _ = textdomain(GETTEXT_PACKAGE);
}

/// Where the catalogues are: the compiled-in directory, or, for an
/// uninstalled build (the translation tests run `target/debug` with
/// `_build/po` or a generated pseudo-locale),
/// `VMNET_DOCTOR_LOCALEDIR_OVERRIDE` when it names a directory.
fn locale_dir() -> std::path::PathBuf {
    std::env::var_os("VMNET_DOCTOR_LOCALEDIR_OVERRIDE")
        .map(std::path::PathBuf::from)
        .filter(|dir| dir.is_dir())
        .unwrap_or_else(|| std::path::PathBuf::from(LOCALEDIR))
}

pub use vmnet_doctor_core::i18n::fill;
