//! One Chat Completions stream chunk (`data: {...}`), read into the few fields
//! the stream fold uses ([`Chunk`]).
//!
//! Two readers give the same [`Chunk`]: [`parse`] deserializes the text straight
//! into typed structs that borrow its strings and skip every other field
//! without building a tree (most of the recorder's time on streams went into
//! building a `serde_json::Value` per chunk); [`Chunk::from_value`] reads a
//! parsed `Value` the way the fold always did. `parse` declines (returns
//! `None`) whatever it cannot read exactly as `from_value` would: an `error`
//! member, a value of an unexpected type, a repeated key, a text that is not
//! an object; the caller then parses a `Value`. One difference is left: where
//! an object is expected, `parse` reads an array positionally (serde's derived
//! structs accept both) while `from_value` ignores it; no provider sends that,
//! and what is read is redacted before it is stored, like any other text.

use super::exchange::error_text;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// What the fold reads of one chunk.
#[derive(Debug, Default, PartialEq)]
pub struct Chunk<'a> {
    pub error: Option<String>,
    pub id: Option<Cow<'a, str>>,
    pub model: Option<Cow<'a, str>>,
    pub choices: Vec<Choice<'a>>,
    pub usage: Option<Cow<'a, Value>>,
}

/// One entry of `choices`.
#[derive(Debug, Default, PartialEq)]
pub struct Choice<'a> {
    /// `index`, 0 when missing or not a non-negative integer.
    pub index: u64,
    /// `delta.content` then `delta.refusal`, those that are strings.
    pub text: Vec<Cow<'a, str>>,
    pub finish_reason: Option<Cow<'a, str>>,
    pub calls: Vec<CallPiece<'a>>,
}

/// One fragment of `delta.tool_calls`.
#[derive(Debug, Default, PartialEq)]
pub struct CallPiece<'a> {
    pub index: u64,
    /// `id` is a member (of any value, null included).
    pub has_id: bool,
    /// `function.name` is a member (of any value, null included).
    pub has_name: bool,
    pub id: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
    pub arguments: Option<Cow<'a, str>>,
}

impl<'a> Chunk<'a> {
    /// Reads a parsed chunk (any JSON value; what is not where the fold looks is ignored).
    pub fn from_value(v: &'a Value) -> Chunk<'a> {
        let s = |v: &'a Value, k: &str| v.get(k).and_then(Value::as_str).map(Cow::Borrowed);
        let index = |v: &Value| v.get("index").and_then(Value::as_u64).unwrap_or(0);
        let choices = v
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|choice| {
                let delta = choice.get("delta").unwrap_or(&Value::Null);
                let calls = delta
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|tc| {
                        let f = tc.get("function").unwrap_or(&Value::Null);
                        CallPiece {
                            index: index(tc),
                            has_id: tc.get("id").is_some(),
                            has_name: f.get("name").is_some(),
                            id: s(tc, "id"),
                            name: s(f, "name"),
                            arguments: s(f, "arguments"),
                        }
                    })
                    .collect();
                Choice {
                    index: index(choice),
                    text: ["content", "refusal"]
                        .into_iter()
                        .filter_map(|k| s(delta, k))
                        .collect(),
                    finish_reason: s(choice, "finish_reason"),
                    calls,
                }
            })
            .collect();
        Chunk {
            error: error_text(v),
            id: s(v, "id"),
            model: s(v, "model"),
            choices,
            usage: v.get("usage").filter(|u| !u.is_null()).map(Cow::Borrowed),
        }
    }
}

/// Reads `data` without building a tree; `None` where [`Chunk::from_value`]
/// must decide (see the module comment).
pub fn parse(data: &str) -> Option<Chunk<'_>> {
    if !data.starts_with('{') {
        return None;
    }
    let w: Wire<'_> = serde_json::from_str(data).ok()?;
    if w.error.is_some() {
        return None;
    }
    let choices = w
        .choices
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let delta = c.delta.unwrap_or_default();
            Choice {
                index: c.index.unwrap_or(0),
                text: [delta.content, delta.refusal]
                    .into_iter()
                    .flatten()
                    .map(|t| t.0)
                    .collect(),
                finish_reason: c.finish_reason.map(|t| t.0),
                calls: delta
                    .tool_calls
                    .unwrap_or_default()
                    .into_iter()
                    .map(|tc| {
                        let f = tc.function.unwrap_or_default();
                        CallPiece {
                            index: tc.index.unwrap_or(0),
                            has_id: tc.id.is_some(),
                            has_name: f.name.is_some(),
                            id: tc.id.flatten().map(|t| t.0),
                            name: f.name.flatten().map(|t| t.0),
                            arguments: f.arguments.map(|t| t.0),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Some(Chunk {
        error: None,
        id: w.id.map(|t| t.0),
        model: w.model.map(|t| t.0),
        choices,
        usage: w.usage.filter(|u| !u.is_null()).map(Cow::Owned),
    })
}

/// A string, borrowed from the text where it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// A member that may be absent (`None`), null (`Some(None)`) or a string.
fn member<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Text<'de>>>, D::Error> {
    Option::<Text<'de>>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    model: Option<Text<'a>>,
    #[serde(borrow, default)]
    choices: Option<Vec<WireChoice<'a>>>,
    #[serde(default)]
    usage: Option<Value>,
}

#[derive(Deserialize)]
struct WireChoice<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(borrow, default)]
    delta: Option<WireDelta<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
struct WireDelta<'a> {
    #[serde(borrow, default)]
    content: Option<Text<'a>>,
    #[serde(borrow, default)]
    refusal: Option<Text<'a>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<WireCall<'a>>>,
}

#[derive(Deserialize)]
struct WireCall<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(borrow, default, deserialize_with = "member")]
    id: Option<Option<Text<'a>>>,
    #[serde(borrow, default)]
    function: Option<WireFunction<'a>>,
}

#[derive(Deserialize, Default)]
struct WireFunction<'a> {
    #[serde(borrow, default, deserialize_with = "member")]
    name: Option<Option<Text<'a>>>,
    #[serde(borrow, default)]
    arguments: Option<Text<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `parse` gives what `from_value` gives, or declines.
    fn same(data: &str) -> bool {
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(_) => {
                assert!(parse(data).is_none(), "{data}");
                return false;
            }
        };
        match parse(data) {
            Some(c) => {
                assert_eq!(c, Chunk::from_value(&v), "{data}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn the_recorded_stream_is_read_without_a_tree_and_as_a_tree_alike() {
        let sse =
            include_str!("../../tests/fixtures/wire/wire-openai-chat/06_stream_tool_calls.sse");
        let mut n = 0;
        for line in sse.lines() {
            if let Some(d) = line.strip_prefix("data:") {
                let d = d.trim();
                if d != "[DONE]" {
                    assert!(same(d), "declined: {d}");
                    n += 1;
                }
            }
        }
        assert!(n > 3, "{n} chunks");
    }

    #[test]
    fn escapes_nulls_and_missing_members_read_alike() {
        for d in [
            r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"a \"q\" \u00e9"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":null,"function":{"name":null,"arguments":"{\"x\":1}"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{}}]}}],"usage":null}"#,
            r#"{"choices":[{"index":0,"delta":null}],"usage":{"prompt_tokens":5,"completion_tokens":7}}"#,
            r#"{"choices":null,"error":null,"extra":{"deep":[1,2,{"x":"y"}]}}"#,
            r#"{"choices":[{"index":0,"delta":{"refusal":"no","content":null}}]}"#,
        ] {
            assert!(same(d), "declined: {d}");
        }
    }

    #[test]
    fn what_the_typed_read_cannot_match_is_declined() {
        for d in [
            r#"{"error":{"type":"overloaded_error","message":"busy"}}"#,
            r#"{"id":5,"choices":[]}"#,
            r#"{"choices":[{"index":-1,"delta":{"content":"x"}}]}"#,
            r#"{"choices":[{"index":"0","delta":{"content":"x"}}]}"#,
            r#"{"choices":[{"delta":{"content":["part"]}}]}"#,
            r#"{"id":"a","id":"b"}"#,
            r#"{"choices":{"0":{}}}"#,
            r#"["not","an","object"]"#,
            "not json",
        ] {
            assert!(!same(d), "read: {d}");
        }
    }
}
