//! Kubernetes API machinery with no I/O: the parts of `k8s.io/apimachinery` and the per-kind
//! registry logic of `k8s.io/kubernetes/pkg/registry` that Berth's API server needs.
//!
//! - [`status`]: API errors as `Status` objects and field errors as Kubernetes formats them.
//! - [`resources`]: the table of built-in resources (discovery names, verbs, short names, ...).
//! - [`selectors`]: label and field selectors (parsing and matching).
//! - [`names`]: name, label and annotation syntax validation.
//! - [`builtin`]: decoding of built-in kinds through k8s-openapi types (unknown fields, pruning).
//! - [`defaults`]: field defaults of built-in kinds (`SetDefaults_*`).
//! - [`validation`]: per-kind validation of built-in kinds on create and update.
//! - [`strategic`]: strategic merge patch for built-in kinds.
//! - [`apply`]: server-side apply: merging, field ownership (`managedFields`), conflicts.
//! - [`quantity`]: resource quantities (parsing, comparison, canonical form).
//! - [`quota`]: resource quota arithmetic: what objects use, sums, scopes.
//! - [`protobuf`]: decoding of `application/vnd.kubernetes.protobuf` bodies into JSON.

pub mod apply;
pub mod builtin;
pub mod defaults;
pub mod names;
pub mod protobuf;
pub mod quota;
pub mod resources;
pub mod selectors;
pub mod status;
pub mod strategic;
pub mod validation;

pub use validation::quantity;
