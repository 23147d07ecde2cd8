#![no_main]
//! See hnsim_sim::fuzz_entry::node_dump.
libfuzzer_sys::fuzz_target!(|data: &[u8]| hnsim_sim::fuzz_entry::node_dump(data));
