//! Bytes → text for node dumps (docs/reference/node-dumps.md §1).
//!
//! Windows PowerShell 5.1's `>` / `>>` / `Out-File` write UTF-16LE with a BOM; `Out-File
//! -Encoding ascii`, logs and hand-made files are UTF-8, with or without a BOM. Well-formed
//! files go through the shared reader ([`crate::text::decode_text`]); a dump is more forgiving
//! than other inputs in two ways: UTF-16LE without a BOM is recognised, and broken UTF-16 is
//! decoded with U+FFFD (counted) because the JSON inside is still worth reading.

use std::borrow::Cow;

/// How a file's bytes were decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16LeBom,
    Utf16BeBom,
    /// No BOM, but every second byte of the first characters is zero (inferred UTF-16LE).
    Utf16LeNoBom,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16LeBom => "UTF-16LE with BOM",
            Encoding::Utf16BeBom => "UTF-16BE with BOM",
            Encoding::Utf16LeNoBom => "UTF-16LE without BOM",
        }
    }
}

/// Why bytes are not text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("binary data, not text (invalid UTF-8 at byte {0})")]
    InvalidUtf8(usize),
    #[error("binary data, not text (a NUL byte at byte {0})")]
    Nul(usize),
}

/// Decode a dump file. UTF-16 with unpaired surrogates or an odd length decodes with U+FFFD
/// (the count is returned) rather than failing: the JSON inside is still worth reading.
pub fn decode_text(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding, usize), TextError> {
    let bom = match bytes {
        [0xFF, 0xFE, ..] => Some(Encoding::Utf16LeBom),
        [0xFE, 0xFF, ..] => Some(Encoding::Utf16BeBom),
        [0xEF, 0xBB, 0xBF, ..] => Some(Encoding::Utf8Bom),
        _ => None,
    };
    if let Some(enc) = bom {
        if let Ok(s) = crate::text::decode_text(bytes.to_vec()) {
            if let Some(i) = s.bytes().position(|b| b == 0) {
                return Err(TextError::Nul(i));
            }
            return Ok((Cow::Owned(s), enc, 0));
        }
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let (s, bad) = utf16(rest, u16::from_le_bytes);
        return Ok((Cow::Owned(s), Encoding::Utf16LeBom, bad));
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let (s, bad) = utf16(rest, u16::from_be_bytes);
        return Ok((Cow::Owned(s), Encoding::Utf16BeBom, bad));
    }
    let (body, enc) = match bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        Some(rest) => (rest, Encoding::Utf8Bom),
        None => (bytes, Encoding::Utf8),
    };
    if enc == Encoding::Utf8 && looks_utf16le(body) {
        let (s, bad) = utf16(body, u16::from_le_bytes);
        return Ok((Cow::Owned(s), Encoding::Utf16LeNoBom, bad));
    }
    let s = std::str::from_utf8(body).map_err(|e| TextError::InvalidUtf8(e.valid_up_to()))?;
    if let Some(i) = s.bytes().position(|b| b == 0) {
        return Err(TextError::Nul(i));
    }
    Ok((Cow::Borrowed(s), enc, 0))
}

/// ASCII text written as UTF-16LE: `x\0y\0…` over the first 64 bytes.
fn looks_utf16le(b: &[u8]) -> bool {
    let head = &b[..b.len().min(64) & !1];
    head.len() >= 4 && head.chunks(2).all(|c| c[1] == 0 && c[0] != 0)
}

fn utf16(b: &[u8], unit: fn([u8; 2]) -> u16) -> (String, usize) {
    let mut bad = b.len() % 2;
    let units = b.chunks_exact(2).map(|c| unit([c[0], c[1]]));
    let mut s = String::with_capacity(b.len() / 2);
    for c in char::decode_utf16(units) {
        s.push(c.unwrap_or_else(|_| {
            bad += 1;
            char::REPLACEMENT_CHARACTER
        }));
    }
    (s, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { vec![] };
        v.extend(s.encode_utf16().flat_map(|u| u.to_le_bytes()));
        v
    }

    #[test]
    fn every_encoding_a_node_writes() {
        let bytes = le("{\"a\": \"é\"}", true);
        let (s, e, bad) = decode_text(&bytes).unwrap();
        assert_eq!((s.as_ref(), e, bad), ("{\"a\": \"é\"}", Encoding::Utf16LeBom, 0));
        let bytes = le("[1, 2]", false);
        let (s, e, _) = decode_text(&bytes).unwrap();
        assert_eq!((s.as_ref(), e), ("[1, 2]", Encoding::Utf16LeNoBom));
        let (s, e, _) = decode_text(b"\xEF\xBB\xBF{}").unwrap();
        assert_eq!((s.as_ref(), e), ("{}", Encoding::Utf8Bom));
        let mut be = vec![0xFE, 0xFF];
        be.extend("{}".encode_utf16().flat_map(|u| u.to_be_bytes()));
        assert_eq!(decode_text(&be).unwrap().1, Encoding::Utf16BeBom);
        // An odd trailing byte and a lone surrogate are counted, not fatal.
        let mut odd = le("{}", true);
        odd.extend([0x00, 0xD8, 0x41]);
        assert_eq!(decode_text(&odd).unwrap().2, 2);
    }

    #[test]
    fn binary_is_refused_with_the_offset() {
        assert_eq!(
            decode_text(b"ab\xFF\xFEcd").unwrap_err(),
            TextError::InvalidUtf8(2)
        );
        assert_eq!(decode_text(b"MZ\x00\x03\x7f").unwrap_err(), TextError::Nul(2));
    }
}
