//! Printer columns of custom resources (server-side `Table` output) and the JSONPath subset
//! they use.

use crate::gofmt;
use serde::Serialize;
use serde_json::{Value, json};

/// One `additionalPrinterColumns` entry of a CRD version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrinterColumn {
    pub name: String,
    /// `integer`, `number`, `string`, `boolean` or `date`.
    #[serde(rename = "type")]
    pub type_: String,
    pub format: String,
    pub description: String,
    pub priority: i32,
    pub json_path: String,
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

const CREATION_TIMESTAMP_DESCRIPTION: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

impl PrinterColumn {
    /// The `Name` column every custom resource table starts with.
    pub fn name_column() -> PrinterColumn {
        PrinterColumn {
            name: "Name".into(),
            type_: "string".into(),
            format: "name".into(),
            description: NAME_DESCRIPTION.into(),
            priority: 0,
            json_path: ".metadata.name".into(),
        }
    }

    /// The `Age` column served when a version declares no columns.
    pub fn age_column() -> PrinterColumn {
        PrinterColumn {
            name: "Age".into(),
            type_: "date".into(),
            format: String::new(),
            description: CREATION_TIMESTAMP_DESCRIPTION.into(),
            priority: 0,
            json_path: ".metadata.creationTimestamp".into(),
        }
    }

    /// The `columnDefinitions` entry of a `meta.k8s.io/v1` `Table`. A column without a
    /// description is described as `Custom resource definition column (in JSONPath format):
    /// <jsonPath>`, as Kubernetes does.
    pub fn table_column_definition(&self) -> Value {
        let description = if self.description.is_empty() {
            format!(
                "Custom resource definition column (in JSONPath format): {}",
                self.json_path
            )
        } else {
            self.description.clone()
        };
        json!({
            "name": self.name,
            "type": self.type_,
            "format": self.format,
            "description": description,
            "priority": self.priority,
        })
    }

    /// The cell of this column for `obj`, as the CRD table convertor computes it: the first
    /// JSONPath result converted to the column type; `date` columns show the age relative to
    /// `now` (`5m`, `3d4h`, `<invalid>`); `null` when the path finds nothing or the value has
    /// the wrong type.
    pub fn cell(&self, obj: &Value, now: jiff::Timestamp) -> Value {
        let Some(v) = eval_json_path(obj, &self.json_path) else {
            return Value::Null;
        };
        if self.type_ == "string" {
            return match v {
                Value::Null => Value::Null,
                Value::String(s) => Value::String(s),
                other => Value::String(gofmt::go_plain(&other)),
            };
        }
        cell_for_json_value(&self.type_, &v, now)
    }
}

/// `cellForJSONValue` of the CRD table convertor.
fn cell_for_json_value(header_type: &str, v: &Value, now: jiff::Timestamp) -> Value {
    match (header_type, v) {
        ("integer", Value::Number(n)) => match n.as_i64() {
            Some(i) => json!(i),
            None => json!(n.as_f64().unwrap_or(0.0).trunc() as i64),
        },
        ("number", Value::Number(n)) => json!(n.as_f64().unwrap_or(0.0)),
        ("boolean", Value::Bool(b)) => json!(b),
        ("string", Value::String(s)) => json!(s),
        ("date", Value::String(s)) => match s.parse::<jiff::Timestamp>() {
            Ok(t) => json!(human_duration(now.duration_since(t))),
            Err(_) => json!("<invalid>"),
        },
        _ => Value::Null,
    }
}

/// The columns of `version` of the CRD: its `additionalPrinterColumns`, or the `Age` column
/// when it declares none. Empty when the version does not exist. The `Name` column that
/// precedes them in tables is [`PrinterColumn::name_column`].
pub fn printer_columns(crd: &Value, version: &str) -> Vec<PrinterColumn> {
    let Some(v) = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(version))
        })
    else {
        return Vec::new();
    };
    let cols: Vec<PrinterColumn> = v
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|c| {
                    let s = |k: &str| {
                        c.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    PrinterColumn {
                        name: s("name"),
                        type_: s("type"),
                        format: s("format"),
                        description: s("description"),
                        priority: c
                            .get("priority")
                            .and_then(Value::as_i64)
                            .and_then(|p| i32::try_from(p).ok())
                            .unwrap_or(0),
                        json_path: s("jsonPath"),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    if cols.is_empty() {
        vec![PrinterColumn::age_column()]
    } else {
        cols
    }
}

/// `duration.HumanDuration` of Kubernetes (ages in `kubectl get`).
pub fn human_duration(d: jiff::SignedDuration) -> String {
    let seconds = d.as_secs();
    if seconds < -1 {
        return "<invalid>".into();
    } else if seconds < 0 {
        return "0s".into();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

// ---------------------------------------------------------------------------------------------
// JSONPath.

#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// `.name` or `['name']`; several names for `['a','b']`.
    Fields(Vec<String>),
    /// `.*` or `[*]`.
    Wildcard,
    /// `..name`.
    Recursive(String),
    /// `[n]` (negative counts from the end).
    Index(i64),
    /// `[a:b]`.
    Slice(Option<i64>, Option<i64>),
    /// `[?(@.a.b == "x")]`, or existence `[?(@.a)]`.
    Filter(Vec<Step>, Option<(String, Value)>),
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(|c| c == b' ') {
            self.i += 1;
        }
    }

    fn ident(&mut self) -> String {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c == b'.'
                || c == b'['
                || c == b' '
                || c == b')'
                || c == b'='
                || c == b'!'
                || c == b'<'
                || c == b'>'
            {
                break;
            }
            self.i += 1;
        }
        self.src[start..self.i].to_string()
    }

    fn quoted(&mut self) -> Result<String, String> {
        let q = self.peek().ok_or("unterminated string")?;
        self.i += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            self.i += 1;
            if c == q {
                return Ok(out);
            }
            if c == b'\\' {
                let e = self.src[self.i..]
                    .chars()
                    .next()
                    .ok_or("unterminated string")?;
                self.i += e.len_utf8();
                out.push(e);
                continue;
            }
            // Multi-byte UTF-8: copy the whole character.
            let start = self.i - 1;
            let len = self.src[start..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&self.src[start..start + len]);
            self.i = start + len;
        }
    }

    fn number(&mut self) -> Option<i64> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.src[start..self.i].parse().ok()
    }

    /// Steps until the end of input or (inside a filter) an operator or `)`.
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, String> {
        let mut out = Vec::new();
        loop {
            if in_filter {
                self.skip_ws();
            }
            match self.peek() {
                None => break,
                Some(b'.') => {
                    self.i += 1;
                    if self.eat(b'.') {
                        let name = self.ident();
                        out.push(Step::Recursive(name));
                    } else if self.eat(b'*') {
                        out.push(Step::Wildcard);
                    } else {
                        let name = self.ident();
                        if !name.is_empty() {
                            out.push(Step::Fields(vec![name]));
                        }
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    out.push(self.bracket()?);
                }
                Some(_) if in_filter => break,
                Some(c) => {
                    return Err(format!(
                        "unrecognized character in action: {}",
                        char::from(c)
                    ));
                }
            }
        }
        Ok(out)
    }

    fn bracket(&mut self) -> Result<Step, String> {
        self.skip_ws();
        let step = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Step::Wildcard
            }
            Some(b'\'') | Some(b'"') => {
                let mut names = vec![self.quoted()?];
                loop {
                    self.skip_ws();
                    if !self.eat(b',') {
                        break;
                    }
                    self.skip_ws();
                    names.push(self.quoted()?);
                }
                Step::Fields(names)
            }
            Some(b'?') => {
                self.i += 1;
                if !self.eat(b'(') {
                    return Err("expected ( after ?".into());
                }
                self.skip_ws();
                if !self.eat(b'@') {
                    return Err("filter must start with @".into());
                }
                let path = self.steps(true)?;
                self.skip_ws();
                let cmp = if self.peek() == Some(b')') {
                    None
                } else {
                    let start = self.i;
                    while self.peek().is_some_and(|c| b"=!<>".contains(&c)) {
                        self.i += 1;
                    }
                    let op = self.src[start..self.i].to_string();
                    self.skip_ws();
                    let lit = match self.peek() {
                        Some(b'\'') | Some(b'"') => Value::String(self.quoted()?),
                        _ => {
                            let start = self.i;
                            while self.peek().is_some_and(|c| c != b')' && c != b' ') {
                                self.i += 1;
                            }
                            let raw = &self.src[start..self.i];
                            serde_json::from_str(raw).unwrap_or(Value::String(raw.to_string()))
                        }
                    };
                    self.skip_ws();
                    Some((op, lit))
                };
                if !self.eat(b')') {
                    return Err("unclosed filter".into());
                }
                Step::Filter(path, cmp)
            }
            _ => {
                let a = self.number();
                self.skip_ws();
                if self.eat(b':') {
                    self.skip_ws();
                    let b = self.number();
                    Step::Slice(a, b)
                } else {
                    Step::Index(a.ok_or("invalid array index")?)
                }
            }
        };
        self.skip_ws();
        if !self.eat(b']') {
            return Err("unterminated array".into());
        }
        Ok(step)
    }
}

fn parse(path: &str) -> Result<Vec<Step>, String> {
    let trimmed = path.trim();
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(trimmed)
        .trim();
    let inner = inner.strip_prefix('$').unwrap_or(inner);
    let mut p = Parser {
        s: inner.as_bytes(),
        src: inner,
        i: 0,
    };
    p.steps(false)
}

fn apply<'a>(steps: &[Step], input: Vec<&'a Value>) -> Vec<&'a Value> {
    let mut cur = input;
    for step in steps {
        let mut next = Vec::new();
        for v in cur {
            match step {
                Step::Fields(names) => {
                    if let Value::Object(m) = v {
                        for n in names {
                            if let Some(x) = m.get(n) {
                                next.push(x);
                            }
                        }
                    }
                }
                Step::Wildcard => match v {
                    Value::Object(m) => next.extend(m.values()),
                    Value::Array(a) => next.extend(a.iter()),
                    _ => {}
                },
                Step::Recursive(name) => collect_recursive(v, name, &mut next),
                Step::Index(i) => {
                    if let Value::Array(a) = v {
                        let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                        if let Some(x) = usize::try_from(idx).ok().and_then(|i| a.get(i)) {
                            next.push(x);
                        }
                    }
                }
                Step::Slice(from, to) => {
                    if let Value::Array(a) = v {
                        let len = a.len() as i64;
                        let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                        let s = norm(from.unwrap_or(0)) as usize;
                        let e = norm(to.unwrap_or(len)) as usize;
                        if s < e {
                            next.extend(a[s..e].iter());
                        }
                    }
                }
                Step::Filter(path, cmp) => {
                    if let Value::Array(a) = v {
                        for item in a {
                            let found = apply(path, vec![item]);
                            let keep = match cmp {
                                None => !found.is_empty(),
                                Some((op, lit)) => found.iter().any(|x| compare(x, op, lit)),
                            };
                            if keep {
                                next.push(item);
                            }
                        }
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

fn collect_recursive<'a>(v: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            for x in m.values() {
                collect_recursive(x, name, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_recursive(x, name, out);
            }
        }
        _ => {}
    }
}

fn compare(x: &Value, op: &str, lit: &Value) -> bool {
    let ord = match (x, lit) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => None,
    };
    match op {
        "==" => ord.map_or(x == lit, |o| o.is_eq()),
        "!=" => ord.map_or(x != lit, |o| o.is_ne()),
        "<" => ord.is_some_and(|o| o.is_lt()),
        ">" => ord.is_some_and(|o| o.is_gt()),
        "<=" => ord.is_some_and(|o| o.is_le()),
        ">=" => ord.is_some_and(|o| o.is_ge()),
        _ => false,
    }
}

/// Every result of a JSONPath expression (`.spec.replicas`, `{.status.conditions[?(@.type ==
/// "Ready")].status}`, `.items[*].name`, `..image`, `['a.b']`). An error means the
/// expression does not parse.
pub fn eval_json_path_all(obj: &Value, path: &str) -> Result<Vec<Value>, String> {
    let steps = parse(path)?;
    Ok(apply(&steps, vec![obj]).into_iter().cloned().collect())
}

/// The first result of a JSONPath expression, as printer columns use it; `None` when nothing
/// matches or the expression does not parse.
pub fn eval_json_path(obj: &Value, path: &str) -> Option<Value> {
    let steps = parse(path).ok()?;
    apply(&steps, vec![obj]).into_iter().next().cloned()
}
