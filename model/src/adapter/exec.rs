//! `exec:CMD`: a child process speaking the line protocol on stdin/stdout.
//!
//! Every read has a deadline: a reader thread turns the child's stdout into lines on a channel
//! and the caller waits with `recv_timeout`, so a dead, silent or chatty-but-wrong child is a
//! clear error and never a hang. After the first transport fault the backend is broken: the
//! child is killed and every later call fails with the same fault. The child is killed on drop.

use super::protocol::{self, truncate};
use super::{AdapterError, BROKEN_PIPE, E_UNEXPECTED, TIMEOUT};
use crate::backend::{HcnCall, HnsBackend};
use crate::hresult::{HResult, HcnError, HcnResult};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Timeouts for a child backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecOptions {
    /// How long to wait for the reply to one call.
    pub call_timeout: Duration,
    /// How long to wait for the hello line (an `ssh` login can take a while).
    pub hello_timeout: Duration,
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            call_timeout: Duration::from_secs(5),
            hello_timeout: Duration::from_secs(20),
        }
    }
}

enum Line {
    Text(String),
    Eof,
    Failed(String),
}

/// How many lines of the child's stderr to keep for error messages.
const STDERR_TAIL: usize = 8;

/// A backend served by a child process.
pub struct ExecBackend {
    command: String,
    server: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Line>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    options: ExecOptions,
    calls: u64,
    broken: Option<HcnError>,
}

impl ExecBackend {
    /// Start `sh -c CMD` (`cmd /C CMD` on Windows) and wait for its hello line.
    pub fn spawn(command: &str, options: ExecOptions) -> Result<ExecBackend, AdapterError> {
        let mut cmd = shell(command);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| AdapterError::Spawn {
            command: command.to_string(),
            reason: e.to_string(),
        })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let (tx, lines) = mpsc::channel();
        if let Some(out) = stdout {
            thread::spawn(move || read_lines(out, tx));
        }
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(err) = stderr {
            let tail = Arc::clone(&stderr_tail);
            thread::spawn(move || keep_tail(err, tail));
        }
        let mut backend = ExecBackend {
            command: command.to_string(),
            server: String::new(),
            child,
            stdin,
            lines,
            stderr_tail,
            options,
            calls: 0,
            broken: None,
        };
        let hello = match backend.next_line(backend.options.hello_timeout) {
            Ok(l) => l,
            Err((_, why)) => {
                backend.kill();
                return Err(AdapterError::Hello {
                    command: command.to_string(),
                    reason: why,
                });
            }
        };
        match protocol::parse_hello(&hello) {
            Ok(server) => backend.server = server,
            Err(why) => {
                backend.kill();
                return Err(AdapterError::Hello {
                    command: command.to_string(),
                    reason: why,
                });
            }
        }
        Ok(backend)
    }

    /// What the child said it is in its hello line.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The child's process id (the shell's, which `exec CMD` turns into CMD's).
    pub fn child_id(&self) -> u32 {
        self.child.id()
    }

    /// Wait for one line from the child, or say why none came.
    /// The next line from the child; on failure the HRESULT to report (TIMEOUT when it did not
    /// answer in time, BROKEN_PIPE when its output ended) and why.
    fn next_line(&mut self, timeout: Duration) -> Result<String, (HResult, String)> {
        match self.lines.recv_timeout(timeout) {
            Ok(Line::Text(l)) => Ok(l),
            Ok(Line::Failed(e)) => Err((BROKEN_PIPE, format!("reading the child's output failed: {e}"))),
            Ok(Line::Eof) | Err(RecvTimeoutError::Disconnected) => Err((
                BROKEN_PIPE,
                format!("the child closed its output{}", self.exit_note()),
            )),
            Err(RecvTimeoutError::Timeout) => Err((
                TIMEOUT,
                format!(
                    "no answer from the child within {:.1}s{}",
                    timeout.as_secs_f64(),
                    self.stderr_note()
                ),
            )),
        }
    }

    fn exit_note(&mut self) -> String {
        // The child may take a moment to be reaped after closing stdout.
        let mut status = None;
        for _ in 0..20 {
            if let Ok(Some(s)) = self.child.try_wait() {
                status = Some(s);
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let status = match status {
            Some(s) => format!(" (it exited: {s})"),
            None => String::new(),
        };
        format!("{status}{}", self.stderr_note())
    }

    fn stderr_note(&self) -> String {
        let tail = self
            .stderr_tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join(" | "))
            .unwrap_or_default();
        if tail.is_empty() {
            String::new()
        } else {
            format!("; its stderr ends: {}", truncate(&tail, 400))
        }
    }

    fn fault(&mut self, code: HResult, call: &HcnCall, why: String) -> HcnError {
        let e = HcnError::new(
            code,
            format!(
                "adapter: exec `{}`: call {} ({}): {why}",
                self.command, self.calls, call.op
            ),
        );
        self.broken = Some(e.clone());
        self.kill();
        e
    }

    fn kill(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(command);
        c
    }
}

fn read_lines(out: impl Read, tx: mpsc::Sender<Line>) {
    let mut reader = BufReader::new(out);
    loop {
        let mut buf = Vec::new();
        let msg = match reader.read_until(b'\n', &mut buf) {
            Ok(0) => Line::Eof,
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                Line::Text(String::from_utf8_lossy(&buf).into_owned())
            }
            Err(e) => Line::Failed(e.to_string()),
        };
        let last = !matches!(msg, Line::Text(_));
        if tx.send(msg).is_err() || last {
            return;
        }
    }
}

fn keep_tail(err: impl Read, tail: Arc<Mutex<VecDeque<String>>>) {
    // Read bytes, not `lines()`: a line that is not UTF-8 must not stop the draining, or a
    // child that keeps writing to stderr would block on a full pipe.
    let mut reader = BufReader::new(err);
    loop {
        let mut buf = Vec::new();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        let line = String::from_utf8_lossy(&buf).into_owned();
        if let Ok(mut t) = tail.lock() {
            if t.len() == STDERR_TAIL {
                t.pop_front();
            }
            t.push_back(line);
        }
    }
}

impl HnsBackend for ExecBackend {
    fn call(&mut self, call: &HcnCall) -> HcnResult<String> {
        if let Some(e) = &self.broken {
            return Err(HcnError::new(
                e.code,
                format!("adapter: backend unusable after an earlier fault: {}", e.message),
            ));
        }
        self.calls += 1;
        let line = protocol::encode_request(call)
            .map_err(|why| HcnError::new(HResult::E_INVALIDARG, format!("adapter: {why}")))?;
        let written = match self.stdin.as_mut() {
            Some(w) => writeln!(w, "{line}").and_then(|_| w.flush()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        };
        if let Err(e) = written {
            let why = format!("could not send the request ({e}){}", self.exit_note());
            return Err(self.fault(BROKEN_PIPE, call, why));
        }
        let reply = match self.next_line(self.options.call_timeout) {
            Ok(l) => l,
            Err((code, why)) => return Err(self.fault(code, call, why)),
        };
        match protocol::decode_reply(&reply) {
            Ok(Ok(json)) => Ok(json),
            Ok(Err(wire)) => Err(wire.into_hcn()),
            Err(why) => Err(self.fault(E_UNEXPECTED, call, why)),
        }
    }

    fn describe(&self) -> String {
        format!("exec:{} ({})", self.command, self.server)
    }
}

impl Drop for ExecBackend {
    fn drop(&mut self) {
        // Closing stdin asks a well-behaved server to exit; kill makes sure.
        self.stdin = None;
        for _ in 0..10 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(5));
        }
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_tail_survives_a_line_that_is_not_utf8() {
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        keep_tail(&b"first\n\xff\xfe bad\nlast\r\n"[..], Arc::clone(&tail));
        let got: Vec<String> = tail.lock().unwrap().iter().cloned().collect();
        assert_eq!(got, ["first", "\u{FFFD}\u{FFFD} bad", "last"]);
    }
}
