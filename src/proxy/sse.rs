//! Incremental Server-Sent Events parser: bytes in as they arrive, whole events out.
//!
//! Follows the WHATWG `text/event-stream` rules that matter for LLM APIs:
//! lines end in `\n`, `\r\n` or `\r` (a `\r\n` may be split across chunks),
//! `data:` lines of one event are joined with `\n`, a blank line dispatches the
//! event, `:` lines are comments, a leading BOM is skipped. Memory is bounded:
//! an event whose data grows past `max_event` bytes is dropped and counted.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, empty when absent (the spec's default type is `message`).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Feeds on chunks of an SSE body and yields complete events.
#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    skip_lf: bool,
    started: bool,
    oversized: bool,
    max_event: usize,
    /// Events dropped because they exceeded the size limit.
    pub dropped: u64,
    /// Lines that were not valid UTF-8 (skipped).
    pub invalid: u64,
}

impl SseParser {
    /// A parser that keeps at most `max_event` bytes of one event's data.
    pub fn new(max_event: usize) -> SseParser {
        SseParser {
            line: Vec::new(),
            event: String::new(),
            data: String::new(),
            has_data: false,
            skip_lf: false,
            started: false,
            oversized: false,
            max_event,
            dropped: 0,
            invalid: 0,
        }
    }

    /// Consumes one chunk, calling `on_event` for every event it completes.
    pub fn feed(&mut self, mut chunk: &[u8], on_event: &mut dyn FnMut(SseEvent)) {
        if !self.started && !chunk.is_empty() {
            // A BOM may only appear at the very start of the stream (possibly split).
            self.line.extend_from_slice(chunk);
            if self.line.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.line) {
                return;
            }
            self.started = true;
            let mut buffered = std::mem::take(&mut self.line);
            let body = buffered
                .strip_prefix(b"\xEF\xBB\xBF")
                .unwrap_or(&buffered)
                .to_vec();
            buffered.clear();
            self.line = buffered;
            self.feed_started(&body, on_event);
            return;
        }
        if self.skip_lf {
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
            if !chunk.is_empty() {
                self.skip_lf = false;
            }
        }
        self.feed_started(chunk, on_event);
    }

    fn feed_started(&mut self, mut chunk: &[u8], on_event: &mut dyn FnMut(SseEvent)) {
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', chunk) {
            let (head, rest) = chunk.split_at(pos);
            let is_cr = rest[0] == b'\r';
            chunk = &rest[1..];
            if is_cr {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            if self.line.is_empty() {
                self.process_line(head, on_event);
            } else {
                self.append_line(head);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, on_event);
                self.line = line;
                self.line.clear();
            }
        }
        if !chunk.is_empty() {
            self.append_line(chunk);
        }
    }

    fn append_line(&mut self, bytes: &[u8]) {
        // A single line longer than the event limit can never be kept whole.
        if self.line.len() + bytes.len() > self.max_event.saturating_add(16) {
            self.oversized = true;
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    /// Handles one complete line (without its terminator).
    fn process_line(&mut self, line: &[u8], on_event: &mut dyn FnMut(SseEvent)) {
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        let Ok(value) = std::str::from_utf8(value) else {
            self.invalid += 1;
            return;
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max_event {
                    self.oversized = true;
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            // `id` and `retry` carry nothing the recorder needs.
            _ => {}
        }
    }

    fn dispatch(&mut self, on_event: &mut dyn FnMut(SseEvent)) {
        if self.oversized {
            self.dropped += 1;
        } else if self.has_data {
            on_event(SseEvent {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
            });
        }
        self.event.clear();
        self.data.clear();
        self.has_data = false;
        self.oversized = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new(1 << 20);
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut |e| out.push(e));
        }
        out
    }

    #[test]
    fn joins_data_lines_and_reads_event_names() {
        let ev = parse_chunks(&[b"event: a\ndata: x\ndata: y\n\ndata:{\"k\":1}\n\n"]);
        assert_eq!(
            ev,
            vec![
                SseEvent {
                    event: "a".into(),
                    data: "x\ny".into()
                },
                SseEvent {
                    event: String::new(),
                    data: "{\"k\":1}".into()
                }
            ]
        );
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let body: &[u8] =
            b"\xEF\xBB\xBFevent: e1\r\ndata: one\r\n\r\n: comment\r\ndata: two\rdata: 2b\r\revent: e3\ndata: three\n\n";
        let whole = parse_chunks(&[body]);
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0].event, "e1");
        assert_eq!(whole[1].data, "two\n2b");
        assert_eq!(whole[2].data, "three");
        for i in 0..body.len() {
            for j in i..body.len() {
                let got = parse_chunks(&[&body[..i], &body[i..j], &body[j..]]);
                assert_eq!(got, whole, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn byte_by_byte_matches_whole() {
        let body = b"data: {\"a\": \"b\"}      \n\ndata: [DONE]\n\n";
        let chunks: Vec<&[u8]> = body.chunks(1).collect();
        let got = parse_chunks(&chunks);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].data, "{\"a\": \"b\"}      ");
        assert_eq!(got[1].data, "[DONE]");
    }

    #[test]
    fn oversized_event_is_dropped_and_counted() {
        let mut p = SseParser::new(8);
        let mut out = Vec::new();
        p.feed(b"data: 0123456789abcdef\n\ndata: ok\n\n", &mut |e| {
            out.push(e)
        });
        assert_eq!(p.dropped, 1);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data, "ok");
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_unterminated_is_held() {
        let ev = parse_chunks(&[b"event: x\n\ndata: held"]);
        assert!(ev.is_empty());
    }
}
