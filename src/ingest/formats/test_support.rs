//! Helpers the parsers' unit tests share: feeding JSON lines to a parser and
//! picking the spans out of what it yields.

use super::{FormatParser, Record};
use crate::model::{Origin, Run, Span};

/// Feeds `lines` to `p` as lines 1.. of the file `name`, then finishes it;
/// returns every record it yields. A line the parser refuses fails the test.
pub fn feed(p: &mut dyn FormatParser, name: &str, lines: &[serde_json::Value]) -> Vec<Record> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if let Err(e) = p.value(
            &l.clone().into(),
            &Origin::new(name, i as u64 + 1),
            &mut out,
        ) {
            panic!("line {}: {e}", i + 1);
        }
    }
    p.finish(&mut out);
    out
}

/// The spans among `out`, in order.
pub fn spans(out: &[Record]) -> Vec<&Span> {
    out.iter()
        .filter_map(|r| match r {
            Record::Span(s) => Some(s),
            _ => None,
        })
        .collect()
}

/// The run records among `out`, in order.
pub fn runs(out: &[Record]) -> Vec<&Run> {
    out.iter()
        .filter_map(|r| match r {
            Record::Run(r) => Some(r),
            _ => None,
        })
        .collect()
}
