//! Test helper: a new store holding given spans, redacted as the importer
//! would and indexed for search.

use super::{Store, StoreBatch};
use crate::model::{Origin, Span, SpanKind};
use crate::redact::{Mode, Redactor};
use std::path::Path;

/// A new store at `path` holding `spans` (redacted in mask mode), its search index built.
pub(crate) fn stored(path: &Path, spans: Vec<Span>) -> Store {
    let mut s = Store::open(path).expect("open");
    let mut r = Redactor::new(Mode::Mask);
    let spans = spans.into_iter().map(|sp| r.redact_span(sp).0).collect();
    s.write(&StoreBatch {
        spans,
        ..Default::default()
    })
    .expect("write");
    while s.index_fts(5000).expect("index") > 0 {}
    s
}

/// Span `i` of run `r1`, an llm span holding `text` (line `i + 1` of one file).
pub(crate) fn text_span(i: usize, text: &str) -> Span {
    let mut sp = Span::new(
        format!("s{i}"),
        "r1",
        SpanKind::Llm,
        "n",
        Origin::new("/x/f.jsonl", i as u64 + 1),
    );
    sp.text = Some(text.to_string());
    sp
}
