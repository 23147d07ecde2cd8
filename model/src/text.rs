//! Reading a text file the way every hnsim input is read (docs/inputs.md).
//!
//! * UTF-8, with or without a byte-order mark (Notepad and `Out-File -Encoding utf8` write one);
//! * UTF-16LE or UTF-16BE with a byte-order mark (PowerShell 5.1's `>` and `Out-File` default);
//! * at most `limit` bytes, read with a bound, so `/dev/zero` or a huge file ends in a clear
//!   error instead of unbounded memory;
//! * a folder is an error, a FIFO or a character device named explicitly is read (bounded).
//!
//! Folder walks skip everything that is not a regular file: see [`is_regular_file`].

use std::fmt;
use std::io::Read;
use std::path::Path;

/// The default cap on one input file: 32 MiB. The largest real node dump we know of (thousands of
/// endpoints and load balancers) is a few MiB; YAML and JSON parsers hold several times the file
/// size in memory, so this keeps a run well under a gigabyte.
pub const MAX_INPUT_BYTES: u64 = 32 * 1024 * 1024;

/// Why a file could not be read as text. The message names what was expected and what was found;
/// the caller puts the file name in front.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed (no such file, permission denied, …).
    Io(std::io::Error),
    /// The path is a folder.
    IsADirectory,
    /// More than `limit` bytes.
    TooLarge { limit: u64 },
    /// Not valid UTF-8 (after any UTF-8 byte-order mark): the 1-based line and column of the first
    /// bad byte, the byte itself and its offset in the file.
    InvalidUtf8 {
        line: usize,
        col: usize,
        byte: u8,
        offset: usize,
    },
    /// A UTF-16 file (by its byte-order mark) that is not valid UTF-16: an odd length or an
    /// unpaired surrogate at `offset` (bytes, counting the mark).
    InvalidUtf16 { big_endian: bool, offset: usize },
}

impl ReadError {
    /// The 1-based line and column, when the error has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ReadError::InvalidUtf8 { line, col, .. } => Some((*line, *col)),
            _ => None,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read the file: {e}"),
            ReadError::IsADirectory => write!(f, "expected a file, found a folder"),
            ReadError::TooLarge { limit } => write!(
                f,
                "expected at most {} bytes ({}), found a larger input",
                limit,
                human_size(*limit)
            ),
            ReadError::InvalidUtf8 { byte, offset, .. } => write!(
                f,
                "expected UTF-8 text (or UTF-16 with a byte-order mark), found the invalid byte 0x{byte:02X} (offset {offset})"
            ),
            ReadError::InvalidUtf16 { big_endian, offset } => write!(
                f,
                "expected UTF-16{} text (by its byte-order mark), found an invalid code unit at offset {offset}",
                if *big_endian { "BE" } else { "LE" }
            ),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            _ => None,
        }
    }
}

fn human_size(n: u64) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// True for a regular file (following symlinks). Folder walks use this to skip FIFOs, sockets and
/// devices, which would block or never end.
pub fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Read a whole file as text: at most `limit` bytes, UTF-8 (BOM optional) or UTF-16 with a BOM.
/// The byte-order mark is not part of the result.
pub fn read_text_file(path: &Path, limit: u64) -> Result<String, ReadError> {
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(ReadError::IsADirectory);
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    read_text(file, limit)
}

/// Read text from any reader (standard input, a pipe) with the same rules as [`read_text_file`].
pub fn read_text(reader: impl Read, limit: u64) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    decode_text(bytes)
}

/// Decode bytes read from a file: strip a UTF-8 BOM, convert UTF-16 with a BOM, else UTF-8.
pub fn decode_text(bytes: Vec<u8>) -> Result<String, ReadError> {
    match bytes.as_slice() {
        [0xEF, 0xBB, 0xBF, ..] => utf8(bytes, 3),
        [0xFF, 0xFE, ..] => utf16(&bytes, false),
        [0xFE, 0xFF, ..] => utf16(&bytes, true),
        _ => utf8(bytes, 0),
    }
}

fn utf8(mut bytes: Vec<u8>, bom: usize) -> Result<String, ReadError> {
    bytes.drain(..bom);
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let b = e.as_bytes();
        let (line, col) = line_col(b, at);
        ReadError::InvalidUtf8 {
            line,
            col,
            byte: b[at],
            offset: at + bom,
        }
    })
}

fn utf16(bytes: &[u8], big_endian: bool) -> Result<String, ReadError> {
    let body = &bytes[2..];
    if !body.len().is_multiple_of(2) {
        return Err(ReadError::InvalidUtf16 {
            big_endian,
            offset: bytes.len() - 1,
        });
    }
    let units = body.chunks_exact(2).map(|c| {
        if big_endian {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_le_bytes([c[0], c[1]])
        }
    });
    let mut out = String::with_capacity(body.len() / 2);
    for ch in char::decode_utf16(units) {
        match ch {
            Ok(c) => out.push(c),
            // The bad unit follows everything decoded so far (an error is rare: recount once).
            Err(_) => {
                return Err(ReadError::InvalidUtf16 {
                    big_endian,
                    offset: 2 + out.encode_utf16().count() * 2,
                })
            }
        }
    }
    Ok(out)
}

/// 1-based line and column (in chars) of byte `offset`.
fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    fn utf16be(s: &str) -> Vec<u8> {
        let mut v = vec![0xFE, 0xFF];
        v.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        v
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode_text(b"name: x\n".to_vec()).unwrap(), "name: x\n");
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice("name: é\n".as_bytes());
        assert_eq!(decode_text(b).unwrap(), "name: é\n");
    }

    #[test]
    fn utf16_both_orders() {
        let s = "{\"Name\": \"ünï\"}\r\n";
        assert_eq!(decode_text(utf16le(s)).unwrap(), s);
        assert_eq!(decode_text(utf16be(s)).unwrap(), s);
        // Astral plane characters come as surrogate pairs.
        assert_eq!(decode_text(utf16le("a😀b")).unwrap(), "a😀b");
    }

    #[test]
    fn bad_utf16_is_located() {
        let mut b = utf16le("ab");
        b.push(0x41);
        assert!(matches!(
            decode_text(b),
            Err(ReadError::InvalidUtf16 {
                big_endian: false,
                offset: 6
            })
        ));
        // An unpaired high surrogate followed by 'x'.
        let b = vec![0xFF, 0xFE, b'a', 0, 0x00, 0xD8, b'x', 0];
        let e = decode_text(b).unwrap_err();
        assert!(matches!(e, ReadError::InvalidUtf16 { offset: 4, .. }), "{e:?}");
    }

    #[test]
    fn bad_utf8_is_located() {
        let e = decode_text(b"a: 1\nb: \xFF\n".to_vec()).unwrap_err();
        assert!(
            matches!(
                e,
                ReadError::InvalidUtf8 {
                    line: 2,
                    col: 4,
                    byte: 0xFF,
                    offset: 8
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.position(), Some((2, 4)));
    }

    #[test]
    fn the_limit_is_enforced_without_reading_everything() {
        // An endless reader: only limit + 1 bytes are ever read.
        let endless = std::io::repeat(b'a');
        let e = read_text(endless, 1024).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected at most 1024 bytes (1 KiB), found a larger input"
        );
        assert_eq!(read_text(&b"abc"[..], 3).unwrap(), "abc");
    }

    #[cfg(unix)]
    #[test]
    fn dev_zero_is_bounded_and_folders_are_refused() {
        if Path::new("/dev/zero").exists() {
            let e = read_text_file(Path::new("/dev/zero"), 4096).unwrap_err();
            assert!(matches!(e, ReadError::TooLarge { limit: 4096 }), "{e:?}");
            assert!(!is_regular_file(Path::new("/dev/zero")));
        }
        let e = read_text_file(Path::new("/"), 10).unwrap_err();
        assert_eq!(e.to_string(), "expected a file, found a folder");
    }
}
