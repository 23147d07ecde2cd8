//! One module per command family.
pub mod adapter;
pub mod bench;
pub mod doctor;
pub mod drift;
pub mod input;
pub mod k8s;
pub mod merge;
pub mod node;
pub mod out;
pub mod reach;
pub mod run;
pub mod sweep;
pub mod validate;

/// Print an invalid-input message and return exit code 2.
pub fn invalid(msg: impl std::fmt::Display) -> u8 {
    eprintln!("error: {msg}");
    2
}
