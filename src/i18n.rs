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
    let _ = bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    let _ = bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    let _ = textdomain(GETTEXT_PACKAGE);
}

pub use vmnet_doctor_core::i18n::fill;
