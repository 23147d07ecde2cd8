//! Off Windows the agent builds and says, with exit code 2, that it needs Windows.
#![cfg(not(windows))]

#[test]
fn prints_that_it_needs_windows_and_exits_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hnsim-agent"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("hnsim-agent needs Windows"), "{err}");
}
