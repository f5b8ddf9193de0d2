//! Network interface names as the helper accepts them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zbus::{Signature, Type};

/// The longest interface name Linux allows (`IFNAMSIZ` − 1).
pub const MAX_IFACE_NAME_LEN: usize = 15;

/// Whether `name` matches `^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$`.
///
/// That is narrower than what the kernel allows, on purpose: no `/`, no
/// white space, no `:` or `!` (which UFW and iptables give meanings), no
/// non-ASCII, and no leading `-` or `.`, so a name can never be read as an
/// option or as `.`/`..`.
pub fn is_valid_iface_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some((&first, rest)) = bytes.split_first() else { return false };
    bytes.len() <= MAX_IFACE_NAME_LEN
        && (first.is_ascii_alphanumeric() || first == b'_')
        && rest.iter().all(|&byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-'))
}

/// A network interface name that passed [`is_valid_iface_name`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IfaceName(String);

/// Why a string is not an [`IfaceName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{shown} is not a valid network interface name (1 to 15 of A-Z a-z 0-9 _ . -, not starting with . or -)"
)]
pub struct NameError {
    /// The rejected text, quoted and shortened for messages.
    shown: String,
}

impl IfaceName {
    pub fn new(name: impl Into<String>) -> Result<Self, NameError> {
        let name = name.into();
        if is_valid_iface_name(&name) {
            Ok(Self(name))
        } else {
            let short: String = name.chars().take(32).collect();
            Err(NameError { shown: format!("{short:?}") })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for IfaceName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IfaceName {
    type Error = NameError;
    fn try_from(name: String) -> Result<Self, NameError> {
        Self::new(name)
    }
}

impl TryFrom<&str> for IfaceName {
    type Error = NameError;
    fn try_from(name: &str) -> Result<Self, NameError> {
        Self::new(name)
    }
}

// A string on the wire; deserializing validates it.
impl Type for IfaceName {
    const SIGNATURE: &'static Signature = &Signature::Str;
}

impl Serialize for IfaceName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for IfaceName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::new(name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The rule restated independently of the implementation: a character
    /// class per position, checked on `char`s (not bytes).
    fn reference(name: &str) -> bool {
        let chars: Vec<char> = name.chars().collect();
        let body = |c: &char| c.is_ascii_alphanumeric() || "_.-".contains(*c);
        !chars.is_empty()
            && chars.len() <= 15
            && (chars[0].is_ascii_alphanumeric() || chars[0] == '_')
            && chars.iter().all(body)
    }

    #[test]
    fn accepts_real_interface_names() {
        for name in
            ["virbr0", "br0", "enp3s0", "wlp0s20f3", "eth0.100", "docker0", "br-4f3a2b1c9d8e", "_x", "0"]
        {
            assert!(is_valid_iface_name(name), "{name}");
        }
    }

    #[test]
    fn rejects_what_could_be_read_as_something_else() {
        for name in [
            "",
            "-i",
            "--help",
            ".",
            "..",
            ".hidden",
            "a b",
            "a/b",
            "a:1",
            "a!b",
            "a\n",
            "a\0",
            "a;b",
            "$(x)",
            "a'b",
            "ä",
            "virbr0virbr0vir0", // 16
            "eth+",
        ] {
            assert!(!is_valid_iface_name(name), "{name:?}");
            assert!(IfaceName::new(name).is_err(), "{name:?}");
        }
    }

    /// Every string of up to two bytes drawn from all 256 byte values (as
    /// Latin-1 characters, so the multi-byte UTF-8 forms are covered too).
    #[test]
    fn agrees_with_the_reference_on_every_short_string() {
        let chars: Vec<char> = (0u8..=255).map(char::from).collect();
        let mut accepted = 0;
        for &a in &chars {
            let one = a.to_string();
            assert_eq!(is_valid_iface_name(&one), reference(&one), "{one:?}");
            for &b in &chars {
                let two: String = [a, b].iter().collect();
                let valid = is_valid_iface_name(&two);
                assert_eq!(valid, reference(&two), "{two:?}");
                accepted += usize::from(valid);
            }
        }
        // 63 first characters × 65 others.
        assert_eq!(accepted, 63 * 65);
    }

    proptest! {
        #[test]
        fn every_name_the_pattern_describes_is_accepted(name in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}") {
            prop_assert!(is_valid_iface_name(&name));
            prop_assert_eq!(IfaceName::new(name.clone()).map(|n| n.0), Ok(name));
        }

        #[test]
        fn any_string_is_accepted_exactly_when_the_reference_says(name in any::<String>()) {
            prop_assert_eq!(is_valid_iface_name(&name), reference(&name));
        }

        #[test]
        fn one_foreign_character_anywhere_is_rejected(
            name in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,13}",
            at in 0usize..15,
            bad in "[^A-Za-z0-9_.-]",
        ) {
            let at = at.min(name.len());
            let mut changed = name;
            changed.insert_str(at, &bad);
            prop_assert!(!is_valid_iface_name(&changed), "{:?}", changed);
        }

        #[test]
        fn sixteen_or_more_characters_are_rejected(name in "[A-Za-z0-9_][A-Za-z0-9_.-]{15,40}") {
            prop_assert!(!is_valid_iface_name(&name));
        }

        #[test]
        fn a_leading_dot_or_dash_is_rejected(first in "[.-]", rest in "[A-Za-z0-9_.-]{0,14}") {
            let name = format!("{first}{rest}");
            prop_assert!(!is_valid_iface_name(&name));
        }
    }
}
