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
const TARGETS: &str = "verify-targets";

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
                .is_some_and(|schema| [STATE, STEP, SKIPPED, TARGETS].iter().all(|key| schema.has_key(key)))
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

    /// Whether the wizard should open by itself: never completed nor
    /// dismissed, and settings that will remember it was shown (GLib's
    /// memory backend forgets at exit: every start would be a first run).
    pub fn first_run(&self) -> bool {
        self.state() == Some(SetupState::New) && self.settings.as_ref().is_some_and(remembers)
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

    /// The checklist's targets as typed last: gateway, ping, DNS, HTTP
    /// (empty where the guide's own apply).
    pub fn targets(&self) -> [String; 4] {
        let mut targets: [String; 4] = Default::default();
        if let Some(settings) = &self.settings {
            for (target, value) in targets.iter_mut().zip(settings.strv(TARGETS).iter()) {
                *target = value.to_string();
            }
        }
        targets
    }

    pub fn set_targets(&self, targets: &[&str; 4]) {
        if let Some(settings) = &self.settings {
            let _ = settings.set_strv(TARGETS, targets.as_slice());
        }
    }

    pub fn set_skipped(&self, skipped: &[StepId]) {
        if let Some(settings) = &self.settings {
            let names: Vec<&str> = skipped.iter().map(|step| step.as_str()).collect();
            let _ = settings.set_strv(SKIPPED, names.as_slice());
        }
    }
}

fn remembers(settings: &gio::Settings) -> bool {
    settings.property::<gio::SettingsBackend>("backend").type_().name() != "GMemorySettingsBackend"
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::process::Command;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use relm4::gtk::glib;

    use super::*;
    use crate::config::SCHEMA_ID;

    /// Creating GSettings' backends touches GIO's global state (the
    /// extension points' first registration): these tests take turns.
    static GIO: Mutex<()> = Mutex::new(());

    fn gio_turn() -> MutexGuard<'static, ()> {
        GIO.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The app's real schema (or `xml` in its place), compiled by GLib's
    /// own compiler, with settings kept in a keyfile as GLib's keyfile
    /// backend writes it.
    ///
    /// The backend's file monitors deliver in the main context that was
    /// the thread's default when they were made. Made under GLib's global
    /// default, they were dispatched by whichever thread iterated it: here
    /// libvirt's event thread (`virEventRunDefaultImpl` iterates the global
    /// default context) reloaded a keyfile under a test's writes, losing
    /// them (about one run in twelve) or crashing on a backend being freed
    /// (one in forty). A context of the test's own, never iterated, keeps
    /// every callback on the test's thread.
    fn settings(xml: Option<&str>) -> Result<(tempfile::TempDir, gio::Settings), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let source_dir = match xml {
            Some(xml) => {
                std::fs::write(dir.path().join(format!("{SCHEMA_ID}.gschema.xml")), xml)?;
                dir.path().to_path_buf()
            }
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
        };
        let status = Command::new("glib-compile-schemas")
            .arg("--strict")
            .arg("--targetdir")
            .arg(dir.path())
            .arg(&source_dir)
            .status()?;
        assert!(status.success(), "glib-compile-schemas failed on {}", source_dir.display());
        let source = gio::SettingsSchemaSource::from_directory(dir.path(), None, false)?;
        let schema = source.lookup(SCHEMA_ID, false).ok_or("the schema was not compiled")?;
        let keyfile = dir.path().join("keyfile");
        let settings = glib::MainContext::new().with_thread_default(|| {
            let backend = gio::keyfile_settings_backend_new(&keyfile.to_string_lossy(), "/", None);
            gio::Settings::new_full(&schema, Some(&backend), None)
        })?;
        Ok((dir, settings))
    }

    #[test]
    fn the_wizard_opens_by_itself_until_it_is_dismissed_or_done() -> Result<(), Box<dyn std::error::Error>> {
        let _turn = gio_turn();
        let (_dir, settings) = settings(None)?;
        let progress = Progress::new(Some(settings.clone()));
        assert!(progress.first_run());
        assert_eq!(progress.step(), None);
        progress.set_state(SetupState::Dismissed);
        assert!(!progress.first_run());
        progress.set_state(SetupState::Done);
        assert_eq!(progress.state(), Some(SetupState::Done));
        assert_eq!(settings.string("setup-state"), "done");
        Ok(())
    }

    #[test]
    fn settings_that_forget_at_exit_never_open_it_by_themselves() -> Result<(), Box<dyn std::error::Error>> {
        let _turn = gio_turn();
        let (_dir, settings) = settings(None)?;
        let schema = settings.settings_schema().ok_or("no schema")?;
        let memory = gio::memory_settings_backend_new();
        let progress = Progress::new(Some(gio::Settings::new_full(&schema, Some(&memory), None)));
        assert_eq!(progress.state(), Some(SetupState::New));
        assert!(!progress.first_run());
        Ok(())
    }

    #[test]
    fn the_step_and_the_skipped_steps_are_kept() -> Result<(), Box<dyn std::error::Error>> {
        let _turn = gio_turn();
        let (_dir, settings) = settings(None)?;
        let progress = Progress::new(Some(settings));
        progress.set_step(StepId::Guest);
        progress.set_skipped(&[StepId::Firewall, StepId::Verify]);
        assert_eq!(progress.step(), Some(StepId::Guest));
        assert_eq!(progress.skipped(), [StepId::Firewall, StepId::Verify]);
        assert_eq!(progress.targets(), [""; 4]);
        progress.set_targets(&["", "192.0.2.1", "www.lab", "http://www.lab/"]);
        assert_eq!(progress.targets(), ["", "192.0.2.1", "www.lab", "http://www.lab/"]);
        Ok(())
    }

    #[test]
    fn an_older_schema_without_the_keys_remembers_nothing_and_does_not_abort()
    -> Result<(), Box<dyn std::error::Error>> {
        let xml = format!(
            "<schemalist><schema id='{SCHEMA_ID}' path='/io/github/vmnetdoctor/VmNetDoctor/'>\
             <key name='window-width' type='i'><default>960</default></key></schema></schemalist>"
        );
        let _turn = gio_turn();
        let (_dir, settings) = settings(Some(&xml))?;
        let progress = Progress::new(Some(settings));
        assert_eq!(progress.state(), None);
        assert!(!progress.first_run());
        progress.set_step(StepId::Guest);
        assert_eq!(progress.step(), None);
        Ok(())
    }
}
