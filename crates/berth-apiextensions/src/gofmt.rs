//! Go-compatible formatting of values in error messages, field paths as `field.Path` prints them,
//! and constructors of [`FieldError`]s whose bad value Kubernetes prints with `%#v`.

use berth_apimachinery::status::{FieldError, FieldErrorKind};
use serde_json::{Number, Value};

/// A field path built like `k8s.io/apimachinery/pkg/util/validation/field.Path`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Path(String);

impl Path {
    pub(crate) fn new(root: &str) -> Self {
        Path(root.to_string())
    }

    /// `a.b`, or `b` at the root.
    pub(crate) fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    /// `a[3]`.
    pub(crate) fn index(&self, i: usize) -> Path {
        Path(format!("{}[{i}]", self.0))
    }

    /// `a[key]`.
    pub(crate) fn key(&self, k: &str) -> Path {
        Path(format!("{}[{k}]", self.0))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Go's `%v` of a `float64`: shortest digits, exponent form when the exponent is < -4 or >= 6.
pub(crate) fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Shortest round-tripping digits from Rust's `{:e}` formatting: "d.ddddde±x".
    let e = format!("{:e}", f.abs());
    let (mantissa, exp) = match e.split_once('e') {
        Some((m, x)) => (m.to_string(), x.parse::<i32>().unwrap_or(0)),
        None => (e.clone(), 0),
    };
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let neg = if f < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exp) {
        // %e with the shortest digits, exponent at least two digits.
        let mut m = String::new();
        m.push_str(&digits[..1]);
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{neg}{m}e{sign}{:02}", exp.abs());
    }
    // %f with as many decimals as needed.
    let nd = digits.len() as i32;
    let dp = exp + 1; // position of the decimal point relative to the digits
    let s = if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp >= nd {
        format!("{}{}", digits, "0".repeat((dp - nd) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    };
    format!("{neg}{s}")
}

/// Go's `%v` of a JSON number as decoded into unstructured content (int64 or float64).
pub(crate) fn go_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        // Does not fit int64: Kubernetes decodes it as float64.
        go_float(u as f64)
    } else {
        go_float(n.as_f64().unwrap_or(0.0))
    }
}

/// Whether a JSON number decodes to an `int64` in Kubernetes' unstructured decoding.
pub(crate) fn is_go_int(n: &Number) -> bool {
    n.as_i64().is_some()
}

/// Go's `strconv.Quote`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%#v` of an unstructured JSON value (`map[string]interface {}{...}` and friends).
pub(crate) fn go_sharp(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => go_quote(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_sharp).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", go_quote(k), go_sharp(&m[k.as_str()])))
                .collect();
            format!("map[string]interface {{}}{{{}}}", items.join(", "))
        }
    }
}

/// Go's `%v` of an unstructured JSON value.
pub(crate) fn go_plain(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(go_plain).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_plain(&m[k.as_str()])))
                .collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

fn shows_value(kind: FieldErrorKind) -> bool {
    !matches!(
        kind,
        FieldErrorKind::Required
            | FieldErrorKind::Forbidden
            | FieldErrorKind::TooLong
            | FieldErrorKind::Internal
    )
}

/// A field error whose bad value is printed as Kubernetes prints `BadValue` of that JSON value.
///
/// Strings, integers and booleans are kept as the error's `value` (the shared `FieldError`
/// formatter prints them like Go). Values Go prints differently from that formatter (floats,
/// objects, arrays, null) are rendered here and carried in front of the detail instead, so the
/// message reads exactly like Kubernetes'.
pub(crate) fn value_error(
    kind: FieldErrorKind,
    field: &str,
    value: &Value,
    detail: impl Into<String>,
) -> FieldError {
    let detail = detail.into();
    if !shows_value(kind) {
        return FieldError::new(kind, field, Some(value.clone()), detail);
    }
    let rendered = match value {
        Value::String(_) | Value::Bool(_) => None,
        Value::Number(n) if is_go_int(n) => None,
        Value::Number(n) => Some(go_number(n)),
        Value::Null => Some("\"null\"".to_string()),
        other => Some(go_sharp(other)),
    };
    match rendered {
        None => FieldError::new(kind, field, Some(value.clone()), detail),
        Some(r) => rendered_error(kind, field, r, &detail),
    }
}

/// A field error whose bad value has already been rendered the Go way.
pub(crate) fn rendered_error(
    kind: FieldErrorKind,
    field: &str,
    rendered: String,
    detail: &str,
) -> FieldError {
    let d = if detail.is_empty() {
        rendered
    } else {
        format!("{rendered}: {detail}")
    };
    FieldError::new(kind, field, None, d)
}

pub(crate) fn invalid(field: &Path, value: &Value, detail: impl Into<String>) -> FieldError {
    value_error(FieldErrorKind::Invalid, field.as_str(), value, detail)
}

pub(crate) fn invalid_str(field: &Path, value: &str, detail: impl Into<String>) -> FieldError {
    FieldError::invalid(field.as_str(), Value::String(value.to_string()), detail)
}

pub(crate) fn required(field: &Path, detail: impl Into<String>) -> FieldError {
    FieldError::required(field.as_str(), detail)
}

pub(crate) fn forbidden(field: &Path, detail: impl Into<String>) -> FieldError {
    FieldError::forbidden(field.as_str(), detail)
}

pub(crate) fn not_supported(field: &Path, value: &str, valid: &[&str]) -> FieldError {
    FieldError::not_supported(field.as_str(), Value::String(value.to_string()), valid)
}

pub(crate) fn duplicate(field: &Path, value: &Value) -> FieldError {
    value_error(FieldErrorKind::Duplicate, field.as_str(), value, "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn floats_like_go() {
        assert_eq!(go_float(1.0), "1");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(100000.0), "100000");
        assert_eq!(go_float(1e21), "1e+21");
        assert_eq!(go_float(123456789.0), "1.23456789e+08");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(0.0001), "0.0001");
        assert_eq!(go_float(0.00001), "1e-05");
        assert_eq!(go_float(-2.25), "-2.25");
    }

    #[test]
    fn sharp_v_like_go() {
        assert_eq!(
            go_sharp(&json!({"port": 80, "name": "http"})),
            r#"map[string]interface {}{"name":"http", "port":80}"#
        );
        assert_eq!(go_sharp(&json!([1, "a"])), r#"[]interface {}{1, "a"}"#);
        assert_eq!(go_quote("a\"b\n"), r#""a\"b\n""#);
    }
}
