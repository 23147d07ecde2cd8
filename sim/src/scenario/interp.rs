//! `${name}` / `${name.Field[0].Sub}` expressions: references to results named with `as:`.
//!
//! A string that is exactly one expression is replaced by the referenced JSON value (so numbers
//! stay numbers); an expression inside a longer string is replaced by its text.

use serde_json::Value;
use std::collections::BTreeMap;

/// Where expressions find the values of names. The runner's brings a name's value up to date
/// when an expression first uses it, so a document is walked once: expanding it is what reads
/// its references.
pub trait Vars {
    /// The value of `name`, if it has one.
    fn var(&mut self, name: &str) -> Option<&Value>;
}

/// A fixed set of values (tests, `restore:`).
impl Vars for &BTreeMap<String, Value> {
    fn var(&mut self, name: &str) -> Option<&Value> {
        self.get(name)
    }
}

/// Where the next `${` in `s` starts. A byte scan: `str::find` with a two-character pattern
/// builds a substring searcher per call, which cost more than the rest of a short string's check
/// (every string of every HNS document is checked, at validation and again when run).
fn find_open(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = b[from..].iter().position(|c| *c == b'$') {
        let at = from + i;
        if b.get(at + 1) == Some(&b'{') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Whether `s` holds an expression (a `${`).
pub fn has_expression(s: &str) -> bool {
    find_open(s).is_some()
}

/// The names referenced in a string, in order. Errors on an unterminated or empty `${`.
pub fn references(s: &str) -> Result<Vec<String>, String> {
    Ok(reference_names(s)?.into_iter().map(str::to_string).collect())
}

/// As [`references`], borrowing the names from `s`.
pub fn reference_names(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = find_open(rest) {
        let after = &rest[i + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated `${{` in {s:?}: expected `}}`"))?;
        let expr = &after[..end];
        let name = expr_name(expr);
        if name.is_empty() {
            return Err(format!("expected a name after `${{` in {s:?}"));
        }
        out.push(name);
        rest = &after[end + 1..];
    }
    Ok(out)
}

fn expr_name(expr: &str) -> &str {
    let end = expr.find(['.', '[']).unwrap_or(expr.len());
    expr[..end].trim()
}

/// Look up `Field[0].Sub` inside a JSON value. Keys match case-insensitively (HNS itself does).
pub fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            continue;
        }
        if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let i: usize = r[..end].trim().parse().ok()?;
            cur = cur.as_array()?.get(i)?;
            rest = &r[end + 1..];
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let key = &rest[..end];
        let obj = cur.as_object()?;
        cur = obj.get(key).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })?;
        rest = &rest[end..];
    }
    Some(cur)
}

/// Replace every expression in `s`, reading names from `vars`.
pub fn expand_str(s: &str, vars: &mut impl Vars) -> Result<Value, String> {
    if !has_expression(s) {
        return Ok(Value::String(s.to_string()));
    }
    let t = s.trim();
    if t.starts_with("${") && t.ends_with('}') && t[2..].find('}') == Some(t.len() - 3) {
        return eval(&t[2..t.len() - 1], vars).cloned();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = find_open(rest) {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated `${{` in {s:?}"))?;
        match eval(&after[..end], vars)? {
            Value::String(x) => out.push_str(x),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Value::String(out))
}

fn eval<'a>(expr: &str, vars: &'a mut impl Vars) -> Result<&'a Value, String> {
    let name = expr_name(expr);
    let v = vars
        .var(name)
        .ok_or_else(|| format!("`${{{expr}}}`: `{name}` has no value (did its step fail?)"))?;
    let path = &expr.trim()[name.len()..];
    lookup(v, path).ok_or_else(|| {
        format!(
            "`${{{expr}}}`: `{name}` has no field `{}`",
            path.trim_start_matches('.')
        )
    })
}

/// Expand every string in a YAML value, producing JSON; each name is read from `vars` when an
/// expression first uses it, in document order.
pub fn expand_value(v: &serde_yaml::Value, vars: &mut impl Vars) -> Result<Value, String> {
    Ok(match v {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(*b),
        serde_yaml::Value::Number(n) => {
            if let Some(i) = n.as_u64() {
                Value::from(i)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0))
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        serde_yaml::Value::String(s) => expand_str(s, vars)?,
        serde_yaml::Value::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(expand_value(i, vars)?);
            }
            Value::Array(out)
        }
        serde_yaml::Value::Mapping(m) => {
            let mut o = serde_json::Map::with_capacity(m.len());
            for (k, val) in m {
                let key = match k {
                    serde_yaml::Value::String(s) => s.clone(),
                    serde_yaml::Value::Number(n) => n.to_string(),
                    serde_yaml::Value::Bool(b) => b.to_string(),
                    _ => return Err("expected string keys in an HNS document".into()),
                };
                o.insert(key, expand_value(val, vars)?);
            }
            Value::Object(o)
        }
        serde_yaml::Value::Tagged(t) => expand_value(&t.value, vars)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_and_expansion() {
        assert_eq!(references("a ${x.ID} b ${y[0]}").unwrap(), vec!["x", "y"]);
        assert_eq!(references("$$ {x} $ ${x}$").unwrap(), vec!["x"]);
        assert!(!has_expression("$ {x} $") && has_expression("a$${x}"));
        assert!(references("${x").is_err());
        let mut map = BTreeMap::new();
        map.insert(
            "ep".to_string(),
            json!({"ID": "AB", "IpConfigurations": [{"IpAddress": "10.0.0.5"}], "Flags": 1}),
        );
        let vars = &mut &map;
        assert_eq!(expand_str("${ep.ID}", vars).unwrap(), json!("AB"));
        assert_eq!(expand_str("${ep.flags}", vars).unwrap(), json!(1));
        assert_eq!(
            expand_str("/endpoints/${ep.ID}", vars).unwrap(),
            json!("/endpoints/AB")
        );
        assert_eq!(
            expand_str("${ep.IpConfigurations[0].IpAddress}", vars).unwrap(),
            json!("10.0.0.5")
        );
        assert!(expand_str("${ep.Nope}", vars).is_err());
        assert!(expand_str("${zz.ID}", vars).is_err());
    }
}
