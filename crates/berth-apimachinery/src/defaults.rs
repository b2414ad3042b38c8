//! Field defaults of built-in kinds, as Kubernetes v1.33 applies them when it decodes an object
//! (`SetDefaults_*` in `pkg/apis/*/v1*/defaults.go` and the `+default` markers of the generated
//! defaulters), plus the few create-time fills that every client sees in the stored object
//! (namespace finalizer, Service IP families, CRD stored versions).
//!
//! Objects are JSON values of the external (versioned) types. Every function here is idempotent:
//! applying the defaults twice gives the same object, so the server may apply them again after it
//! changed an object (for example after [`generate_job_selector`]), as Kubernetes does when it
//! decodes the stored object.
//!
//! Not done here, because the server or admission does it upstream too: name generation, uid,
//! timestamps, cluster IP / node port allocation, `serviceAccountName`, `priority`,
//! `preemptionPolicy` of pods, default tolerations, pod `status`. Go serialization artifacts
//! (`creationTimestamp: null` in templates, empty `status: {}` structs, `resources: {}`) are not
//! produced either.

use crate::validation::quantity;
use serde_json::{Map, Value, json};

/// Applies Kubernetes v1.33's defaults to `obj`, an object of kind `kind` in API group `group`
/// (empty for the core group). Unknown kinds are left alone.
pub fn apply_defaults(group: &str, kind: &str, obj: &mut Value) {
    if !obj.is_object() {
        return;
    }
    match (group, kind) {
        ("", "Pod") => default_pod(obj),
        ("", "PodTemplate") => {
            if let Some(t) = get_obj_mut(obj, "template") {
                default_pod_template(t);
            }
        }
        ("", "ReplicationController") => default_replication_controller(obj),
        ("", "Service") => default_service(obj),
        ("", "Namespace") => default_namespace(obj),
        ("", "Node") => default_node(obj),
        ("", "Secret") => default_secret(obj),
        ("", "ConfigMap") => {}
        ("", "Endpoints") => default_endpoints(obj),
        ("", "PersistentVolumeClaim") => default_pvc(obj),
        ("", "PersistentVolume") => default_pv(obj),
        ("", "ResourceQuota") => default_resource_quota(obj),
        ("", "LimitRange") => default_limit_range(obj),
        ("apps", "Deployment") => default_deployment(obj),
        ("apps", "ReplicaSet") => default_replica_set(obj),
        ("apps", "StatefulSet") => default_stateful_set(obj),
        ("apps", "DaemonSet") => default_daemon_set(obj),
        ("batch", "Job") => default_job(obj),
        ("batch", "CronJob") => default_cron_job(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => default_hpa(obj),
        ("networking.k8s.io", "NetworkPolicy") => default_network_policy(obj),
        ("networking.k8s.io", "IngressClass") => default_ingress_class(obj),
        ("discovery.k8s.io", "EndpointSlice") => default_endpoint_slice(obj),
        ("scheduling.k8s.io", "PriorityClass") => {
            if let Some(m) = obj.as_object_mut() {
                default_str(m, "preemptionPolicy", "PreemptLowerPriority");
            }
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
            default_role_binding(obj)
        }
        ("storage.k8s.io", "StorageClass") => default_storage_class(obj),
        ("storage.k8s.io", "CSIDriver") => default_csi_driver(obj),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
            default_webhook_configuration(obj, false)
        }
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
            default_webhook_configuration(obj, true)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
            default_validating_admission_policy(obj)
        }
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
            if let Some(spec) = get_obj_mut(obj, "spec")
                && let Some(mr) = get_obj_mut(spec, "matchResources")
            {
                default_match_resources(mr);
            }
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => default_crd(obj),
        _ => {}
    }
}

/// Generates a Job's selector and pod template labels the way the Job registry strategy does on
/// create (`generateSelector` in `pkg/registry/batch/job/strategy.go`), unless
/// `spec.manualSelector` is true. Needs the Job's name and uid, so call it after the uid is
/// assigned and before validation; then call [`apply_defaults`] again so that `metadata.labels`
/// get the template labels when the user gave none, as Kubernetes shows them.
pub fn generate_job_selector(job: &mut Value, uid: &str) {
    let name = job
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(spec) = get_obj_mut(job, "spec") else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    let template = ensure_obj(spec, "template");
    let meta = ensure_obj(template, "metadata");
    let labels = ensure_obj(meta, "labels");
    if let Some(labels) = labels.as_object_mut() {
        for key in ["job-name", "batch.kubernetes.io/job-name"] {
            if !labels.contains_key(key) {
                labels.insert(key.into(), json!(name));
            }
        }
        for key in ["controller-uid", "batch.kubernetes.io/controller-uid"] {
            if !labels.contains_key(key) {
                labels.insert(key.into(), json!(uid));
            }
        }
    }
    let selector = ensure_obj(spec, "selector");
    let match_labels = ensure_obj(selector, "matchLabels");
    if let Some(ml) = match_labels.as_object_mut()
        && !ml.contains_key("batch.kubernetes.io/controller-uid")
    {
        ml.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
    }
}

/// Prepares an updated Service the way the Service REST storage does before validating an update:
/// values the client omitted but the old object has allocated (`clusterIP`, `clusterIPs`, node
/// ports, `healthCheckNodePort`) are copied from the old object (`patchAllocatedValues`) and
/// `clusterIPs` is kept in step with `clusterIP` (`normalizeClusterIPs`). [`crate::validation::
/// validate_update`] does the same on a copy, so calling this is only needed to store the same
/// object Kubernetes would.
pub fn prepare_service_update(new: &mut Value, old: &Value) {
    let old_spec = old.get("spec").cloned().unwrap_or(Value::Null);
    let Some(spec) = get_obj_mut(new, "spec") else {
        return;
    };
    let Some(spec) = spec.as_object_mut() else {
        return;
    };
    // patchAllocatedValues
    if needs_cluster_ip(&old_spec) && needs_cluster_ip(&Value::Object(spec.clone())) {
        if str_of(spec.get("clusterIP")).is_empty()
            && let Some(ip) = old_spec.get("clusterIP").filter(|v| !v.is_null())
        {
            spec.insert("clusterIP".into(), ip.clone());
        }
        let new_ips_empty = spec
            .get("clusterIPs")
            .and_then(Value::as_array)
            .is_none_or(|a| a.is_empty());
        let old_ips = old_spec.get("clusterIPs").and_then(Value::as_array);
        if new_ips_empty
            && old_ips.is_some_and(|a| !a.is_empty())
            && let Some(ips) = old_ips
        {
            spec.insert("clusterIPs".into(), Value::Array(ips.clone()));
        }
    }
    if needs_node_port(&old_spec) && needs_node_port(&Value::Object(spec.clone())) {
        let ports_used = |s: &Value| -> Vec<i64> {
            s.get("ports")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
                        .filter(|n| *n != 0)
                        .collect()
                })
                .unwrap_or_default()
        };
        let old_used = ports_used(&old_spec);
        let new_used = ports_used(&Value::Object(spec.clone()));
        let used: Vec<i64> = old_used
            .iter()
            .copied()
            .filter(|p| new_used.contains(p))
            .collect();
        let mut by_name: Vec<(String, i64)> = Vec::new();
        if let Some(ps) = old_spec.get("ports").and_then(Value::as_array) {
            for p in ps {
                let name = str_of(p.get("name")).to_string();
                let np = p.get("nodePort").and_then(Value::as_i64).unwrap_or(0);
                by_name.retain(|(n, _)| *n != name);
                by_name.push((name, np));
            }
        }
        if let Some(ps) = spec.get_mut("ports").and_then(Value::as_array_mut) {
            for p in ps {
                let Some(pm) = p.as_object_mut() else {
                    continue;
                };
                if pm.get("nodePort").and_then(Value::as_i64).unwrap_or(0) != 0 {
                    continue;
                }
                let name = str_of(pm.get("name")).to_string();
                if let Some((_, np)) = by_name.iter().find(|(n, _)| *n == name)
                    && *np != 0
                    && !used.contains(np)
                {
                    pm.insert("nodePort".into(), json!(np));
                }
            }
        }
    }
    let needs_hc = |s: &Value| {
        str_of(s.get("type")) == "LoadBalancer" && str_of(s.get("externalTrafficPolicy")) == "Local"
    };
    if needs_hc(&old_spec)
        && needs_hc(&Value::Object(spec.clone()))
        && spec
            .get("healthCheckNodePort")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 0
        && let Some(hc) = old_spec.get("healthCheckNodePort").filter(|v| !v.is_null())
    {
        spec.insert("healthCheckNodePort".into(), hc.clone());
    }
    normalize_cluster_ips(spec, Some(&old_spec));
}

fn needs_cluster_ip(spec: &Value) -> bool {
    str_of(spec.get("type")) != "ExternalName"
}

fn needs_node_port(spec: &Value) -> bool {
    matches!(str_of(spec.get("type")), "NodePort" | "LoadBalancer")
}

/// `normalizeClusterIPs` of the Service REST storage.
fn normalize_cluster_ips(spec: &mut Map<String, Value>, old_spec: Option<&Value>) {
    let ip = str_of(spec.get("clusterIP")).to_string();
    let ips: Vec<String> = string_list(spec.get("clusterIPs"));
    let Some(old) = old_spec else {
        if !ip.is_empty() && ips.is_empty() {
            spec.insert("clusterIPs".into(), json!([ip]));
        }
        return;
    };
    let old_ip = str_of(old.get("clusterIP")).to_string();
    let old_ips: Vec<String> = string_list(old.get("clusterIPs"));
    let mut ips = ips;
    if !old_ips.is_empty() && ips.is_empty() && old_ip == ip {
        ips = old_ips.clone();
        spec.insert("clusterIPs".into(), json!(ips));
    }
    if old_ip != ip {
        let same = old_ips == ips;
        if !old_ip.is_empty() && ip.is_empty() && same {
            spec.remove("clusterIPs");
        }
        if !ip.is_empty() && same {
            spec.insert("clusterIPs".into(), json!([ip]));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small JSON helpers.
// ---------------------------------------------------------------------------------------------

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or_default()
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The object at `key`, when it is one.
fn get_obj_mut<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Value> {
    v.get_mut(key).filter(|x| x.is_object())
}

/// The object at `key`, created (replacing null or a missing value) when absent.
fn ensure_obj<'a>(v: &'a mut Value, key: &str) -> &'a mut Value {
    match v {
        Value::Object(m) => {
            let slot = m.entry(key.to_string()).or_insert(Value::Null);
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            slot
        }
        other => other,
    }
}

fn is_unset(m: &Map<String, Value>, key: &str) -> bool {
    matches!(m.get(key), None | Some(Value::Null))
}

/// Sets a pointer field when it is nil.
fn default_val(m: &mut Map<String, Value>, key: &str, val: Value) {
    if is_unset(m, key) {
        m.insert(key.to_string(), val);
    }
}

/// Sets a string field when it is empty (Go's zero value counts as unset).
fn default_str(m: &mut Map<String, Value>, key: &str, val: &str) {
    let empty = match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    };
    if empty {
        m.insert(key.to_string(), json!(val));
    }
}

/// Sets a non-pointer number field when it is zero.
fn default_nonzero(m: &mut Map<String, Value>, key: &str, val: i64) {
    let zero = match m.get(key) {
        None | Some(Value::Null) => true,
        Some(v) => v.as_f64() == Some(0.0),
    };
    if zero {
        m.insert(key.to_string(), json!(val));
    }
}

fn for_each_obj_in(m: &mut Map<String, Value>, key: &str, mut f: impl FnMut(&mut Value)) {
    if let Some(items) = m.get_mut(key).and_then(Value::as_array_mut) {
        for item in items.iter_mut().filter(|i| i.is_object()) {
            f(item);
        }
    }
}

/// Canonicalizes every quantity of a resource list (`SetDefaults_ResourceList` rounds them up to
/// milli precision; serialization prints them canonically).
fn default_resource_list(v: Option<&mut Value>) {
    if let Some(m) = v.and_then(Value::as_object_mut) {
        for q in m.values_mut() {
            canonicalize_in_place(q, true);
        }
    }
}

fn canonicalize_in_place(q: &mut Value, round_to_milli: bool) {
    let text = match q {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return,
    };
    if let Some(c) = quantity::canonicalize(&text, round_to_milli) {
        *q = Value::String(c);
    }
}

// ---------------------------------------------------------------------------------------------
// Pods.
// ---------------------------------------------------------------------------------------------

fn default_pod(obj: &mut Value) {
    let Some(spec) = get_obj_mut(obj, "spec").and_then(Value::as_object_mut) else {
        return;
    };
    // SetDefaults_Pod: requests default to limits (only for Pods, not templates).
    for key in ["containers", "initContainers"] {
        for_each_obj_in(spec, key, |c| {
            let Some(res) = c.get_mut("resources").and_then(Value::as_object_mut) else {
                return;
            };
            let Some(limits) = res.get("limits").and_then(Value::as_object).cloned() else {
                return;
            };
            let requests = res
                .entry("requests")
                .or_insert_with(|| Value::Object(Map::new()));
            if !requests.is_object() {
                *requests = Value::Object(Map::new());
            }
            if let Some(r) = requests.as_object_mut() {
                for (k, v) in limits {
                    r.entry(k).or_insert(v);
                }
            }
        });
    }
    default_val(spec, "enableServiceLinks", json!(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        for key in ["containers", "initContainers"] {
            for_each_obj_in(spec, key, |c| {
                if let Some(c) = c.as_object_mut() {
                    for_each_obj_in(c, "ports", |p| {
                        if let Some(p) = p.as_object_mut() {
                            let hp = p.get("hostPort").and_then(Value::as_i64).unwrap_or(0);
                            if hp == 0
                                && let Some(cp) = p.get("containerPort").cloned()
                            {
                                p.insert("hostPort".into(), cp);
                            }
                        }
                    });
                }
            });
        }
    }
    default_pod_spec(spec, true);
}

fn default_pod_template(template: &mut Value) {
    if let Some(spec) = get_obj_mut(template, "spec").and_then(Value::as_object_mut) {
        default_pod_spec(spec, false);
    }
}

/// `SetDefaults_PodSpec` plus the defaulters of everything nested in a pod spec.
fn default_pod_spec(spec: &mut Map<String, Value>, is_pod: bool) {
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "restartPolicy", "Always");
    default_val(spec, "securityContext", json!({}));
    default_val(spec, "terminationGracePeriodSeconds", json!(30));
    default_str(spec, "schedulerName", "default-scheduler");
    for_each_obj_in(spec, "volumes", default_volume);
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        for_each_obj_in(spec, key, default_container);
    }
    if is_pod {
        default_resource_list(spec.get_mut("overhead"));
    }
}

fn default_volume(vol: &mut Value) {
    let Some(m) = vol.as_object_mut() else {
        return;
    };
    let has_source = m.iter().any(|(k, v)| k != "name" && !v.is_null());
    if !has_source {
        m.insert("emptyDir".into(), json!({}));
    }
    if let Some(ed) = m.get_mut("emptyDir").and_then(Value::as_object_mut)
        && let Some(q) = ed.get_mut("sizeLimit")
    {
        canonicalize_in_place(q, false);
    }
    if let Some(hp) = m.get_mut("hostPath").and_then(Value::as_object_mut) {
        default_val(hp, "type", json!(""));
    }
    for key in ["secret", "configMap"] {
        if let Some(s) = m.get_mut(key).and_then(Value::as_object_mut) {
            default_val(s, "defaultMode", json!(420));
        }
    }
    if let Some(d) = m.get_mut("downwardAPI").and_then(Value::as_object_mut) {
        default_val(d, "defaultMode", json!(420));
        default_downward_api_items(d);
    }
    if let Some(p) = m.get_mut("projected").and_then(Value::as_object_mut) {
        default_val(p, "defaultMode", json!(420));
        for_each_obj_in(p, "sources", |src| {
            if let Some(d) = src.get_mut("downwardAPI").and_then(Value::as_object_mut) {
                default_downward_api_items(d);
            }
            if let Some(t) = src
                .get_mut("serviceAccountToken")
                .and_then(Value::as_object_mut)
            {
                default_val(t, "expirationSeconds", json!(3600));
            }
        });
    }
    if let Some(i) = m.get_mut("iscsi").and_then(Value::as_object_mut) {
        default_str(i, "iscsiInterface", "default");
    }
    if let Some(r) = m.get_mut("rbd").and_then(Value::as_object_mut) {
        default_str(r, "pool", "rbd");
        default_str(r, "user", "admin");
        default_str(r, "keyring", "/etc/ceph/keyring");
    }
    if let Some(a) = m.get_mut("azureDisk").and_then(Value::as_object_mut) {
        default_azure_disk(a);
    }
    if let Some(s) = m.get_mut("scaleIO").and_then(Value::as_object_mut) {
        default_str(s, "storageMode", "ThinProvisioned");
        default_str(s, "fsType", "xfs");
    }
    if let Some(t) = m
        .get_mut("ephemeral")
        .and_then(|e| e.get_mut("volumeClaimTemplate"))
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        default_pvc_spec(t);
    }
}

fn default_azure_disk(a: &mut Map<String, Value>) {
    default_str(a, "cachingMode", "ReadWrite");
    default_str(a, "fsType", "ext4");
    default_val(a, "readOnly", json!(false));
    default_str(a, "kind", "Shared");
}

fn default_downward_api_items(d: &mut Map<String, Value>) {
    for_each_obj_in(d, "items", |item| {
        if let Some(f) = item.get_mut("fieldRef").and_then(Value::as_object_mut) {
            default_str(f, "apiVersion", "v1");
        }
    });
}

fn default_container(c: &mut Value) {
    let Some(c) = c.as_object_mut() else {
        return;
    };
    let image = str_of(c.get("image")).to_string();
    let policy = if image_tag(&image).as_deref() == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    };
    default_str(c, "imagePullPolicy", policy);
    default_str(c, "terminationMessagePath", "/dev/termination-log");
    default_str(c, "terminationMessagePolicy", "File");
    for_each_obj_in(c, "ports", |p| {
        if let Some(p) = p.as_object_mut() {
            default_str(p, "protocol", "TCP");
        }
    });
    for_each_obj_in(c, "env", |e| {
        if let Some(f) = e
            .get_mut("valueFrom")
            .and_then(|v| v.get_mut("fieldRef"))
            .and_then(Value::as_object_mut)
        {
            default_str(f, "apiVersion", "v1");
        }
    });
    // Go always writes the `resources` struct (`omitempty` does not omit structs), so every
    // container Kubernetes returns has `resources: {}` at least; templates compared or hashed
    // by clients (kubectl rollout undo, the Deployment controller) depend on that.
    if !c.get("resources").is_some_and(Value::is_object) {
        c.insert("resources".into(), json!({}));
    }
    if let Some(res) = c.get_mut("resources").and_then(Value::as_object_mut) {
        default_resource_list(res.get_mut("limits"));
        default_resource_list(res.get_mut("requests"));
    }
    for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(key).and_then(Value::as_object_mut) {
            default_nonzero(p, "timeoutSeconds", 1);
            default_nonzero(p, "periodSeconds", 10);
            default_nonzero(p, "successThreshold", 1);
            default_nonzero(p, "failureThreshold", 3);
            if let Some(h) = p.get_mut("httpGet").and_then(Value::as_object_mut) {
                default_http_get(h);
            }
            if let Some(g) = p.get_mut("grpc").and_then(Value::as_object_mut) {
                default_val(g, "service", json!(""));
            }
        }
    }
    if let Some(l) = c.get_mut("lifecycle").and_then(Value::as_object_mut) {
        for key in ["postStart", "preStop"] {
            if let Some(h) = l
                .get_mut(key)
                .and_then(|h| h.get_mut("httpGet"))
                .and_then(Value::as_object_mut)
            {
                default_http_get(h);
            }
        }
    }
}

fn default_http_get(h: &mut Map<String, Value>) {
    default_str(h, "path", "/");
    default_str(h, "scheme", "HTTP");
}

/// The tag `parsers.ParseImageName` finds in an image reference: the explicit tag, `latest` when
/// there is neither tag nor digest, nothing when the reference has only a digest or does not
/// parse.
fn image_tag(image: &str) -> Option<String> {
    if image.is_empty() || image.trim() != image {
        return None;
    }
    let (name_and_tag, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !d.contains(':')) {
        return None;
    }
    let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_and_tag[..last_slash + i],
            Some(&name_and_tag[last_slash + i + 1..]),
        ),
        None => (name_and_tag, None),
    };
    // The repository path (without a registry domain) must be lower case.
    let path = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            rest
        }
        _ => name,
    };
    let path_ok = !path.is_empty()
        && path.split('/').all(|c| {
            !c.is_empty()
                && c.chars().all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-')
                })
                && c.chars()
                    .next()
                    .is_some_and(|ch| ch.is_ascii_alphanumeric())
                && c.chars()
                    .last()
                    .is_some_and(|ch| ch.is_ascii_alphanumeric())
        });
    if !path_ok {
        return None;
    }
    match tag {
        Some(t) => {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            ok.then(|| t.to_string())
        }
        None if digest.is_none() => Some("latest".into()),
        None => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Workloads.
// ---------------------------------------------------------------------------------------------

fn spec_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    ensure_obj(obj, "spec").as_object_mut()
}

fn default_template_in(spec: &mut Map<String, Value>) {
    if let Some(t) = spec.get_mut("template").filter(|t| t.is_object()) {
        default_pod_template(t);
    }
}

fn default_replication_controller(obj: &mut Value) {
    let template_labels = obj
        .pointer("/spec/template/metadata/labels")
        .filter(|l| l.is_object())
        .cloned();
    if let Some(labels) = template_labels {
        if let Some(spec) = spec_mut(obj) {
            let empty = spec
                .get("selector")
                .and_then(Value::as_object)
                .is_none_or(|s| s.is_empty());
            if empty {
                spec.insert("selector".into(), labels.clone());
            }
        }
        let meta = ensure_obj(obj, "metadata");
        let empty = meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(|s| s.is_empty());
        if empty && let Some(m) = meta.as_object_mut() {
            m.insert("labels".into(), labels);
        }
    }
    if let Some(spec) = spec_mut(obj) {
        default_val(spec, "replicas", json!(1));
        default_template_in(spec);
    }
}

fn default_deployment(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    default_val(spec, "replicas", json!(1));
    let strategy = spec
        .entry("strategy")
        .or_insert_with(|| Value::Object(Map::new()));
    if !strategy.is_object() {
        *strategy = Value::Object(Map::new());
    }
    if let Some(s) = strategy.as_object_mut() {
        default_str(s, "type", "RollingUpdate");
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = s
                .entry("rollingUpdate")
                .or_insert_with(|| Value::Object(Map::new()));
            if !ru.is_object() {
                *ru = Value::Object(Map::new());
            }
            if let Some(ru) = ru.as_object_mut() {
                default_val(ru, "maxUnavailable", json!("25%"));
                default_val(ru, "maxSurge", json!("25%"));
            }
        }
    }
    default_val(spec, "revisionHistoryLimit", json!(10));
    default_val(spec, "progressDeadlineSeconds", json!(600));
    default_template_in(spec);
}

fn default_replica_set(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    default_val(spec, "replicas", json!(1));
    default_template_in(spec);
}

fn default_daemon_set(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    let strategy = spec
        .entry("updateStrategy")
        .or_insert_with(|| Value::Object(Map::new()));
    if !strategy.is_object() {
        *strategy = Value::Object(Map::new());
    }
    if let Some(s) = strategy.as_object_mut() {
        default_str(s, "type", "RollingUpdate");
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
            let ru = s
                .entry("rollingUpdate")
                .or_insert_with(|| Value::Object(Map::new()));
            if !ru.is_object() {
                *ru = Value::Object(Map::new());
            }
            if let Some(ru) = ru.as_object_mut() {
                default_val(ru, "maxUnavailable", json!(1));
                default_val(ru, "maxSurge", json!(0));
            }
        }
    }
    default_val(spec, "revisionHistoryLimit", json!(10));
    default_template_in(spec);
}

fn default_stateful_set(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    default_str(spec, "podManagementPolicy", "OrderedReady");
    let strategy = spec
        .entry("updateStrategy")
        .or_insert_with(|| Value::Object(Map::new()));
    if !strategy.is_object() {
        *strategy = Value::Object(Map::new());
    }
    if let Some(s) = strategy.as_object_mut() {
        if str_of(s.get("type")).is_empty() {
            s.insert("type".into(), json!("RollingUpdate"));
            default_val(s, "rollingUpdate", json!({}));
        }
        if s.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            && let Some(ru) = s.get_mut("rollingUpdate").and_then(Value::as_object_mut)
        {
            default_val(ru, "partition", json!(0));
        }
    }
    let policy = spec
        .entry("persistentVolumeClaimRetentionPolicy")
        .or_insert_with(|| Value::Object(Map::new()));
    if !policy.is_object() {
        *policy = Value::Object(Map::new());
    }
    if let Some(p) = policy.as_object_mut() {
        default_str(p, "whenDeleted", "Retain");
        default_str(p, "whenScaled", "Retain");
    }
    default_val(spec, "replicas", json!(1));
    default_val(spec, "revisionHistoryLimit", json!(10));
    default_template_in(spec);
    for_each_obj_in(spec, "volumeClaimTemplates", |pvc| {
        default_pvc(pvc);
        if let Some(m) = pvc.as_object_mut() {
            // apps/v1 conversion fills the TypeMeta of the claim templates.
            default_str(m, "apiVersion", "v1");
            default_str(m, "kind", "PersistentVolumeClaim");
        }
    });
}

fn default_job_spec(spec: &mut Map<String, Value>) {
    if let Some(pfp) = spec
        .get_mut("podFailurePolicy")
        .and_then(Value::as_object_mut)
    {
        for_each_obj_in(pfp, "rules", |rule| {
            if let Some(r) = rule.as_object_mut() {
                for_each_obj_in(r, "onPodConditions", |c| {
                    if let Some(c) = c.as_object_mut() {
                        default_str(c, "status", "True");
                    }
                });
            }
        });
    }
    default_template_in(spec);
}

fn default_job(obj: &mut Value) {
    let template_labels = obj
        .pointer("/spec/template/metadata/labels")
        .filter(|l| l.is_object())
        .cloned();
    if let Some(spec) = spec_mut(obj) {
        if is_unset(spec, "completions") && is_unset(spec, "parallelism") {
            spec.insert("completions".into(), json!(1));
            spec.insert("parallelism".into(), json!(1));
        }
        default_val(spec, "parallelism", json!(1));
        if is_unset(spec, "backoffLimit") {
            let limit = if is_unset(spec, "backoffLimitPerIndex") {
                6
            } else {
                i64::from(i32::MAX)
            };
            spec.insert("backoffLimit".into(), json!(limit));
        }
        default_val(spec, "completionMode", json!("NonIndexed"));
        default_val(spec, "suspend", json!(false));
        let policy = if is_unset(spec, "podFailurePolicy") {
            "TerminatingOrFailed"
        } else {
            "Failed"
        };
        default_val(spec, "podReplacementPolicy", json!(policy));
        default_job_spec(spec);
    }
    if let Some(labels) = template_labels {
        let meta = ensure_obj(obj, "metadata");
        let empty = meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(|l| l.is_empty());
        if empty && let Some(m) = meta.as_object_mut() {
            m.insert("labels".into(), labels);
        }
    }
}

fn default_cron_job(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    default_str(spec, "concurrencyPolicy", "Allow");
    default_val(spec, "suspend", json!(false));
    default_val(spec, "successfulJobsHistoryLimit", json!(3));
    default_val(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(js) = spec
        .get_mut("jobTemplate")
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        default_job_spec(js);
    }
}

// ---------------------------------------------------------------------------------------------
// Core kinds other than pods.
// ---------------------------------------------------------------------------------------------

fn default_service(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    default_str(spec, "sessionAffinity", "None");
    match str_of(spec.get("sessionAffinity")) {
        "None" => {
            spec.remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.insert(
                    "sessionAffinityConfig".into(),
                    json!({"clientIP": {"timeoutSeconds": 10800}}),
                );
            }
        }
        _ => {}
    }
    default_str(spec, "type", "ClusterIP");
    for_each_obj_in(spec, "ports", |p| {
        if let Some(p) = p.as_object_mut() {
            default_str(p, "protocol", "TCP");
            let unset = match p.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.is_empty(),
                Some(v) => v.as_i64() == Some(0),
            };
            if unset {
                let port = p.get("port").cloned().unwrap_or(json!(0));
                p.insert("targetPort".into(), port);
            }
        }
    });
    let ty = str_of(spec.get("type")).to_string();
    let has_external_ips = spec
        .get("externalIPs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let externally_accessible =
        ty == "LoadBalancer" || ty == "NodePort" || (ty == "ClusterIP" && has_external_ips);
    if externally_accessible {
        default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(ty.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        default_val(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        default_val(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if ty != "ExternalName" {
        normalize_cluster_ips(spec, None);
        default_ip_families(spec);
    }
    if ty == "LoadBalancer"
        && let Some(ingress) = obj
            .pointer_mut("/status/loadBalancer/ingress")
            .and_then(Value::as_array_mut)
    {
        for ing in ingress.iter_mut().filter_map(Value::as_object_mut) {
            if !str_of(ing.get("ip")).is_empty() {
                default_val(ing, "ipMode", json!("VIP"));
            }
        }
    }
}

/// The IP family fields the Service allocator fills on a single-stack IPv4 cluster
/// (`initIPFamilyFields`).
fn default_ip_families(spec: &mut Map<String, Value>) {
    let family_of = |ip: &str| -> Option<&'static str> {
        match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(_)) => Some("IPv4"),
            Ok(std::net::IpAddr::V6(_)) => Some("IPv6"),
            Err(_) => None,
        }
    };
    let cluster_ip = str_of(spec.get("clusterIP")).to_string();
    let has_selector = spec
        .get("selector")
        .and_then(Value::as_object)
        .is_some_and(|s| !s.is_empty());
    let families_empty = spec
        .get("ipFamilies")
        .and_then(Value::as_array)
        .is_none_or(|a| a.is_empty());
    if cluster_ip == "None" && !has_selector {
        default_val(spec, "ipFamilyPolicy", json!("RequireDualStack"));
        if families_empty {
            spec.insert("ipFamilies".into(), json!(["IPv4"]));
        }
        let policy = str_of(spec.get("ipFamilyPolicy")).to_string();
        if let Some(f) = spec.get_mut("ipFamilies").and_then(Value::as_array_mut)
            && f.len() < 2
            && policy != "SingleStack"
        {
            let other = if f.first().and_then(Value::as_str) == Some("IPv6") {
                "IPv4"
            } else {
                "IPv6"
            };
            f.push(json!(other));
        }
        return;
    }
    let ips = string_list(spec.get("clusterIPs"));
    if families_empty {
        let mut families: Vec<&str> = ips.iter().filter_map(|ip| family_of(ip)).collect();
        if families.is_empty() {
            families.push("IPv4");
        }
        spec.insert("ipFamilies".into(), json!(families));
    }
    if is_unset(spec, "ipFamilyPolicy") {
        let n_families = spec
            .get("ipFamilies")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let policy = if n_families == 2 || ips.len() == 2 {
            "RequireDualStack"
        } else {
            "SingleStack"
        };
        spec.insert("ipFamilyPolicy".into(), json!(policy));
    }
}

fn default_namespace(obj: &mut Value) {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let creating = obj
        .get("metadata")
        .is_none_or(|m| m.get("uid").is_none() && m.get("creationTimestamp").is_none());
    if !name.is_empty() {
        let meta = ensure_obj(obj, "metadata");
        let labels = ensure_obj(meta, "labels");
        if let Some(l) = labels.as_object_mut() {
            l.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
    }
    if creating {
        // The namespace strategy adds the `kubernetes` finalizer on create only (it may be
        // removed later through the finalize subresource).
        let spec = ensure_obj(obj, "spec");
        if let Some(s) = spec.as_object_mut() {
            let finalizers = s
                .entry("finalizers")
                .or_insert_with(|| Value::Array(Vec::new()));
            if !finalizers.is_array() {
                *finalizers = Value::Array(Vec::new());
            }
            if let Some(f) = finalizers.as_array_mut()
                && !f.iter().any(|x| x.as_str() == Some("kubernetes"))
            {
                f.push(json!("kubernetes"));
            }
        }
    }
    let status = ensure_obj(obj, "status");
    if let Some(s) = status.as_object_mut() {
        default_str(s, "phase", "Active");
    }
}

fn default_node(obj: &mut Value) {
    let Some(status) = get_obj_mut(obj, "status").and_then(Value::as_object_mut) else {
        return;
    };
    if is_unset(status, "allocatable")
        && let Some(cap) = status.get("capacity").filter(|c| c.is_object()).cloned()
    {
        status.insert("allocatable".into(), cap);
    }
    default_resource_list(status.get_mut("capacity"));
    default_resource_list(status.get_mut("allocatable"));
}

fn default_secret(obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    default_str(m, "type", "Opaque");
    // The v1 → internal conversion merges `stringData` into `data`; Kubernetes never stores it.
    if let Some(Value::Object(string_data)) = m.remove("stringData") {
        let data = m.entry("data").or_insert_with(|| Value::Object(Map::new()));
        if !data.is_object() {
            *data = Value::Object(Map::new());
        }
        if let Some(d) = data.as_object_mut() {
            for (k, v) in string_data {
                let text = match &v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                d.insert(k, Value::String(base64_encode(text.as_bytes())));
            }
        }
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn default_endpoints(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        for_each_obj_in(m, "subsets", |ss| {
            if let Some(ss) = ss.as_object_mut() {
                for_each_obj_in(ss, "ports", |p| {
                    if let Some(p) = p.as_object_mut() {
                        default_str(p, "protocol", "TCP");
                    }
                });
            }
        });
    }
}

fn default_pvc_spec(spec: &mut Map<String, Value>) {
    default_val(spec, "volumeMode", json!("Filesystem"));
    if let Some(res) = spec.get_mut("resources").and_then(Value::as_object_mut) {
        default_resource_list(res.get_mut("limits"));
        default_resource_list(res.get_mut("requests"));
    }
}

fn default_pvc(obj: &mut Value) {
    if let Some(spec) = spec_mut(obj) {
        default_pvc_spec(spec);
    }
    let status = ensure_obj(obj, "status");
    if let Some(s) = status.as_object_mut() {
        default_str(s, "phase", "Pending");
        default_resource_list(s.get_mut("capacity"));
        default_resource_list(s.get_mut("allocatedResources"));
    }
}

fn default_pv(obj: &mut Value) {
    if let Some(spec) = spec_mut(obj) {
        default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
        default_val(spec, "volumeMode", json!("Filesystem"));
        default_resource_list(spec.get_mut("capacity"));
        if let Some(hp) = spec.get_mut("hostPath").and_then(Value::as_object_mut) {
            default_val(hp, "type", json!(""));
        }
        if let Some(r) = spec.get_mut("rbd").and_then(Value::as_object_mut) {
            default_str(r, "pool", "rbd");
            default_str(r, "user", "admin");
            default_str(r, "keyring", "/etc/ceph/keyring");
        }
        if let Some(i) = spec.get_mut("iscsi").and_then(Value::as_object_mut) {
            default_str(i, "iscsiInterface", "default");
        }
        if let Some(a) = spec.get_mut("azureDisk").and_then(Value::as_object_mut) {
            default_azure_disk(a);
        }
        if let Some(s) = spec.get_mut("scaleIO").and_then(Value::as_object_mut) {
            default_str(s, "storageMode", "ThinProvisioned");
            default_str(s, "fsType", "xfs");
        }
    }
    let status = ensure_obj(obj, "status");
    if let Some(s) = status.as_object_mut() {
        default_str(s, "phase", "Pending");
    }
}

fn default_resource_quota(obj: &mut Value) {
    if let Some(spec) = get_obj_mut(obj, "spec").and_then(Value::as_object_mut) {
        default_resource_list(spec.get_mut("hard"));
    }
    if let Some(status) = get_obj_mut(obj, "status").and_then(Value::as_object_mut) {
        default_resource_list(status.get_mut("hard"));
        default_resource_list(status.get_mut("used"));
    }
}

fn default_limit_range(obj: &mut Value) {
    let Some(spec) = get_obj_mut(obj, "spec").and_then(Value::as_object_mut) else {
        return;
    };
    for_each_obj_in(spec, "limits", |item| {
        let Some(item) = item.as_object_mut() else {
            return;
        };
        if str_of(item.get("type")) == "Container" {
            let max = item.get("max").and_then(Value::as_object).cloned();
            let min = item.get("min").and_then(Value::as_object).cloned();
            let mut default = item
                .get("default")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let mut default_request = item
                .get("defaultRequest")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (k, v) in max.into_iter().flatten() {
                default.entry(k).or_insert(v);
            }
            for (k, v) in default.clone() {
                default_request.entry(k).or_insert(v);
            }
            for (k, v) in min.into_iter().flatten() {
                default_request.entry(k).or_insert(v);
            }
            item.insert("default".into(), Value::Object(default));
            item.insert("defaultRequest".into(), Value::Object(default_request));
        }
        for key in [
            "max",
            "min",
            "default",
            "defaultRequest",
            "maxLimitRequestRatio",
        ] {
            default_resource_list(item.get_mut(key));
        }
    });
}

// ---------------------------------------------------------------------------------------------
// Other groups.
// ---------------------------------------------------------------------------------------------

fn default_hpa(obj: &mut Value) {
    let v1 = obj.get("apiVersion").and_then(Value::as_str) == Some("autoscaling/v1");
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    default_val(spec, "minReplicas", json!(1));
    if v1 {
        return;
    }
    let no_metrics = spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(|m| m.is_empty());
    if no_metrics {
        spec.insert(
            "metrics".into(),
            json!([{
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            }]),
        );
    }
    for_each_obj_in(spec, "metrics", |m| {
        for (source, target_keys) in [
            ("object", &["target"][..]),
            ("pods", &["target"][..]),
            ("resource", &["target"][..]),
            ("containerResource", &["target"][..]),
            ("external", &["target"][..]),
        ] {
            for tk in target_keys {
                if let Some(t) = m
                    .get_mut(source)
                    .and_then(|s| s.get_mut(*tk))
                    .and_then(Value::as_object_mut)
                {
                    for q in ["value", "averageValue"] {
                        if let Some(q) = t.get_mut(q) {
                            canonicalize_in_place(q, false);
                        }
                    }
                }
            }
        }
    });
    if let Some(behavior) = spec.get_mut("behavior").and_then(Value::as_object_mut) {
        let up = json!({
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 15},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        });
        let down = json!({
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        });
        for (key, defaults) in [("scaleUp", up), ("scaleDown", down)] {
            let mut rules = defaults;
            if let (Some(user), Some(r)) = (
                behavior.get(key).and_then(Value::as_object),
                rules.as_object_mut(),
            ) {
                for field in [
                    "selectPolicy",
                    "stabilizationWindowSeconds",
                    "policies",
                    "tolerance",
                ] {
                    if let Some(v) = user.get(field).filter(|v| !v.is_null()) {
                        r.insert(field.into(), v.clone());
                    }
                }
            }
            behavior.insert(key.into(), rules);
        }
    }
}

fn default_network_policy(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    for (dir, peers) in [("ingress", "ports"), ("egress", "ports")] {
        for_each_obj_in(spec, dir, |rule| {
            if let Some(rule) = rule.as_object_mut() {
                for_each_obj_in(rule, peers, |p| {
                    if let Some(p) = p.as_object_mut() {
                        default_val(p, "protocol", json!("TCP"));
                    }
                });
            }
        });
    }
    let no_types = spec
        .get("policyTypes")
        .and_then(Value::as_array)
        .is_none_or(|t| t.is_empty());
    if no_types {
        let has_egress = spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty());
        let types = if has_egress {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
        spec.insert("policyTypes".into(), types);
    }
}

fn default_ingress_class(obj: &mut Value) {
    if let Some(p) = obj
        .pointer_mut("/spec/parameters")
        .and_then(Value::as_object_mut)
    {
        default_val(p, "scope", json!("Cluster"));
    }
}

fn default_endpoint_slice(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        for_each_obj_in(m, "ports", |p| {
            if let Some(p) = p.as_object_mut() {
                default_val(p, "name", json!(""));
                default_val(p, "protocol", json!("TCP"));
            }
        });
    }
}

fn default_role_binding(obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    if let Some(r) = m.get_mut("roleRef").and_then(Value::as_object_mut) {
        default_str(r, "apiGroup", "rbac.authorization.k8s.io");
    }
    for_each_obj_in(m, "subjects", |s| {
        if let Some(s) = s.as_object_mut() {
            let kind = str_of(s.get("kind")).to_string();
            if matches!(kind.as_str(), "User" | "Group") {
                default_str(s, "apiGroup", "rbac.authorization.k8s.io");
            }
        }
    });
}

fn default_storage_class(obj: &mut Value) {
    if let Some(m) = obj.as_object_mut() {
        default_val(m, "reclaimPolicy", json!("Delete"));
        default_val(m, "volumeBindingMode", json!("Immediate"));
    }
}

fn default_csi_driver(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    default_val(spec, "attachRequired", json!(true));
    default_val(spec, "podInfoOnMount", json!(false));
    default_val(spec, "storageCapacity", json!(false));
    default_val(spec, "fsGroupPolicy", json!("ReadWriteOnceWithFSType"));
    let no_modes = spec
        .get("volumeLifecycleModes")
        .and_then(Value::as_array)
        .is_none_or(|m| m.is_empty());
    if no_modes {
        spec.insert("volumeLifecycleModes".into(), json!(["Persistent"]));
    }
    default_val(spec, "requiresRepublish", json!(false));
    default_val(spec, "seLinuxMount", json!(false));
}

fn default_webhook_configuration(obj: &mut Value, mutating: bool) {
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    for_each_obj_in(m, "webhooks", |w| {
        let Some(w) = w.as_object_mut() else {
            return;
        };
        default_val(w, "failurePolicy", json!("Fail"));
        default_val(w, "matchPolicy", json!("Equivalent"));
        default_val(w, "namespaceSelector", json!({}));
        default_val(w, "objectSelector", json!({}));
        default_val(w, "timeoutSeconds", json!(10));
        if mutating {
            default_val(w, "reinvocationPolicy", json!("Never"));
        }
        for_each_obj_in(w, "rules", |r| {
            if let Some(r) = r.as_object_mut() {
                default_val(r, "scope", json!("*"));
            }
        });
        if let Some(svc) = w
            .get_mut("clientConfig")
            .and_then(|c| c.get_mut("service"))
            .and_then(Value::as_object_mut)
        {
            default_val(svc, "port", json!(443));
        }
    });
}

fn default_match_resources(mr: &mut Value) {
    let Some(m) = mr.as_object_mut() else {
        return;
    };
    default_val(m, "matchPolicy", json!("Equivalent"));
    default_val(m, "namespaceSelector", json!({}));
    default_val(m, "objectSelector", json!({}));
    for key in ["resourceRules", "excludeResourceRules"] {
        for_each_obj_in(m, key, |r| {
            if let Some(r) = r.as_object_mut() {
                default_val(r, "scope", json!("*"));
            }
        });
    }
}

fn default_validating_admission_policy(obj: &mut Value) {
    let Some(spec) = spec_mut(obj) else {
        return;
    };
    default_val(spec, "failurePolicy", json!("Fail"));
    if let Some(mc) = spec.get_mut("matchConstraints").filter(|v| v.is_object()) {
        default_match_resources(mc);
    }
}

fn default_crd(obj: &mut Value) {
    let storage_version = obj
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .and_then(|vs| {
            vs.iter()
                .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        })
        .and_then(|v| v.get("name"))
        .cloned();
    if let Some(spec) = spec_mut(obj) {
        if let Some(names) = spec.get_mut("names").and_then(Value::as_object_mut) {
            let kind = str_of(names.get("kind")).to_string();
            default_str(names, "singular", &kind.to_lowercase());
            if !kind.is_empty() {
                default_str(names, "listKind", &format!("{kind}List"));
            }
        }
        default_val(spec, "conversion", json!({"strategy": "None"}));
        if let Some(svc) = spec
            .get_mut("conversion")
            .and_then(|c| c.get_mut("webhook"))
            .and_then(|w| w.get_mut("clientConfig"))
            .and_then(|c| c.get_mut("service"))
            .and_then(Value::as_object_mut)
        {
            default_val(svc, "port", json!(443));
        }
    }
    if let Some(v) = storage_version {
        let status = ensure_obj(obj, "status");
        if let Some(s) = status.as_object_mut() {
            let empty = s
                .get("storedVersions")
                .and_then(Value::as_array)
                .is_none_or(|a| a.is_empty());
            if empty {
                s.insert("storedVersions".into(), json!([v]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaulted(group: &str, kind: &str, mut obj: Value) -> Value {
        apply_defaults(group, kind, &mut obj);
        // Idempotence: a second pass changes nothing.
        let mut again = obj.clone();
        apply_defaults(group, kind, &mut again);
        assert_eq!(obj, again, "defaults of {kind} are not idempotent");
        obj
    }

    /// What `kubectl get -o yaml` shows for a defaulted pod template's spec.
    fn template_spec_reference(image_pull_policy: &str, restart_policy: &str) -> Value {
        json!({
            "containers": [{
                "name": "nginx",
                "image": if image_pull_policy == "Always" { "nginx" } else { "nginx:1.27" },
                "imagePullPolicy": image_pull_policy,
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
            }],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": restart_policy,
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30,
        })
    }

    #[test]
    fn deployment_matches_kubernetes() {
        let d = defaulted(
            "apps",
            "Deployment",
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default"},
                "spec": {
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                            "ports": [{"containerPort": 80}]}]},
                    },
                },
            }),
        );
        assert_eq!(
            d["spec"],
            json!({
                "progressDeadlineSeconds": 600,
                "replicas": 1,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                    "type": "RollingUpdate",
                },
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": template_spec_reference("IfNotPresent", "Always"),
                },
            })
        );
    }

    #[test]
    fn recreate_strategy_gets_no_rolling_update() {
        let d = defaulted(
            "apps",
            "Deployment",
            json!({"spec": {"strategy": {"type": "Recreate"}, "template": {"spec": {}}}}),
        );
        assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn pod_matches_kubernetes() {
        let p = defaulted(
            "",
            "Pod",
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {
                    "containers": [{
                        "name": "app", "image": "busybox",
                        "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                        "resources": {"limits": {"cpu": "0.5", "memory": "128Mi"}},
                        "livenessProbe": {"httpGet": {"port": 8080}},
                        "readinessProbe": {"grpc": {"port": 9090}, "periodSeconds": 5},
                        "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}],
                    }],
                    "volumes": [
                        {"name": "cfg", "configMap": {"name": "c"}},
                        {"name": "scratch"},
                        {"name": "tok", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
                    ],
                },
            }),
        );
        let spec = &p["spec"];
        assert_eq!(spec["enableServiceLinks"], json!(true));
        assert_eq!(spec["dnsPolicy"], "ClusterFirst");
        assert_eq!(spec["restartPolicy"], "Always");
        assert_eq!(spec["schedulerName"], "default-scheduler");
        assert_eq!(spec["terminationGracePeriodSeconds"], 30);
        assert_eq!(spec["securityContext"], json!({}));
        assert!(spec.get("priority").is_none());
        assert!(spec.get("preemptionPolicy").is_none());
        let c = &spec["containers"][0];
        assert_eq!(c["imagePullPolicy"], "Always");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["terminationMessagePolicy"], "File");
        assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
        assert_eq!(
            c["resources"],
            json!({"limits": {"cpu": "500m", "memory": "128Mi"},
                   "requests": {"cpu": "500m", "memory": "128Mi"}})
        );
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
                   "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                   "failureThreshold": 3})
        );
        assert_eq!(c["readinessProbe"]["periodSeconds"], 5);
        assert_eq!(c["readinessProbe"]["grpc"]["service"], "");
        assert_eq!(
            spec["volumes"],
            json!([
                {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "tok", "projected": {"defaultMode": 420, "sources": [
                    {"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]}},
            ])
        );
    }

    #[test]
    fn pod_host_network_defaults_host_ports() {
        let p = defaulted(
            "",
            "Pod",
            json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "x:1",
                "ports": [{"containerPort": 8080}]}]}}),
        );
        assert_eq!(p["spec"]["containers"][0]["ports"][0]["hostPort"], 8080);
    }

    #[test]
    fn image_pull_policy_follows_tag() {
        for (image, tag) in [
            ("nginx", Some("latest")),
            ("nginx:latest", Some("latest")),
            ("nginx:1.27", Some("1.27")),
            ("registry.example.com:5000/team/app", Some("latest")),
            ("registry.example.com:5000/team/app:v2", Some("v2")),
            (
                "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                None,
            ),
            ("Nginx", None),
            ("", None),
        ] {
            assert_eq!(image_tag(image).as_deref(), tag, "{image}");
        }
    }

    #[test]
    fn service_matches_kubernetes() {
        let s = defaulted(
            "",
            "Service",
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"},
                "ports": [{"port": 80}, {"name": "https", "port": 443, "targetPort": "https"}]}}),
        );
        assert_eq!(
            s["spec"],
            json!({
                "internalTrafficPolicy": "Cluster",
                "ipFamilies": ["IPv4"],
                "ipFamilyPolicy": "SingleStack",
                "ports": [
                    {"port": 80, "protocol": "TCP", "targetPort": 80},
                    {"name": "https", "port": 443, "protocol": "TCP", "targetPort": "https"},
                ],
                "selector": {"app": "web"},
                "sessionAffinity": "None",
                "type": "ClusterIP",
            })
        );
        let lb = defaulted(
            "",
            "Service",
            json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.10",
                "ports": [{"port": 53, "protocol": "UDP"}]}}),
        );
        assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
        assert_eq!(lb["spec"]["clusterIPs"], json!(["10.96.0.10"]));
        let ext = defaulted(
            "",
            "Service",
            json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}),
        );
        assert!(ext["spec"].get("ipFamilies").is_none());
        assert!(ext["spec"].get("internalTrafficPolicy").is_none());
        let headless = defaulted(
            "",
            "Service",
            json!({"spec": {"clusterIP": "None", "ports": [{"port": 80}]}}),
        );
        assert_eq!(headless["spec"]["ipFamilyPolicy"], "RequireDualStack");
        assert_eq!(headless["spec"]["ipFamilies"], json!(["IPv4", "IPv6"]));
        assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
        let affinity = defaulted(
            "",
            "Service",
            json!({"spec": {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]}}),
        );
        assert_eq!(
            affinity["spec"]["sessionAffinityConfig"],
            json!({"clientIP": {"timeoutSeconds": 10800}})
        );
    }

    #[test]
    fn job_matches_kubernetes() {
        let j = defaulted(
            "batch",
            "Job",
            json!({"metadata": {"name": "pi"}, "spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "pi", "image": "perl:5.34.0"}]}}}}),
        );
        let spec = &j["spec"];
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert!(spec.get("manualSelector").is_none());
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
        assert_eq!(spec["template"]["spec"]["dnsPolicy"], "ClusterFirst");

        let parallel = defaulted("batch", "Job", json!({"spec": {"parallelism": 3}}));
        assert!(parallel["spec"].get("completions").is_none());
        let indexed = defaulted(
            "batch",
            "Job",
            json!({"spec": {"backoffLimitPerIndex": 1, "podFailurePolicy": {"rules": [
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}}}),
        );
        assert_eq!(indexed["spec"]["backoffLimit"], 2147483647);
        assert_eq!(indexed["spec"]["podReplacementPolicy"], "Failed");
        assert_eq!(
            indexed["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
            "True"
        );
    }

    #[test]
    fn job_selector_generation() {
        let mut j = json!({"metadata": {"name": "pi"}, "spec": {"template": {"spec": {}}}});
        generate_job_selector(&mut j, "uid-1");
        apply_defaults("batch", "Job", &mut j);
        let labels = json!({
            "batch.kubernetes.io/controller-uid": "uid-1",
            "batch.kubernetes.io/job-name": "pi",
            "controller-uid": "uid-1",
            "job-name": "pi",
        });
        assert_eq!(j["spec"]["template"]["metadata"]["labels"], labels);
        assert_eq!(j["metadata"]["labels"], labels);
        assert_eq!(
            j["spec"]["selector"],
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "uid-1"}})
        );
        let mut manual = json!({"spec": {"manualSelector": true}});
        generate_job_selector(&mut manual, "u");
        assert!(manual["spec"].get("selector").is_none());
    }

    #[test]
    fn cron_job_matches_kubernetes() {
        let c = defaulted(
            "batch",
            "CronJob",
            json!({"spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {
                "spec": {"restartPolicy": "OnFailure",
                         "containers": [{"name": "hello", "image": "busybox:1.28"}]}}}}}}),
        );
        let spec = &c["spec"];
        assert_eq!(spec["concurrencyPolicy"], "Allow");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["successfulJobsHistoryLimit"], 3);
        assert_eq!(spec["failedJobsHistoryLimit"], 1);
        let job_spec = &spec["jobTemplate"]["spec"];
        // The job template gets no Job defaults, only pod template ones.
        assert!(job_spec.get("backoffLimit").is_none());
        assert!(job_spec.get("completions").is_none());
        assert_eq!(
            job_spec["template"]["spec"]["schedulerName"],
            "default-scheduler"
        );
        assert_eq!(
            job_spec["template"]["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
    }

    #[test]
    fn statefulset_daemonset_replicaset() {
        let s = defaulted(
            "apps",
            "StatefulSet",
            json!({"spec": {"serviceName": "web", "template": {"spec": {}},
                "volumeClaimTemplates": [{"metadata": {"name": "www"}, "spec": {
                    "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}),
        );
        let spec = &s["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            spec["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(
            spec["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert!(spec.get("minReadySeconds").is_none());
        let vct = &spec["volumeClaimTemplates"][0];
        assert_eq!(vct["apiVersion"], "v1");
        assert_eq!(vct["kind"], "PersistentVolumeClaim");
        assert_eq!(vct["spec"]["volumeMode"], "Filesystem");
        assert_eq!(vct["status"], json!({"phase": "Pending"}));

        let d = defaulted(
            "apps",
            "DaemonSet",
            json!({"spec": {"template": {"spec": {}}}}),
        );
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        let r = defaulted("apps", "ReplicaSet", json!({"spec": {}}));
        assert_eq!(r["spec"]["replicas"], 1);
    }

    #[test]
    fn namespace_secret_pvc_priorityclass() {
        let ns = defaulted("", "Namespace", json!({"metadata": {"name": "team-a"}}));
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "team-a"
        );
        // Not re-added on updates of an existing namespace.
        let existing = defaulted(
            "",
            "Namespace",
            json!({"metadata": {"name": "a", "uid": "u"}, "spec": {}, "status": {"phase": "Terminating"}}),
        );
        assert!(existing["spec"].get("finalizers").is_none());
        assert_eq!(existing["status"]["phase"], "Terminating");

        let s = defaulted(
            "",
            "Secret",
            json!({"stringData": {"user": "admin"}, "data": {"x": "eQ=="}}),
        );
        assert_eq!(s["type"], "Opaque");
        assert_eq!(s["data"], json!({"x": "eQ==", "user": "YWRtaW4="}));
        assert!(s.get("stringData").is_none());

        let pvc = defaulted(
            "",
            "PersistentVolumeClaim",
            json!({"spec": {"resources": {"requests": {"storage": "1024Mi"}}}}),
        );
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pvc["spec"]["resources"]["requests"]["storage"], "1Gi");
        assert_eq!(pvc["status"]["phase"], "Pending");

        let pc = defaulted("scheduling.k8s.io", "PriorityClass", json!({"value": 10}));
        assert_eq!(pc["preemptionPolicy"], "PreemptLowerPriority");
    }

    #[test]
    fn hpa_and_crd_and_slices() {
        let h = defaulted(
            "autoscaling",
            "HorizontalPodAutoscaler",
            json!({"apiVersion": "autoscaling/v2", "spec": {"maxReplicas": 5,
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
        );
        assert_eq!(h["spec"]["minReplicas"], 1);
        assert_eq!(
            h["spec"]["metrics"],
            json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}])
        );
        assert_eq!(
            h["spec"]["behavior"]["scaleDown"],
            json!({"selectPolicy": "Max", "stabilizationWindowSeconds": 60,
                "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]})
        );
        assert_eq!(
            h["spec"]["behavior"]["scaleUp"]["stabilizationWindowSeconds"],
            0
        );
        assert_eq!(
            h["spec"]["behavior"]["scaleUp"]["policies"][0],
            json!({"type": "Pods", "value": 4, "periodSeconds": 15})
        );

        let crd = defaulted(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            json!({"spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"},
                "scope": "Namespaced",
                "versions": [{"name": "v1", "served": true, "storage": true}]}}),
        );
        assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
        assert_eq!(crd["spec"]["names"]["singular"], "widget");
        assert_eq!(crd["spec"]["names"]["listKind"], "WidgetList");
        assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));

        let es = defaulted(
            "discovery.k8s.io",
            "EndpointSlice",
            json!({"addressType": "IPv4", "ports": [{"port": 80}]}),
        );
        assert_eq!(
            es["ports"][0],
            json!({"port": 80, "name": "", "protocol": "TCP"})
        );
        let ep = defaulted(
            "",
            "Endpoints",
            json!({"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}),
        );
        assert_eq!(ep["subsets"][0]["ports"][0]["protocol"], "TCP");
        let rb = defaulted(
            "rbac.authorization.k8s.io",
            "RoleBinding",
            json!({"roleRef": {"kind": "Role", "name": "r"},
                "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]}),
        );
        assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
        assert!(rb["subjects"][1].get("apiGroup").is_none());
    }

    #[test]
    fn service_update_keeps_allocated_values() {
        let old = json!({"spec": {"type": "NodePort", "clusterIP": "10.96.0.7",
            "clusterIPs": ["10.96.0.7"],
            "ports": [{"name": "http", "port": 80, "nodePort": 30080}]}});
        let mut new = json!({"spec": {"type": "NodePort",
            "ports": [{"name": "http", "port": 80}]}});
        prepare_service_update(&mut new, &old);
        assert_eq!(new["spec"]["clusterIP"], "10.96.0.7");
        assert_eq!(new["spec"]["clusterIPs"], json!(["10.96.0.7"]));
        assert_eq!(new["spec"]["ports"][0]["nodePort"], 30080);
    }
}
