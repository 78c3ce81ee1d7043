//! Token usage of model calls: one shape for every provider's way of counting
//! cached prompt tokens, and the span fields it is kept in.
//!
//! The shape follows the OpenTelemetry GenAI conventions: `input` is every
//! prompt token of the call, cached ones included; `cache_read` and
//! `cache_write` are the parts of it read from and written to the provider's
//! prompt cache (`cache_write_1h` the part of the writes kept for an hour).
//! OpenAI and Gemini count that way already; Anthropic reports uncached input
//! apart from cache reads and writes, which [`Usage::anthropic`] adds up.

use crate::model::Span;

/// Tokens of one model call, or the sum of several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct Usage {
    /// Model calls counted.
    pub calls: u64,
    /// Prompt tokens, cached ones included.
    pub input: u64,
    /// Prompt tokens read from the provider's cache (part of `input`).
    pub cache_read: u64,
    /// Prompt tokens written to the provider's cache (part of `input`).
    pub cache_write: u64,
    /// Of `cache_write`, tokens written for an hour instead of five minutes.
    pub cache_write_1h: u64,
    /// Completion tokens, reasoning included.
    pub output: u64,
}

impl Usage {
    /// One call reported the Anthropic way: `input_tokens` leaves out
    /// `cache_creation_input_tokens` and `cache_read_input_tokens`; the 1-hour
    /// writes (`cache_creation.ephemeral_1h_input_tokens`) are part of the creation.
    pub fn anthropic(
        input_tokens: u64,
        cache_creation: u64,
        cache_read: u64,
        cache_creation_1h: u64,
        output: u64,
    ) -> Usage {
        Usage {
            calls: 1,
            input: input_tokens
                .saturating_add(cache_creation)
                .saturating_add(cache_read),
            cache_read,
            cache_write: cache_creation,
            cache_write_1h: cache_creation_1h.min(cache_creation),
            output,
        }
    }

    /// One call reported the OpenAI way (also Gemini's and Codex's): the
    /// prompt count includes the cached tokens; nothing is charged for writes.
    pub fn openai(prompt_tokens: u64, cached_tokens: u64, output: u64) -> Usage {
        Usage {
            calls: 1,
            input: prompt_tokens,
            cache_read: cached_tokens.min(prompt_tokens),
            cache_write: 0,
            cache_write_1h: 0,
            output,
        }
    }

    /// The usage a span records, when it records any (one call).
    pub fn of(span: &Span) -> Option<Usage> {
        Usage::from_fields(&[
            span.input_tokens,
            span.output_tokens,
            span.cache_read_tokens,
            span.cache_write_tokens,
            span.cache_write_1h_tokens,
        ])
    }

    /// One call from a span's token fields (input, output, cache read, cache
    /// write, 1-hour cache write), when input or output is known. Parts larger
    /// than what holds them (a broken record) are cut to fit.
    pub fn from_fields(f: &[Option<u64>; 5]) -> Option<Usage> {
        let [input, output, cache_read, cache_write, cache_write_1h] = *f;
        if input.is_none() && output.is_none() {
            return None;
        }
        let input = input.unwrap_or(0);
        let cache_read = cache_read.unwrap_or(0).min(input);
        let cache_write = cache_write.unwrap_or(0).min(input - cache_read);
        Some(Usage {
            calls: 1,
            input,
            cache_read,
            cache_write,
            cache_write_1h: cache_write_1h.unwrap_or(0).min(cache_write),
            output: output.unwrap_or(0),
        })
    }

    /// Writes this call's usage into the span's token fields.
    pub fn put(self, span: &mut Span) {
        span.input_tokens = Some(self.input);
        span.output_tokens = Some(self.output);
        span.cache_read_tokens = Some(self.cache_read);
        span.cache_write_tokens = Some(self.cache_write);
        span.cache_write_1h_tokens = Some(self.cache_write_1h);
    }

    /// Prompt tokens neither read from nor written to a cache.
    pub fn uncached_input(&self) -> u64 {
        self.input
            .saturating_sub(self.cache_read)
            .saturating_sub(self.cache_write)
    }

    /// Prompt and completion tokens.
    pub fn tokens(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    /// Adds `o` to this sum.
    pub fn add(&mut self, o: &Usage) {
        self.calls = self.calls.saturating_add(o.calls);
        self.input = self.input.saturating_add(o.input);
        self.cache_read = self.cache_read.saturating_add(o.cache_read);
        self.cache_write = self.cache_write.saturating_add(o.cache_write);
        self.cache_write_1h = self.cache_write_1h.saturating_add(o.cache_write_1h);
        self.output = self.output.saturating_add(o.output);
    }

    /// True when nothing is counted.
    pub fn is_empty(&self) -> bool {
        *self == Usage::default()
    }
}

/// The usage of one model under one tier band, summed over calls (a row of
/// the store's usage table, grouped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelUsage {
    /// As the trace names it; empty when it names none.
    pub model: String,
    /// The tier band its calls are filed under (see `pricing::band_of`).
    pub band: u64,
    pub usage: Usage,
}

/// A run's usage: its own calls, and its subagents' (every run below it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunUsage {
    pub own: Vec<ModelUsage>,
    pub subagents: Vec<ModelUsage>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, SpanKind};

    #[test]
    fn anthropic_adds_cache_to_input_openai_counts_it_inside() {
        // Anthropic: 3 uncached + 15,005 written + 11,442 read = 26,450 prompt tokens.
        let a = Usage::anthropic(3, 15_005, 11_442, 0, 9);
        assert_eq!((a.input, a.uncached_input(), a.output), (26_450, 3, 9));
        // OpenAI: 2,006 prompt tokens of which 1,920 cached: 86 uncached.
        let o = Usage::openai(2_006, 1_920, 300);
        assert_eq!(
            (o.input, o.cache_read, o.uncached_input()),
            (2_006, 1_920, 86)
        );
        // A cached count larger than the prompt (a broken record) is cut to it.
        assert_eq!(Usage::openai(10, 50, 1).uncached_input(), 0);
    }

    #[test]
    fn spans_keep_usage_and_give_it_back() {
        let mut s = Span::new("m", "r", SpanKind::Llm, "chat", Origin::new("f", 1));
        assert_eq!(Usage::of(&s), None, "no tokens, no call counted");
        let u = Usage::anthropic(1, 100, 200, 40, 7);
        u.put(&mut s);
        assert_eq!(Usage::of(&s), Some(u));
        // Inconsistent fields are clamped, never underflow.
        s.input_tokens = Some(50);
        let back = Usage::of(&s).unwrap();
        assert_eq!(
            (back.cache_read, back.cache_write, back.uncached_input()),
            (50, 0, 0)
        );
    }

    #[test]
    fn sums_add_field_by_field() {
        let mut t = Usage::default();
        assert!(t.is_empty());
        t.add(&Usage::openai(10, 4, 2));
        t.add(&Usage::anthropic(1, 2, 3, 1, 4));
        assert_eq!(
            t,
            Usage {
                calls: 2,
                input: 16,
                cache_read: 7,
                cache_write: 2,
                cache_write_1h: 1,
                output: 6
            }
        );
        assert_eq!(t.tokens(), 22);
    }
}
