//! The OTLP/JSON text the transcoder writes, with every JSON value counted as
//! it is written (as [`crate::limits::json::count_values`] counts them) and
//! the writing stopped at the limits, its nesting among them: `AnyValue`s
//! nest without end on the wire (an array in an array …), and the transcoder
//! descends as the JSON does, so a request nested past [`MAX_DEPTH`] stops
//! there instead of overflowing the stack.

use super::transcode::ProtoError;
use std::io::Write;

/// Deepest JSON nesting written: the JSON reader refuses deeper text anyway
/// (`serde_json`'s recursion limit), so nothing it would read is refused.
pub const MAX_DEPTH: usize = 128;

/// JSON being written, with its spans, values and nesting counted.
pub(super) struct Out {
    pub(super) buf: Vec<u8>,
    /// Objects and arrays open now.
    pub(super) depth: usize,
    pub(super) values: usize,
    pub(super) max_values: usize,
    pub(super) spans: usize,
    pub(super) max_spans: usize,
}

impl Out {
    pub(super) fn bump(&mut self) -> Result<(), ProtoError> {
        self.values += 1;
        if self.values > self.max_values {
            return Err(ProtoError::TooManyValues(self.max_values));
        }
        Ok(())
    }

    pub(super) fn open(&mut self, c: u8) -> Result<(), ProtoError> {
        self.bump()?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ProtoError::TooDeep(MAX_DEPTH));
        }
        self.buf.push(c);
        Ok(())
    }

    pub(super) fn close(&mut self, c: u8) {
        self.depth = self.depth.saturating_sub(1);
        self.buf.push(c);
    }

    /// An object member's key (the member counts as one value).
    pub(super) fn key(&mut self, k: &str) -> Result<(), ProtoError> {
        self.bump()?;
        self.quoted(k);
        self.buf.push(b':');
        Ok(())
    }

    pub(super) fn quoted(&mut self, s: &str) {
        let _ = serde_json::to_writer(&mut self.buf, s);
    }

    pub(super) fn string(&mut self, s: &str) -> Result<(), ProtoError> {
        self.bump()?;
        self.quoted(s);
        Ok(())
    }

    pub(super) fn number(&mut self, n: impl std::fmt::Display) -> Result<(), ProtoError> {
        self.bump()?;
        let _ = write!(self.buf, "{n}");
        Ok(())
    }

    pub(super) fn float(&mut self, d: f64) -> Result<(), ProtoError> {
        self.bump()?;
        // Non-finite numbers have no JSON form: `null`, as serde_json writes them.
        let _ = serde_json::to_writer(&mut self.buf, &d);
        Ok(())
    }

    pub(super) fn boolean(&mut self, b: bool) -> Result<(), ProtoError> {
        self.bump()?;
        self.buf
            .extend_from_slice(if b { b"true" } else { b"false" });
        Ok(())
    }
}

/// Commas between the elements of an array or the members of an object.
#[derive(Default)]
pub(super) struct Sep(bool);

impl Sep {
    pub(super) fn next(&mut self, out: &mut Out) {
        if self.0 {
            out.buf.push(b',');
        }
        self.0 = true;
    }
}
