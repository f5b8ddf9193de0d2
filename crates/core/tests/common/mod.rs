//! Fixture access shared by the integration tests.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::path::{Path, PathBuf};

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `crates/core/tests/fixtures/<relative>`.
pub fn fixture_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(relative)
}

/// The text of a fixture, with the file name in the error when it is missing.
pub fn fixture(relative: &str) -> Result<String, Box<dyn std::error::Error>> {
    let path = fixture_path(relative);
    std::fs::read_to_string(&path).map_err(|error| format!("{}: {error}", path.display()).into())
}

/// The `.xml` files of a fixture folder (e.g. `domains`), by file name.
pub fn fixture_names(folder: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(fixture_path(folder))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".xml") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
