//! Validation of custom resources against their schema, as the apiextensions-apiserver does it:
//! the OpenAPI validation of `k8s.io/kube-openapi/pkg/validation/validate` with its errors
//! converted to field errors (`kubeOpenAPIResultToFieldErrors`), the uniqueness of
//! `x-kubernetes-list-type` set/map lists, and the TypeMeta/ObjectMeta of embedded resources.

use crate::formats;
use crate::gofmt::{self, Path, go_float, go_quote, value_error};
use crate::names;
use crate::schema::Schema;
use berth_apimachinery::status::{FieldError, FieldErrorKind};
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Errors collected while validating, de-duplicated like kube-openapi's `Result.AddErrors`.
#[derive(Default)]
pub(crate) struct Res {
    pub errs: Vec<FieldError>,
    seen: HashSet<String>,
}

impl Res {
    fn add(&mut self, e: FieldError) {
        if self.seen.insert(e.to_string()) {
            self.errs.push(e);
        }
    }

    fn merge(&mut self, other: Res) {
        for e in other.errs {
            self.add(e);
        }
    }

    fn is_valid(&self) -> bool {
        self.errs.is_empty()
    }
}

/// The OpenAPI validator. `base` is the field path prepended to error paths (`None` for a
/// custom resource, which Kubernetes validates with a nil path).
pub(crate) struct Validator<'a> {
    pub base: Option<&'a str>,
}

const IN: &str = "body";

/// kube-openapi's JSON type name and implied format of a value.
fn schema_info(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::Null => ("null", ""),
        Value::Bool(_) => ("boolean", ""),
        Value::String(_) => ("string", ""),
        Value::Number(n) if gofmt::is_go_int(n) => ("integer", "int64"),
        Value::Number(_) => ("number", "float64"),
        Value::Array(_) => ("array", ""),
        Value::Object(_) => ("object", ""),
    }
}

/// `swag.IsFloat64AJSONInteger`.
fn is_json_integer(f: f64) -> bool {
    f.is_finite() && f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_991.0
}

/// A numeric value as kube-openapi sees it: int64 or float64.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn of(n: &serde_json::Number) -> Num {
        match n.as_i64() {
            Some(i) => Num::Int(i),
            None => Num::Float(n.as_f64().unwrap_or(0.0)),
        }
    }
    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// Go's `int64(f)` conversion of a float64 (truncation, saturating here).
fn go_trunc(f: f64) -> i64 {
    if f.is_nan() {
        0
    } else {
        f.trunc().clamp(i64::MIN as f64, i64::MAX as f64) as i64
    }
}

/// JSON equality with integral floats equal to integers (Go decodes enum values and data to
/// int64 whenever the number is integral).
pub(crate) fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (Num::of(x), Num::of(y)) {
            (Num::Int(i), Num::Int(j)) => i == j,
            (p, q) => p.as_f64() == q.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Whether `data` matches an enum value the way kube-openapi compares them (reflect
/// conversion of the data to the enum value's type, then deep equality).
fn enum_matches(data: &Value, enum_value: &Value) -> bool {
    match (data, enum_value) {
        (Value::Number(d), Value::Number(e)) => match (Num::of(d), Num::of(e)) {
            (Num::Int(i), Num::Int(j)) => i == j,
            // float64 data converted to the int64 enum type truncates.
            (Num::Float(f), Num::Int(j)) => go_trunc(f) == j,
            (Num::Int(i), Num::Float(g)) => i as f64 == g,
            (Num::Float(f), Num::Float(g)) => f == g,
        },
        _ => json_equal(data, enum_value),
    }
}

impl Validator<'_> {
    /// The field path of an error whose kube-openapi name is `name`.
    fn err_path(&self, name: &str) -> String {
        if name.is_empty() || name == "." {
            return self.base_path();
        }
        let trimmed = name.strip_prefix('.').unwrap_or(name);
        match self.base {
            Some(b) if !b.is_empty() => format!("{b}.{trimmed}"),
            _ => trimmed.to_string(),
        }
    }

    fn base_path(&self) -> String {
        match self.base {
            Some(b) => b.to_string(),
            None => "<nil>".to_string(),
        }
    }

    /// `field.Invalid(errPath, value, message)` — the default conversion.
    fn invalid(&self, name: &str, value: &Value, msg: String) -> FieldError {
        value_error(FieldErrorKind::Invalid, &self.err_path(name), value, msg)
    }

    /// `InvalidType` errors: `TypeInvalid(errPath, value, message)`.
    fn type_invalid(&self, name: &str, type_name: &str, value: &str) -> FieldError {
        let msg = format!(
            "{name} in {IN} must be of type {type_name}: {}",
            go_quote(value)
        );
        FieldError::new(
            FieldErrorKind::TypeInvalid,
            self.err_path(name),
            Some(Value::String(value.to_string())),
            msg,
        )
    }

    /// Errors that are not `*errors.Validation` (anyOf/oneOf/allOf/not): reported on the base
    /// path with an empty value.
    fn composite(&self, msg: String) -> FieldError {
        FieldError::invalid(self.base_path(), Value::String(String::new()), msg)
    }

    /// Validates `data` at kube-openapi path `path`. `old` enables ratcheting: an unchanged
    /// value (deep-equal to its correlated old value) reports no errors.
    pub(crate) fn validate(
        &self,
        s: &Schema,
        data: &Value,
        path: &str,
        old: Option<&Value>,
    ) -> Res {
        let mut res = Res::default();
        if let Some(o) = old
            && json_equal(o, data)
        {
            return res;
        }
        if data.is_null() {
            self.check_type(s, data, path, &mut res);
            self.check_enum(s, data, path, &mut res);
            return res;
        }
        self.check_type(s, data, path, &mut res);
        self.check_schema_props(s, data, path, old, &mut res);
        if let Value::String(st) = data {
            self.check_string(s, st, path, &mut res);
            self.check_format(s, st, path, &mut res);
        }
        if let Value::Number(n) = data {
            self.check_number(s, Num::of(n), data, path, &mut res);
        }
        if let Value::Array(a) = data {
            self.check_slice(s, a, path, old, &mut res);
        }
        self.check_enum(s, data, path, &mut res);
        if let Value::Object(m) = data {
            self.check_object(s, m, path, old, &mut res);
        }
        res
    }

    fn check_type(&self, s: &Schema, data: &Value, path: &str, res: &mut Res) {
        let types = s.types();
        let format = s.validated_format().unwrap_or("");
        if types.is_empty() && format.is_empty() {
            return;
        }
        let joined = types.join(",");
        if data.is_null() {
            if !types.is_empty() && !types.contains(&"null") && !s.nullable {
                res.add(self.type_invalid(path, &joined, "null"));
            }
            return;
        }
        let (sch_type, data_format) = schema_info(data);
        let is_float_int = match data {
            Value::Number(n) if sch_type == "number" => {
                is_json_integer(n.as_f64().unwrap_or(0.5)) && types.contains(&"integer")
            }
            _ => false,
        };
        let is_int_float = sch_type == "integer" && types.contains(&"number");
        let string_or_slice = matches!(data, Value::String(_) | Value::Array(_));
        let has_format = !format.is_empty();
        let type_matches = types.contains(&sch_type) || is_float_int || is_int_float;
        // A number or other non-string value checked against a (string) format.
        let format_mismatch =
            !string_or_slice && has_format && !type_matches && data_format != format;
        if format_mismatch {
            res.add(self.type_invalid(path, format, data_format));
            return;
        }
        // Strings and arrays with a format are not type-checked unless the type is numeric.
        let numeric_type = types.contains(&"number") || types.contains(&"integer");
        if string_or_slice && has_format && !numeric_type {
            return;
        }
        if !type_matches {
            res.add(self.type_invalid(path, &joined, sch_type));
        }
    }

    fn check_schema_props(
        &self,
        s: &Schema,
        data: &Value,
        path: &str,
        old: Option<&Value>,
        res: &mut Res,
    ) {
        if !s.any_of.is_empty() {
            let mut best: Option<Res> = None;
            let mut ok = false;
            for sub in &s.any_of {
                let r = self.validate(sub, data, path, old);
                if r.is_valid() {
                    ok = true;
                    best = None;
                    break;
                }
                if best.as_ref().is_none_or(|b| r.errs.len() < b.errs.len()) {
                    best = Some(r);
                }
            }
            if !ok {
                res.add(self.composite(format!(
                    "{} must validate at least one schema (anyOf)",
                    go_quote(path)
                )));
            }
            if let Some(b) = best {
                res.merge(b);
            }
        }
        if !s.one_of.is_empty() {
            let mut best: Option<Res> = None;
            let mut validated = 0;
            for sub in &s.one_of {
                let r = self.validate(sub, data, path, old);
                if r.is_valid() {
                    validated += 1;
                    best = None;
                    continue;
                }
                if validated == 0 && best.as_ref().is_none_or(|b| r.errs.len() < b.errs.len()) {
                    best = Some(r);
                }
            }
            if validated != 1 {
                let extra = if validated == 0 {
                    "Found none valid".to_string()
                } else {
                    format!("Found {validated} valid alternatives")
                };
                res.add(self.composite(format!(
                    "{} must validate one and only one schema (oneOf). {extra}",
                    go_quote(path)
                )));
                if let Some(b) = best {
                    res.merge(b);
                }
            }
        }
        if !s.all_of.is_empty() {
            let mut validated = 0;
            for sub in &s.all_of {
                let r = self.validate(sub, data, path, old);
                if r.is_valid() {
                    validated += 1;
                }
                res.merge(r);
            }
            if validated != s.all_of.len() {
                let extra = if validated == 0 {
                    ". None validated"
                } else {
                    ""
                };
                res.add(self.composite(format!(
                    "{} must validate all the schemas (allOf){extra}",
                    go_quote(path)
                )));
            }
        }
        if let Some(not) = &s.not
            && self.validate(not, data, path, None).is_valid()
        {
            res.add(self.composite(format!(
                "{} must not validate the schema (not)",
                go_quote(path)
            )));
        }
    }

    fn check_string(&self, s: &Schema, data: &str, path: &str, res: &mut Res) {
        let len = data.chars().count() as i64;
        if let Some(max) = s.max_length
            && len > max
        {
            res.add(FieldError::too_long(
                self.err_path(path),
                Value::String(data.to_string()),
                max.max(0) as usize,
            ));
            return;
        }
        if let Some(min) = s.min_length
            && len < min
        {
            res.add(self.invalid(
                path,
                &Value::String(data.to_string()),
                format!("{path} in {IN} should be at least {min} chars long"),
            ));
            return;
        }
        if !s.pattern.is_empty() {
            let (matched, shown) = match &s.pattern_re {
                Some(Ok(re)) => (re.is_match(data), s.pattern.clone()),
                Some(Err(e)) => (false, format!("{}, but pattern is invalid: {e}", s.pattern)),
                None => (true, String::new()),
            };
            if !matched {
                res.add(self.invalid(
                    path,
                    &Value::String(data.to_string()),
                    format!("{path} in {IN} should match '{shown}'"),
                ));
            }
        }
    }

    fn check_format(&self, s: &Schema, data: &str, path: &str, res: &mut Res) {
        let Some(format) = s.validated_format() else {
            return;
        };
        if !formats::validates(format, data) {
            res.add(self.type_invalid(path, format, data));
        }
    }

    fn check_number(&self, s: &Schema, n: Num, data: &Value, path: &str, res: &mut Res) {
        let mut multiple = None;
        if let Some(factor) = s.multiple_of {
            multiple = match n {
                Num::Int(i) => {
                    let f = go_trunc(factor);
                    if f <= 0 {
                        Some(self.invalid(
                            path,
                            &Value::from(f),
                            format!("factor MultipleOf declared for {path} must be positive: {f}"),
                        ))
                    } else if i.wrapping_div(f).wrapping_mul(f) != i {
                        Some(self.invalid(
                            path,
                            data,
                            format!("{path} in {IN} should be a multiple of {f}"),
                        ))
                    } else {
                        None
                    }
                }
                Num::Float(x) => {
                    if factor <= 0.0 {
                        Some(value_error(
                            FieldErrorKind::Invalid,
                            &self.err_path(path),
                            &float_value(factor),
                            format!(
                                "factor MultipleOf declared for {path} must be positive: {}",
                                go_float(factor)
                            ),
                        ))
                    } else {
                        let mult = if factor < 1.0 {
                            1.0 / factor * x
                        } else {
                            x / factor
                        };
                        (!is_json_integer(mult)).then(|| {
                            self.invalid(
                                path,
                                data,
                                format!(
                                    "{path} in {IN} should be a multiple of {}",
                                    go_float(factor)
                                ),
                            )
                        })
                    }
                }
            };
        }
        let mut minimum = None;
        if let Some(min) = s.minimum {
            let excl = s.exclusive_minimum;
            let (fails, shown) = match n {
                Num::Int(i) => {
                    let m = go_trunc(min);
                    ((!excl && i < m) || (excl && i <= m), m.to_string())
                }
                Num::Float(x) => ((!excl && x < min) || (excl && x <= min), go_float(min)),
            };
            if fails {
                let op = if excl {
                    "greater than"
                } else {
                    "greater than or equal to"
                };
                minimum = Some(self.invalid(
                    path,
                    data,
                    format!("{path} in {IN} should be {op} {shown}"),
                ));
            }
        }
        let mut maximum = None;
        if let Some(max) = s.maximum {
            let excl = s.exclusive_maximum;
            let (fails, shown) = match n {
                Num::Int(i) => {
                    let m = go_trunc(max);
                    ((!excl && i > m) || (excl && i >= m), m.to_string())
                }
                Num::Float(x) => ((!excl && x > max) || (excl && x >= max), go_float(max)),
            };
            if fails {
                let op = if excl {
                    "less than"
                } else {
                    "less than or equal to"
                };
                maximum = Some(self.invalid(
                    path,
                    data,
                    format!("{path} in {IN} should be {op} {shown}"),
                ));
            }
        }
        for e in [multiple, minimum, maximum].into_iter().flatten() {
            res.add(e);
        }
    }

    fn check_slice(
        &self,
        s: &Schema,
        items: &[Value],
        path: &str,
        old: Option<&Value>,
        res: &mut Res,
    ) {
        if let Some(item_schema) = &s.items {
            let old_items = old.and_then(Value::as_array);
            for (i, v) in items.iter().enumerate() {
                let old_item = old_items.and_then(|o| correlate_item(s, o, v));
                let r = self.validate(item_schema, v, &format!("{path}[{i}]"), old_item);
                res.merge(r);
            }
        }
        let size = items.len() as i64;
        if let Some(min) = s.min_items
            && size < min
        {
            res.add(self.invalid(
                path,
                &Value::from(size),
                format!("{path} in {IN} should have at least {min} items"),
            ));
        }
        if let Some(max) = s.max_items
            && size > max
        {
            res.add(FieldError::new(
                FieldErrorKind::TooMany,
                self.err_path(path),
                Some(Value::from(size)),
                format!("must have at most {max} items"),
            ));
        }
        if s.unique_items {
            let dup = items
                .iter()
                .enumerate()
                .any(|(i, a)| items[..i].iter().any(|b| json_equal(a, b)));
            if dup {
                res.add(self.invalid(
                    path,
                    &Value::String(String::new()),
                    format!("{path} in {IN} shouldn't contain duplicates"),
                ));
            }
        }
    }

    fn check_enum(&self, s: &Schema, data: &Value, path: &str, res: &mut Res) {
        let Some(values) = &s.enum_values else {
            return;
        };
        if values.is_empty() {
            return;
        }
        if !data.is_null() && values.iter().any(|e| !e.is_null() && enum_matches(data, e)) {
            return;
        }
        let supported: Vec<String> = values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let quoted: Vec<String> = supported.iter().map(|v| go_quote(v)).collect();
        let detail = format!("supported values: {}", quoted.join(", "));
        res.add(value_error(
            FieldErrorKind::NotSupported,
            &self.err_path(path),
            data,
            detail,
        ));
    }

    fn check_object(
        &self,
        s: &Schema,
        m: &Map<String, Value>,
        path: &str,
        old: Option<&Value>,
        res: &mut Res,
    ) {
        let size = m.len() as i64;
        if let Some(min) = s.min_properties
            && size < min
        {
            res.add(self.invalid(
                path,
                &Value::from(size),
                format!("{path} in {IN} should have at least {min} properties"),
            ));
        }
        if let Some(max) = s.max_properties
            && size > max
        {
            res.add(FieldError::new(
                FieldErrorKind::TooMany,
                self.err_path(path),
                Some(Value::from(size)),
                format!("must have at most {max} items"),
            ));
        }
        let old_map = old.and_then(Value::as_object);
        let pattern_match = |k: &str| {
            s.pattern_properties
                .keys()
                .any(|p| regex::Regex::new(p).is_ok_and(|re| re.is_match(k)))
        };
        match &s.additional_properties {
            Some(ap) if !ap.allows() => {
                for k in m.keys() {
                    if !s.properties.contains_key(k) && !pattern_match(k) {
                        res.add(self.invalid(
                            path,
                            &Value::String(k.clone()),
                            format!("{path}.{k} in {IN} is a forbidden property"),
                        ));
                    }
                }
            }
            ap => {
                if let Some(ap_schema) = ap.as_ref().and_then(|a| a.schema()) {
                    for (k, v) in m {
                        if s.properties.contains_key(k) || pattern_match(k) {
                            continue;
                        }
                        let r = self.validate(
                            ap_schema,
                            v,
                            &format!("{path}.{k}"),
                            old_map.and_then(|o| o.get(k)),
                        );
                        res.merge(r);
                    }
                }
            }
        }
        for (name, prop) in &s.properties {
            if let Some(v) = m.get(name) {
                let child = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                let r = self.validate(prop, v, &child, old_map.and_then(|o| o.get(name)));
                res.merge(r);
            }
        }
        for k in &s.required {
            if !m.contains_key(k) {
                res.add(FieldError::required(
                    self.err_path(&format!("{path}.{k}")),
                    "",
                ));
            }
        }
        for (pat, ps) in &s.pattern_properties {
            let Ok(re) = regex::Regex::new(pat) else {
                continue;
            };
            for (k, v) in m {
                if !s.properties.contains_key(k) && re.is_match(k) {
                    let r = self.validate(
                        ps,
                        v,
                        &format!("{path}.{k}"),
                        old_map.and_then(|o| o.get(k)),
                    );
                    res.merge(r);
                }
            }
        }
    }
}

fn float_value(f: f64) -> Value {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// For ratcheting: the old element an array element corresponds to. Only lists of
/// `x-kubernetes-list-type: map` correlate (by their keys); others do not.
fn correlate_item<'a>(s: &Schema, old: &'a [Value], item: &Value) -> Option<&'a Value> {
    if s.x_list_type.as_deref() != Some("map") || s.x_list_map_keys.is_empty() {
        return None;
    }
    let key_of = |v: &Value| -> Option<Vec<Option<Value>>> {
        let m = v.as_object()?;
        Some(
            s.x_list_map_keys
                .iter()
                .map(|k| m.get(k).cloned())
                .collect(),
        )
    };
    let k = key_of(item)?;
    old.iter().find(|o| key_of(o).as_ref() == Some(&k))
}

// ---------------------------------------------------------------------------------------------
// x-kubernetes-list-type: set / map uniqueness.

/// `ValidateListSetsAndMaps` starting at an object.
pub(crate) fn list_sets_and_maps(path: &Path, s: &Schema, obj: &Value, out: &mut Vec<FieldError>) {
    let Value::Object(m) = obj else {
        return;
    };
    if let Some(ap) = s.additional_properties.as_ref().and_then(|a| a.schema()) {
        for (k, v) in m {
            list_value(&path.key(k), ap, v, out);
        }
    }
    for (k, v) in m {
        if let Some(sub) = s.properties.get(k) {
            list_value(&path.child(k), sub, v, out);
        }
    }
}

fn list_value(path: &Path, s: &Schema, v: &Value, out: &mut Vec<FieldError>) {
    match v {
        Value::Array(a) => list_array(path, s, a, out),
        Value::Object(_) => list_sets_and_maps(path, s, v, out),
        _ => {}
    }
}

fn list_array(path: &Path, s: &Schema, a: &[Value], out: &mut Vec<FieldError>) {
    match s.x_list_type.as_deref() {
        Some("set") => {
            for i in non_unique(a) {
                out.push(gofmt::duplicate(&path.index(i), &a[i]));
            }
        }
        Some("map") => list_map(path, s, a, out),
        _ => {}
    }
    if let Some(items) = &s.items {
        for (i, x) in a.iter().enumerate() {
            list_value(&path.index(i), items, x, out);
        }
    }
}

/// Indices of the second appearance of every non-unique element.
fn non_unique(a: &[Value]) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, x) in a.iter().enumerate() {
        let seen_before = a[..i].iter().filter(|y| json_equal(x, y)).count();
        if seen_before == 1 {
            out.push(i);
        }
    }
    out
}

fn list_map(path: &Path, s: &Schema, a: &[Value], out: &mut Vec<FieldError>) {
    for (i, x) in a.iter().enumerate() {
        if !x.is_null() && !x.is_object() {
            out.push(gofmt::invalid(
                &path.index(i),
                x,
                "must be an object for an array of list-type map",
            ));
            return;
        }
    }
    if a.len() <= 1 {
        return;
    }
    // The key of each element: the map of its key fields that are present (an element without
    // them, or a null element, has the empty key), shown as the duplicate value like upstream.
    let keys: Vec<Value> = a
        .iter()
        .map(|x| {
            let mut k = Map::new();
            if let Value::Object(m) = x {
                for f in &s.x_list_map_keys {
                    if let Some(v) = m.get(f) {
                        k.insert(f.clone(), v.clone());
                    }
                }
            }
            Value::Object(k)
        })
        .collect();
    for i in non_unique(&keys) {
        out.push(gofmt::duplicate(&path.index(i), &keys[i]));
    }
}

// ---------------------------------------------------------------------------------------------
// Embedded resources (x-kubernetes-embedded-resource): TypeMeta and ObjectMeta.

/// `objectmeta.Validate` with `isResourceRoot=false`: checks every embedded resource.
pub(crate) fn embedded_resources(path: &Path, x: &Value, s: &Schema, out: &mut Vec<FieldError>) {
    match x {
        Value::Object(m) => {
            if s.x_embedded_resource {
                embedded_resource(path, m, out);
            }
            for (k, v) in m {
                if let Some(p) = s.properties.get(k) {
                    embedded_resources(&path.child(k), v, p, out);
                } else if let Some(ap) = &s.additional_properties
                    && let Some(aps) = ap.schema()
                {
                    embedded_resources(&path.key(k), v, aps, out);
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = &s.items {
                for (i, v) in a.iter().enumerate() {
                    embedded_resources(&path.index(i), v, items, out);
                }
            }
        }
        _ => {}
    }
}

fn embedded_resource(path: &Path, m: &Map<String, Value>, out: &mut Vec<FieldError>) {
    if !m.contains_key("apiVersion") {
        out.push(gofmt::required(
            &path.child("apiVersion"),
            "must not be empty",
        ));
    }
    if !m.contains_key("kind") {
        out.push(gofmt::required(&path.child("kind"), "must not be empty"));
    }
    for (k, v) in m {
        match k.as_str() {
            "apiVersion" => match v {
                Value::String(s) if s.is_empty() => out.push(gofmt::invalid_str(
                    &path.child("apiVersion"),
                    s,
                    "must not be empty",
                )),
                Value::String(s) => {
                    if s.split('/').count() > 2 {
                        out.push(gofmt::invalid_str(
                            &path.child("apiVersion"),
                            s,
                            format!("unexpected GroupVersion string: {s}"),
                        ));
                    }
                }
                other => out.push(gofmt::invalid(
                    &path.child("apiVersion"),
                    other,
                    "must be a string",
                )),
            },
            "kind" => match v {
                Value::String(s) if s.is_empty() => out.push(gofmt::invalid_str(
                    &path.child("kind"),
                    s,
                    "must not be empty",
                )),
                Value::String(s) => {
                    let errs = names::dns1035_label(&s.to_lowercase());
                    if !errs.is_empty() {
                        out.push(gofmt::invalid_str(
                            &path.child("kind"),
                            s,
                            format!(
                                "may have mixed case, but should otherwise match: {}",
                                errs.join(",")
                            ),
                        ));
                    }
                }
                other => out.push(gofmt::invalid(
                    &path.child("kind"),
                    other,
                    "must be a string",
                )),
            },
            "metadata" => embedded_metadata(&path.child("metadata"), v, out),
            _ => {}
        }
    }
}

fn embedded_metadata(path: &Path, v: &Value, out: &mut Vec<FieldError>) {
    let Value::Object(m) = v else {
        if !v.is_null() {
            out.push(gofmt::invalid(
                path,
                v,
                format!(
                    "json: cannot unmarshal {} into Go value of type v1.ObjectMeta",
                    go_json_kind(v)
                ),
            ));
        }
        return;
    };
    let str_field = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default();
    let name = str_field("name");
    let generate_name = str_field("generateName");
    let namespace = str_field("namespace");
    if !generate_name.is_empty() {
        for msg in names::path_segment_name(generate_name, true) {
            out.push(gofmt::invalid_str(
                &path.child("generateName"),
                generate_name,
                msg,
            ));
        }
    }
    let name = if name.is_empty() { "fakename" } else { name };
    for msg in names::path_segment_name(name, false) {
        out.push(gofmt::invalid_str(&path.child("name"), name, msg));
    }
    if !namespace.is_empty() {
        for msg in names::dns1123_label(namespace) {
            out.push(gofmt::invalid_str(&path.child("namespace"), namespace, msg));
        }
    }
}

fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        _ => "object",
    }
}
