//! `pods/log`: the API server checks the request (as `ValidatePodLogOptions` and the pod
//! registry's `LogLocation` do) and streams what the pod's node serves. Node agents are
//! plugged in by the binary through [`PodLogSource`], so this crate does not depend on them.

use std::pin::Pin;

use berth_apimachinery::status::{ApiError, FieldError};
use bytes::Bytes;
use futures::Stream;
use serde_json::Value;

use crate::handler::Query;

/// A stream of log bytes (already limited and formatted as requested).
pub type LogStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// What a client asked of `GET .../pods/{name}/log` (upstream `PodLogOptions`), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodLogRequest {
    pub namespace: String,
    pub pod: String,
    pub pod_uid: String,
    pub node: String,
    /// Resolved: the pod's only container when the client named none.
    pub container: String,
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<i64>,
    pub limit_bytes: Option<i64>,
    /// Only lines at or after this time (from `sinceSeconds` or `sinceTime`).
    pub since: Option<jiff::Timestamp>,
}

/// Serves container logs for the pods of some nodes (the kubelet's `/containerLogs`).
pub trait PodLogSource: Send + Sync {
    /// Opens the log of one container. Errors are API errors as the kubelet words them (for
    /// example 400 when `previous` is asked and there was no previous instance).
    fn open(
        &self,
        request: PodLogRequest,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<LogStream, ApiError>> + Send + '_>>;
}

fn parse_bool(q: &Query, key: &str) -> Result<bool, ApiError> {
    match q.get(key) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ApiError::bad_request(format!(
            "{key}: Invalid value: \"{other}\": strconv.ParseBool: parsing \"{other}\": invalid syntax"
        ))),
    }
}

fn parse_int(q: &Query, key: &str) -> Result<Option<i64>, ApiError> {
    match q.get(key) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            ApiError::bad_request(format!(
                "{key}: Invalid value: \"{v}\": strconv.ParseInt: parsing \"{v}\": invalid syntax"
            ))
        }),
    }
}

/// Checks the query against the pod and resolves the container (upstream
/// `ValidatePodLogOptions` and `pod.LogLocation`).
pub fn request_for(pod: &Value, q: &Query) -> Result<PodLogRequest, ApiError> {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let tail_lines = parse_int(q, "tailLines")?;
    let limit_bytes = parse_int(q, "limitBytes")?;
    let since_seconds = parse_int(q, "sinceSeconds")?;
    let since_time = q.get("sinceTime").filter(|s| !s.is_empty());
    let mut errors = Vec::new();
    if let Some(t) = tail_lines
        && t < 0
    {
        errors.push(FieldError::invalid(
            "tailLines",
            Value::from(t),
            "must be greater than or equal to 0",
        ));
    }
    if let Some(l) = limit_bytes
        && l < 1
    {
        errors.push(FieldError::invalid(
            "limitBytes",
            Value::from(l),
            "must be greater than 0",
        ));
    }
    if since_seconds.is_some() && since_time.is_some() {
        errors.push(FieldError::forbidden(
            "",
            "at most one of `sinceTime` or `sinceSeconds` may be specified",
        ));
    }
    if let Some(s) = since_seconds
        && s < 1
    {
        errors.push(FieldError::invalid(
            "sinceSeconds",
            Value::from(s),
            "must be greater than 0",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid("", "PodLogOptions", name, &errors));
    }
    let since = match (since_seconds, since_time) {
        (Some(s), _) => Some(
            jiff::Timestamp::now()
                .checked_sub(jiff::SignedDuration::from_secs(s))
                .unwrap_or(jiff::Timestamp::MIN),
        ),
        (None, Some(t)) => Some(t.parse::<jiff::Timestamp>().map_err(|_| {
            ApiError::bad_request(format!(
                "sinceTime: Invalid value: \"{t}\": parsing time \"{t}\" as RFC3339"
            ))
        })?),
        (None, None) => None,
    };

    let target = PodTarget::resolve(pod, q)?;
    Ok(PodLogRequest {
        namespace: target.namespace,
        pod: target.pod,
        pod_uid: target.pod_uid,
        node: target.node,
        container: target.container,
        follow: parse_bool(q, "follow")?,
        previous: parse_bool(q, "previous")?,
        timestamps: parse_bool(q, "timestamps")?,
        tail_lines,
        limit_bytes,
        since,
    })
}

/// The pod, its node and the container a `log` or `exec` request is about (upstream
/// `streamLocation`): the named container (regular, init or ephemeral), else the pod's only
/// one; the pod must be bound to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTarget {
    pub namespace: String,
    pub pod: String,
    pub pod_uid: String,
    pub node: String,
    pub container: String,
}

impl PodTarget {
    pub fn resolve(pod: &Value, q: &Query) -> Result<PodTarget, ApiError> {
        let text = |path: &str| {
            pod.pointer(path)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let name = text("/metadata/name");
        let names = |path: &str| -> Vec<String> {
            pod.pointer(path)
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let containers = names("/spec/containers");
        let init = names("/spec/initContainers");
        let ephemeral = names("/spec/ephemeralContainers");
        let container = match q.get("container").filter(|c| !c.is_empty()) {
            Some(c) => {
                if !containers
                    .iter()
                    .chain(&init)
                    .chain(&ephemeral)
                    .any(|n| n == c)
                {
                    return Err(ApiError::bad_request(format!(
                        "container {c} is not valid for pod {name}"
                    )));
                }
                c.to_string()
            }
            None if containers.len() == 1 => containers[0].clone(),
            None => {
                let mut msg = format!(
                    "a container name must be specified for pod {name}, choose one of: [{}]",
                    containers.join(" ")
                );
                if !init.is_empty() {
                    msg.push_str(&format!(
                        " or one of the init containers: [{}]",
                        init.join(" ")
                    ));
                }
                return Err(ApiError::bad_request(msg));
            }
        };
        let node = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if node.is_empty() {
            return Err(ApiError::bad_request(format!(
                "pod {name} does not have a host assigned"
            )));
        }
        Ok(PodTarget {
            namespace: text("/metadata/namespace"),
            pod: name,
            pod_uid: text("/metadata/uid"),
            node: node.to_string(),
            container,
        })
    }
}
