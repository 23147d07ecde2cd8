#![no_main]
//! See hnsim_sim::fuzz_entry::adapter_lines.
libfuzzer_sys::fuzz_target!(|data: &[u8]| hnsim_sim::fuzz_entry::adapter_lines(data));
