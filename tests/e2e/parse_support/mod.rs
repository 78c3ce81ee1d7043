//! What a trace file parses to, merged the way the store merges updates: the
//! helpers `tests/e2e/parsers.rs` and `tests/e2e/parsers_agents.rs` share.
#![allow(clippy::unwrap_used, dead_code)]

use skilltrace::ingest::formats::{FileParser, Format, FormatError, Record};
use skilltrace::model::{Run, Span, SpanKind, SpanStatus};
use std::collections::BTreeMap;
use std::path::Path;

pub const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/formats");

/// What a file parses to, after merging updates the way the store does.
pub struct Parsed {
    pub records: Vec<Record>,
    pub errors: Vec<(u64, FormatError)>,
    pub runs: BTreeMap<String, Run>,
    /// (run id, span id) → merged span, in first-seen order of keys.
    pub spans: BTreeMap<(String, String), Span>,
    pub formats: Vec<Format>,
}

fn merge_opt<T: Clone>(old: &mut Option<T>, new: &Option<T>) {
    if new.is_some() {
        *old = new.clone();
    }
}

fn merge_span(old: &mut Span, new: &Span) {
    if !new.name.is_empty() {
        old.name = new.name.clone();
    }
    old.kind = new.kind;
    merge_opt(&mut old.parent_id, &new.parent_id);
    merge_opt(&mut old.start_ms, &new.start_ms);
    merge_opt(&mut old.end_ms, &new.end_ms);
    if new.status != SpanStatus::Unset {
        old.status = new.status;
    }
    merge_opt(&mut old.model, &new.model);
    merge_opt(&mut old.tool_name, &new.tool_name);
    merge_opt(&mut old.tool_call_id, &new.tool_call_id);
    merge_opt(&mut old.tool_input, &new.tool_input);
    merge_opt(&mut old.tool_output, &new.tool_output);
    merge_opt(&mut old.text, &new.text);
    merge_opt(&mut old.input_tokens, &new.input_tokens);
    merge_opt(&mut old.output_tokens, &new.output_tokens);
    for (k, v) in &new.attributes {
        old.attributes.insert(k.clone(), v.clone());
    }
}

fn merge_run(old: &mut Run, new: &Run) {
    if new.started_ms.is_some() && (old.started_ms.is_none() || new.started_ms < old.started_ms) {
        old.started_ms = new.started_ms;
    }
    if new.ended_ms > old.ended_ms {
        old.ended_ms = new.ended_ms;
    }
    if old.title.is_none() {
        old.title = new.title.clone();
    }
    if old.parent_run_id.is_none() {
        old.parent_run_id = new.parent_run_id.clone();
    }
    if old.cwd.is_none() {
        old.cwd = new.cwd.clone();
    }
}

pub fn collect(
    records: Vec<Record>,
    errors: Vec<(u64, FormatError)>,
    formats: Vec<Format>,
) -> Parsed {
    let mut runs: BTreeMap<String, Run> = BTreeMap::new();
    let mut spans: BTreeMap<(String, String), Span> = BTreeMap::new();
    for r in &records {
        match r {
            Record::Run(run) => match runs.get_mut(&run.id) {
                Some(old) => merge_run(old, run),
                None => {
                    runs.insert(run.id.clone(), run.clone());
                }
            },
            Record::Span(s) => match spans.get_mut(&(s.run_id.clone(), s.id.clone())) {
                Some(old) => merge_span(old, s),
                None => {
                    spans.insert((s.run_id.clone(), s.id.clone()), s.clone());
                }
            },
            _ => {}
        }
    }
    for s in spans.values() {
        assert!(
            runs.contains_key(&s.run_id),
            "span {} names unknown run {}",
            s.id,
            s.run_id
        );
    }
    Parsed {
        records,
        errors,
        runs,
        spans,
        formats,
    }
}

/// Parses bytes as JSON Lines.
pub fn parse_lines(path: &str, bytes: &[u8]) -> Parsed {
    let mut p = FileParser::new(path, None);
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let n = i as u64 + 1;
        if let Err(e) = p.line(line, n, &mut out) {
            errors.push((n, e));
        }
    }
    p.finish(&mut out);
    collect(out, errors, p.formats())
}

/// Parses a fixture: `.json` files as one document, the rest as JSON Lines.
pub fn parse(rel: &str) -> Parsed {
    let (records, errors, formats) = read(rel);
    collect(records, errors, formats)
}

/// Every fixture file under `rel` (sorted, as the importer walks a folder),
/// parsed each on its own and merged: (what they make together, each file's errors).
pub fn parse_tree(rel: &str) -> (Parsed, Vec<(String, FormatError)>) {
    let mut files = Vec::new();
    let mut stack = vec![Path::new(FIX).join(rel)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if skilltrace::ingest::file::is_trace_file(&p) {
                // As the binary walks a folder: agents' bookkeeping files are passed over.
                files.push(p.strip_prefix(FIX).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    let (mut records, mut errors, mut formats) = (Vec::new(), Vec::new(), Vec::new());
    for f in files {
        let (r, e, fs) = read(&f);
        records.extend(r);
        errors.extend(e.into_iter().map(|(_, e)| (f.clone(), e)));
        for x in fs {
            if !formats.contains(&x) {
                formats.push(x);
            }
        }
    }
    (collect(records, Vec::new(), formats), errors)
}

fn read(rel: &str) -> (Vec<Record>, Vec<(u64, FormatError)>, Vec<Format>) {
    let path = Path::new(FIX).join(rel);
    let bytes = std::fs::read(&path).unwrap();
    if rel.ends_with(".json") {
        // The whole path, as the binary names it: a Cline conversation looks
        // for the UI log beside it.
        let mut p = FileParser::new(path.to_string_lossy().into_owned(), None);
        let mut out = Vec::new();
        let mut errors = Vec::new();
        if let Err(e) = p.document(&bytes, &mut out) {
            errors.push((1, e));
        }
        p.finish(&mut out);
        (out, errors, p.formats())
    } else {
        let p = parse_lines(rel, &bytes);
        (p.records, p.errors, p.formats)
    }
}

impl Parsed {
    pub fn of_kind(&self, k: SpanKind) -> Vec<&Span> {
        self.spans.values().filter(|s| s.kind == k).collect()
    }
    pub fn span(&self, id: &str) -> &Span {
        self.spans
            .values()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no span {id}"))
    }
    pub fn tools(&self) -> Vec<&str> {
        self.of_kind(SpanKind::Tool)
            .iter()
            .map(|s| s.tool_name.as_deref().unwrap_or(""))
            .collect()
    }
    pub fn count(&self, k: SpanKind) -> usize {
        self.of_kind(k).len()
    }
    pub fn tokens(&self, run: &str) -> (u64, u64) {
        self.spans
            .values()
            .filter(|s| s.run_id == run)
            .fold((0, 0), |(i, o), s| {
                (
                    i + s.input_tokens.unwrap_or(0),
                    o + s.output_tokens.unwrap_or(0),
                )
            })
    }
}

/// Every parent id names a span of the same run.
pub fn check_tree(p: &Parsed) {
    for s in p.spans.values() {
        if let Some(parent) = &s.parent_id {
            assert!(
                p.spans.contains_key(&(s.run_id.clone(), parent.clone())),
                "{} has a dangling parent {parent}",
                s.id
            );
        }
    }
}
