//! Any format parser (the first byte picks one of `Format::ALL`, so formats
//! added later are fuzzed too), or sniffing when it picks none.
#![no_main]

use skilltrace::ingest::formats::Format;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let forced = Format::ALL
        .get(usize::from(pick) % (Format::ALL.len() + 1))
        .copied();
    skilltrace_fuzz::format(rest, forced);
});
