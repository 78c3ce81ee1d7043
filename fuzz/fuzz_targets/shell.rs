//! The shell parser front-end on arbitrary command lines.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    skilltrace_fuzz::shell(data);
});
