#![no_main]
//! See hnsim_sim::fuzz_entry::scenario_yaml.
libfuzzer_sys::fuzz_target!(|data: &[u8]| hnsim_sim::fuzz_entry::scenario_yaml(data));
