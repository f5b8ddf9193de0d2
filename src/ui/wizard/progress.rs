//! The setup wizard's progress in GSettings: whether it was completed or
//! dismissed (so it opens by itself only on a first run), the step it was
//! left on and the steps skipped. Without the schema, or with an older
//! compiled schema lacking the keys, nothing is remembered and the wizard
//! does not open by itself.

use relm4::gtk::gio;
use relm4::gtk::prelude::*;

use super::steps::StepId;

const STATE: &str = "setup-state";
const STEP: &str = "setup-step";
const SKIPPED: &str = "setup-skipped";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupState {
    New,
    Dismissed,
    Done,
}

impl SetupState {
    fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Dismissed => "dismissed",
            Self::Done => "done",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Progress {
    settings: Option<gio::Settings>,
}

impl Progress {
    pub fn new(settings: Option<gio::Settings>) -> Self {
        // GSettings aborts on a key its schema lacks: check once here.
        let settings = settings.filter(|settings| {
            settings
                .settings_schema()
                .is_some_and(|schema| [STATE, STEP, SKIPPED].iter().all(|key| schema.has_key(key)))
        });
        Self { settings }
    }

    pub fn state(&self) -> Option<SetupState> {
        let value = self.settings.as_ref()?.string(STATE);
        Some(match value.as_str() {
            "done" => SetupState::Done,
            "dismissed" => SetupState::Dismissed,
            _ => SetupState::New,
        })
    }

    /// Whether the wizard should open by itself (never completed nor dismissed).
    pub fn first_run(&self) -> bool {
        self.state() == Some(SetupState::New)
    }

    pub fn set_state(&self, state: SetupState) {
        if let Some(settings) = &self.settings {
            // Remembering is a convenience; a read-only backend is not an error.
            let _ = settings.set_string(STATE, state.as_str());
        }
    }

    pub fn step(&self) -> Option<StepId> {
        StepId::parse(self.settings.as_ref()?.string(STEP).as_str())
    }

    pub fn set_step(&self, step: StepId) {
        if let Some(settings) = &self.settings {
            let _ = settings.set_string(STEP, step.as_str());
        }
    }

    pub fn skipped(&self) -> Vec<StepId> {
        let Some(settings) = &self.settings else { return Vec::new() };
        settings.strv(SKIPPED).iter().filter_map(|name| StepId::parse(name.as_str())).collect()
    }

    pub fn set_skipped(&self, skipped: &[StepId]) {
        if let Some(settings) = &self.settings {
            let names: Vec<&str> = skipped.iter().map(|step| step.as_str()).collect();
            let _ = settings.set_strv(SKIPPED, names.as_slice());
        }
    }
}
