//! Compiles the gresource bundle (style sheet, icons) into the binary, so
//! plain `cargo run` and the installed app look the same.

fn main() {
    glib_build_tools::compile_resources(
        &["data/resources"],
        "data/resources/resources.gresource.xml",
        "vmnet-doctor.gresource",
    );
}
