//! Unit tests of `file`.

use super::*;

/// Reads `path` with a fresh file (import) or `tf` (a follower), returning each batch.
fn read(tf: &mut TraceFile, doc: bool) -> Vec<Batch> {
    let mut f = File::open(tf.path()).expect("open");
    let mut got = Vec::new();
    let mut sink = |b: Batch| {
        got.push(b);
        true
    };
    if doc {
        tf.pump_document(&mut f, &mut sink).expect("read");
    } else {
        tf.pump(&mut f, true, &mut sink).expect("read");
    }
    got
}

fn spans(batches: &[Batch]) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| &b.records)
        .filter_map(|r| match r {
            Record::Span(s) => Some(s.id.clone()),
            _ => None,
        })
        .collect()
}

fn errors(batches: &[Batch]) -> Vec<(u64, String)> {
    batches
        .iter()
        .flat_map(|b| &b.errors)
        .map(|e| (e.line, e.message.clone()))
        .collect()
}

fn new(path: &Path) -> TraceFile {
    TraceFile::new(path, None, 1 << 20, 0, 0, 0, 0)
}

#[test]
fn unknown_lines_are_one_error_and_known_files_keep_theirs() {
    let t = tempfile::tempdir().expect("tmp");
    let p = t.path().join("x.jsonl");
    std::fs::write(&p, "{\"a\":1}\nnot json\n{\"a\":2}\n").expect("write");
    let errs = errors(&read(&mut new(&p), false));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].1.starts_with("unsupported format: 3 line(s)"),
        "{errs:?}"
    );
    // A bad first line in a file that turns out to be Copilot CLI's is its own error.
    std::fs::write(
        &p,
        "{\"broken\n{\"type\":\"session.start\",\"data\":{\"sessionId\":\"S\"},\"id\":\"e1\"}\n{\"hello\":1}\n",
    )
    .expect("write");
    let errs = errors(&read(&mut new(&p), false));
    assert_eq!(
        errs.iter().map(|e| e.0).collect::<Vec<_>>(),
        [1, 3],
        "{errs:?}"
    );
    assert!(errs[0].1.starts_with("invalid JSON"));
    assert_eq!(errs[1].1, FormatError::NotATrace.to_string());
}

#[test]
fn a_reread_document_passes_on_only_what_changed() {
    let t = tempfile::tempdir().expect("tmp");
    let p = t
        .path()
        .join("tasks")
        .join("T")
        .join("api_conversation_history.json");
    std::fs::create_dir_all(p.parent().expect("dir")).expect("mkdir");
    let first = r#"[{"role":"user","content":"<task>go</task>"},
        {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"execute_command","input":{"command":"ls"}}]}]"#;
    std::fs::write(&p, first).expect("write");
    let mut tf = new(&p).remembering();
    assert_eq!(
        spans(&read(&mut tf, true)),
        ["T:m0", "T:m1:llm", "T:m1", "t1"]
    );
    let second = first.trim_end_matches(']').to_owned()
        + r#",{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"a b"}]}]"#;
    std::fs::write(&p, &second).expect("write");
    let again = read(&mut tf, true);
    assert_eq!(spans(&again), ["t1"], "only the call that got its result");
    assert!(errors(&again).is_empty());
    assert_eq!(
        spans(&read(&mut tf, true)),
        Vec::<String>::new(),
        "unchanged"
    );
    // Caught between the truncation and the write of a rewrite: nothing, no
    // error; then the whole document again, with nothing doubled.
    std::fs::write(&p, "").expect("truncate");
    let between = read(&mut tf, true);
    assert!(errors(&between).is_empty(), "{:?}", errors(&between));
    assert!(spans(&between).is_empty());
    std::fs::write(&p, &second).expect("write");
    assert!(errors(&read(&mut tf, true)).is_empty());
}

#[test]
fn a_resumed_log_still_knows_its_session() {
    let t = tempfile::tempdir().expect("tmp");
    let p = t.path().join("session-x.jsonl");
    let head =
        "{\"sessionId\":\"S1\",\"projectHash\":\"h\",\"startTime\":\"2026-01-01T00:00:00Z\"}\n";
    let body = "{\"id\":\"u1\",\"timestamp\":\"2026-01-01T00:00:01Z\",\"type\":\"user\",\"content\":\"hi\"}\n";
    std::fs::write(&p, format!("{head}{body}")).expect("write");
    let mut tf = TraceFile::new(&p, None, 1 << 20, head.len() as u64, 1, 0, 0);
    let got = read(&mut tf, false);
    let run_of_u1 = got.iter().flat_map(|b| &b.records).find_map(|r| match r {
        Record::Span(s) if s.id == "u1" => Some(s.run_id.clone()),
        _ => None,
    });
    assert_eq!(run_of_u1.as_deref(), Some("S1"));
}

/// Long messages make batches of fewer records: a batch holds at most
/// [`BATCH_BYTES`] of input plus one read ([`READ_CHUNK`]), however few records.
#[test]
fn batches_are_bounded_in_bytes_as_well_as_records() {
    let t = tempfile::tempdir().expect("tmp");
    let p = t.path().join("session-x.jsonl");
    let mut body = String::from(
        "{\"sessionId\":\"S1\",\"projectHash\":\"h\",\"startTime\":\"2026-01-01T00:00:00Z\"}\n",
    );
    let words = "lorem ipsum ".repeat(700);
    for i in 0..800 {
        body.push_str(&format!(
            "{{\"id\":\"u{i}\",\"timestamp\":\"2026-01-01T00:00:01Z\",\"type\":\"user\",\"content\":\"{words}\"}}\n"
        ));
    }
    std::fs::write(&p, &body).expect("write");
    let got = read(&mut new(&p), false);
    assert_eq!(spans(&got).len(), 800);
    assert!(
        got.len() >= 3,
        "{} batches for {} bytes",
        got.len(),
        body.len()
    );
    for b in &got {
        let text: usize = b
            .records
            .iter()
            .filter_map(|r| match r {
                Record::Span(s) => s.text.as_ref().map(String::len),
                _ => None,
            })
            .sum();
        assert!(
            text as u64 <= BATCH_BYTES + READ_CHUNK as u64,
            "{text} bytes of text in a batch"
        );
    }
}

/// Short lines make many records per read: a batch overshoots
/// [`BATCH_RECORDS`] by at most one read's records (at 1 MiB reads, a batch
/// of 60-byte lines held ~17,000 records, four times the bound, and the
/// vector that held them kept that size for every later batch).
#[test]
fn batches_of_short_lines_overshoot_their_record_bound_by_one_read_at_most() {
    let t = tempfile::tempdir().expect("tmp");
    let p = t.path().join("session-x.jsonl");
    let mut body = String::from(
        "{\"sessionId\":\"S1\",\"projectHash\":\"h\",\"startTime\":\"2026-01-01T00:00:00Z\"}\n",
    );
    let mut line_len = 0;
    for i in 0..30_000 {
        let line = format!(
            "{{\"id\":\"u{i}\",\"timestamp\":\"2026-01-01T00:00:01Z\",\"type\":\"user\",\"content\":\"hi\"}}\n"
        );
        line_len = line.len();
        body.push_str(&line);
    }
    std::fs::write(&p, &body).expect("write");
    let got = read(&mut new(&p), false);
    assert_eq!(spans(&got).len(), 30_000);
    let one_read = READ_CHUNK / line_len + 1;
    for b in &got {
        assert!(
            b.records.len() <= BATCH_RECORDS + one_read,
            "{} records in a batch (bound {BATCH_RECORDS} + {one_read})",
            b.records.len()
        );
    }
}

/// A record vector handed back keeps at most [`KEEP_CAPACITY`]: one batch
/// larger than the bound does not size every later one.
#[test]
fn a_recycled_vector_keeps_a_bounded_capacity() {
    let r = Recycler::default();
    r.give(Vec::with_capacity(4 * KEEP_CAPACITY));
    let v = r.take().expect("kept");
    assert!(v.is_empty());
    assert!(v.capacity() <= KEEP_CAPACITY, "{}", v.capacity());
    r.give(Vec::with_capacity(BATCH_RECORDS));
    assert!(r.take().expect("kept").capacity() >= BATCH_RECORDS);
}
