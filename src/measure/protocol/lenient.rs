//! Forgiving field types for typed (fast) chunk parsing.
//!
//! Deserialising chunks into borrowed structs is several times faster than building a
//! `serde_json::Value`, but a strict struct fails the whole chunk when one field has an
//! unexpected JSON type (`"content": [...]` from some proxies, a float token count). These
//! types read such a field as absent instead; the JSON must still be well formed.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A string field; any other JSON value reads as `None`. Borrowed when the JSON string has
/// no escapes.
#[derive(Debug, Default)]
pub(crate) struct Text<'a>(pub Option<Cow<'a, str>>);

impl<'a> Text<'a> {
    /// The text, unless absent or empty.
    pub fn non_empty(&self) -> Option<&str> {
        self.0.as_deref().filter(|s| !s.is_empty())
    }
}

/// A non-negative integer field; any other JSON value reads as `None`.
#[derive(Debug, Default)]
pub(crate) struct Count(pub Option<u64>);

/// Whether a field is present with something in it: not `null`, `[]` or `{}`.
#[derive(Debug, Default)]
pub(crate) struct Present(pub bool);

/// Skips a sequence or map without keeping it.
fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<bool, A::Error> {
    let mut any = false;
    while seq.next_element::<IgnoredAny>()?.is_some() {
        any = true;
    }
    Ok(any)
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<bool, A::Error> {
    let mut any = false;
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
        any = true;
    }
    Ok(any)
}

/// Implements the visitor methods for scalars of the "wrong" type and for `null`.
macro_rules! forgive {
    (other: $other:expr, null: $null:expr, [$($skip:ident : $t:ty),*]) => {
        $(fn $skip<E: de::Error>(self, _: $t) -> Result<Self::Value, E> { Ok($other) })*
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($null) }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> { Ok($null) }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Some(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text(Some(Cow::Owned(v.to_owned()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text(Some(Cow::Owned(v))))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq).map(|_| Text(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map).map(|_| Text(None))
    }

    forgive!(other: Text(None), null: Text(None), [visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64]);
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = Count;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Count(Some(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Count(u64::try_from(v).ok()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // `12.0` from servers that count in floats; fractions are not counts.
        let whole = v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64;
        Ok(Count(whole.then_some(v as u64)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq).map(|_| Count(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map).map(|_| Count(None))
    }

    forgive!(other: Count(None), null: Count(None), [visit_bool: bool, visit_str: &str]);
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CountVisitor)
    }
}

struct PresentVisitor;

impl<'de> Visitor<'de> for PresentVisitor {
    type Value = Present;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq).map(Present)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        drain_map(map).map(Present)
    }

    forgive!(
        other: Present(true),
        null: Present(false),
        [visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str]
    );
}

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PresentVisitor)
    }
}
