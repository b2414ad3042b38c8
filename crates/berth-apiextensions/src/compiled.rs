//! [`CompiledSchema`]: one version's `openAPIV3Schema`, ready to validate, prune and default
//! custom resources.

use crate::gofmt::Path;
use crate::prune;
use crate::schema::Schema;
use crate::validate::{self, Validator};
use berth_apimachinery::status::FieldError;
use serde_json::Value;

/// A parsed structural schema of one CRD version.
#[derive(Debug, Clone)]
pub struct CompiledSchema {
    root: Schema,
    raw: Value,
}

impl CompiledSchema {
    /// Parses `spec.versions[*].schema.openAPIV3Schema`. Fails only when the schema is not a
    /// schema at all (wrong JSON types for keywords); structurality is checked by
    /// [`crate::validate_crd`].
    pub fn new(schema: &Value) -> Result<Self, String> {
        Ok(CompiledSchema {
            root: Schema::parse(schema)?,
            raw: schema.clone(),
        })
    }

    /// The schema as given.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Validates a whole custom resource on create: the OpenAPI schema, embedded resources'
    /// `apiVersion`/`kind`/`metadata`, and the uniqueness of `x-kubernetes-list-type` `set` and
    /// `map` lists. Field paths and messages are Kubernetes':
    /// `spec.replicas: Invalid value: "x": spec.replicas in body must be of type integer: "x"`.
    ///
    /// The object should have been pruned and defaulted first, as the server does.
    pub fn validate(&self, obj: &Value) -> Vec<FieldError> {
        let v = Validator { base: None };
        let mut errs = v.validate(&self.root, obj, "", None).errs;
        validate::embedded_resources(&Path::default(), obj, &self.root, &mut errs);
        validate::list_sets_and_maps(&Path::default(), &self.root, obj, &mut errs);
        errs
    }

    /// Validates an update with Kubernetes' validation ratcheting: schema errors in values that
    /// are unchanged from `old` (compared where old and new correlate: object fields by name,
    /// items of `x-kubernetes-list-type: map` lists by key) are not reported, and list-type
    /// uniqueness is only enforced when the old object satisfied it.
    pub fn validate_update(&self, new: &Value, old: &Value) -> Vec<FieldError> {
        let v = Validator { base: None };
        let mut errs = v.validate(&self.root, new, "", Some(old)).errs;
        validate::embedded_resources(&Path::default(), new, &self.root, &mut errs);
        let mut old_list_errs = Vec::new();
        validate::list_sets_and_maps(&Path::default(), &self.root, old, &mut old_list_errs);
        if old_list_errs.is_empty() {
            validate::list_sets_and_maps(&Path::default(), &self.root, new, &mut errs);
        }
        errs
    }

    /// Removes the fields the schema does not specify, except below
    /// `x-kubernetes-preserve-unknown-fields: true`, and returns their paths as Kubernetes
    /// reports them (`unknown field "spec.foo"` with fieldValidation Warn/Strict), in
    /// upstream's order: unknown fields of the root `metadata` (`metadata.foo`), then the
    /// pruned fields, sorted (`spec.foo`, `spec.ports[0].bar`), then unknown fields in the
    /// metadata of embedded resources, sorted (`spec.template.metadata.foo`).
    ///
    /// As the server does on decoding, this also:
    /// - keeps `apiVersion`, `kind` and `metadata` at the root and in embedded resources
    ///   (`x-kubernetes-embedded-resource`), but drops the fields `ObjectMeta` does not know
    ///   inside their `metadata`;
    /// - removes `null` values of fields that are neither `nullable` nor defaulted (not
    ///   reported).
    pub fn prune(&self, obj: &mut Value) -> Vec<String> {
        let mut paths = Vec::new();
        if let Value::Object(m) = obj
            && let Some(Value::Object(meta)) = m.get_mut("metadata")
        {
            paths.extend(prune::prune_object_meta(meta, "metadata"));
        }
        paths.extend(prune::prune_resource(obj, &self.root));
        prune::prune_non_nullable_nulls(obj, Some(&self.root));
        let mut embedded_paths = Vec::new();
        prune::coerce_embedded("", obj, &self.root, &mut embedded_paths);
        embedded_paths.sort();
        paths.extend(embedded_paths);
        paths
    }

    /// Applies the schema's `default`s: missing fields (and `null`s of non-nullable fields) get
    /// their default, recursively, including in array items and `additionalProperties` values.
    pub fn apply_defaults(&self, obj: &mut Value) {
        prune::apply_defaults(obj, Some(&self.root));
    }
}
