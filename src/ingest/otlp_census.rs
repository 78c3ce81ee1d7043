//! How much an OTLP/JSON traces request carries, counted before it is parsed:
//! its spans (`resourceSpans[].scopeSpans[].spans[]`, also under the older
//! `instrumentationLibrarySpans`) and its JSON values, in one pass that keeps
//! nothing and stops as soon as either passes its limit.

use crate::limits::json::{CountError, Tally, Values};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::fmt;

/// What a request was found to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    pub spans: usize,
    pub values: usize,
}

/// Why a request was not counted to its end.
#[derive(Debug, thiserror::Error)]
pub enum CensusError {
    #[error("more than {0} spans")]
    TooManySpans(usize),
    #[error(transparent)]
    Count(#[from] CountError),
}

/// Counts the spans and values of the OTLP/JSON request `text`.
pub fn census(text: &[u8], max_spans: usize, max_values: usize) -> Result<Census, CensusError> {
    let tally = Tally::new(max_values);
    let spans = Spans {
        count: Cell::new(0),
        limit: max_spans,
    };
    let walked = tally.run(text, |de, tally| {
        de.deserialize_any(Walk {
            level: Level::Request,
            tally,
            spans: &spans,
        })
    });
    if spans.count.get() > max_spans {
        return Err(CensusError::TooManySpans(max_spans));
    }
    walked?;
    Ok(Census {
        spans: spans.count.get(),
        values: tally.count(),
    })
}

struct Spans {
    count: Cell<usize>,
    limit: usize,
}

/// Where in the request a value sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The request object.
    Request,
    /// `resourceSpans`, the list.
    ResourceList,
    /// One of its elements.
    Resource,
    /// `scopeSpans`, the list.
    ScopeList,
    /// One of its elements.
    Scope,
    /// `spans`, the list whose elements are counted.
    SpanList,
}

impl Level {
    /// The level of the value under `key` in an object at this level, if it matters.
    fn child(self, key: &str) -> Option<Level> {
        match (self, key) {
            (Level::Request, "resourceSpans") => Some(Level::ResourceList),
            (Level::Resource, "scopeSpans" | "instrumentationLibrarySpans") => {
                Some(Level::ScopeList)
            }
            (Level::Scope, "spans") => Some(Level::SpanList),
            _ => None,
        }
    }

    /// The level of the elements of a list at this level.
    fn element(self) -> Option<Level> {
        match self {
            Level::ResourceList => Some(Level::Resource),
            Level::ScopeList => Some(Level::Scope),
            _ => None,
        }
    }
}

#[derive(Clone, Copy)]
struct Walk<'a> {
    level: Level,
    tally: &'a Tally,
    spans: &'a Spans,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an OTLP/JSON traces request")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        Values(self.tally).visit_bool(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        Values(self.tally).visit_i64(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        Values(self.tally).visit_u64(v)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        Values(self.tally).visit_f64(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        Values(self.tally).visit_str(v)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Values(self.tally).visit_unit()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Values(self.tally).visit_none()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.tally.bump()?;
        if self.level == Level::SpanList {
            loop {
                let n = self.spans.count.get() + 1;
                // Counted before the element is read: only a span that is there stops the walk.
                match seq.next_element_seed(SpanSlot {
                    tally: self.tally,
                    spans: self.spans,
                    n,
                })? {
                    Some(()) => {}
                    None => return Ok(()),
                }
            }
        }
        match self.level.element() {
            Some(level) => while seq.next_element_seed(Walk { level, ..self })?.is_some() {},
            None => while seq.next_element_seed(Values(self.tally))?.is_some() {},
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.tally.bump()?;
        while let Some(key) = map.next_key::<Key>()? {
            self.tally.bump()?;
            match key.0.and_then(|k| self.level.child(k)) {
                Some(level) => map.next_value_seed(Walk { level, ..self })?,
                None => map.next_value_seed(Values(self.tally))?,
            }
        }
        Ok(())
    }
}

/// One element of a `spans` list: counted as a span, its contents as values.
struct SpanSlot<'a> {
    tally: &'a Tally,
    spans: &'a Spans,
    n: usize,
}

impl<'de> DeserializeSeed<'de> for SpanSlot<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.spans.count.set(self.n);
        if self.n > self.spans.limit {
            return Err(serde::de::Error::custom("span limit passed"));
        }
        Values(self.tally).deserialize(d)
    }
}

/// An object key, told apart only when it names a level of the request.
struct Key(Option<&'static str>);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: serde::de::Error>(self, k: &str) -> Result<Key, E> {
                const KNOWN: [&str; 4] = [
                    "resourceSpans",
                    "scopeSpans",
                    "instrumentationLibrarySpans",
                    "spans",
                ];
                Ok(Key(KNOWN.into_iter().find(|known| *known == k)))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(spans_per_scope: usize, scopes: usize) -> String {
        let span = r#"{"traceId":"aa","spanId":"bb","name":"x","attributes":[{"key":"k","value":{"stringValue":"v"}}]}"#;
        let scope = format!(
            r#"{{"scope":{{"name":"s"}},"spans":[{}]}}"#,
            vec![span; spans_per_scope].join(",")
        );
        format!(
            r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{}]}},{{"instrumentationLibrarySpans":[{}]}}]}}"#,
            vec![scope.as_str(); scopes].join(","),
            scope
        )
    }

    #[test]
    fn counts_spans_under_both_names_and_all_values() {
        let r = request(3, 2);
        let c = census(r.as_bytes(), 100, 10_000).unwrap();
        assert_eq!(c.spans, 9);
        assert_eq!(
            c.values,
            crate::limits::json::count_values(r.as_bytes(), 10_000).unwrap()
        );
        // "spans" elsewhere is not a span list
        let c = census(br#"{"spans":[1,2,3],"resourceSpans":[]}"#, 1, 100).unwrap();
        assert_eq!(c.spans, 0);
    }

    #[test]
    fn stops_at_the_first_span_or_value_past_a_limit() {
        let r = request(50, 4);
        assert!(matches!(
            census(r.as_bytes(), 199, 1_000_000),
            Err(CensusError::TooManySpans(199))
        ));
        assert_eq!(census(r.as_bytes(), 250, 1_000_000).unwrap().spans, 250);
        assert!(matches!(
            census(r.as_bytes(), 1000, 100),
            Err(CensusError::Count(CountError::TooMany(100)))
        ));
    }

    #[test]
    fn bad_json_is_reported_as_such() {
        assert!(matches!(
            census(b"{\"resourceSpans\": [tru", 10, 10),
            Err(CensusError::Count(CountError::Invalid(_)))
        ));
        assert!(
            census(b"[1,2]", 10, 10).is_ok(),
            "counting does not judge shape"
        );
    }
}
