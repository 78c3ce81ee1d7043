//! The OTLP protobuf transcoder: never panics, writes valid JSON the OTLP
//! parser reads, counts what it writes, and agrees with `prost` on every
//! request `prost` can decode.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    skilltrace_fuzz::otlp_proto(data);
});
