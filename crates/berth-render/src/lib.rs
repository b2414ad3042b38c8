//! Renders App and CronApp specs into Kubernetes objects.
//!
//! Pure functions, no I/O: `berth render` runs them offline (like `helm template`) and the
//! operator runs them before each server-side apply. Output is deterministic (same input, the
//! same JSON byte for byte): maps are `BTreeMap`s and objects are built from k8s-openapi types,
//! whose fields serialize in a fixed order.
//!
//! - [`render_app`]: ConfigMap (config files), Service, Deployment, PodDisruptionBudget,
//!   HorizontalPodAutoscaler, Ingress, in apply order.
//! - [`render_cron`]: ConfigMap (config files), CronJob.
//! - [`to_yaml`]: the objects as a multi-document YAML stream.
//!
//! Every rendered object is checked with the API server's own defaulting and validation
//! (`berth-apimachinery`) before it is returned, so a spec the cluster would refuse fails here
//! with Kubernetes' message instead of half-way through an apply.

mod app;
mod container;
mod cron;
mod files;
mod labels;
mod probes;

use berth_apimachinery::status::FieldError;
use serde_json::Value;

pub use app::{APP_CONTAINER, render_app};
pub use cron::{JOB_CONTAINER, render_cron};
pub use files::{FILES_HASH_ANNOTATION, config_file_key};

/// Where the objects go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderContext {
    /// Namespace of every object.
    pub namespace: String,
    /// Name of the cluster, the `cluster` label of every object and pod.
    pub cluster: String,
}

impl Default for RenderContext {
    fn default() -> Self {
        RenderContext {
            namespace: "default".to_string(),
            cluster: "berth".to_string(),
        }
    }
}

/// Why a spec could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    #[error(transparent)]
    UnknownEnvironment(#[from] berth_spec::UnknownEnvironment),
    /// The runtime name is not one Berth knows (the message lists the known ones).
    #[error("{0}")]
    UnknownRuntime(String),
    /// Neither an image nor a runtime with an entrypoint (or a command) says what to run.
    #[error("nothing to run: {0}")]
    NothingToRun(String),
    #[error("invalid name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("invalid value {value:?} for label {key}: {reason}")]
    InvalidLabel {
        key: String,
        value: String,
        reason: String,
    },
    #[error("invalid quantity {value:?} for {field}: {reason}")]
    InvalidQuantity {
        field: String,
        value: String,
        reason: String,
    },
    /// A field that takes a number or a percentage (`1`, `25%`) holds something else.
    #[error(
        "invalid value {value:?} for {field}: must be a non-negative integer or a percentage like \"25%\""
    )]
    InvalidIntOrPercent { field: String, value: String },
    /// A number outside its allowed range, or two settings that contradict each other.
    #[error("invalid {field}: {reason}")]
    InvalidValue { field: String, reason: String },
    #[error("invalid config file {path:?}: {reason}")]
    InvalidConfigFile { path: String, reason: String },
    /// A rendered object that the API server would refuse (its validation messages).
    #[error("the rendered {kind} {name:?} would be refused: {}", .errors.join("; "))]
    InvalidObject {
        kind: String,
        name: String,
        errors: Vec<String>,
    },
    #[error("cannot serialize the rendered objects: {0}")]
    Serialize(String),
}

impl RenderError {
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> RenderError {
        RenderError::InvalidValue {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

/// The objects as a multi-document YAML stream (documents separated by `---`), for
/// `berth render`.
pub fn to_yaml(objects: &[Value]) -> Result<String, RenderError> {
    serde_saphyr::to_string_multiple(objects).map_err(|e| RenderError::Serialize(e.to_string()))
}

/// Serializes a typed object to JSON.
pub(crate) fn to_value<T: serde::Serialize>(object: &T) -> Result<Value, RenderError> {
    serde_json::to_value(object).map_err(|e| RenderError::Serialize(e.to_string()))
}

/// Runs the API server's defaulting (on a copy) and validation over a rendered object, as a
/// create would.
pub(crate) fn check_object(object: &Value) -> Result<(), RenderError> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let mut defaulted = object.clone();
    berth_apimachinery::defaults::apply_defaults(group, kind, &mut defaulted);
    let name_rule = if kind == "Service" {
        berth_apimachinery::names::NameRule::Dns1035Label
    } else {
        berth_apimachinery::names::NameRule::Dns1123Subdomain
    };
    let mut errors: Vec<FieldError> = defaulted
        .get("metadata")
        .map(|m| berth_apimachinery::names::validate_object_meta(m, true, name_rule))
        .unwrap_or_default();
    errors.extend(berth_apimachinery::validation::validate(
        group, kind, &defaulted,
    ));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(RenderError::InvalidObject {
            kind: kind.to_string(),
            name: name.to_string(),
            errors: errors.iter().map(ToString::to_string).collect(),
        })
    }
}
