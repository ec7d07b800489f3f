#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lineage_fuzz::ops_differential(data));
