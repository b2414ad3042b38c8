//! The resource metrics API, `metrics.k8s.io/v1beta1` (what metrics-server serves and
//! `kubectl top` and the HPA read). The numbers come from a [`ResourceMetricsSource`] the binary
//! plugs in (the node agents); this module shapes them as metrics-server does: metrics only for
//! pods and nodes that exist in the API (labels and label selectors come from those objects),
//! pods only while `Running`, cpu in nanocores and memory (working set) in bytes, both as
//! canonical quantities. The group is discovered only while a source is set.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use berth_apimachinery::selectors::{FieldSelector, LabelSelector};
use berth_apimachinery::status::ApiError;
use serde_json::{Value, json};

use crate::handler::{Query, Shape, json_response, list_objects};
use crate::object;
use crate::request::ResourcePath;
use crate::server::ApiServer;

pub const GROUP: &str = "metrics.k8s.io";
pub const VERSION: &str = "v1beta1";
const GROUP_VERSION: &str = "metrics.k8s.io/v1beta1";

/// Usage of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerMetricsSample {
    pub name: String,
    pub cpu_nanocores: u64,
    pub memory_working_set_bytes: u64,
}

/// Usage of one pod's containers, measured over `window` ending at `timestamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct PodMetricsSample {
    pub namespace: String,
    pub name: String,
    pub containers: Vec<ContainerMetricsSample>,
    pub timestamp: jiff::Timestamp,
    pub window: Duration,
}

/// Usage of one node, measured over `window` ending at `timestamp`.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeMetricsSample {
    pub name: String,
    pub cpu_nanocores: u64,
    pub memory_working_set_bytes: u64,
    pub timestamp: jiff::Timestamp,
    pub window: Duration,
}

/// Where the metrics API reads current usage (metrics-server's scraped kubelet summaries).
pub trait ResourceMetricsSource: Send + Sync {
    /// Current usage of every pod this source knows.
    fn pods(&self) -> Vec<PodMetricsSample>;
    /// Current usage of every node this source knows.
    fn nodes(&self) -> Vec<NodeMetricsSample>;
}

// ---- discovery ----

/// The `APIGroup` entry (also the `/apis/metrics.k8s.io` document, with kind set).
pub fn api_group() -> Value {
    let v = json!({"groupVersion": GROUP_VERSION, "version": VERSION});
    json!({"kind": "APIGroup", "apiVersion": "v1", "name": GROUP, "versions": [v.clone()], "preferredVersion": v})
}

/// `/apis/metrics.k8s.io/v1beta1`, as metrics-server answers it.
pub fn api_resource_list() -> Value {
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": GROUP_VERSION,
        "resources": [
            {"name": "nodes", "singularName": "", "namespaced": false, "kind": "NodeMetrics", "verbs": ["get", "list"]},
            {"name": "pods", "singularName": "", "namespaced": true, "kind": "PodMetrics", "verbs": ["get", "list"]},
        ],
    })
}

/// Adds the group to an `APIGroupList` (`/apis`).
pub fn add_to_group_list(list: &mut Value) {
    if let Some(groups) = list.get_mut("groups").and_then(Value::as_array_mut) {
        let mut g = api_group();
        if let Some(m) = g.as_object_mut() {
            m.remove("kind");
            m.remove("apiVersion");
        }
        groups.push(g);
    }
}

/// Adds the group to an aggregated `APIGroupDiscoveryList` (`/apis`), as the aggregator
/// reports an APIService-backed group.
pub fn add_to_aggregated(list: &mut Value) {
    let resource = |name: &str, kind: &str, scope: &str| {
        json!({
            "resource": name,
            "responseKind": {"group": "", "version": "", "kind": kind},
            "scope": scope,
            "singularResource": "",
            "verbs": ["get", "list"],
        })
    };
    let group = json!({
        "metadata": {"name": GROUP, "creationTimestamp": null},
        "versions": [{
            "version": VERSION,
            "resources": [
                resource("nodes", "NodeMetrics", "Cluster"),
                resource("pods", "PodMetrics", "Namespaced"),
            ],
            "freshness": "Current",
        }],
    });
    if let Some(items) = list.get_mut("items").and_then(Value::as_array_mut) {
        items.push(group);
    }
}

// ---- quantities ----

/// Strips factors of ten, then rescales so the exponent is a multiple of three (Go's
/// `int64Amount.AsCanonicalBytes`).
fn canonical_decimal(mut value: u64, mut exponent: i32) -> (u64, i32) {
    if value == 0 {
        return (0, 0);
    }
    while value.is_multiple_of(10) {
        value /= 10;
        exponent += 1;
    }
    match exponent.rem_euclid(3) {
        1 => (value.saturating_mul(10), exponent - 1),
        2 => (value.saturating_mul(100), exponent - 2),
        _ => (value, exponent),
    }
}

fn decimal_suffix(exponent: i32) -> Option<&'static str> {
    Some(match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

/// A `DecimalSI` quantity of `value * 10^exponent`, as `resource.Quantity.String()` writes it.
fn decimal_quantity(value: u64, exponent: i32) -> String {
    let (v, e) = canonical_decimal(value, exponent);
    match decimal_suffix(e) {
        Some(s) => format!("{v}{s}"),
        None => format!("{v}e{e}"),
    }
}

/// CPU as metrics-server reports it (`resource.NewScaledQuantity(nanocores, resource.Nano)`):
/// "1234567n", or shorter when the value allows ("250m", "2").
pub fn format_cpu(nanocores: u64) -> String {
    decimal_quantity(nanocores, -9)
}

/// Memory as metrics-server reports it (`resource.NewQuantity(bytes, resource.BinarySI)`):
/// "12345Ki" for whole KiB, plain bytes otherwise, decimal below 1024 (as Go canonicalizes).
pub fn format_memory(bytes: u64) -> String {
    if bytes < 1024 {
        return decimal_quantity(bytes, 0);
    }
    let (mut v, mut e) = (bytes, 0usize);
    const SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    while v.is_multiple_of(1024) && e + 1 < SUFFIXES.len() {
        v /= 1024;
        e += 1;
    }
    format!("{v}{}", SUFFIXES[e])
}

/// A duration as Go's `time.Duration.String()` writes it (`metav1.Duration` in JSON).
pub fn format_go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    let frac = |whole: u128, rem: u128, digits: usize| {
        let mut s = whole.to_string();
        if rem > 0 {
            let f = format!("{rem:0digits$}");
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
        s
    };
    if nanos < 1_000_000 {
        return format!("{}µs", frac(nanos / 1_000, nanos % 1_000, 3));
    }
    if nanos < 1_000_000_000 {
        return format!("{}ms", frac(nanos / 1_000_000, nanos % 1_000_000, 6));
    }
    let secs_total = nanos / 1_000_000_000;
    let sub = nanos % 1_000_000_000;
    let (h, m, s) = (secs_total / 3600, (secs_total / 60) % 60, secs_total % 60);
    let secs = format!("{}s", frac(s, sub, 9));
    if h > 0 {
        format!("{h}h{m}m{secs}")
    } else if m > 0 {
        format!("{m}m{secs}")
    } else {
        secs
    }
}

fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

// ---- objects ----

/// Metadata as metrics-server sets it: name, namespace, the object's labels, and "now" as the
/// creation time (these objects are computed, not stored).
fn metadata(obj: &Value) -> Value {
    let mut meta = json!({
        "name": object::name(obj).unwrap_or_default(),
        "creationTimestamp": object::now_rfc3339(),
    });
    if let Some(ns) = object::meta_str(obj, "namespace") {
        meta["namespace"] = json!(ns);
    }
    let labels = object::labels(obj);
    if !labels.is_empty() {
        meta["labels"] = Value::Object(labels);
    }
    meta
}

pub fn pod_metrics(pod: &Value, sample: &PodMetricsSample) -> Value {
    let containers: Vec<Value> = sample
        .containers
        .iter()
        .map(|c| {
            json!({
                "name": c.name,
                "usage": {"cpu": format_cpu(c.cpu_nanocores), "memory": format_memory(c.memory_working_set_bytes)},
            })
        })
        .collect();
    json!({
        "kind": "PodMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": metadata(pod),
        "timestamp": rfc3339(sample.timestamp),
        "window": format_go_duration(sample.window),
        "containers": containers,
    })
}

pub fn node_metrics(node: &Value, sample: &NodeMetricsSample) -> Value {
    json!({
        "kind": "NodeMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": metadata(node),
        "timestamp": rfc3339(sample.timestamp),
        "window": format_go_duration(sample.window),
        "usage": {"cpu": format_cpu(sample.cpu_nanocores), "memory": format_memory(sample.memory_working_set_bytes)},
    })
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": GROUP_VERSION, "metadata": {}, "items": items})
}

// ---- requests ----

fn resource_not_found() -> ApiError {
    ApiError::new(
        404,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn selectors(q: &Query) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(q.get("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(q.get("fieldSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    Ok((labels, fields))
}

/// metrics-server filters by the object-meta fields only (`generic.AddObjectMetaFieldsSet`).
fn meta_fields_match(fields: &FieldSelector, obj: &Value, namespaced: bool) -> bool {
    fields.matches(|f| match f {
        "metadata.name" => object::name(obj).map(str::to_string),
        "metadata.namespace" if namespaced => {
            object::meta_str(obj, "namespace").map(str::to_string)
        }
        _ => None,
    })
}

/// Every stored object of a core resource (pods or nodes), optionally in one namespace.
async fn stored(s: &ApiServer, resource: &str, ns: Option<&str>) -> Result<Vec<Value>, ApiError> {
    let served = s
        .registry
        .get("", "v1", resource)
        .ok_or_else(|| ApiError::internal(format!("{resource} not served")))?;
    let list = list_objects(s, &served, ns, &Query::default(), Shape::Full).await?;
    Ok(match list.get("items") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    })
}

fn is_running(pod: &Value) -> bool {
    pod.pointer("/status/phase").and_then(Value::as_str) == Some("Running")
}

/// One computed metrics object and its totals (for the table view).
struct Computed {
    object: Value,
    cpu_nanocores: u64,
    memory_bytes: u64,
    window: Duration,
}

impl Computed {
    fn pod(pod: &Value, sample: &PodMetricsSample) -> Computed {
        Computed {
            object: pod_metrics(pod, sample),
            cpu_nanocores: sample.containers.iter().map(|c| c.cpu_nanocores).sum(),
            memory_bytes: sample
                .containers
                .iter()
                .map(|c| c.memory_working_set_bytes)
                .sum(),
            window: sample.window,
        }
    }

    fn node(node: &Value, sample: &NodeMetricsSample) -> Computed {
        Computed {
            object: node_metrics(node, sample),
            cpu_nanocores: sample.cpu_nanocores,
            memory_bytes: sample.memory_working_set_bytes,
            window: sample.window,
        }
    }
}

/// The `Table` metrics-server answers `kubectl get podmetrics/nodemetrics` with: name, the
/// summed cpu and memory, and the window.
fn table(items: &[Computed], include: crate::table::IncludeObject) -> Value {
    use crate::table::IncludeObject;
    let rows: Vec<Value> = items
        .iter()
        .map(|c| {
            let object = match include {
                IncludeObject::None => Value::Null,
                IncludeObject::Metadata => {
                    crate::handler::shape_object(c.object.clone(), Shape::PartialMetadata)
                }
                IncludeObject::Object => c.object.clone(),
            };
            json!({
                "cells": [
                    object::name(&c.object).unwrap_or_default(),
                    format_cpu(c.cpu_nanocores),
                    format_memory(c.memory_bytes),
                    format_go_duration(c.window),
                ],
                "object": object,
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name of the resource", "priority": 0},
            {"name": "cpu", "type": "string", "format": "quantity", "description": "", "priority": 0},
            {"name": "memory", "type": "string", "format": "quantity", "description": "", "priority": 0},
            {"name": "Window", "type": "string", "format": "duration", "description": "", "priority": 0},
        ],
        "rows": rows,
    })
}

/// Serves a request under `/apis/metrics.k8s.io/v1beta1/`.
pub async fn handle(
    s: &Arc<ApiServer>,
    source: &Arc<dyn ResourceMetricsSource>,
    method: &Method,
    rp: &ResourcePath,
    headers: &HeaderMap,
    q: &Query,
) -> Result<Response, ApiError> {
    if rp.version != VERSION || rp.subresource.is_some() {
        return Err(resource_not_found());
    }
    let namespaced = match rp.resource.as_str() {
        "pods" => true,
        "nodes" if rp.namespace.is_none() => false,
        _ => return Err(resource_not_found()),
    };
    // metrics-server implements get and list only; watch is not served.
    if *method != Method::GET || q.bool("watch")?.unwrap_or(false) {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let shape = crate::handler::response_shape(headers, q)?;
    let ns = rp.namespace.as_deref();
    let single = rp.name.is_some();
    let items: Vec<Computed> = match (namespaced, rp.name.as_deref()) {
        (true, Some(name)) => {
            // Upstream reads the pod from its lister; a missing pod is the lister's error.
            let Some(ns) = ns else {
                return Err(resource_not_found());
            };
            let pods = s
                .registry
                .get("", "v1", "pods")
                .ok_or_else(|| ApiError::internal("pods not served"))?;
            let pod = match s.get_object(&pods, Some(ns), name).await {
                Ok((pod, _)) => pod,
                Err(e) if e.code == 404 => return Err(ApiError::not_found("", "pod", name)),
                Err(e) => return Err(e),
            };
            let sample = is_running(&pod)
                .then(|| {
                    source
                        .pods()
                        .into_iter()
                        .find(|p| p.namespace == ns && p.name == name)
                })
                .flatten()
                .ok_or_else(|| ApiError::not_found(GROUP, "podmetrics", &format!("{ns}/{name}")))?;
            vec![Computed::pod(&pod, &sample)]
        }
        (true, None) => {
            let (labels, fields) = selectors(q)?;
            let mut pods: Vec<Value> = stored(s, "pods", ns)
                .await?
                .into_iter()
                .filter(|p| {
                    is_running(p)
                        && labels.matches(&object::labels(p))
                        && meta_fields_match(&fields, p, true)
                })
                .collect();
            pods.sort_by(|a, b| {
                (object::meta_str(a, "namespace"), object::name(a))
                    .cmp(&(object::meta_str(b, "namespace"), object::name(b)))
            });
            let samples = source.pods();
            pods.iter()
                .filter_map(|pod| {
                    let (pns, pname) = (object::meta_str(pod, "namespace")?, object::name(pod)?);
                    let sample = samples
                        .iter()
                        .find(|p| p.namespace == pns && p.name == pname)?;
                    Some(Computed::pod(pod, sample))
                })
                .collect()
        }
        (false, Some(name)) => {
            let nodes = s
                .registry
                .get("", "v1", "nodes")
                .ok_or_else(|| ApiError::internal("nodes not served"))?;
            let node = match s.get_object(&nodes, None, name).await {
                Ok((node, _)) => node,
                Err(e) if e.code == 404 => return Err(ApiError::not_found("", "node", name)),
                Err(e) => return Err(e),
            };
            let sample = source
                .nodes()
                .into_iter()
                .find(|n| n.name == name)
                .ok_or_else(|| ApiError::not_found(GROUP, "nodemetrics", name))?;
            vec![Computed::node(&node, &sample)]
        }
        (false, None) => {
            let (labels, fields) = selectors(q)?;
            let mut nodes: Vec<Value> = stored(s, "nodes", None)
                .await?
                .into_iter()
                .filter(|n| {
                    labels.matches(&object::labels(n)) && meta_fields_match(&fields, n, false)
                })
                .collect();
            nodes.sort_by(|a, b| object::name(a).cmp(&object::name(b)));
            let samples = source.nodes();
            nodes
                .iter()
                .filter_map(|node| {
                    let name = object::name(node)?;
                    let sample = samples.iter().find(|n| n.name == name)?;
                    Some(Computed::node(node, sample))
                })
                .collect()
        }
    };
    let body = match shape {
        Shape::Table(include) => table(&items, include),
        other => {
            let mut objects = items
                .into_iter()
                .map(|c| crate::handler::shape_object(c.object, other));
            match (single, other) {
                (true, _) => objects.next().unwrap_or(Value::Null),
                (false, Shape::PartialMetadata) => json!({
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {},
                    "items": objects.collect::<Vec<_>>(),
                }),
                (false, _) => list(
                    if namespaced {
                        "PodMetricsList"
                    } else {
                        "NodeMetricsList"
                    },
                    objects.collect(),
                ),
            }
        }
    };
    Ok(json_response(StatusCode::OK, &body, &[]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::State;
    use berth_store::{SqliteStore, SqliteStoreOptions, Store};

    struct FakeSource;

    fn at() -> jiff::Timestamp {
        "2026-01-02T03:04:05Z".parse().unwrap()
    }

    impl ResourceMetricsSource for FakeSource {
        fn pods(&self) -> Vec<PodMetricsSample> {
            let pod = |ns: &str, name: &str, cpu: u64| PodMetricsSample {
                namespace: ns.into(),
                name: name.into(),
                containers: vec![ContainerMetricsSample {
                    name: "app".into(),
                    cpu_nanocores: cpu,
                    memory_working_set_bytes: 2048 * 1024,
                }],
                timestamp: at(),
                window: Duration::from_millis(10_500),
            };
            vec![
                pod("default", "web", 1_234_567),
                pod("default", "db", 7),
                pod("default", "pending", 1),
                // Not in the API: must not be reported.
                pod("default", "ghost", 1),
            ]
        }
        fn nodes(&self) -> Vec<NodeMetricsSample> {
            vec![NodeMetricsSample {
                name: "n1".into(),
                cpu_nanocores: 250_000_000,
                memory_working_set_bytes: 1024 * 1024 * 1024,
                timestamp: at(),
                window: Duration::from_secs(15),
            }]
        }
    }

    struct Harness {
        server: Arc<ApiServer>,
        token: String,
        store: Arc<SqliteStore>,
        _dir: tempfile::TempDir,
    }

    impl Drop for Harness {
        fn drop(&mut self) {
            self.server.begin_shutdown();
            self.store.close();
        }
    }

    impl Harness {
        async fn start() -> Harness {
            let dir = tempfile::tempdir().unwrap();
            let store =
                SqliteStore::open(SqliteStoreOptions::new(dir.path().join("state.db"))).unwrap();
            let creds = crate::pki::load_or_create(
                dir.path(),
                "127.0.0.1:6443".parse().unwrap(),
                [10, 96, 0, 1].into(),
            )
            .unwrap();
            let store_dyn: Arc<dyn Store> = store.clone();
            let server =
                ApiServer::new(store_dyn, &creds, "127.0.0.1:6443".into(), "10.96.0.0/12").unwrap();
            server.bootstrap().await.unwrap();
            Harness {
                server,
                token: creds.admin_token,
                store,
                _dir: dir,
            }
        }

        async fn call(
            &self,
            method: &str,
            uri: &str,
            accept: &str,
            content_type: &str,
            body: Value,
        ) -> (u16, Value) {
            let mut req = axum::http::Request::builder()
                .method(method)
                .uri(uri)
                .header("authorization", format!("Bearer {}", self.token));
            if !accept.is_empty() {
                req = req.header("accept", accept);
            }
            let body = if body.is_null() {
                Body::empty()
            } else {
                req = req.header("content-type", content_type);
                Body::from(body.to_string())
            };
            let resp =
                crate::handler::handle(State(self.server.clone()), req.body(body).unwrap()).await;
            let code = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        }

        async fn get(&self, uri: &str) -> (u16, Value) {
            self.call("GET", uri, "", "", Value::Null).await
        }

        async fn pod(&self, name: &str, labels: Value, running: bool) {
            let pod = json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": name, "labels": labels},
                "spec": {"containers": [{"name": "app", "image": "x"}]},
            });
            let (code, body) = self
                .call(
                    "POST",
                    "/api/v1/namespaces/default/pods",
                    "",
                    "application/json",
                    pod,
                )
                .await;
            assert_eq!(code, 201, "{body}");
            if running {
                let (code, body) = self
                    .call(
                        "PATCH",
                        &format!("/api/v1/namespaces/default/pods/{name}/status"),
                        "",
                        "application/merge-patch+json",
                        json!({"status": {"phase": "Running"}}),
                    )
                    .await;
                assert_eq!(code, 200, "{body}");
            }
        }
    }

    fn names(list: &Value) -> Vec<&str> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn not_served_without_a_source() {
        let h = Harness::start().await;
        let (code, _) = h.get("/apis/metrics.k8s.io/v1beta1/pods").await;
        assert_eq!(code, 404);
        let (code, _) = h.get("/apis/metrics.k8s.io/v1beta1").await;
        assert_eq!(code, 404);
        let (_, groups) = h.get("/apis").await;
        assert!(!groups.to_string().contains(GROUP));
    }

    #[tokio::test]
    async fn discovery_lists_the_group_once_a_source_is_set() {
        let h = Harness::start().await;
        h.server.set_resource_metrics_source(Arc::new(FakeSource));
        let (_, groups) = h.get("/apis").await;
        let g = groups["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == GROUP)
            .expect("metrics group");
        assert_eq!(g["preferredVersion"]["groupVersion"], GROUP_VERSION);
        let (code, group) = h.get("/apis/metrics.k8s.io").await;
        assert_eq!((code, group["kind"].as_str()), (200, Some("APIGroup")));
        let (code, list) = h.get("/apis/metrics.k8s.io/v1beta1").await;
        assert_eq!(code, 200);
        assert_eq!(list["resources"][1]["name"], "pods");
        assert_eq!(list["resources"][1]["kind"], "PodMetrics");
        assert_eq!(list["resources"][1]["verbs"], json!(["get", "list"]));
        let (code, agg) = h
            .call(
                "GET",
                "/apis",
                crate::discovery::AGGREGATED_V2,
                "",
                Value::Null,
            )
            .await;
        assert_eq!(code, 200);
        let metrics = agg["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == GROUP)
            .expect("aggregated metrics group");
        let nodes = &metrics["versions"][0]["resources"][0];
        assert_eq!(nodes["resource"], "nodes");
        assert_eq!(nodes["scope"], "Cluster");
        assert_eq!(nodes["responseKind"]["kind"], "NodeMetrics");
        let (code, _) = h.get("/apis/metrics.k8s.io/v1").await;
        assert_eq!(code, 404);
    }

    #[tokio::test]
    async fn pod_metrics_for_running_pods_in_the_api() {
        let h = Harness::start().await;
        h.server.set_resource_metrics_source(Arc::new(FakeSource));
        h.pod("web", json!({"app": "web"}), true).await;
        h.pod("db", json!({"app": "db"}), true).await;
        h.pod("pending", json!({"app": "web"}), false).await;

        let (code, list) = h
            .get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods")
            .await;
        assert_eq!(code, 200, "{list}");
        assert_eq!(list["kind"], "PodMetricsList");
        assert_eq!(list["apiVersion"], GROUP_VERSION);
        assert_eq!(names(&list), vec!["db", "web"]);
        let web = &list["items"][1];
        assert_eq!(web["kind"], "PodMetrics");
        assert_eq!(web["metadata"]["namespace"], "default");
        assert_eq!(web["metadata"]["labels"]["app"], "web");
        assert_eq!(web["timestamp"], "2026-01-02T03:04:05Z");
        assert_eq!(web["window"], "10.5s");
        assert_eq!(
            web["containers"],
            json!([{"name": "app", "usage": {"cpu": "1234567n", "memory": "2Mi"}}])
        );

        let (_, all) = h.get("/apis/metrics.k8s.io/v1beta1/pods").await;
        assert_eq!(names(&all), vec!["db", "web"]);
        let (_, selected) = h
            .get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb")
            .await;
        assert_eq!(names(&selected), vec!["web"]);
        let (_, by_name) = h
            .get("/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=metadata.name%3Ddb")
            .await;
        assert_eq!(names(&by_name), vec!["db"]);
        let (_, other_ns) = h
            .get("/apis/metrics.k8s.io/v1beta1/namespaces/kube-system/pods")
            .await;
        assert_eq!(names(&other_ns), Vec::<&str>::new());

        let (code, one) = h
            .get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/db")
            .await;
        assert_eq!(code, 200);
        assert_eq!(one["containers"][0]["usage"]["cpu"], "7n");

        let (code, missing) = h
            .get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/ghost")
            .await;
        assert_eq!(code, 404);
        assert_eq!(missing["message"], "pod \"ghost\" not found");
        let (code, no_metrics) = h
            .get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/pending")
            .await;
        assert_eq!(code, 404);
        assert_eq!(
            no_metrics["message"],
            "podmetrics.metrics.k8s.io \"default/pending\" not found"
        );

        let (code, _) = h
            .call(
                "DELETE",
                "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web",
                "",
                "",
                Value::Null,
            )
            .await;
        assert_eq!(code, 405);
        let (code, _) = h.get("/apis/metrics.k8s.io/v1beta1/pods?watch=true").await;
        assert_eq!(code, 405);

        // `kubectl get podmetrics` asks for a Table.
        let (code, table) = h
            .call(
                "GET",
                "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods",
                "application/json;as=Table;v=v1;g=meta.k8s.io",
                "",
                Value::Null,
            )
            .await;
        assert_eq!(code, 200);
        assert_eq!(table["kind"], "Table");
        let cols: Vec<&str> = table["columnDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(cols, vec!["Name", "cpu", "memory", "Window"]);
        assert_eq!(
            table["rows"][1]["cells"],
            json!(["web", "1234567n", "2Mi", "10.5s"])
        );
        assert_eq!(table["rows"][1]["object"]["kind"], "PartialObjectMetadata");
    }

    #[tokio::test]
    async fn node_metrics_for_nodes_in_the_api() {
        let h = Harness::start().await;
        h.server.set_resource_metrics_source(Arc::new(FakeSource));
        for (name, zone) in [("n1", "a"), ("n2", "b")] {
            let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"zone": zone}}});
            let (code, body) = h
                .call("POST", "/api/v1/nodes", "", "application/json", node)
                .await;
            assert_eq!(code, 201, "{body}");
        }
        let (code, list) = h.get("/apis/metrics.k8s.io/v1beta1/nodes").await;
        assert_eq!(code, 200);
        assert_eq!(list["kind"], "NodeMetricsList");
        // n2 has no sample: left out, as metrics-server does.
        assert_eq!(names(&list), vec!["n1"]);
        let n1 = &list["items"][0];
        assert_eq!(n1["usage"], json!({"cpu": "250m", "memory": "1Gi"}));
        assert_eq!(n1["window"], "15s");
        assert_eq!(n1["metadata"]["labels"]["zone"], "a");
        assert!(n1["metadata"].get("namespace").is_none());
        let (_, none) = h
            .get("/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=zone%3Db")
            .await;
        assert_eq!(names(&none), Vec::<&str>::new());
        let (code, one) = h.get("/apis/metrics.k8s.io/v1beta1/nodes/n1").await;
        assert_eq!((code, one["kind"].as_str()), (200, Some("NodeMetrics")));
        let (code, e) = h.get("/apis/metrics.k8s.io/v1beta1/nodes/n2").await;
        assert_eq!(code, 404);
        assert_eq!(e["message"], "nodemetrics.metrics.k8s.io \"n2\" not found");
        let (code, e) = h.get("/apis/metrics.k8s.io/v1beta1/nodes/nope").await;
        assert_eq!(code, 404);
        assert_eq!(e["message"], "node \"nope\" not found");
    }

    #[test]
    fn quantities_are_canonical_like_go() {
        assert_eq!(format_cpu(1_234_567), "1234567n");
        assert_eq!(format_cpu(0), "0");
        assert_eq!(format_cpu(250_000_000), "250m");
        assert_eq!(format_cpu(2_000_000_000), "2");
        assert_eq!(format_cpu(1_230_000_000), "1230m");
        assert_eq!(format_cpu(5_000), "5u");
        assert_eq!(format_memory(12_345 * 1024), "12345Ki");
        assert_eq!(format_memory(1024 * 1024), "1Mi");
        assert_eq!(format_memory(1000), "1k");
        assert_eq!(format_memory(500), "500");
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(4097), "4097");
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(format_go_duration(Duration::from_secs(15)), "15s");
        assert_eq!(format_go_duration(Duration::from_millis(10_500)), "10.5s");
        assert_eq!(format_go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(format_go_duration(Duration::from_secs(3661)), "1h1m1s");
        assert_eq!(format_go_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_go_duration(Duration::ZERO), "0s");
    }
}
