//! GSettings, when the schema is installed. Under plain `cargo run` it may
//! not be; then nothing is remembered, and nothing breaks.

use relm4::gtk::gio;
use relm4::gtk::prelude::*;

use crate::config::SCHEMA_ID;

pub fn app_settings() -> Option<gio::Settings> {
    let source = gio::SettingsSchemaSource::default()?;
    let schema = source.lookup(SCHEMA_ID, true)?;
    Some(gio::Settings::new_full(&schema, None::<&gio::SettingsBackend>, None))
}

/// A string list from another application's schema (virt-manager's saved
/// connections), if that schema is installed and has the key.
pub fn foreign_strv(schema_id: &str, key: &str) -> Vec<String> {
    let Some(schema) = gio::SettingsSchemaSource::default().and_then(|s| s.lookup(schema_id, true)) else {
        return Vec::new();
    };
    if !schema.has_key(key) {
        return Vec::new();
    }
    let settings = gio::Settings::new_full(&schema, None::<&gio::SettingsBackend>, None);
    settings.strv(key).iter().map(|s| s.to_string()).collect()
}
