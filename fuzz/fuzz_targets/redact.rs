//! The redactor on arbitrary text, as free text and inside a span: never
//! panics, and redacting twice changes nothing.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    skilltrace_fuzz::redact(data);
});
