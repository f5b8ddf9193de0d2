//! What the sidebar's search keeps: the VMs whose name contains the typed
//! text, in any case, and with "only VMs with problems" those with an error
//! or a warning. Pure, so that it is tested without GTK, and cheap: the
//! list asks it about every VM on each key press.

/// The search's text and toggle; the default keeps every VM.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmFilter {
    /// The typed text, folded with [`fold`] once rather than per VM.
    needle: String,
    problems_only: bool,
}

impl VmFilter {
    pub fn new(text: &str, problems_only: bool) -> Self {
        // Surrounding spaces are a typing accident, never part of a VM name.
        Self { needle: fold(text.trim()), problems_only }
    }

    /// Whether it keeps every VM (nothing typed, toggle off).
    pub fn keeps_all(&self) -> bool {
        self.needle.is_empty() && !self.problems_only
    }

    pub fn problems_only(&self) -> bool {
        self.problems_only
    }

    /// `folded_name` is the VM's name passed through [`fold`].
    pub fn keeps(&self, folded_name: &str, has_problem: bool) -> bool {
        (!self.problems_only || has_problem) && folded_name.contains(&self.needle)
    }
}

/// A name as the search compares it: lower case, so "Win11" is found by
/// "win" and by "WIN".
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::{VmFilter, fold};

    fn kept<'a>(filter: &VmFilter, vms: &[(&'a str, bool)]) -> Vec<&'a str> {
        vms.iter()
            .filter(|(name, problem)| filter.keeps(&fold(name), *problem))
            .map(|(name, _)| *name)
            .collect()
    }

    const VMS: [(&str, bool); 5] = [
        ("win11", true),
        ("Windows-Server", false),
        ("debian12", false),
        ("kali-linux", true),
        ("ÉCOLE-vm", false),
    ];

    #[test]
    fn nothing_typed_keeps_every_vm() {
        let filter = VmFilter::default();
        assert!(filter.keeps_all());
        assert_eq!(kept(&filter, &VMS).len(), VMS.len());
        assert_eq!(VmFilter::new("  ", false), filter);
    }

    #[test]
    fn text_matches_anywhere_in_the_name_in_any_case() {
        assert_eq!(kept(&VmFilter::new("WIN", false), &VMS), ["win11", "Windows-Server"]);
        assert_eq!(kept(&VmFilter::new("linux", false), &VMS), ["kali-linux"]);
        assert_eq!(kept(&VmFilter::new("12", false), &VMS), ["debian12"]);
        assert_eq!(kept(&VmFilter::new(" deb ", false), &VMS), ["debian12"]);
        assert_eq!(kept(&VmFilter::new("école", false), &VMS), ["ÉCOLE-vm"]);
        assert!(kept(&VmFilter::new("fedora", false), &VMS).is_empty());
    }

    #[test]
    fn problems_only_keeps_vms_with_problems() {
        let filter = VmFilter::new("", true);
        assert!(!filter.keeps_all());
        assert!(filter.problems_only());
        assert_eq!(kept(&filter, &VMS), ["win11", "kali-linux"]);
        // Both at once: a problem and the text.
        assert_eq!(kept(&VmFilter::new("win", true), &VMS), ["win11"]);
    }
}
