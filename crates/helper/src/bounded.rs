//! Method arguments decoded within bounds.
//!
//! zbus decodes a call's arguments before the method runs, so a method
//! that takes `String`s or maps would let any caller make this root process
//! allocate what the bus allows in one message (32 MiB on the wire, several
//! times that decoded, and seconds of work) before any check. These
//! wrappers have the wire types' signatures, look at strings where they lie
//! in the message, and stop decoding at the first item past their small
//! limits: zbus then answers `InvalidArgs` and drops the message without
//! the method (polkit, the audit line) ever running — as for any other
//! malformed call.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use vmnet_doctor_helper_api::FixWire;
use zbus::Type;
use zbus::wire::Signature;

/// The longest string any argument may hold (names, ids, addresses).
pub const MAX_STRING: usize = 256;
/// The most arguments a fix may name.
pub const MAX_FIX_ARGS: usize = 8;

/// An argument decoded within its bounds.
#[derive(Debug)]
pub struct Bounded<T>(pub T);

/// Why decoding stopped.
fn too_large<E: de::Error>(what: &str) -> E {
    E::custom(format!("{what} is larger than the helper accepts"))
}

impl<T: Type> Type for Bounded<T> {
    const SIGNATURE: &'static Signature = T::SIGNATURE;
}

/// A string of at most [`MAX_STRING`] bytes.
struct ShortStr;

impl<'de> DeserializeSeed<'de> for ShortStr {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for ShortStr {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        if value.len() > MAX_STRING {
            return Err(too_large("a string"));
        }
        Ok(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for Bounded<String> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ShortStr.deserialize(deserializer).map(Bounded)
    }
}

/// Up to `max` short strings.
struct ShortStrings {
    max: usize,
}

impl<'de> Visitor<'de> for ShortStrings {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ShortStr)? {
            if items.len() == self.max {
                return Err(too_large("the list"));
            }
            items.push(item);
        }
        Ok(items)
    }
}

/// A list argument: the string arrays of `InspectHost` and `Connections`,
/// kept up to one item more than they accept (so that their own checks
/// can say how many were asked for too many).
pub struct BoundedList<const MAX: usize>(pub Vec<String>);

impl<const MAX: usize> fmt::Debug for BoundedList<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BoundedList").field(&self.0).finish()
    }
}

impl<const MAX: usize> Type for BoundedList<MAX> {
    const SIGNATURE: &'static Signature = <Vec<String>>::SIGNATURE;
}

impl<'de, const MAX: usize> Deserialize<'de> for BoundedList<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(ShortStrings { max: MAX + 1 }).map(BoundedList)
    }
}

/// A fix's `a{ss}` arguments: at most [`MAX_FIX_ARGS`] short pairs.
struct FixArgs;

impl<'de> DeserializeSeed<'de> for FixArgs {
    type Value = BTreeMap<String, String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FixArgs {
    type Value = BTreeMap<String, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dictionary of strings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut args = BTreeMap::new();
        while let Some(key) = map.next_key_seed(ShortStr)? {
            if args.len() == MAX_FIX_ARGS {
                return Err(too_large("the fix's arguments"));
            }
            let value = map.next_value_seed(ShortStr)?;
            args.insert(key, value);
        }
        Ok(args)
    }
}

struct Fix;

impl<'de> Visitor<'de> for Fix {
    type Value = FixWire;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a fix (sa{ss})")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let kind = seq.next_element_seed(ShortStr)?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let args = seq.next_element_seed(FixArgs)?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        Ok(FixWire { kind, args })
    }
}

impl<'de> Deserialize<'de> for Bounded<FixWire> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("FixWire", &["kind", "args"], Fix).map(Bounded)
    }
}

#[cfg(test)]
mod tests {
    use zbus::wire::serialized::{Context, Data};
    use zbus::wire::{LE, to_bytes};

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn round_trip<T, W>(value: &W) -> Result<T, Box<dyn std::error::Error>>
    where
        W: serde::Serialize + Type,
        T: for<'de> Deserialize<'de> + Type,
    {
        let context = Context::new(LE, 0);
        let bytes: Data<'_, '_> = to_bytes(context, value)?;
        Ok(bytes.deserialize::<T>()?.0)
    }

    #[test]
    fn small_arguments_come_through_whole() -> TestResult {
        let fix = FixWire {
            kind: "ufw-allow-bridge".into(),
            args: [("bridge".to_owned(), "virbr0".to_owned()), ("uplink".to_owned(), "eth0".to_owned())]
                .into(),
        };
        let decoded: Bounded<FixWire> = round_trip(&fix)?;
        assert_eq!(decoded.0, fix);
        let list: BoundedList<4> = round_trip(&vec!["a".to_owned(), "b".to_owned()])?;
        assert_eq!(list.0, ["a", "b"]);
        // One more than the limit comes through (the method says how many
        // were asked for too many).
        let list: BoundedList<2> = round_trip(&vec!["a".to_owned(); 3])?;
        assert_eq!(list.0.len(), 3);
        let one: Bounded<String> = round_trip(&"x".repeat(MAX_STRING))?;
        assert_eq!(one.0.len(), MAX_STRING);
        Ok(())
    }

    #[test]
    fn decoding_stops_at_the_first_item_past_the_bounds() -> TestResult {
        let many: BTreeMap<String, String> = (0..100_000).map(|n| (format!("{n}"), "x".to_owned())).collect();
        let error = round_trip::<Bounded<FixWire>, _>(&FixWire { kind: "k".into(), args: many });
        assert!(error.is_err_and(|error| error.to_string().contains("larger than the helper accepts")));
        let long = FixWire { kind: "k".repeat(MAX_STRING + 1), args: BTreeMap::new() };
        assert!(round_trip::<Bounded<FixWire>, _>(&long).is_err());
        assert!(round_trip::<BoundedList<2>, _>(&vec!["a".to_owned(); 4]).is_err());
        assert!(round_trip::<Bounded<String>, _>(&"x".repeat(MAX_STRING + 1)).is_err());
        Ok(())
    }
}
