//! What the window is opened with: the command line's choices for the GUI
//! (`vmnet-doctor [--connect URI…] [--demo] [--vm NAME] [--setup]`), read
//! by `crate::cli` and taken by `crate::ui::window`.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuiOptions {
    /// The libvirt URIs to open, in the sidebar's order, instead of those
    /// open last time.
    pub connect: Vec<String>,
    /// Open the built-in demo hypervisor (first, beside any `connect`).
    pub demo: bool,
    /// Select this VM once the connection is open.
    pub vm: Option<String>,
    /// Open the setup wizard once the connection is open.
    pub setup: bool,
}
