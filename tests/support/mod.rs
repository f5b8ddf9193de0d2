//! What the command line's tests share: the real binary, run as a user
//! runs it.

use std::error::Error;
use std::process::{Command, Output, Stdio};

/// `vmnet-doctor SUBCOMMAND ARGS…` with English text, no display, and no
/// terminal: polkit is never asked interactively.
pub fn run(subcommand: &str, args: &[&str]) -> Result<Output, Box<dyn Error>> {
    Ok(Command::new(env!("CARGO_BIN_EXE_vmnet-doctor"))
        .arg(subcommand)
        .args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .output()?)
}
