//! CustomResourceDefinitions as Kubernetes v1.33's apiextensions-apiserver handles them, without
//! I/O. Objects are `serde_json::Value`s in their `apiextensions.k8s.io/v1` JSON form; errors
//! are [`FieldError`]s whose text matches Kubernetes' (`spec.replicas: Required value`).
//!
//! # CRD objects
//! - [`validate_crd`]`(crd) -> Vec<FieldError>`: create validation (`metadata.name` must be
//!   `<plural>.<group>`, group, scope, names, versions, storage version, schemas required and
//!   structural, defaults valid and pruned, list-type/map-type rules, subresources, printer
//!   columns, conversion, stored versions, API approval of `*.k8s.io` groups).
//! - [`validate_crd_update`]`(new, old) -> Vec<FieldError>`: the same on update, relaxed where
//!   the old object already broke a rule, plus immutability of `spec.group`,
//!   `spec.names.plural`, and (once Established) `spec.scope` and `spec.names.kind`.
//! - [`default_crd`]`(&mut crd)`: v1 defaulting (singular, listKind, conversion strategy,
//!   webhook port, storedVersions).
//! - [`prepare_crd_for_create`]`(&mut crd)` / [`prepare_crd_for_update`]`(&mut new, &old)`:
//!   status and generation handling of the CRD registry strategy.
//!
//! Both validators apply defaulting and the strategy's preparation to a copy first, as the
//! server does before validating; callers persist the result of calling those themselves.
//! Generic ObjectMeta rules (name syntax, labels, annotations, resourceVersion) are the
//! caller's object-meta validation.
//!
//! # Discovery
//! - [`crd_resource_infos`]`(crd) -> Vec<ResourceInfo>`: one entry per served version.
//!
//! # Custom resources
//! - [`CompiledSchema::new`]`(&openAPIV3Schema) -> Result<CompiledSchema, String>`, then
//!   - [`CompiledSchema::prune`]`(&mut obj) -> Vec<String>`: drop unknown fields, return their
//!     paths (`spec.foo`, `spec.ports[0].bar`, `metadata.foo`) for `unknown field "…"`
//!     warnings/errors;
//!   - [`CompiledSchema::apply_defaults`]`(&mut obj)`;
//!   - [`CompiledSchema::validate`]`(&obj) -> Vec<FieldError>` (create) and
//!     [`CompiledSchema::validate_update`]`(&new, &old)` (with validation ratcheting).
//!
//!   The server's order on writes is prune, default, validate.
//! - [`scale_paths`]`(crd, version) -> Option<ScalePaths>` with [`ScalePaths::validate`],
//!   [`ScalePaths::to_scale`], [`ScalePaths::set_spec_replicas`]; [`get_path`] / [`set_path`]
//!   read and write `.spec.replicas`-style paths.
//! - [`printer_columns`]`(crd, version) -> Vec<PrinterColumn>` (the version's columns, or
//!   `Age`), [`PrinterColumn::name_column`], [`PrinterColumn::cell`],
//!   [`PrinterColumn::table_column_definition`], [`human_duration`], and
//!   [`eval_json_path`]`(obj, path) -> Option<Value>` / [`eval_json_path_all`] for the JSONPath
//!   forms CRDs use (`.spec.replicas`, `.status.conditions[?(@.type=="Ready")].status`).

mod compiled;
mod crd;
mod discovery;
mod formats;
mod gofmt;
mod names;
mod printer;
mod prune;
mod scale;
mod schema;
mod structural;
mod validate;

pub use berth_apimachinery::resources::ResourceInfo;
pub use berth_apimachinery::status::FieldError;
pub use compiled::CompiledSchema;
pub use crd::{
    default_crd, prepare_crd_for_create, prepare_crd_for_update, validate_crd, validate_crd_update,
};
pub use discovery::crd_resource_infos;
pub use printer::{
    PrinterColumn, eval_json_path, eval_json_path_all, human_duration, printer_columns,
};
pub use scale::{ScalePaths, get_path, scale_paths, set_path};

#[cfg(test)]
mod tests;
