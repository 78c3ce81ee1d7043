//! The SSE parser (any split of the stream gives the same events) and the
//! three stream folds (never keeping more than their room).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    skilltrace_fuzz::sse(data);
});
