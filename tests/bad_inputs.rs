//! Every file in tests/data/bad/ through the built binary, as its MANIFEST says: the exit code,
//! a located message (or the documented warning), never a panic, in bounded memory (the child
//! runs under `ulimit -v` on Unix). Also the inputs that cannot be files in the repository: a
//! FIFO in a folder, `/dev/zero`, standard input, a closed pipe, a full disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad")
}

/// `hnsim ARGS…` with at most 2 GiB of address space (Unix), stdin from `input`.
fn hnsim(args: &[&str], input: Option<&[u8]>) -> Output {
    let mut cmd = if cfg!(unix) {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg("ulimit -v 2097152 2>/dev/null; exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_hnsim"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_hnsim"))
    };
    cmd.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run hnsim");
    if let Some(bytes) = input {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn no_panic(what: &str, out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && out.status.code() != Some(101),
        "{what}: panicked: {err}"
    );
    assert!(
        out.status.code().is_some(),
        "{what}: killed by a signal ({:?}): {err}",
        out.status
    );
}

#[test]
fn every_bad_input_gets_its_documented_answer() {
    let dir = bad_dir();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST")).unwrap();
    let mut listed = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    let mut count = 0;
    for line in manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            f.len(),
            4,
            "MANIFEST line {line:?}: expected 4 tab-separated fields"
        );
        let (file, command, code, want) = (f[0], f[1], f[2], f[3]);
        listed.insert(file.to_string());
        let path = dir.join(file);
        let path_s = path.display().to_string();
        let mut args: Vec<&str> = command.split_whitespace().collect();
        args.push(&path_s);
        let out = hnsim(&args, None);
        count += 1;
        no_panic(line, &out);
        // `run` reports failed expectations on stdout; everything else speaks on stderr.
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        let err = text.replace(&format!("{}/", dir.display()), "");
        let code: i32 = code.parse().unwrap();
        if out.status.code() != Some(code) || !err.contains(want) {
            failures.push(format!(
                "{file} ({command}): expected exit {code} and {want:?}, got exit {:?}:\n{err}",
                out.status.code()
            ));
        }
        // An error names its file and a position (or a JSON path).
        if code == 2 && !command.starts_with("hns") && !err.contains(&format!("{file}:")) {
            failures.push(format!(
                "{file}: the message does not lead with the file name:\n{err}"
            ));
        }
    }
    let on_disk: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "MANIFEST")
        .collect();
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    assert!(unlisted.is_empty(), "files without a MANIFEST line: {unlisted:?}");
    assert!(on_disk.len() >= 60, "only {} bad inputs", on_disk.len());
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_in_a_folder_is_skipped_not_waited_for() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bad-inputs-fifo");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(bad_dir().join("ok-utf8-bom.yaml"), dir.join("a.yaml")).unwrap();
    let made = Command::new("mkfifo").arg(dir.join("b.yaml")).status();
    if !made.is_ok_and(|s| s.success()) {
        return; // no mkfifo here: nothing to test
    }
    let out = hnsim(&["check", &dir.display().to_string()], None);
    no_panic("fifo", &out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("1 valid, 0 invalid\n"));
}

#[cfg(unix)]
#[test]
fn an_endless_file_is_cut_at_the_size_cap() {
    for cmd in [&["hns", "validate", "/dev/zero"][..], &["check", "/dev/zero"]] {
        let out = hnsim(cmd, None);
        no_panic("/dev/zero", &out);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("/dev/zero: expected at most 33554432 bytes (32 MiB), found a larger input"),
            "{err}"
        );
    }
}

#[test]
fn a_scenario_and_a_document_from_standard_input() {
    let yaml = std::fs::read(bad_dir().join("ok-utf16le-bom.yaml")).unwrap();
    let out = hnsim(&["check", "-"], Some(&yaml));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok <stdin> — bad"));
    let out = hnsim(&["check", "-"], Some(b"name: x\nhosts: {}\nstepz: []\n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<stdin>:3:1: unknown key `stepz`"));
    let out = hnsim(
        &["hns", "validate", "-"],
        Some(b"{\"Name\":\"a\",\"Name\":\"b\"}"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("<stdin>:1:18: malformed JSON: expected each key once")
    );
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_is_an_error() {
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/l2bridge");
    let bin = env!("CARGO_BIN_EXE_hnsim");
    // `| true` closes the pipe before anything is written: the command keeps its own exit code.
    for args in [
        format!("run {} --format json", scenarios.display()),
        format!("check {}", scenarios.display()),
        format!("graph {}/p8-container-mtu.yaml", scenarios.display()),
    ] {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("{bin} {args} | true; echo \"exit=${{PIPESTATUS:-?}}\""))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args}: {err}"
        );
    }
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(bin)
            .args(["check", &scenarios.display().to_string()])
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with("error: writing to standard output: No space left on device"),
            "{err}"
        );
    }
}
