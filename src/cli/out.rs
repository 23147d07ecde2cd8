//! Standard output that never panics: `hnsim run … | head` ends quietly when the reader goes
//! away (the command keeps its own exit code), and a full disk (`> /dev/full`) is a clear error
//! with exit 2 instead of a panic (`println!` panics on both).

use std::io::{ErrorKind, Write};

/// Write `text` to standard output and flush. A closed pipe is not an error (nobody is reading);
/// any other failure is reported and becomes exit code 2.
pub fn print(text: &str) -> Result<(), u8> {
    write_to(&mut std::io::stdout().lock(), text)
}

/// [`print`] plus a newline.
pub fn println(text: &str) -> Result<(), u8> {
    let mut s = String::with_capacity(text.len() + 1);
    s.push_str(text);
    s.push('\n');
    print(&s)
}

fn write_to(w: &mut impl Write, text: &str) -> Result<(), u8> {
    match w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(super::invalid(format!("writing to standard output: {e}"))),
    }
}

/// The exit code of a command whose output may have failed: `code` unless writing failed.
pub fn finish(written: Result<(), u8>, code: u8) -> u8 {
    written.err().unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fails(ErrorKind);

    impl Write for Fails {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_quiet_and_a_full_disk_is_exit_2() {
        assert_eq!(write_to(&mut Fails(ErrorKind::BrokenPipe), "x"), Ok(()));
        assert_eq!(write_to(&mut Fails(ErrorKind::StorageFull), "x"), Err(2));
        assert_eq!(finish(Ok(()), 1), 1);
        assert_eq!(finish(Err(2), 0), 2);
    }
}
