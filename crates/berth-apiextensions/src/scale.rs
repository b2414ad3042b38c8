//! The scale subresource of custom resources: where replicas live (`.spec.replicas`-style
//! paths), and reading/writing them.

use crate::gofmt::{self, Path};
use berth_apimachinery::status::FieldError;
use serde_json::{Map, Value, json};

/// `spec.versions[*].subresources.scale` of a CRD version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePaths {
    /// `.spec.replicas`.
    pub spec_replicas_path: String,
    /// `.status.replicas`.
    pub status_replicas_path: String,
    /// `.status.selector`, when the CRD declares one.
    pub label_selector_path: Option<String>,
}

/// The scale paths of `version` of the CRD, if that version has the scale subresource.
pub fn scale_paths(crd: &Value, version: &str) -> Option<ScalePaths> {
    let v = crd
        .pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some(version))?;
    let scale = v.pointer("/subresources/scale").filter(|s| !s.is_null())?;
    let s = |k: &str| {
        scale
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let selector = s("labelSelectorPath");
    Some(ScalePaths {
        spec_replicas_path: s("specReplicasPath"),
        status_replicas_path: s("statusReplicasPath"),
        label_selector_path: (!selector.is_empty()).then_some(selector),
    })
}

fn fields(path: &str) -> Vec<&str> {
    path.strip_prefix('.').unwrap_or(path).split('.').collect()
}

fn json_path(fields: &[&str]) -> String {
    format!(".{}", fields.join("."))
}

/// Go's `%T` of an unstructured value.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if gofmt::is_go_int(n) => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `unstructured.NestedFieldNoCopy`: the value at a dotted path (`.spec.replicas`), `Ok(None)`
/// when absent, an error when an intermediate value is not an object.
pub fn get_path<'a>(obj: &'a Value, path: &str) -> Result<Option<&'a Value>, String> {
    let fs = fields(path);
    let mut cur = obj;
    for (i, f) in fs.iter().enumerate() {
        match cur {
            Value::Null => return Ok(None),
            Value::Object(m) => match m.get(*f) {
                Some(v) => cur = v,
                None => return Ok(None),
            },
            other => {
                return Err(format!(
                    "{} accessor error: {} is of the type {}, expected map[string]interface{{}}",
                    json_path(&fs[..=i]),
                    gofmt::go_plain(other),
                    go_type(other)
                ));
            }
        }
    }
    Ok(Some(cur))
}

/// `unstructured.SetNestedField`: sets the value at a dotted path, creating missing objects.
pub fn set_path(obj: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let fs = fields(path);
    let Some((last, parents)) = fs.split_last() else {
        return Err("empty path".into());
    };
    let mut cur = obj;
    for (i, f) in parents.iter().enumerate() {
        let Value::Object(m) = cur else {
            return Err(format!(
                "value cannot be set because {} is not a map[string]interface{{}}",
                json_path(&fs[..i])
            ));
        };
        let next = m
            .entry(f.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            return Err(format!(
                "value cannot be set because {} is not a map[string]interface{{}}",
                json_path(&fs[..=i])
            ));
        }
        cur = next;
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.to_string(), value);
            Ok(())
        }
        _ => Err(format!(
            "value cannot be set because {} is not a map[string]interface{{}}",
            json_path(parents)
        )),
    }
}

/// `unstructured.NestedInt64`.
fn nested_int64(obj: &Value, path: &str) -> Result<Option<i64>, String> {
    match get_path(obj, path)? {
        None => Ok(None),
        Some(v) => match v.as_i64() {
            Some(i) if v.as_number().is_some_and(gofmt::is_go_int) => Ok(Some(i)),
            _ => Err(format!(
                "{} accessor error: {} is of the type {}, expected int64",
                json_path(&fields(path)),
                gofmt::go_plain(v),
                go_type(v)
            )),
        },
    }
}

/// `unstructured.NestedString`.
fn nested_string(obj: &Value, path: &str) -> Result<Option<String>, String> {
    match get_path(obj, path)? {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(format!(
            "{} accessor error: {} is of the type {}, expected string",
            json_path(&fields(path)),
            gofmt::go_plain(v),
            go_type(v)
        )),
    }
}

fn replicas_errors(obj: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let p = Path::new(path);
    match nested_int64(obj, path) {
        Err(e) => errs.push(gofmt::invalid(&p, &json!(0), e)),
        Ok(Some(n)) if n < 0 => errs.push(gofmt::invalid(
            &p,
            &json!(n),
            "should be a non-negative integer",
        )),
        Ok(Some(n)) if n > i32::MAX as i64 => errs.push(gofmt::invalid(
            &p,
            &json!(n),
            format!("should be less than or equal to {}", i32::MAX),
        )),
        _ => {}
    }
}

impl ScalePaths {
    /// `ValidateScaleSpec`: the spec replicas, when set, must be an integer in [0, 2^31-1].
    /// Errors are reported on the JSON path itself (`.spec.replicas: Invalid value: ...`).
    pub fn validate_spec(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        replicas_errors(obj, &self.spec_replicas_path, &mut errs);
        errs
    }

    /// `ValidateScaleStatus`: the status replicas likewise, and the selector must be a string.
    pub fn validate_status(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = Vec::new();
        replicas_errors(obj, &self.status_replicas_path, &mut errs);
        if let Some(sel) = &self.label_selector_path
            && let Err(e) = nested_string(obj, sel)
        {
            errs.push(gofmt::invalid(&Path::new(sel), &json!(""), e));
        }
        errs
    }

    /// Both checks, as Kubernetes runs them on create and update of a custom resource.
    pub fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let mut errs = self.validate_spec(obj);
        errs.extend(self.validate_status(obj));
        errs
    }

    /// The replicas at the spec path (0 when unset).
    pub fn spec_replicas(&self, obj: &Value) -> Result<i64, String> {
        Ok(nested_int64(obj, &self.spec_replicas_path)?.unwrap_or(0))
    }

    /// The replicas at the status path (0 when unset).
    pub fn status_replicas(&self, obj: &Value) -> Result<i64, String> {
        Ok(nested_int64(obj, &self.status_replicas_path)?.unwrap_or(0))
    }

    /// The `autoscaling/v1` `Scale` of a custom resource (`scaleFromCustomResource`).
    pub fn to_scale(&self, obj: &Value) -> Result<Value, String> {
        let spec = self.spec_replicas(obj)?;
        let status = self.status_replicas(obj)?;
        let selector = match &self.label_selector_path {
            Some(p) => nested_string(obj, p)?.unwrap_or_default(),
            None => String::new(),
        };
        let mut meta = Map::new();
        for k in ["name", "namespace", "uid", "resourceVersion"] {
            if let Some(v) = obj
                .pointer(&format!("/metadata/{k}"))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                meta.insert(k.into(), json!(v));
            }
        }
        meta.insert(
            "creationTimestamp".into(),
            obj.pointer("/metadata/creationTimestamp")
                .cloned()
                .unwrap_or(Value::Null),
        );
        let mut spec_obj = Map::new();
        if spec != 0 {
            spec_obj.insert("replicas".into(), json!(spec as i32));
        }
        let mut status_obj = Map::new();
        status_obj.insert("replicas".into(), json!(status as i32));
        if !selector.is_empty() {
            status_obj.insert("selector".into(), json!(selector));
        }
        Ok(json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": Value::Object(meta),
            "spec": Value::Object(spec_obj),
            "status": Value::Object(status_obj),
        }))
    }

    /// Writes `replicas` to the spec path, creating missing parents, as a scale update does.
    pub fn set_spec_replicas(&self, obj: &mut Value, replicas: i64) -> Result<(), String> {
        set_path(obj, &self.spec_replicas_path, json!(replicas))
    }
}
