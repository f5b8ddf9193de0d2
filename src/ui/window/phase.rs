//! What the window shows as a whole (no connection, connecting, failed,
//! connected), and what its status pages say about it. Apart from the
//! component so that the view's page texts read one small type.

use gettextrs::gettext;

use crate::connections;
use crate::i18n::fill;
use crate::ui::error_page::ErrorText;

/// What the window shows as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase {
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
    pub(super) fn page(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Connecting { .. } => "connecting",
            Phase::Failed { .. } => "failed",
            Phase::Connected => "connected",
        }
    }
}

pub(super) fn connecting_title(phase: &Phase) -> String {
    match phase {
        Phase::Connecting { uri } => {
            fill(&gettext("Connecting to {connection}"), &[("connection", &connections::label(uri))])
        }
        _ => String::new(),
    }
}

pub(super) fn failure(phase: &Phase) -> Option<&ErrorText> {
    match phase {
        Phase::Failed { text, .. } => Some(text),
        _ => None,
    }
}
