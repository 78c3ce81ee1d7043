//! The `cline` parser (Cline / Roo Code / Kilo Code task histories), forced, on arbitrary lines and documents.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    skilltrace_fuzz::format(data, Some(skilltrace::ingest::formats::Format::Cline));
});
