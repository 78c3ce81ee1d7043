//! Counting a JSON text's values before anything builds a tree of it: one
//! serde pass that keeps nothing, stopping as soon as the count passes its
//! limit. A body of millions of tiny values (`[0,0,0,…]`, a few bytes each,
//! dozens of bytes each once parsed) is then refused or left unparsed instead
//! of inflating in memory.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;

/// Why a text was not counted to its end.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    #[error("more than {0} JSON values")]
    TooMany(usize),
    #[error("invalid JSON: {0}")]
    Invalid(serde_json::Error),
}

/// Values in `text` (every scalar, array, object and object member counts
/// one); `TooMany` as soon as there are more than `limit`.
pub fn count_values(text: &[u8], limit: usize) -> Result<usize, CountError> {
    let tally = Tally::new(limit);
    tally.run(text, |de, tally| de.deserialize_any(Values(tally)))?;
    Ok(tally.count.get())
}

/// A running count against a limit, shared by the visitors of one pass.
#[derive(Debug)]
pub struct Tally {
    count: Cell<usize>,
    limit: usize,
}

/// The error a visitor raises when the limit is passed (told apart from bad JSON by [`Tally::run`]).
const OVER: &str = "skilltrace: value limit passed";

impl Tally {
    /// A count of 0 against `limit`.
    pub fn new(limit: usize) -> Tally {
        Tally {
            count: Cell::new(0),
            limit,
        }
    }

    /// Values counted so far.
    pub fn count(&self) -> usize {
        self.count.get()
    }

    /// Counts one value; an error once past the limit.
    pub fn bump<E: serde::de::Error>(&self) -> Result<(), E> {
        let n = self.count.get() + 1;
        self.count.set(n);
        if n > self.limit {
            return Err(E::custom(OVER));
        }
        Ok(())
    }

    /// Runs `walk` over the whole of `text` (trailing garbage is an error).
    pub fn run(
        &self,
        text: &[u8],
        walk: impl FnOnce(
            &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>,
            &Tally,
        ) -> Result<(), serde_json::Error>,
    ) -> Result<(), CountError> {
        let mut de = serde_json::Deserializer::from_slice(text);
        let res = walk(&mut de, self).and_then(|()| de.end());
        match res {
            Ok(()) => Ok(()),
            Err(_) if self.count.get() > self.limit => Err(CountError::TooMany(self.limit)),
            Err(e) => Err(CountError::Invalid(e)),
        }
    }
}

/// Counts a value and everything inside it.
#[derive(Clone, Copy)]
pub struct Values<'t>(pub &'t Tally);

impl<'de> DeserializeSeed<'de> for Values<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Values<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        self.0.bump()
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        self.0.bump()
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        self.0.bump()
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        self.0.bump()
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        self.0.bump()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.0.bump()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.0.bump()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.bump()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.bump()?;
        while map.next_key::<IgnoredAny>()?.is_some() {
            self.0.bump()?;
            map.next_value_seed(self)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_value_and_member() {
        assert_eq!(count_values(b"1", 10).unwrap(), 1);
        assert_eq!(count_values(b"[]", 10).unwrap(), 1);
        assert_eq!(count_values(b"[0,0,0]", 10).unwrap(), 4);
        // object + 2 members + their values (one an array of one)
        assert_eq!(count_values(br#"{"a":1,"b":[null]}"#, 10).unwrap(), 6);
        assert_eq!(count_values(br#""x,y[{""#, 10).unwrap(), 1);
    }

    #[test]
    fn stops_past_the_limit_without_reading_on() {
        let many = format!("[{}0]", "0,".repeat(1_000_000));
        assert!(matches!(
            count_values(many.as_bytes(), 1000),
            Err(CountError::TooMany(1000))
        ));
        assert_eq!(count_values(many.as_bytes(), 2_000_000).unwrap(), 1_000_002);
    }

    #[test]
    fn bad_json_is_invalid_not_too_many() {
        for bad in [&b"{"[..], b"[1,]", b"1 2", b"\"\xff\""] {
            assert!(
                matches!(count_values(bad, 10), Err(CountError::Invalid(_))),
                "{bad:?}"
            );
        }
    }
}
