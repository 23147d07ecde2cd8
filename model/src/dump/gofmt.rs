//! Go's `%+v` form of a struct, as older kube-proxy versions log the load balancer they created
//! (`&{Id:… HostComputeEndpoints:[a b] SourceVIP: FrontendVIPs:[10.0.0.1] PortMappings:[{Protocol:6
//! InternalPort:80 …}] …}`; docs/reference/node-dumps.md §4), read into JSON so the HNS reader
//! can take it. Field names are hcsshim's Go names, which the HNS reader matches without regard
//! to case (`Id` = `ID`).
//!
//! The form is ambiguous in general (a string holding a space or a brace cannot be told apart);
//! HNS load balancers hold none, so this reads what kube-proxy prints and refuses the rest.

use serde_json::{Map, Number, Value};

/// Parse one `%+v` value at the start of `s`; `None` when it is not that form.
pub fn parse(s: &str) -> Option<Value> {
    let mut p = P {
        b: s.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    Some(v)
}

struct P<'a> {
    b: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self) -> Option<Value> {
        if self.peek() == Some(b'&') {
            self.i += 1;
        }
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.list(),
            _ => Some(self.scalar()),
        }
    }

    /// `{Name:value Name:value}`
    fn object(&mut self) -> Option<Value> {
        self.i += 1;
        let mut m = Map::new();
        loop {
            self.spaces();
            match self.peek()? {
                b'}' => {
                    self.i += 1;
                    return Some(Value::Object(m));
                }
                _ => {
                    let start = self.i;
                    while self.peek()?.is_ascii_alphanumeric() || self.peek()? == b'_' {
                        self.i += 1;
                    }
                    if self.i == start || self.peek()? != b':' {
                        return None;
                    }
                    let name = std::str::from_utf8(&self.b[start..self.i]).ok()?.to_string();
                    self.i += 1;
                    let v = self.value()?;
                    m.insert(name, v);
                }
            }
        }
    }

    /// `[a b c]`
    fn list(&mut self) -> Option<Value> {
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.spaces();
            if self.peek()? == b']' {
                self.i += 1;
                return Some(Value::Array(items));
            }
            let before = self.i;
            items.push(self.value()?);
            if self.i == before {
                return None;
            }
        }
    }

    /// A bare token up to a space, `]` or `}`: a number when it is one, else a string (empty
    /// for Go's empty string: `SourceVIP: FrontendVIPs:…`).
    fn scalar(&mut self) -> Value {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == b' ' || c == b']' || c == b'}' {
                break;
            }
            self.i += 1;
        }
        let t = String::from_utf8_lossy(&self.b[start..self.i]).into_owned();
        match t.parse::<u64>() {
            Ok(n) => Value::Number(Number::from(n)),
            Err(_) if t == "true" || t == "false" => Value::Bool(t == "true"),
            Err(_) => Value::String(t),
        }
    }

    fn spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{decode_any_owned, HnsDocument};

    #[test]
    fn kube_proxy_load_balancer() {
        let s = "&{Id:0be07c06-353c-4fbf-8ebc-5531f877e68a HostComputeEndpoints:[fd6bec0f-7b88-4b61-b5af-70897ab0960b 11111111-2222-4333-8444-555555555555] SourceVIP: FrontendVIPs:[10.185.128.116] PortMappings:[{Protocol:6 InternalPort:80 ExternalPort:80 DistributionType:0 Flags:0}] SchemaVersion:{Major:2 Minor:0} Flags:0} trailing";
        let v = parse(s).unwrap();
        assert_eq!(v["SourceVIP"], "");
        assert_eq!(v["PortMappings"][0]["ExternalPort"], 80);
        let docs = decode_any_owned(v).unwrap();
        let HnsDocument::LoadBalancer(lb) = &docs[0] else {
            panic!("{docs:?}")
        };
        assert_eq!(lb.id.to_string(), "0BE07C06-353C-4FBF-8EBC-5531F877E68A");
        assert_eq!(lb.host_compute_endpoints.len(), 2);
        assert_eq!(lb.frontend_vips, ["10.185.128.116"]);
    }

    #[test]
    fn not_the_form() {
        assert_eq!(parse("&{Id"), None);
        assert_eq!(parse("{:x}"), None);
        assert_eq!(parse("[a b"), None);
    }
}
