//! The `JSONSchemaProps` of `apiextensions.k8s.io/v1`, parsed from JSON into a tree the
//! validator, pruner and defaulter walk.

use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;

/// `additionalProperties`: a boolean or a schema.
#[derive(Debug, Clone)]
pub(crate) enum AdditionalProperties {
    Bool(bool),
    Schema(Box<Schema>),
}

impl AdditionalProperties {
    /// The schema applying to additional properties, if one is given.
    pub(crate) fn schema(&self) -> Option<&Schema> {
        match self {
            AdditionalProperties::Schema(s) => Some(s),
            AdditionalProperties::Bool(_) => None,
        }
    }

    /// `Allows` of Go's `JSONSchemaPropsOrBool`.
    pub(crate) fn allows(&self) -> bool {
        match self {
            AdditionalProperties::Bool(b) => *b,
            AdditionalProperties::Schema(_) => true,
        }
    }
}

/// One node of an OpenAPI v3 schema as CRDs specify it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Schema {
    pub id: String,
    pub schema_uri: String,
    pub reference: Option<String>,
    pub description: String,
    pub type_: String,
    pub format: String,
    pub title: String,
    pub default: Option<Value>,
    pub maximum: Option<f64>,
    pub exclusive_maximum: bool,
    pub minimum: Option<f64>,
    pub exclusive_minimum: bool,
    pub max_length: Option<i64>,
    pub min_length: Option<i64>,
    pub pattern: String,
    /// `pattern` compiled; `Err` holds the compile error.
    pub pattern_re: Option<Result<Regex, String>>,
    pub max_items: Option<i64>,
    pub min_items: Option<i64>,
    pub unique_items: bool,
    pub multiple_of: Option<f64>,
    pub enum_values: Option<Vec<Value>>,
    pub max_properties: Option<i64>,
    pub min_properties: Option<i64>,
    pub required: Vec<String>,
    pub items: Option<Box<Schema>>,
    /// `items` given as an array of schemas (not supported by CRDs).
    pub items_array: Option<Vec<Schema>>,
    pub all_of: Vec<Schema>,
    pub one_of: Vec<Schema>,
    pub any_of: Vec<Schema>,
    pub not: Option<Box<Schema>>,
    pub properties: BTreeMap<String, Schema>,
    pub additional_properties: Option<AdditionalProperties>,
    pub pattern_properties: BTreeMap<String, Schema>,
    pub has_dependencies: bool,
    pub additional_items: Option<AdditionalProperties>,
    pub definitions: BTreeMap<String, Schema>,
    pub example: Option<Value>,
    pub nullable: bool,
    pub x_preserve_unknown_fields: Option<bool>,
    pub x_embedded_resource: bool,
    pub x_int_or_string: bool,
    pub x_list_map_keys: Vec<String>,
    pub x_list_type: Option<String>,
    pub x_map_type: Option<String>,
    pub x_validations: Vec<Value>,
}

/// Formats the apiextensions-apiserver validates (`supportedVersionedFormats`, with dashes
/// removed as the format registry normalizes names). Others are ignored.
const SUPPORTED_FORMATS: &[&str] = &[
    "bsonobjectid",
    "uri",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "cidr",
    "mac",
    "uuid",
    "uuid3",
    "uuid4",
    "uuid5",
    "isbn",
    "isbn10",
    "isbn13",
    "creditcard",
    "ssn",
    "hexcolor",
    "rgbcolor",
    "byte",
    "password",
    "date",
    "duration",
    "datetime",
];

impl Schema {
    /// Parses a schema node. Errors name the JSON path of the offending keyword.
    pub(crate) fn parse(v: &Value) -> Result<Schema, String> {
        parse_node(v, "")
    }

    /// The type list kube-openapi validates against: `x-kubernetes-int-or-string` means
    /// `[integer, string]`.
    pub(crate) fn types(&self) -> Vec<&str> {
        if self.x_int_or_string {
            vec!["integer", "string"]
        } else if self.type_.is_empty() {
            vec![]
        } else {
            vec![self.type_.as_str()]
        }
    }

    /// The format as validated by the server: unsupported formats are treated as absent.
    pub(crate) fn validated_format(&self) -> Option<&str> {
        if self.format.is_empty() {
            return None;
        }
        let normalized = self.format.replace('-', "");
        SUPPORTED_FORMATS
            .contains(&normalized.as_str())
            .then_some(self.format.as_str())
    }

    pub(crate) fn preserve_unknown_fields(&self) -> bool {
        self.x_preserve_unknown_fields == Some(true)
    }

    /// The schema of a field of an object: its property, or `additionalProperties`.
    pub(crate) fn field_schema(&self, key: &str) -> Option<&Schema> {
        if let Some(p) = self.properties.get(key) {
            return Some(p);
        }
        self.additional_properties.as_ref().and_then(|a| a.schema())
    }
}

fn parse_node(v: &Value, path: &str) -> Result<Schema, String> {
    let Value::Object(m) = v else {
        return Err(format!(
            "{}: expected a schema object, got {}",
            display_path(path),
            kind_name(v)
        ));
    };
    let mut s = Schema::default();
    for (k, val) in m {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match k.as_str() {
            "id" => s.id = string(val, &p)?,
            "$schema" => s.schema_uri = string(val, &p)?,
            "$ref" => s.reference = opt_string(val, &p)?,
            "description" => s.description = string(val, &p)?,
            "type" => s.type_ = string(val, &p)?,
            "format" => s.format = string(val, &p)?,
            "title" => s.title = string(val, &p)?,
            "default" => s.default = (!val.is_null()).then(|| val.clone()),
            "example" => s.example = (!val.is_null()).then(|| val.clone()),
            "maximum" => s.maximum = float(val, &p)?,
            "exclusiveMaximum" => s.exclusive_maximum = boolean(val, &p)?,
            "minimum" => s.minimum = float(val, &p)?,
            "exclusiveMinimum" => s.exclusive_minimum = boolean(val, &p)?,
            "maxLength" => s.max_length = int(val, &p)?,
            "minLength" => s.min_length = int(val, &p)?,
            "pattern" => s.pattern = string(val, &p)?,
            "maxItems" => s.max_items = int(val, &p)?,
            "minItems" => s.min_items = int(val, &p)?,
            "uniqueItems" => s.unique_items = boolean(val, &p)?,
            "multipleOf" => s.multiple_of = float(val, &p)?,
            "enum" => {
                s.enum_values = match val {
                    Value::Null => None,
                    Value::Array(a) => Some(a.clone()),
                    other => return Err(type_err(&p, "array", other)),
                }
            }
            "maxProperties" => s.max_properties = int(val, &p)?,
            "minProperties" => s.min_properties = int(val, &p)?,
            "required" => s.required = strings(val, &p)?,
            "items" => match val {
                Value::Null => {}
                Value::Array(a) => {
                    let mut out = Vec::new();
                    for (i, x) in a.iter().enumerate() {
                        out.push(parse_node(x, &format!("{p}[{i}]"))?);
                    }
                    s.items_array = Some(out);
                }
                other => s.items = Some(Box::new(parse_node(other, &p)?)),
            },
            "allOf" => s.all_of = schema_list(val, &p)?,
            "oneOf" => s.one_of = schema_list(val, &p)?,
            "anyOf" => s.any_of = schema_list(val, &p)?,
            "not" if !val.is_null() => {
                s.not = Some(Box::new(parse_node(val, &p)?));
            }
            "properties" => s.properties = schema_map(val, &p)?,
            "patternProperties" => s.pattern_properties = schema_map(val, &p)?,
            "definitions" => s.definitions = schema_map(val, &p)?,
            "additionalProperties" => s.additional_properties = schema_or_bool(val, &p)?,
            "additionalItems" => s.additional_items = schema_or_bool(val, &p)?,
            "dependencies" => s.has_dependencies = !val.is_null(),
            "nullable" => s.nullable = boolean(val, &p)?,
            "x-kubernetes-preserve-unknown-fields" => {
                s.x_preserve_unknown_fields = match val {
                    Value::Null => None,
                    Value::Bool(b) => Some(*b),
                    other => return Err(type_err(&p, "boolean", other)),
                }
            }
            "x-kubernetes-embedded-resource" => s.x_embedded_resource = boolean(val, &p)?,
            "x-kubernetes-int-or-string" => s.x_int_or_string = boolean(val, &p)?,
            "x-kubernetes-list-map-keys" => s.x_list_map_keys = strings(val, &p)?,
            "x-kubernetes-list-type" => s.x_list_type = opt_string(val, &p)?,
            "x-kubernetes-map-type" => s.x_map_type = opt_string(val, &p)?,
            "x-kubernetes-validations" => {
                s.x_validations = match val {
                    Value::Null => Vec::new(),
                    Value::Array(a) => a.clone(),
                    other => return Err(type_err(&p, "array", other)),
                }
            }
            // Unknown keywords are dropped by the API server when decoding the CRD.
            _ => {}
        }
    }
    if !s.pattern.is_empty() {
        s.pattern_re = Some(Regex::new(&s.pattern).map_err(|e| e.to_string()));
    }
    Ok(s)
}

fn display_path(p: &str) -> &str {
    if p.is_empty() { "<root>" } else { p }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_err(p: &str, want: &str, got: &Value) -> String {
    format!(
        "{}: expected {want}, got {}",
        display_path(p),
        kind_name(got)
    )
}

fn string(v: &Value, p: &str) -> Result<String, String> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        other => Err(type_err(p, "string", other)),
    }
}

fn opt_string(v: &Value, p: &str) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(type_err(p, "string", other)),
    }
}

fn boolean(v: &Value, p: &str) -> Result<bool, String> {
    match v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        other => Err(type_err(p, "boolean", other)),
    }
}

fn float(v: &Value, p: &str) -> Result<Option<f64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        other => Err(type_err(p, "number", other)),
    }
}

fn int(v: &Value, p: &str) -> Result<Option<i64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ok(Some(i)),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Some(f as i64)),
                _ => Err(format!("{}: expected an integer", display_path(p))),
            },
        },
        other => Err(type_err(p, "integer", other)),
    }
}

fn strings(v: &Value, p: &str) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::String(s) => Ok(s.clone()),
                other => Err(type_err(&format!("{p}[{i}]"), "string", other)),
            })
            .collect(),
        other => Err(type_err(p, "array", other)),
    }
}

fn schema_list(v: &Value, p: &str) -> Result<Vec<Schema>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| parse_node(x, &format!("{p}[{i}]")))
            .collect(),
        other => Err(type_err(p, "array", other)),
    }
}

fn schema_map(v: &Value, p: &str) -> Result<BTreeMap<String, Schema>, String> {
    match v {
        Value::Null => Ok(BTreeMap::new()),
        Value::Object(m) => {
            let mut out = BTreeMap::new();
            for (k, x) in m {
                out.insert(k.clone(), parse_node(x, &format!("{p}.{k}"))?);
            }
            Ok(out)
        }
        other => Err(type_err(p, "object", other)),
    }
}

fn schema_or_bool(v: &Value, p: &str) -> Result<Option<AdditionalProperties>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(AdditionalProperties::Bool(*b))),
        Value::Object(_) => Ok(Some(AdditionalProperties::Schema(Box::new(parse_node(
            v, p,
        )?)))),
        other => Err(type_err(p, "boolean or object", other)),
    }
}

/// The JSON keys of `JSONSchemaProps` in the order of the Go struct's fields, with the Go field
/// name (used by the root-schema check of CRDs with a status subresource).
pub(crate) const GO_FIELDS: &[(&str, &str)] = &[
    ("id", "ID"),
    ("$schema", "Schema"),
    ("$ref", "Ref"),
    ("description", "Description"),
    ("type", "Type"),
    ("format", "Format"),
    ("title", "Title"),
    ("default", "Default"),
    ("maximum", "Maximum"),
    ("exclusiveMaximum", "ExclusiveMaximum"),
    ("minimum", "Minimum"),
    ("exclusiveMinimum", "ExclusiveMinimum"),
    ("maxLength", "MaxLength"),
    ("minLength", "MinLength"),
    ("pattern", "Pattern"),
    ("maxItems", "MaxItems"),
    ("minItems", "MinItems"),
    ("uniqueItems", "UniqueItems"),
    ("multipleOf", "MultipleOf"),
    ("enum", "Enum"),
    ("maxProperties", "MaxProperties"),
    ("minProperties", "MinProperties"),
    ("required", "Required"),
    ("items", "Items"),
    ("allOf", "AllOf"),
    ("oneOf", "OneOf"),
    ("anyOf", "AnyOf"),
    ("not", "Not"),
    ("properties", "Properties"),
    ("additionalProperties", "AdditionalProperties"),
    ("patternProperties", "PatternProperties"),
    ("dependencies", "Dependencies"),
    ("additionalItems", "AdditionalItems"),
    ("definitions", "Definitions"),
    ("externalDocs", "ExternalDocs"),
    ("example", "Example"),
    ("nullable", "Nullable"),
    (
        "x-kubernetes-preserve-unknown-fields",
        "XPreserveUnknownFields",
    ),
    ("x-kubernetes-embedded-resource", "XEmbeddedResource"),
    ("x-kubernetes-int-or-string", "XIntOrString"),
    ("x-kubernetes-list-map-keys", "XListMapKeys"),
    ("x-kubernetes-list-type", "XListType"),
    ("x-kubernetes-map-type", "XMapType"),
    ("x-kubernetes-validations", "XValidations"),
];

/// Whether a keyword's JSON value decodes to the Go zero value of its field.
pub(crate) fn is_go_zero(key: &str, v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b && key != "x-kubernetes-preserve-unknown-fields",
        Value::String(s) => s.is_empty(),
        Value::Number(n) => {
            // Pointer fields (maximum, maxLength, ...) are non-zero once set.
            let pointer = matches!(
                key,
                "maximum"
                    | "minimum"
                    | "maxLength"
                    | "minLength"
                    | "maxItems"
                    | "minItems"
                    | "multipleOf"
                    | "maxProperties"
                    | "minProperties"
            );
            !pointer && n.as_f64() == Some(0.0)
        }
        // Decoded slices and maps are non-nil, hence not zero values.
        Value::Array(_) | Value::Object(_) => false,
    }
}
