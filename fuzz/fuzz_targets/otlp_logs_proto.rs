//! The OTLP protobuf logs decoder: never panics, writes valid JSON the OTLP parser
//! reads, and writes the same JSON for a request and its canonical re-encoding.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    skilltrace_fuzz::otlp_logs_proto(data);
});
