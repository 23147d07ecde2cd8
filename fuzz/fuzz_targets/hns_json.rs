#![no_main]
//! See hnsim_sim::fuzz_entry::hns_json.
libfuzzer_sys::fuzz_target!(|data: &[u8]| hnsim_sim::fuzz_entry::hns_json(data));
