//! GSettings, when the schema is installed. Under plain `cargo run` it may
//! not be; then nothing is remembered, and nothing breaks.

use relm4::gtk::prelude::*;
use relm4::gtk::{gio, glib};

use crate::config::SCHEMA_ID;

pub fn app_settings() -> Option<gio::Settings> {
    let source = gio::SettingsSchemaSource::default()?;
    let schema = source.lookup(SCHEMA_ID, true)?;
    Some(gio::Settings::new_full(&schema, None::<&gio::SettingsBackend>, None))
}

/// A string list from another application's schema (virt-manager's saved
/// connections), if that schema is installed and has the key.
pub fn foreign_strv(schema_id: &str, key: &str) -> Vec<String> {
    gio::SettingsSchemaSource::default()
        .map(|source| strv_from(&source, None, schema_id, key))
        .unwrap_or_default()
}

/// [`foreign_strv`] with the schema source and settings backend given, so
/// tests can point it at a keyfile.
pub fn strv_from(
    source: &gio::SettingsSchemaSource,
    backend: Option<&gio::SettingsBackend>,
    schema_id: &str,
    key: &str,
) -> Vec<String> {
    let Some(schema) = source.lookup(schema_id, true) else {
        return Vec::new();
    };
    // A key of another type (a future virt-manager) is ignored, not a crash.
    if !schema.has_key(key) || schema.key(key).value_type() != *glib::VariantTy::STRING_ARRAY {
        return Vec::new();
    }
    let settings = gio::Settings::new_full(&schema, backend, None);
    settings.strv(key).iter().map(|s| s.to_string()).collect()
}
