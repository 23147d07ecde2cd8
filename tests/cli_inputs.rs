//! Issue 14 (item 8) regressions that need the built binary: argument help, `conform --timeout` for
//! the first line. (The bad input files are in tests/bad_inputs.rs.)

use std::process::Command;

fn hnsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hnsim"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_trace_and_graph_explain_their_arguments() {
    for (cmd, arg, words) in [
        ("check", "<PATHS>...", "Scenario files or folders"),
        ("check", "--strict", "Treat warnings"),
        ("trace", "<SCENARIO>", "set-up"),
        ("trace", "--seed", "Override the scenario's `seed:`"),
        ("graph", "<SCENARIO>", "builds the topology"),
        ("hns", "--strict", "Treat warnings"),
    ] {
        let args: Vec<&str> = if cmd == "hns" {
            vec!["hns", "validate", "--help"]
        } else {
            vec![cmd, "--help"]
        };
        let (code, out, _) = hnsim(&args);
        assert_eq!(code, 0);
        let line = out
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(arg))
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            line.contains(words),
            "`{cmd} --help`: {arg} has no help ({words:?}):\n{out}"
        );
    }
}

#[cfg(unix)]
#[test]
fn conform_timeout_holds_for_the_first_line() {
    // A backend that never says hello: the error must come from --timeout, not the 20 s default.
    let (code, _, err) = hnsim(&["conform", "--backend", "exec:sleep 30", "--timeout", "0.3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no answer from the child within 0.3s"), "{err}");
    let (code, _, err) = hnsim(&["conform", "--timeout", "0"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--timeout: expected a number of seconds above 0"),
        "{err}"
    );
}
