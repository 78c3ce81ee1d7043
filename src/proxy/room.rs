//! What one exchange may keep of its response: a number of bytes across the
//! response text and every tool call's name, id and arguments, and a number of
//! tool calls (content blocks, for Anthropic). The first piece that does not
//! fit closes the room: it is cut at a word boundary (never inside a token, so
//! no start of a secret is left for redaction to miss) and everything after
//! it is counted, not kept.

use super::exchange::LlmResponse;

/// How far back from a cut a word boundary is looked for.
const BOUNDARY_WINDOW: usize = 1024;

/// The room left in one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    cap: usize,
    left: usize,
    calls_left: usize,
    closed: bool,
    /// Bytes of text and arguments not kept.
    pub dropped: u64,
    /// Tool calls (or content blocks) not kept.
    pub dropped_calls: u64,
}

impl Default for Room {
    fn default() -> Room {
        let l = crate::limits::Limits::default();
        Room::new(l.record_text_bytes, l.record_tool_calls)
    }
}

impl Room {
    /// Room for `bytes` of text and `calls` tool calls.
    pub fn new(bytes: usize, calls: usize) -> Room {
        Room {
            cap: bytes,
            left: bytes,
            calls_left: calls,
            closed: false,
            dropped: 0,
            dropped_calls: 0,
        }
    }

    /// Bytes kept so far.
    pub fn kept(&self) -> usize {
        self.cap - self.left
    }

    /// Bytes that may still be kept.
    pub fn left(&self) -> usize {
        if self.closed {
            0
        } else {
            self.left
        }
    }

    /// Tool calls that may still be kept.
    pub fn calls_left(&self) -> usize {
        if self.closed {
            0
        } else {
            self.calls_left
        }
    }

    /// True once something was not kept.
    pub fn truncated(&self) -> bool {
        self.dropped > 0 || self.dropped_calls > 0
    }

    /// Keeps nothing more from now on (the memory budget is full).
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Appends `src` to `dst` if it fits; else the part up to a word boundary, and closes.
    pub fn push(&mut self, dst: &mut String, src: &str) {
        if self.closed {
            self.dropped += src.len() as u64;
            return;
        }
        if src.len() <= self.left {
            dst.push_str(src);
            self.left -= src.len();
            return;
        }
        self.closed = true;
        let before = dst.len();
        dst.push_str(&src[..floor_char(src, self.left)]);
        let keep = boundary(dst, before.saturating_sub(BOUNDARY_WINDOW));
        dst.truncate(keep);
        self.left = self.left + before - keep;
        self.dropped += (before + src.len() - keep) as u64;
    }

    /// Replaces `dst` with `src` if `src` fits in place of it; else keeps `dst` and closes.
    pub fn set(&mut self, dst: &mut String, src: String) {
        if !self.closed && src.len() <= self.left + dst.len() {
            self.left = self.left + dst.len() - src.len();
            *dst = src;
            return;
        }
        self.closed = true;
        self.dropped += src.len().saturating_sub(dst.len()) as u64;
    }

    /// Admits one more tool call (or content block); false (and one call
    /// counted as dropped) when the exchange keeps no more.
    pub fn admit_call(&mut self) -> bool {
        if self.closed || self.calls_left == 0 {
            self.dropped_calls += 1;
            return false;
        }
        self.calls_left -= 1;
        true
    }

    /// Counts bytes that had nowhere to go (a piece of a call that was not kept).
    pub fn drop_bytes(&mut self, n: usize) {
        self.dropped += n as u64;
    }

    /// Marks `r` with what this room did not keep.
    pub fn mark(&self, r: &mut LlmResponse) {
        r.truncated |= self.truncated();
        r.dropped_bytes += self.dropped;
        r.dropped_tool_calls += self.dropped_calls;
    }
}

impl LlmResponse {
    /// Trims a response parsed whole to what `room` keeps: text first, then the
    /// tool calls in order; the rest is counted on the response.
    pub fn fit(&mut self, mut room: Room) {
        let text = std::mem::take(&mut self.text);
        room.push(&mut self.text, &text);
        let calls = std::mem::take(&mut self.tool_calls);
        for call in calls {
            if !room.admit_call() {
                room.dropped += (call.id.len() + call.name.len() + call.arguments.len()) as u64;
                continue;
            }
            let mut kept = super::exchange::ToolCall::default();
            room.push(&mut kept.id, &call.id);
            room.push(&mut kept.name, &call.name);
            room.push(&mut kept.arguments, &call.arguments);
            self.tool_calls.push(kept);
        }
        room.mark(self);
    }
}

/// The largest char boundary of `s` at or below `at`.
fn floor_char(s: &str, at: usize) -> usize {
    let mut cut = at.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// Where to cut the end of `s` so that no token is left half: just after the
/// last whitespace or JSON punctuation at or after `from`, else at `from`.
fn boundary(s: &str, from: usize) -> usize {
    let from = floor_char(s, from);
    s.as_bytes()[from..]
        .iter()
        .rposition(|b| b.is_ascii_whitespace() || b"\"',;{}[]()<>".contains(b))
        .map_or(from, |i| from + i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::exchange::ToolCall;

    #[test]
    fn keeps_what_fits_and_counts_the_rest() {
        let mut room = Room::new(10, 4);
        let mut a = String::new();
        room.push(&mut a, "abc ");
        room.push(&mut a, "de ");
        assert_eq!((a.as_str(), room.kept()), ("abc de ", 7));
        room.push(&mut a, "fghij");
        assert_eq!(a, "abc de ", "a token that does not fit whole is not cut");
        assert_eq!(room.dropped, 5);
        room.push(&mut a, "x");
        assert_eq!((a.as_str(), room.dropped), ("abc de ", 6), "closed");
        assert!(room.truncated());
    }

    #[test]
    fn a_cut_never_leaves_the_start_of_a_secret() {
        // The key streams in pieces; the room ends inside it.
        let mut room = Room::new(40, 4);
        let mut args = String::new();
        for piece in [
            r#"{"cmd":"export K=sk_li"#,
            "ve_51Habcdefghijklmnop",
            r#""}"#,
        ] {
            room.push(&mut args, piece);
        }
        assert_eq!(args, r#"{"cmd":"export "#);
        assert!(!args.contains("sk_"));
        assert_eq!(room.kept(), args.len());
    }

    #[test]
    fn multibyte_text_is_cut_on_char_boundaries() {
        let mut room = Room::new(5, 1);
        let mut t = String::new();
        room.push(&mut t, "éé éé");
        assert_eq!(t, "éé ");
    }

    #[test]
    fn set_replaces_in_place_or_keeps_what_was_there() {
        let mut room = Room::new(12, 1);
        let mut s = String::new();
        room.push(&mut s, "{\"a\"");
        room.set(&mut s, "{\"a\":12345}".into());
        assert_eq!((s.as_str(), room.kept()), ("{\"a\":12345}", 11));
        room.set(&mut s, "{\"a\":123456789}".into());
        assert_eq!(s, "{\"a\":12345}");
        assert_eq!(room.dropped, 4);
    }

    #[test]
    fn calls_are_counted_past_their_cap() {
        let mut room = Room::new(100, 2);
        assert!(room.admit_call() && room.admit_call());
        assert!(!room.admit_call());
        assert_eq!(room.dropped_calls, 1);
    }

    #[test]
    fn a_whole_response_is_fitted_text_first() {
        let mut r = LlmResponse {
            text: "hello world ".into(),
            tool_calls: (0..3)
                .map(|i| ToolCall {
                    id: format!("c{i}"),
                    name: "f".into(),
                    arguments: "{\"x\": 1}".into(),
                })
                .collect(),
            ..LlmResponse::default()
        };
        r.fit(Room::new(30, 2));
        assert_eq!(r.text, "hello world ");
        assert_eq!(r.tool_calls.len(), 2);
        assert_eq!(r.tool_calls[0].arguments, "{\"x\": 1}");
        assert_eq!(
            r.tool_calls[1].arguments, "{\"x\"",
            "cut after a whole string"
        );
        assert!(r.truncated);
        assert_eq!(r.dropped_tool_calls, 1);
        assert!(r.dropped_bytes > 0);
    }
}
