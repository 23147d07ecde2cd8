//! The parts of the agent that do not touch Windows: the frame, text escapes, GUID parsing, and
//! the two or three JSON lookups the agent needs (no JSON parser: a small scanner suffices).
#![cfg_attr(not(windows), allow(dead_code))]

pub const HELLO_MAGIC: &str = "HNSIM-ADAPTER";
pub const PROTOCOL_VERSION: u32 = 1;

/// E_NOTIMPL, E_INVALIDARG, E_FAIL, HCN_E_GUID_CONVERSION_FAILURE, HCN_E_INVALID_JSON.
pub const E_NOTIMPL: u32 = 0x8000_4001;
pub const E_INVALIDARG: u32 = 0x8007_0057;
pub const E_FAIL: u32 = 0x8000_4005;
pub const HCN_E_GUID_CONVERSION_FAILURE: u32 = 0x803B_0019;

/// The default HostComputeQuery (schema 2.0, flags 0).
pub const DEFAULT_QUERY: &str = "{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},\"Flags\":0}";

/// Escape free text so it holds no tab, CR or LF (`\\`, `\t`, `\n`, `\r`).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON text for the frame: tab, CR and LF can only be whitespace in valid JSON, so they
/// become spaces (the JSON value is unchanged).
pub fn frame_json(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '\t' || c == '\n' || c == '\r' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// One request: `OP\tID\tDOCUMENT`.
pub struct Request<'a> {
    pub op: &'a str,
    pub id: &'a str,
    pub document: &'a str,
}

pub fn parse_request(line: &str) -> Option<Request<'_>> {
    let mut f = line.splitn(3, '\t');
    let op = f.next()?;
    let id = f.next()?;
    let document = f.next()?;
    Some(Request { op, id, document })
}

pub fn ok_line(json: &str) -> String {
    format!("OK\t{}", frame_json(json))
}

pub fn err_line(code: u32, message: &str, record: &str) -> String {
    format!(
        "ERR\t0x{:08X}\t{}\t{}",
        code,
        escape_text(message),
        frame_json(record)
    )
}

pub fn hello_line(server: &str) -> String {
    format!("{}\t{}\t{}", HELLO_MAGIC, PROTOCOL_VERSION, escape_text(server))
}

/// What an op names: the verb and the object, e.g. `HcnQueryEndpointProperties` →
/// (Query, "Endpoint").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Enumerate,
    Create,
    Open,
    Modify,
    Query,
    Delete,
}

pub const KINDS: [&str; 5] = ["Network", "Endpoint", "Namespace", "LoadBalancer", "SdnRoute"];

pub fn parse_op(op: &str) -> Option<(Verb, &'static str)> {
    for kind in KINDS.iter() {
        let kind: &'static str = kind;
        let forms = [
            (Verb::Enumerate, format!("HcnEnumerate{}s", kind)),
            (Verb::Create, format!("HcnCreate{}", kind)),
            (Verb::Open, format!("HcnOpen{}", kind)),
            (Verb::Modify, format!("HcnModify{}", kind)),
            (Verb::Query, format!("HcnQuery{}Properties", kind)),
            (Verb::Delete, format!("HcnDelete{}", kind)),
        ];
        for (verb, name) in forms.iter() {
            if name == op {
                return Some((*verb, kind));
            }
        }
    }
    None
}

/// A GUID's fields in the Windows `GUID` layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct GuidParts {
    pub data1: u32,
    pub data2: u16,
    pub data3: u16,
    pub data4: [u8; 8],
}

/// Parse `01234567-89AB-CDEF-0123-456789ABCDEF` (any case, braces allowed). Empty = zero GUID
/// (HNS then assigns the ID).
pub fn parse_guid(s: &str) -> Option<GuidParts> {
    let t = s.trim();
    if t.is_empty() {
        return Some(GuidParts::default());
    }
    let t = t.strip_prefix('{').unwrap_or(t);
    let t = t.strip_suffix('}').unwrap_or(t);
    let groups: Vec<&str> = t.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    if groups.len() != 5 {
        return None;
    }
    for (g, l) in groups.iter().zip(lens.iter()) {
        if g.len() != *l || !g.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
    }
    let data1 = u32::from_str_radix(groups[0], 16).ok()?;
    let data2 = u16::from_str_radix(groups[1], 16).ok()?;
    let data3 = u16::from_str_radix(groups[2], 16).ok()?;
    let tail = format!("{}{}", groups[3], groups[4]);
    let mut data4 = [0u8; 8];
    for (i, b) in data4.iter_mut().enumerate() {
        *b = u8::from_str_radix(&tail[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(GuidParts {
        data1,
        data2,
        data3,
        data4,
    })
}

/// The raw text of a top-level member's value in a JSON object (`{"a":{"b":1}}`, `a` →
/// `{"b":1}`), found by scanning: strings and nesting are tracked, nothing is validated.
pub fn top_level_value<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let b = json.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
                i += 1;
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b',' => {
                expect_key = depth == 1;
                i += 1;
            }
            b'"' => {
                let end = string_end(b, i)?;
                if depth == 1 && expect_key {
                    expect_key = false;
                    let name = &json[i + 1..end];
                    let mut j = end + 1;
                    while j < b.len() && (b[j] as char).is_ascii_whitespace() {
                        j += 1;
                    }
                    if j < b.len() && b[j] == b':' && name == key {
                        j += 1;
                        while j < b.len() && (b[j] as char).is_ascii_whitespace() {
                            j += 1;
                        }
                        let start = j;
                        let stop = value_end(b, start)?;
                        return Some(json[start..stop].trim_end());
                    }
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Index of the closing quote of the string starting at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of the JSON value starting at `start`.
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let e = string_end(b, i)?;
                if depth == 0 {
                    return Some(e + 1);
                }
                i = e + 1;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            b',' if depth == 0 => return Some(i),
            _ => i += 1,
        }
    }
    Some(i)
}

/// A top-level string member, with the common escapes undone.
pub fn top_level_string(json: &str, key: &str) -> Option<String> {
    let raw = top_level_value(json, key)?;
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = it.by_ref().take(4).collect();
                let ch = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(ch.unwrap_or('\u{FFFD}'));
            }
            Some(o) => out.push(o),
            None => {}
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_parse_into_windows_layout() {
        let g = parse_guid("{01234567-89ab-CDEF-0123-456789ABCDEF}").unwrap();
        assert_eq!(g.data1, 0x0123_4567);
        assert_eq!(g.data2, 0x89AB);
        assert_eq!(g.data3, 0xCDEF);
        assert_eq!(g.data4, [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF]);
        assert_eq!(parse_guid("").unwrap(), GuidParts::default());
        assert!(parse_guid("not-a-guid").is_none());
        assert!(parse_guid("0123456G-89ab-CDEF-0123-456789ABCDEF").is_none());
    }

    #[test]
    fn ops_parse() {
        assert_eq!(
            parse_op("HcnQueryEndpointProperties"),
            Some((Verb::Query, "Endpoint"))
        );
        assert_eq!(
            parse_op("HcnEnumerateSdnRoutes"),
            Some((Verb::Enumerate, "SdnRoute"))
        );
        assert_eq!(parse_op("HcnFrob"), None);
    }

    #[test]
    fn json_scanner_finds_top_level_members_only() {
        let doc = r#"{"Policies":[{"HostComputeNetwork":"x"}],"Name":"a\"b\tc","HostComputeNetwork" : "0D1B2C3A-4E5F-4A6B-9C7D-8E9FA0B1C2D3","Output":{"Major":15,"Minor":4},"ErrorCode":2151350291}"#;
        assert_eq!(
            top_level_string(doc, "HostComputeNetwork").as_deref(),
            Some("0D1B2C3A-4E5F-4A6B-9C7D-8E9FA0B1C2D3")
        );
        assert_eq!(top_level_string(doc, "Name").as_deref(), Some("a\"b\tc"));
        assert_eq!(top_level_value(doc, "Output"), Some("{\"Major\":15,\"Minor\":4}"));
        assert_eq!(top_level_value(doc, "ErrorCode"), Some("2151350291"));
        assert_eq!(top_level_value(doc, "Major"), None);
        assert_eq!(top_level_value("not json", "x"), None);
    }

    #[test]
    fn frames_hold_no_raw_separators() {
        assert_eq!(ok_line("{\r\n\t\"a\": 1\n}"), "OK\t{   \"a\": 1 }");
        assert_eq!(
            err_line(0x803B_0013, "a\tb\nc", "{\"Error\":\"x\"}\n"),
            "ERR\t0x803B0013\ta\\tb\\nc\t{\"Error\":\"x\"} "
        );
        assert_eq!(hello_line("a b"), "HNSIM-ADAPTER\t1\ta b");
    }
}
