//! Server-side `Table` output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), as
//! `kubectl get` asks for it.
//!
//! The columns and cells follow kube-apiserver v1.33: the printers of
//! `pkg/printers/internalversion/printers.go` for built-in resources (always generated with
//! `Wide: true`, as the apiserver's table convertor does, so rows carry the priority-1 cells
//! too), the CRD table convertor (`additionalPrinterColumns`) for custom resources, and the
//! apiserver's `DefaultTableConvertor` (`Name`, `Created At`) for everything else.

use berth_apiextensions::{PrinterColumn, human_duration};
use serde_json::{Map, Value, json};

/// The `includeObject` query parameter of a Table request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// `None`: rows carry `"object": null`.
    None,
    /// `Metadata` (the default): rows carry a `meta.k8s.io/v1` `PartialObjectMetadata`.
    #[default]
    Metadata,
    /// `Object`: rows carry the whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter; an absent or empty value is `Metadata`.
    /// Any other value is an error (Kubernetes answers 400 with this message's shape).
    pub fn parse(v: Option<&str>) -> Result<IncludeObject, String> {
        match v.unwrap_or("") {
            "" | "Metadata" => Ok(IncludeObject::Metadata),
            "None" => Ok(IncludeObject::None),
            "Object" => Ok(IncludeObject::Object),
            other => Err(format!(
                "includeObject: Unsupported value: \"{other}\": supported values: \"Metadata\", \"None\", \"Object\""
            )),
        }
    }
}

/// `duration.HumanDuration` of Kubernetes (ages in `kubectl get`).
pub fn human(d: jiff::SignedDuration) -> String {
    human_duration(d)
}

// ---------------------------------------------------------------------------------------------
// Columns.

#[derive(Debug, Clone, Copy)]
struct Col {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    /// A key of [`doc`] or, when no such key exists, the description itself.
    desc: &'static str,
    priority: i32,
}

const fn c(name: &'static str, ty: &'static str, desc: &'static str) -> Col {
    Col {
        name,
        ty,
        format: "",
        desc,
        priority: 0,
    }
}

const fn w(name: &'static str, ty: &'static str, desc: &'static str) -> Col {
    Col {
        name,
        ty,
        format: "",
        desc,
        priority: 1,
    }
}

const NAME: Col = Col {
    name: "Name",
    ty: "string",
    format: "name",
    desc: "name",
    priority: 0,
};
const AGE: Col = c("Age", "string", "creationTimestamp");
const CONTAINERS: Col = w(
    "Containers",
    "string",
    "Names of each container in the template.",
);
const IMAGES: Col = w(
    "Images",
    "string",
    "Images referenced by each container in the template.",
);

impl Col {
    fn to_json(self) -> Value {
        let description = doc(self.desc).unwrap_or(self.desc);
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": description,
            "priority": self.priority,
        })
    }
}

/// The printer columns of a built-in resource, `None` when Kubernetes has no printer for it.
fn builtin_columns(group: &str, resource: &str) -> Option<Vec<Col>> {
    let cols = match (group, resource) {
        ("", "pods") => vec![
            NAME,
            c(
                "Ready",
                "string",
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            c(
                "Status",
                "string",
                "The aggregate status of the containers in this pod.",
            ),
            c(
                "Restarts",
                "string",
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            AGE,
            w("IP", "string", "podIP"),
            w("Node", "string", "nodeName"),
            w("Nominated Node", "string", "nominatedNodeName"),
            w("Readiness Gates", "string", "readinessGates"),
        ],
        ("", "podtemplates") => vec![
            NAME,
            c(
                "Containers",
                "string",
                "Names of each container in the template.",
            ),
            c(
                "Images",
                "string",
                "Images referenced by each container in the template.",
            ),
            c("Pod Labels", "string", "The labels for the pod template."),
        ],
        ("", "replicationcontrollers") => vec![
            NAME,
            c("Desired", "integer", "rcSpecReplicas"),
            c("Current", "integer", "rcStatusReplicas"),
            c("Ready", "integer", "rcStatusReady"),
            AGE,
            CONTAINERS,
            IMAGES,
            w("Selector", "string", "rcSelector"),
        ],
        ("apps", "replicasets") => vec![
            NAME,
            c("Desired", "integer", "rsSpecReplicas"),
            c("Current", "integer", "rsStatusReplicas"),
            c("Ready", "integer", "rsStatusReady"),
            AGE,
            CONTAINERS,
            IMAGES,
            w("Selector", "string", "rsSelector"),
        ],
        ("apps", "daemonsets") => vec![
            NAME,
            c("Desired", "integer", "dsDesired"),
            c("Current", "integer", "dsCurrent"),
            c("Ready", "integer", "dsReady"),
            c("Up-to-date", "integer", "dsUpdated"),
            c("Available", "integer", "dsAvailable"),
            c("Node Selector", "string", "nodeSelector"),
            AGE,
            CONTAINERS,
            IMAGES,
            w("Selector", "string", "dsSelector"),
        ],
        ("batch", "jobs") => vec![
            NAME,
            c("Status", "string", "Status of the job."),
            c("Completions", "string", "jobSucceeded"),
            c("Duration", "string", "Time required to complete the job."),
            AGE,
            CONTAINERS,
            IMAGES,
            w("Selector", "string", "jobSelector"),
        ],
        ("batch", "cronjobs") => vec![
            NAME,
            c("Schedule", "string", "cjSchedule"),
            c("Timezone", "string", "cjTimeZone"),
            c("Suspend", "boolean", "cjSuspend"),
            c("Active", "integer", "cjActive"),
            c("Last Schedule", "string", "cjLastSchedule"),
            AGE,
            CONTAINERS,
            IMAGES,
            w("Selector", "string", "jobSelector"),
        ],
        ("", "services") => vec![
            NAME,
            c("Type", "string", "svcType"),
            c("Cluster-IP", "string", "svcClusterIP"),
            c("External-IP", "string", "svcExternalIPs"),
            c("Port(s)", "string", "svcPorts"),
            AGE,
            w("Selector", "string", "svcSelector"),
        ],
        ("networking.k8s.io", "ingresses") => vec![
            NAME,
            c(
                "Class",
                "string",
                "The name of the IngressClass resource that should be used for additional configuration",
            ),
            c(
                "Hosts",
                "string",
                "Hosts that incoming requests are matched against before the ingress rule",
            ),
            c(
                "Address",
                "string",
                "Address is a list containing ingress points for the load-balancer",
            ),
            c("Ports", "string", "Ports of TLS configurations that open"),
            AGE,
        ],
        ("networking.k8s.io", "ingressclasses") => vec![
            NAME,
            c(
                "Controller",
                "string",
                "Controller that is responsible for handling this class",
            ),
            c(
                "Parameters",
                "string",
                "A reference to a resource with additional parameters",
            ),
            AGE,
        ],
        ("apps", "statefulsets") => vec![
            NAME,
            c("Ready", "string", "Number of the pod with ready state"),
            AGE,
            CONTAINERS,
            IMAGES,
        ],
        ("", "endpoints") => vec![NAME, c("Endpoints", "string", "epSubsets"), AGE],
        ("", "nodes") => vec![
            NAME,
            c("Status", "string", "The status of the node"),
            c("Roles", "string", "The roles of the node"),
            AGE,
            c("Version", "string", "kubeletVersion"),
            w("Internal-IP", "string", "nodeAddresses"),
            w("External-IP", "string", "nodeAddresses"),
            w("OS-Image", "string", "osImage"),
            w("Kernel-Version", "string", "kernelVersion"),
            w("Container-Runtime", "string", "containerRuntimeVersion"),
        ],
        ("", "events") | ("events.k8s.io", "events") => vec![
            c("Last Seen", "string", "evLastTimestamp"),
            c("Type", "string", "evType"),
            c("Reason", "string", "evReason"),
            c("Object", "string", "evInvolvedObject"),
            w("Subobject", "string", "evFieldPath"),
            w("Source", "string", "evSource"),
            c("Message", "string", "evMessage"),
            w("First Seen", "string", "evFirstTimestamp"),
            w("Count", "string", "evCount"),
            Col {
                priority: 1,
                ..NAME
            },
        ],
        ("", "namespaces") => vec![
            NAME,
            c("Status", "string", "The status of the namespace"),
            AGE,
        ],
        ("", "secrets") => vec![
            NAME,
            c("Type", "string", "secretType"),
            c("Data", "string", "secretData"),
            AGE,
        ],
        ("", "serviceaccounts") => vec![NAME, c("Secrets", "string", "saSecrets"), AGE],
        ("", "persistentvolumes") => vec![
            NAME,
            c("Capacity", "string", "pvCapacity"),
            c("Access Modes", "string", "pvAccessModes"),
            c("Reclaim Policy", "string", "pvReclaim"),
            c("Status", "string", "pvPhase"),
            c("Claim", "string", "pvClaimRef"),
            c("StorageClass", "string", "StorageClass of the pv"),
            c(
                "VolumeAttributesClass",
                "string",
                "VolumeAttributesClass of the pv",
            ),
            c("Reason", "string", "pvReason"),
            AGE,
            w("VolumeMode", "string", "pvVolumeMode"),
        ],
        ("", "persistentvolumeclaims") => vec![
            NAME,
            c("Status", "string", "pvcPhase"),
            c("Volume", "string", "pvcVolumeName"),
            c("Capacity", "string", "pvcCapacity"),
            c("Access Modes", "string", "pvcAccessModes"),
            c("StorageClass", "string", "StorageClass of the pvc"),
            c(
                "VolumeAttributesClass",
                "string",
                "VolumeAttributesClass of the pvc",
            ),
            AGE,
            w("VolumeMode", "string", "pvcVolumeMode"),
        ],
        ("apps", "deployments") => vec![
            NAME,
            c("Ready", "string", "Number of the pod with ready state"),
            c("Up-to-date", "string", "depUpdated"),
            c("Available", "string", "depAvailable"),
            AGE,
            CONTAINERS,
            IMAGES,
            w("Selector", "string", "depSelector"),
        ],
        ("", "configmaps") => vec![NAME, c("Data", "string", "cmData"), AGE],
        ("networking.k8s.io", "networkpolicies") => {
            vec![NAME, c("Pod-Selector", "string", "npPodSelector"), AGE]
        }
        ("rbac.authorization.k8s.io", "rolebindings") => vec![
            NAME,
            c("Role", "string", "rbRoleRef"),
            AGE,
            w("Users", "string", "Users in the roleBinding"),
            w("Groups", "string", "Groups in the roleBinding"),
            w(
                "ServiceAccounts",
                "string",
                "ServiceAccounts in the roleBinding",
            ),
        ],
        ("rbac.authorization.k8s.io", "clusterrolebindings") => vec![
            NAME,
            c("Role", "string", "crbRoleRef"),
            AGE,
            w("Users", "string", "Users in the clusterRoleBinding"),
            w("Groups", "string", "Groups in the clusterRoleBinding"),
            w(
                "ServiceAccounts",
                "string",
                "ServiceAccounts in the clusterRoleBinding",
            ),
        ],
        ("coordination.k8s.io", "leases") => {
            vec![NAME, c("Holder", "string", "leaseHolder"), AGE]
        }
        ("storage.k8s.io", "storageclasses") => vec![
            NAME,
            c("Provisioner", "string", "scProvisioner"),
            c("ReclaimPolicy", "string", "scReclaimPolicy"),
            c("VolumeBindingMode", "string", "scVolumeBindingMode"),
            c("AllowVolumeExpansion", "string", "scAllowVolumeExpansion"),
            AGE,
        ],
        ("apps", "controllerrevisions") => vec![
            NAME,
            c("Controller", "string", "Controller of the object"),
            c("Revision", "string", "crRevision"),
            AGE,
        ],
        ("scheduling.k8s.io", "priorityclasses") => vec![
            NAME,
            c("Value", "integer", "pcValue"),
            c("Global-Default", "boolean", "pcGlobalDefault"),
            AGE,
            c("PreemptionPolicy", "string", "pcPreemptionPolicy"),
        ],
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations")
        | ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => vec![
            NAME,
            c(
                "Webhooks",
                "integer",
                "Webhooks indicates the number of webhooks registered in this configuration",
            ),
            AGE,
        ],
        _ => return extra_columns(group, resource),
    };
    Some(cols)
}

/// The columns of the apiserver's `DefaultTableConvertor` (kinds without a printer).
fn default_columns() -> Vec<Value> {
    vec![
        NAME.to_json(),
        json!({
            "name": "Created At",
            "type": "date",
            "format": "",
            "description": doc("creationTimestamp").unwrap_or_default(),
            "priority": 0,
        }),
    ]
}

/// The custom resource columns: `Name`, then the CRD version's `additionalPrinterColumns`
/// (or `Age` when it declares none).
fn crd_columns(custom: &[Value]) -> Vec<PrinterColumn> {
    let mut cols = vec![PrinterColumn::name_column()];
    if custom.is_empty() {
        cols.push(PrinterColumn::age_column());
        return cols;
    }
    for c in custom {
        let s = |k: &str| {
            c.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        cols.push(PrinterColumn {
            name: s("name"),
            type_: s("type"),
            format: s("format"),
            description: s("description"),
            priority: c
                .get("priority")
                .and_then(Value::as_i64)
                .and_then(|p| i32::try_from(p).ok())
                .unwrap_or(0),
            json_path: s("jsonPath"),
        });
    }
    cols
}

/// Column definitions for a resource (`group`, `resource`); for custom resources pass the CRD
/// version's `additionalPrinterColumns` (an empty slice when it declares none), which makes
/// the columns `Name` plus those (or `Name`, `Age`).
pub fn column_definitions(
    group: &str,
    resource: &str,
    custom_columns: Option<&[Value]>,
) -> Vec<Value> {
    if let Some(custom) = custom_columns {
        return crd_columns(custom)
            .iter()
            .map(PrinterColumn::table_column_definition)
            .collect();
    }
    match builtin_columns(group, resource) {
        Some(cols) => cols.into_iter().map(Col::to_json).collect(),
        None => default_columns(),
    }
}

/// Whether Kubernetes has a dedicated printer for the built-in resource (otherwise the
/// default `Name`, `Created At` table is served).
pub fn has_printer(group: &str, resource: &str) -> bool {
    builtin_columns(group, resource).is_some()
}

// ---------------------------------------------------------------------------------------------
// Rows.

/// One row for one object: its cells in the order of [`column_definitions`], ages relative to
/// `now`, and the `object` chosen by `include_object`. Pods that succeeded or failed carry the
/// `Completed` row condition as Kubernetes sets it.
pub fn row(
    group: &str,
    resource: &str,
    obj: &Value,
    custom_columns: Option<&[Value]>,
    include_object: IncludeObject,
    now: jiff::Timestamp,
) -> Value {
    let mut conditions = None;
    let cells: Vec<Value> = if let Some(custom) = custom_columns {
        crd_columns(custom)
            .iter()
            .map(|c| c.cell(obj, now))
            .collect()
    } else {
        let p = Printer { o: obj, now };
        match (group, resource) {
            ("", "pods") => {
                let (cells, conds) = p.pod();
                conditions = conds;
                cells
            }
            _ => p
                .cells(group, resource)
                .unwrap_or_else(|| p.default_cells()),
        }
    };
    let object = match include_object {
        IncludeObject::None => Value::Null,
        IncludeObject::Metadata => partial_object_metadata(obj),
        IncludeObject::Object => obj.clone(),
    };
    let mut r = Map::new();
    r.insert("cells".into(), Value::Array(cells));
    if let Some(c) = conditions {
        r.insert("conditions".into(), c);
    }
    r.insert("object".into(), object);
    Value::Object(r)
}

/// A whole `meta.k8s.io/v1` `Table` for a list response; `list_metadata` is the list's
/// `metadata` (`resourceVersion`, `continue`, `remainingItemCount`), copied as is. Ages are
/// computed against the current time.
pub fn table(
    group: &str,
    resource: &str,
    items: &[Value],
    list_metadata: Value,
    custom_columns: Option<&[Value]>,
    include_object: IncludeObject,
) -> Value {
    table_at(
        group,
        resource,
        items,
        list_metadata,
        custom_columns,
        include_object,
        jiff::Timestamp::now(),
    )
}

/// A `Table` for a single-object GET: one row, and the object's `resourceVersion` as the
/// table's, as Kubernetes does.
pub fn table_for_object(
    group: &str,
    resource: &str,
    obj: &Value,
    custom_columns: Option<&[Value]>,
    include_object: IncludeObject,
) -> Value {
    let mut metadata = Map::new();
    if let Some(rv) = obj
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        metadata.insert("resourceVersion".into(), json!(rv));
    }
    table(
        group,
        resource,
        std::slice::from_ref(obj),
        Value::Object(metadata),
        custom_columns,
        include_object,
    )
}

/// [`table`] with an explicit `now`.
pub fn table_at(
    group: &str,
    resource: &str,
    items: &[Value],
    list_metadata: Value,
    custom_columns: Option<&[Value]>,
    include_object: IncludeObject,
    now: jiff::Timestamp,
) -> Value {
    let metadata = match list_metadata {
        Value::Object(m) => Value::Object(m),
        _ => json!({}),
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|o| row(group, resource, o, custom_columns, include_object, now))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": column_definitions(group, resource, custom_columns),
        "rows": rows,
    })
}

/// The `meta.k8s.io/v1` `PartialObjectMetadata` of an object.
pub fn partial_object_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

// ---------------------------------------------------------------------------------------------
// Field access.

fn at<'a>(v: &'a Value, ptr: &str) -> Option<&'a Value> {
    v.pointer(ptr)
}

fn st<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn int(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn arr<'a>(v: &'a Value, ptr: &str) -> &'a [Value] {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn obj_len(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr)
        .and_then(Value::as_object)
        .map_or(0, |m| m.len() as i64)
}

fn ts(s: &str) -> Option<jiff::Timestamp> {
    if s.is_empty() {
        return None;
    }
    s.parse::<jiff::Timestamp>().ok()
}

/// `translateTimestampSince`: `<unknown>` for a missing timestamp.
fn since(t: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    match t {
        Some(t) => human_duration(now.duration_since(t)),
        None => "<unknown>".into(),
    }
}

/// `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty.
fn format_labels(m: Option<&Value>) -> String {
    let mut pairs: Vec<(String, String)> = m
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    let s = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    if s.is_empty() { "<none>".into() } else { s }
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: `None` when the selector is invalid.
fn selector_string(sel: Option<&Value>) -> Option<String> {
    let Some(sel) = sel.filter(|s| !s.is_null()) else {
        return Some(String::new());
    };
    let mut reqs: Vec<(String, String)> = Vec::new();
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for k in keys {
            let v = m.get(k).and_then(Value::as_str).unwrap_or_default();
            reqs.push((k.clone(), format!("{k}={v}")));
        }
    }
    for e in arr(sel, "/matchExpressions") {
        let key = st(e, "/key");
        let mut values: Vec<&str> = arr(e, "/values").iter().filter_map(Value::as_str).collect();
        values.sort_unstable();
        values.dedup();
        let r = match st(e, "/operator") {
            "In" if !values.is_empty() => format!("{key} in ({})", values.join(",")),
            "NotIn" if !values.is_empty() => format!("{key} notin ({})", values.join(",")),
            "Exists" if values.is_empty() => key.to_string(),
            "DoesNotExist" if values.is_empty() => format!("!{key}"),
            _ => return None,
        };
        reqs.push((key.to_string(), r));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Some(
        reqs.into_iter()
            .map(|(_, r)| r)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// `metav1.FormatLabelSelector`: `<none>` when empty, `<error>` when invalid.
fn format_label_selector(sel: Option<&Value>) -> String {
    match selector_string(sel) {
        None => "<error>".into(),
        Some(s) if s.is_empty() => "<none>".into(),
        Some(s) => s,
    }
}

/// `layoutContainerCells`: container names and images, comma-separated.
fn containers(v: &Value, ptr: &str) -> (Value, Value) {
    let cs = arr(v, ptr);
    let names: Vec<&str> = cs.iter().map(|c| st(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| st(c, "/image")).collect();
    (json!(names.join(",")), json!(images.join(",")))
}

fn bool_ptr(v: Option<&Value>) -> &'static str {
    match v.and_then(Value::as_bool) {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".into()
    } else {
        s.into()
    }
}

/// `net.JoinHostPort`.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `loadBalancerStatusStringer` with `wide` (no truncation): sorted unique IPs or hostnames.
fn lb_status(v: &Value, ptr: &str) -> String {
    let mut set: Vec<&str> = arr(v, ptr)
        .iter()
        .filter_map(|i| {
            let ip = st(i, "/ip");
            let host = st(i, "/hostname");
            if !ip.is_empty() {
                Some(ip)
            } else if !host.is_empty() {
                Some(host)
            } else {
                None
            }
        })
        .collect();
    set.sort_unstable();
    set.dedup();
    set.join(",")
}

fn access_modes(modes: &[Value]) -> String {
    let has = |m: &str| modes.iter().any(|v| v.as_str() == Some(m));
    let mut out = Vec::new();
    for (m, short) in [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ] {
        if has(m) {
            out.push(short);
        }
    }
    out.join(",")
}

fn quantity(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "0".into(),
    }
}

fn condition_true(conds: &[Value], ty: &str) -> bool {
    conds
        .iter()
        .find(|c| st(c, "/type") == ty)
        .is_some_and(|c| st(c, "/status") == "True")
}

// ---------------------------------------------------------------------------------------------
// Printers.

struct Printer<'a> {
    o: &'a Value,
    now: jiff::Timestamp,
}

impl Printer<'_> {
    fn s(&self, ptr: &str) -> &str {
        st(self.o, ptr)
    }

    fn i(&self, ptr: &str) -> i64 {
        int(self.o, ptr)
    }

    fn name(&self) -> Value {
        json!(self.s("/metadata/name"))
    }

    fn age(&self) -> Value {
        json!(since(ts(self.s("/metadata/creationTimestamp")), self.now))
    }

    fn default_cells(&self) -> Vec<Value> {
        let created = ts(self.s("/metadata/creationTimestamp"))
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| "0001-01-01T00:00:00Z".into());
        vec![self.name(), json!(created)]
    }

    /// Replicas of a spec whose `replicas` defaults to 1.
    fn replicas(&self) -> i64 {
        at(self.o, "/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1)
    }

    fn cells(&self, group: &str, resource: &str) -> Option<Vec<Value>> {
        let o = self.o;
        let cells = match (group, resource) {
            ("", "podtemplates") => {
                let (n, i) = containers(o, "/template/spec/containers");
                vec![
                    self.name(),
                    n,
                    i,
                    json!(format_labels(at(o, "/template/metadata/labels"))),
                ]
            }
            ("", "replicationcontrollers") => {
                let (n, i) = containers(o, "/spec/template/spec/containers");
                vec![
                    self.name(),
                    json!(self.replicas()),
                    json!(self.i("/status/replicas")),
                    json!(self.i("/status/readyReplicas")),
                    self.age(),
                    n,
                    i,
                    json!(format_labels(at(o, "/spec/selector"))),
                ]
            }
            ("apps", "replicasets") => {
                let (n, i) = containers(o, "/spec/template/spec/containers");
                vec![
                    self.name(),
                    json!(self.replicas()),
                    json!(self.i("/status/replicas")),
                    json!(self.i("/status/readyReplicas")),
                    self.age(),
                    n,
                    i,
                    json!(format_label_selector(at(o, "/spec/selector"))),
                ]
            }
            ("apps", "daemonsets") => {
                let (n, i) = containers(o, "/spec/template/spec/containers");
                vec![
                    self.name(),
                    json!(self.i("/status/desiredNumberScheduled")),
                    json!(self.i("/status/currentNumberScheduled")),
                    json!(self.i("/status/numberReady")),
                    json!(self.i("/status/updatedNumberScheduled")),
                    json!(self.i("/status/numberAvailable")),
                    json!(format_labels(at(o, "/spec/template/spec/nodeSelector"))),
                    self.age(),
                    n,
                    i,
                    json!(format_label_selector(at(o, "/spec/selector"))),
                ]
            }
            ("apps", "statefulsets") => {
                let (n, i) = containers(o, "/spec/template/spec/containers");
                vec![
                    self.name(),
                    json!(format!(
                        "{}/{}",
                        self.i("/status/readyReplicas"),
                        self.replicas()
                    )),
                    self.age(),
                    n,
                    i,
                ]
            }
            ("apps", "deployments") => {
                let (n, i) = containers(o, "/spec/template/spec/containers");
                let selector =
                    selector_string(at(o, "/spec/selector")).unwrap_or_else(|| "<invalid>".into());
                vec![
                    self.name(),
                    json!(format!(
                        "{}/{}",
                        self.i("/status/readyReplicas"),
                        self.replicas()
                    )),
                    json!(self.i("/status/updatedReplicas")),
                    json!(self.i("/status/availableReplicas")),
                    self.age(),
                    n,
                    i,
                    json!(selector),
                ]
            }
            ("apps", "controllerrevisions") => {
                let controller = arr(o, "/metadata/ownerReferences")
                    .iter()
                    .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
                    .map_or_else(
                        || "<none>".to_string(),
                        |r| {
                            let api_version = st(r, "/apiVersion");
                            let group = match api_version.split_once('/') {
                                Some((g, _)) => g,
                                None => "",
                            };
                            let kind = st(r, "/kind");
                            let name = st(r, "/name");
                            if kind.is_empty() && group.is_empty() {
                                name.to_string()
                            } else if group.is_empty() {
                                format!("{}/{name}", kind.to_lowercase())
                            } else {
                                format!("{}.{}/{name}", kind.to_lowercase(), group.to_lowercase())
                            }
                        },
                    );
                vec![
                    self.name(),
                    json!(controller),
                    json!(self.i("/revision")),
                    self.age(),
                ]
            }
            ("batch", "jobs") => self.job(),
            ("batch", "cronjobs") => {
                let (n, i) = containers(o, "/spec/jobTemplate/spec/template/spec/containers");
                let last = match ts(self.s("/status/lastScheduleTime")) {
                    Some(t) => since(Some(t), self.now),
                    None => "<none>".into(),
                };
                let tz = match at(o, "/spec/timeZone").and_then(Value::as_str) {
                    Some(tz) => tz.to_string(),
                    None => "<none>".into(),
                };
                vec![
                    self.name(),
                    json!(self.s("/spec/schedule")),
                    json!(tz),
                    json!(bool_ptr(at(o, "/spec/suspend"))),
                    json!(arr(o, "/status/active").len()),
                    json!(last),
                    self.age(),
                    n,
                    i,
                    json!(format_label_selector(at(
                        o,
                        "/spec/jobTemplate/spec/selector"
                    ))),
                ]
            }
            ("", "services") => self.service(),
            ("networking.k8s.io", "ingresses") => {
                let class = match at(o, "/spec/ingressClassName").and_then(Value::as_str) {
                    Some(c) => c.to_string(),
                    None => "<none>".into(),
                };
                let rules = arr(o, "/spec/rules");
                let mut list: Vec<&str> = Vec::new();
                let mut more = false;
                for r in rules {
                    if list.len() == 3 {
                        more = true;
                    }
                    let host = st(r, "/host");
                    if !more && !host.is_empty() {
                        list.push(host);
                    }
                }
                let hosts = if list.is_empty() {
                    "*".to_string()
                } else if more {
                    format!("{} + {} more...", list.join(","), rules.len() - 3)
                } else {
                    list.join(",")
                };
                let ports = if arr(o, "/spec/tls").is_empty() {
                    "80"
                } else {
                    "80, 443"
                };
                vec![
                    self.name(),
                    json!(class),
                    json!(hosts),
                    json!(lb_status(o, "/status/loadBalancer/ingress")),
                    json!(ports),
                    self.age(),
                ]
            }
            ("networking.k8s.io", "ingressclasses") => {
                let params = match at(o, "/spec/parameters").filter(|p| p.is_object()) {
                    Some(p) => {
                        let mut s = st(p, "/kind").to_string();
                        if let Some(g) = p.get("apiGroup").and_then(Value::as_str) {
                            s = format!("{s}.{g}");
                        }
                        format!("{s}/{}", st(p, "/name"))
                    }
                    None => "<none>".into(),
                };
                vec![
                    self.name(),
                    json!(self.s("/spec/controller")),
                    json!(params),
                    self.age(),
                ]
            }
            ("networking.k8s.io", "networkpolicies") => vec![
                self.name(),
                json!(format_label_selector(Some(
                    at(o, "/spec/podSelector").unwrap_or(&json!({}))
                ))),
                self.age(),
            ],
            ("", "endpoints") => vec![self.name(), json!(self.endpoints()), self.age()],
            ("", "nodes") => self.node(),
            ("", "events") | ("events.k8s.io", "events") => self.event(),
            ("", "namespaces") => vec![self.name(), json!(self.s("/status/phase")), self.age()],
            ("", "secrets") => vec![
                self.name(),
                json!(self.s("/type")),
                json!(obj_len(o, "/data")),
                self.age(),
            ],
            ("", "serviceaccounts") => {
                vec![self.name(), json!(arr(o, "/secrets").len()), self.age()]
            }
            ("", "configmaps") => vec![
                self.name(),
                json!(obj_len(o, "/data") + obj_len(o, "/binaryData")),
                self.age(),
            ],
            ("", "persistentvolumes") => {
                let claim = match at(o, "/spec/claimRef").filter(|c| c.is_object()) {
                    Some(c) => format!("{}/{}", st(c, "/namespace"), st(c, "/name")),
                    None => String::new(),
                };
                let phase = if at(o, "/metadata/deletionTimestamp").is_some_and(|d| !d.is_null()) {
                    "Terminating"
                } else {
                    self.s("/status/phase")
                };
                let class = match at(
                    o,
                    "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
                )
                .and_then(Value::as_str)
                {
                    Some(c) => c,
                    None => self.s("/spec/storageClassName"),
                };
                vec![
                    self.name(),
                    json!(quantity(at(o, "/spec/capacity/storage"))),
                    json!(access_modes(arr(o, "/spec/accessModes"))),
                    json!(self.s("/spec/persistentVolumeReclaimPolicy")),
                    json!(phase),
                    json!(claim),
                    json!(class),
                    json!(
                        at(o, "/spec/volumeAttributesClassName")
                            .and_then(Value::as_str)
                            .unwrap_or("<unset>")
                    ),
                    json!(self.s("/status/reason")),
                    self.age(),
                    json!(
                        at(o, "/spec/volumeMode")
                            .and_then(Value::as_str)
                            .unwrap_or("<unset>")
                    ),
                ]
            }
            ("", "persistentvolumeclaims") => {
                let phase = if at(o, "/metadata/deletionTimestamp").is_some_and(|d| !d.is_null()) {
                    "Terminating"
                } else {
                    self.s("/status/phase")
                };
                let volume = self.s("/spec/volumeName");
                let (capacity, modes) = if volume.is_empty() {
                    (String::new(), String::new())
                } else {
                    (
                        quantity(at(o, "/status/capacity/storage")),
                        access_modes(arr(o, "/status/accessModes")),
                    )
                };
                let class = match at(
                    o,
                    "/metadata/annotations/volume.beta.kubernetes.io~1storage-class",
                )
                .and_then(Value::as_str)
                {
                    Some(c) => c,
                    None => self.s("/spec/storageClassName"),
                };
                vec![
                    self.name(),
                    json!(phase),
                    json!(volume),
                    json!(capacity),
                    json!(modes),
                    json!(class),
                    json!(
                        at(o, "/spec/volumeAttributesClassName")
                            .and_then(Value::as_str)
                            .unwrap_or("<unset>")
                    ),
                    self.age(),
                    json!(
                        at(o, "/spec/volumeMode")
                            .and_then(Value::as_str)
                            .unwrap_or("<unset>")
                    ),
                ]
            }
            ("rbac.authorization.k8s.io", "rolebindings")
            | ("rbac.authorization.k8s.io", "clusterrolebindings") => {
                let role = format!("{}/{}", self.s("/roleRef/kind"), self.s("/roleRef/name"));
                let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
                for s in arr(o, "/subjects") {
                    match st(s, "/kind") {
                        "User" => users.push(st(s, "/name").to_string()),
                        "Group" => groups.push(st(s, "/name").to_string()),
                        "ServiceAccount" => {
                            sas.push(format!("{}/{}", st(s, "/namespace"), st(s, "/name")))
                        }
                        _ => {}
                    }
                }
                vec![
                    self.name(),
                    json!(role),
                    self.age(),
                    json!(users.join(", ")),
                    json!(groups.join(", ")),
                    json!(sas.join(", ")),
                ]
            }
            ("coordination.k8s.io", "leases") => vec![
                self.name(),
                json!(self.s("/spec/holderIdentity")),
                self.age(),
            ],
            ("storage.k8s.io", "storageclasses") => {
                let ann = |k: &str| {
                    o.get("metadata")
                        .and_then(|m| m.get("annotations"))
                        .and_then(|a| a.get(k))
                        .and_then(Value::as_str)
                        == Some("true")
                };
                let mut name = self.s("/metadata/name").to_string();
                if ann("storageclass.kubernetes.io/is-default-class")
                    || ann("storageclass.beta.kubernetes.io/is-default-class")
                {
                    name.push_str(" (default)");
                }
                let reclaim = at(o, "/reclaimPolicy")
                    .and_then(Value::as_str)
                    .unwrap_or("Delete");
                let binding = at(o, "/volumeBindingMode")
                    .and_then(Value::as_str)
                    .unwrap_or("Immediate");
                vec![
                    json!(name),
                    json!(self.s("/provisioner")),
                    json!(reclaim),
                    json!(binding),
                    json!(
                        at(o, "/allowVolumeExpansion")
                            .and_then(Value::as_bool)
                            .unwrap_or(false)
                    ),
                    self.age(),
                ]
            }
            ("scheduling.k8s.io", "priorityclasses") => vec![
                self.name(),
                json!(self.i("/value")),
                json!(
                    at(o, "/globalDefault")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                ),
                self.age(),
                json!(self.s("/preemptionPolicy")),
            ],
            ("admissionregistration.k8s.io", "mutatingwebhookconfigurations")
            | ("admissionregistration.k8s.io", "validatingwebhookconfigurations") => {
                vec![self.name(), json!(arr(o, "/webhooks").len()), self.age()]
            }
            _ => return self.extra_cells(group, resource),
        };
        Some(cells)
    }
}

impl Printer<'_> {
    /// `printPod`: the cells and, for finished pods, the row conditions.
    fn pod(&self) -> (Vec<Value>, Option<Value>) {
        let o = self.o;
        let now = self.now;
        let init_specs = arr(o, "/spec/initContainers");
        let restartable = |name: &str| {
            init_specs
                .iter()
                .find(|c| st(c, "/name") == name)
                .is_some_and(|c| st(c, "/restartPolicy") == "Always")
        };
        let mut restarts: i64 = 0;
        let mut restartable_restarts: i64 = 0;
        let mut total = arr(o, "/spec/containers").len();
        total += init_specs
            .iter()
            .filter(|c| st(c, "/restartPolicy") == "Always")
            .count();
        let mut ready = 0usize;
        let mut last_restart: Option<jiff::Timestamp> = None;
        let mut last_restartable_restart: Option<jiff::Timestamp> = None;
        let later = |cur: Option<jiff::Timestamp>, t: Option<jiff::Timestamp>| match (cur, t) {
            (Some(c), Some(t)) if t > c => Some(t),
            (None, Some(t)) => Some(t),
            (c, _) => c,
        };

        let phase = self.s("/status/phase");
        let mut reason = phase.to_string();
        let status_reason = self.s("/status/reason");
        if !status_reason.is_empty() {
            reason = status_reason.to_string();
        }
        let conds = arr(o, "/status/conditions");
        for c in conds {
            if st(c, "/type") == "PodScheduled" && st(c, "/reason") == "SchedulingGated" {
                reason = "SchedulingGated".into();
            }
        }
        let row_conditions = match phase {
            "Succeeded" => Some(json!([{
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }])),
            "Failed" => Some(json!([{
                "type": "Completed",
                "status": "True",
                "reason": "Failed",
                "message": "The pod failed.",
            }])),
            _ => None,
        };

        let mut initializing = false;
        for (i, cs) in arr(o, "/status/initContainerStatuses").iter().enumerate() {
            let rc = int(cs, "/restartCount");
            restarts += rc;
            let finished = ts(st(cs, "/lastState/terminated/finishedAt"));
            if at(cs, "/lastState/terminated").is_some_and(Value::is_object) {
                last_restart = later(last_restart, finished);
            }
            let is_restartable = restartable(st(cs, "/name"));
            if is_restartable {
                restartable_restarts += rc;
                if at(cs, "/lastState/terminated").is_some_and(Value::is_object) {
                    last_restartable_restart = later(last_restartable_restart, finished);
                }
            }
            let terminated = at(cs, "/state/terminated").filter(|t| t.is_object());
            let waiting = at(cs, "/state/waiting").filter(|t| t.is_object());
            if terminated.is_some_and(|t| int(t, "/exitCode") == 0) {
                continue;
            }
            if is_restartable && cs.get("started").and_then(Value::as_bool) == Some(true) {
                if cs.get("ready").and_then(Value::as_bool) == Some(true) {
                    ready += 1;
                }
                continue;
            }
            if let Some(t) = terminated {
                let r = st(t, "/reason");
                reason = if r.is_empty() {
                    let signal = int(t, "/signal");
                    if signal != 0 {
                        format!("Init:Signal:{signal}")
                    } else {
                        format!("Init:ExitCode:{}", int(t, "/exitCode"))
                    }
                } else {
                    format!("Init:{r}")
                };
            } else if let Some(wr) = waiting
                .map(|w| st(w, "/reason"))
                .filter(|r| !r.is_empty() && *r != "PodInitializing")
            {
                reason = format!("Init:{wr}");
            } else {
                reason = format!("Init:{i}/{}", init_specs.len());
            }
            initializing = true;
            break;
        }

        if !initializing || condition_true(conds, "Initialized") {
            restarts = restartable_restarts;
            last_restart = last_restartable_restart;
            let mut has_running = false;
            for cs in arr(o, "/status/containerStatuses").iter().rev() {
                restarts += int(cs, "/restartCount");
                if at(cs, "/lastState/terminated").is_some_and(Value::is_object) {
                    last_restart =
                        later(last_restart, ts(st(cs, "/lastState/terminated/finishedAt")));
                }
                let terminated = at(cs, "/state/terminated").filter(|t| t.is_object());
                let waiting_reason = at(cs, "/state/waiting")
                    .filter(|t| t.is_object())
                    .map(|w| st(w, "/reason"))
                    .unwrap_or("");
                if !waiting_reason.is_empty() {
                    reason = waiting_reason.to_string();
                } else if let Some(t) = terminated {
                    let r = st(t, "/reason");
                    reason = if !r.is_empty() {
                        r.to_string()
                    } else if int(t, "/signal") != 0 {
                        format!("Signal:{}", int(t, "/signal"))
                    } else {
                        format!("ExitCode:{}", int(t, "/exitCode"))
                    };
                } else if cs.get("ready").and_then(Value::as_bool) == Some(true)
                    && at(cs, "/state/running").is_some_and(Value::is_object)
                {
                    has_running = true;
                    ready += 1;
                }
            }
            if reason == "Completed" && has_running {
                reason = if condition_true(conds, "Ready") {
                    "Running".into()
                } else {
                    "NotReady".into()
                };
            }
        }

        let deleting = at(o, "/metadata/deletionTimestamp").is_some_and(|d| !d.is_null());
        if deleting && status_reason == "NodeLost" {
            reason = "Unknown".into();
        } else if deleting && phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".into();
        }

        let restarts_str = match last_restart {
            Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
            _ => restarts.to_string(),
        };

        let mut pod_ip = self.s("/status/podIP");
        if pod_ip.is_empty() {
            pod_ip = arr(o, "/status/podIPs")
                .first()
                .map_or("", |p| st(p, "/ip"));
        }
        let gates = arr(o, "/spec/readinessGates");
        let readiness_gates = if gates.is_empty() {
            "<none>".to_string()
        } else {
            let true_conditions = gates
                .iter()
                .filter(|g| {
                    let ty = st(g, "/conditionType");
                    conds
                        .iter()
                        .find(|c| st(c, "/type") == ty)
                        .is_some_and(|c| st(c, "/status") == "True")
                })
                .count();
            format!("{true_conditions}/{}", gates.len())
        };
        let cells = vec![
            self.name(),
            json!(format!("{ready}/{total}")),
            json!(reason),
            json!(restarts_str),
            self.age(),
            json!(or_none(pod_ip)),
            json!(or_none(self.s("/spec/nodeName"))),
            json!(or_none(self.s("/status/nominatedNodeName"))),
            json!(readiness_gates),
        ];
        (cells, row_conditions)
    }

    /// `printJob`.
    fn job(&self) -> Vec<Value> {
        let o = self.o;
        let succeeded = self.i("/status/succeeded");
        let completions = match at(o, "/spec/completions").and_then(Value::as_i64) {
            Some(c) => format!("{succeeded}/{c}"),
            None => {
                let parallelism = self.i("/spec/parallelism");
                if parallelism > 1 {
                    format!("{succeeded}/1 of {parallelism}")
                } else {
                    format!("{succeeded}/1")
                }
            }
        };
        let duration = match (
            ts(self.s("/status/startTime")),
            ts(self.s("/status/completionTime")),
        ) {
            (None, _) => String::new(),
            (Some(start), None) => human_duration(self.now.duration_since(start)),
            (Some(start), Some(end)) => human_duration(end.duration_since(start)),
        };
        let conds = arr(o, "/status/conditions");
        let has = |t: &str| {
            conds
                .iter()
                .find(|c| st(c, "/type") == t)
                .is_some_and(|c| st(c, "/status") == "True")
        };
        let status = if has("Complete") {
            "Complete"
        } else if has("Failed") {
            "Failed"
        } else if at(o, "/metadata/deletionTimestamp").is_some_and(|d| !d.is_null()) {
            "Terminating"
        } else if has("Suspended") {
            "Suspended"
        } else if has("FailureTarget") {
            "FailureTarget"
        } else {
            "Running"
        };
        let (n, i) = containers(o, "/spec/template/spec/containers");
        vec![
            self.name(),
            json!(status),
            json!(completions),
            json!(duration),
            self.age(),
            n,
            i,
            json!(format_label_selector(at(o, "/spec/selector"))),
        ]
    }

    /// `printService`.
    fn service(&self) -> Vec<Value> {
        let o = self.o;
        let svc_type = self.s("/spec/type");
        let mut cluster_ip = self.s("/spec/clusterIP");
        if cluster_ip.is_empty() {
            cluster_ip = arr(o, "/spec/clusterIPs")
                .first()
                .and_then(Value::as_str)
                .unwrap_or("");
        }
        let external_ips: Vec<&str> = arr(o, "/spec/externalIPs")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let external = match svc_type {
            "ClusterIP" | "NodePort" => {
                if external_ips.is_empty() {
                    "<none>".to_string()
                } else {
                    external_ips.join(",")
                }
            }
            "LoadBalancer" => {
                let lb = lb_status(o, "/status/loadBalancer/ingress");
                if !external_ips.is_empty() {
                    let mut all: Vec<&str> = Vec::new();
                    if !lb.is_empty() {
                        all.extend(lb.split(','));
                    }
                    all.extend(external_ips.iter());
                    all.join(",")
                } else if !lb.is_empty() {
                    lb
                } else {
                    "<pending>".into()
                }
            }
            "ExternalName" => self.s("/spec/externalName").to_string(),
            _ => "<unknown>".into(),
        };
        let ports: Vec<String> = arr(o, "/spec/ports")
            .iter()
            .map(|p| {
                let port = int(p, "/port");
                let mut proto = st(p, "/protocol");
                if proto.is_empty() {
                    proto = "TCP";
                }
                let node_port = int(p, "/nodePort");
                if node_port > 0 {
                    format!("{port}:{node_port}/{proto}")
                } else {
                    format!("{port}/{proto}")
                }
            })
            .collect();
        let ports = if ports.is_empty() {
            "<none>".to_string()
        } else {
            ports.join(",")
        };
        vec![
            self.name(),
            json!(svc_type),
            json!(or_none(cluster_ip)),
            json!(external),
            json!(ports),
            self.age(),
            json!(format_labels(at(o, "/spec/selector"))),
        ]
    }

    /// `formatEndpoints` with all ports.
    fn endpoints(&self) -> String {
        let subsets = arr(self.o, "/subsets");
        if subsets.is_empty() {
            return "<none>".into();
        }
        const MAX: usize = 3;
        let mut list: Vec<String> = Vec::new();
        let mut more = false;
        let mut count = 0usize;
        for ss in subsets {
            let addrs = arr(ss, "/addresses");
            let ports = arr(ss, "/ports");
            if ports.is_empty() {
                count += addrs.len();
                for a in addrs {
                    if list.len() == MAX {
                        more = true;
                        break;
                    }
                    list.push(st(a, "/ip").to_string());
                }
                continue;
            }
            for p in ports {
                count += addrs.len();
                for a in addrs {
                    if list.len() == MAX {
                        more = true;
                        break;
                    }
                    list.push(join_host_port(st(a, "/ip"), int(p, "/port")));
                }
            }
        }
        let ret = list.join(",");
        if more {
            format!("{ret} + {} more...", count - MAX)
        } else {
            ret
        }
    }

    /// `printNode`.
    fn node(&self) -> Vec<Value> {
        let o = self.o;
        let mut status: Vec<String> = Vec::new();
        // The last condition of a type wins, as in the printer's map.
        if let Some(c) = arr(o, "/status/conditions")
            .iter()
            .rev()
            .find(|c| st(c, "/type") == "Ready")
        {
            if st(c, "/status") == "True" {
                status.push("Ready".into());
            } else {
                status.push("NotReady".into());
            }
        }
        if status.is_empty() {
            status.push("Unknown".into());
        }
        if at(o, "/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
            status.push("SchedulingDisabled".into());
        }
        let mut roles: Vec<String> = Vec::new();
        if let Some(labels) = at(o, "/metadata/labels").and_then(Value::as_object) {
            for (k, v) in labels {
                if let Some(role) = k.strip_prefix("node-role.kubernetes.io/") {
                    if !role.is_empty() {
                        roles.push(role.to_string());
                    }
                } else if k == "kubernetes.io/role" {
                    let v = v.as_str().unwrap_or_default();
                    if !v.is_empty() {
                        roles.push(v.to_string());
                    }
                }
            }
        }
        roles.sort();
        roles.dedup();
        let roles = if roles.is_empty() {
            "<none>".to_string()
        } else {
            roles.join(",")
        };
        let address = |ty: &str| {
            arr(o, "/status/addresses")
                .iter()
                .find(|a| st(a, "/type") == ty)
                .map_or_else(|| "<none>".to_string(), |a| st(a, "/address").to_string())
        };
        let unknown = |s: &str| {
            if s.is_empty() {
                "<unknown>".to_string()
            } else {
                s.to_string()
            }
        };
        vec![
            self.name(),
            json!(status.join(",")),
            json!(roles),
            self.age(),
            json!(self.s("/status/nodeInfo/kubeletVersion")),
            json!(address("InternalIP")),
            json!(address("ExternalIP")),
            json!(unknown(self.s("/status/nodeInfo/osImage"))),
            json!(unknown(self.s("/status/nodeInfo/kernelVersion"))),
            json!(unknown(self.s("/status/nodeInfo/containerRuntimeVersion"))),
        ]
    }

    /// `printEvent` (wide). Reads `core/v1` events and `events.k8s.io/v1` events (whose
    /// fields carry other names).
    fn event(&self) -> Vec<Value> {
        let o = self.o;
        let now = self.now;
        let pick = |a: &str, b: &str| {
            let x = self.s(a);
            if x.is_empty() { self.s(b) } else { x }
        };
        let first_ts = ts(pick("/firstTimestamp", "/deprecatedFirstTimestamp"));
        let first = match first_ts {
            Some(t) => since(Some(t), now),
            None => since(ts(self.s("/eventTime")), now),
        };
        let mut last = match ts(pick("/lastTimestamp", "/deprecatedLastTimestamp")) {
            Some(t) => since(Some(t), now),
            None => first.clone(),
        };
        let mut count = at(o, "/count")
            .or_else(|| at(o, "/deprecatedCount"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if let Some(series) = at(o, "/series").filter(|s| s.is_object()) {
            last = since(ts(st(series, "/lastObservedTime")), now);
            count = int(series, "/count");
        } else if count == 0 {
            count = 1;
        }
        let involved = at(o, "/involvedObject")
            .or_else(|| at(o, "/regarding"))
            .cloned()
            .unwrap_or_else(|| json!({}));
        let kind = st(&involved, "/kind").to_lowercase();
        let iname = st(&involved, "/name");
        let target = if iname.is_empty() {
            kind
        } else {
            format!("{kind}/{iname}")
        };
        let component = {
            let c = pick("/source/component", "/deprecatedSource/component");
            if c.is_empty() {
                pick("/reportingComponent", "/reportingController")
            } else {
                c
            }
        };
        let instance = {
            let h = pick("/source/host", "/deprecatedSource/host");
            if h.is_empty() {
                self.s("/reportingInstance")
            } else {
                h
            }
        };
        let source = if instance.is_empty() {
            component.to_string()
        } else {
            format!("{component}, {instance}")
        };
        vec![
            json!(last),
            json!(self.s("/type")),
            json!(self.s("/reason")),
            json!(target),
            json!(st(&involved, "/fieldPath")),
            json!(source),
            json!(pick("/message", "/note").trim()),
            json!(first),
            json!(count),
            self.name(),
        ]
    }
}

/// Printer columns of the less common built-in resources.
fn extra_columns(group: &str, resource: &str) -> Option<Vec<Col>> {
    let cols = match (group, resource) {
        ("policy", "poddisruptionbudgets") => vec![
            NAME,
            c(
                "Min Available",
                "string",
                "The minimum number of pods that must be available.",
            ),
            c(
                "Max Unavailable",
                "string",
                "The maximum number of pods that may be unavailable.",
            ),
            c(
                "Allowed Disruptions",
                "integer",
                "Calculated number of pods that may be disrupted at this time.",
            ),
            AGE,
        ],
        ("autoscaling", "horizontalpodautoscalers") => vec![
            NAME,
            c("Reference", "string", "hpaRef"),
            c("Targets", "string", "hpaMetrics"),
            c("MinPods", "string", "hpaMin"),
            c("MaxPods", "string", "hpaMax"),
            c("Replicas", "string", "hpaCurrent"),
            AGE,
        ],
        ("discovery.k8s.io", "endpointslices") => vec![
            NAME,
            c("AddressType", "string", "esAddressType"),
            c("Ports", "string", "esPorts"),
            c("Endpoints", "string", "esEndpoints"),
            AGE,
        ],
        ("node.k8s.io", "runtimeclasses") => vec![NAME, c("Handler", "string", ""), AGE],
        ("networking.k8s.io", "servicecidrs") => {
            vec![NAME, c("CIDRs", "string", "scidrCidrs"), AGE]
        }
        ("networking.k8s.io", "ipaddresses") => vec![NAME, c("ParentRef", "string", "ipParentRef")],
        ("storage.k8s.io", "csinodes") => vec![
            NAME,
            c(
                "Drivers",
                "integer",
                "Drivers indicates the number of CSI drivers registered on the node",
            ),
            AGE,
        ],
        ("storage.k8s.io", "csidrivers") => vec![
            NAME,
            c("AttachRequired", "boolean", "cdAttach"),
            c("PodInfoOnMount", "boolean", "cdPodInfo"),
            c("StorageCapacity", "boolean", "cdStorageCap"),
            c("TokenRequests", "string", "cdTokenRequests"),
            c("RequiresRepublish", "boolean", "cdRepublish"),
            c("Modes", "string", "cdModes"),
            AGE,
        ],
        ("storage.k8s.io", "volumeattachments") => vec![
            NAME,
            Col {
                format: "name",
                ..c("Attacher", "string", "vaAttacher")
            },
            c("PV", "string", "vaPV"),
            c("Node", "string", "vaNode"),
            c("Attached", "boolean", "vaAttached"),
            AGE,
        ],
        ("certificates.k8s.io", "certificatesigningrequests") => vec![
            NAME,
            AGE,
            c("SignerName", "string", "csrSignerName"),
            c("Requestor", "string", "csrRequest"),
            c("RequestedDuration", "string", "csrExpiration"),
            c("Condition", "string", "csrConditions"),
        ],
        ("", "resourcequotas") => vec![
            NAME,
            c(
                "Request",
                "string",
                "Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            c(
                "Limit",
                "string",
                "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
            ),
            AGE,
        ],
        ("flowcontrol.apiserver.k8s.io", "flowschemas") => vec![
            NAME,
            c("PriorityLevel", "string", "fsPL"),
            c("MatchingPrecedence", "string", "fsPrecedence"),
            c("DistinguisherMethod", "string", "fsDistinguisher"),
            AGE,
            c(
                "MissingPL",
                "string",
                "references a broken or non-existent PriorityLevelConfiguration",
            ),
        ],
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations") => vec![
            NAME,
            c("Type", "string", "plcType"),
            c("NominalConcurrencyShares", "string", "plcNCS"),
            c("Queues", "string", "plcQueues"),
            c("HandSize", "string", "plcHandSize"),
            c("QueueLengthLimit", "string", "plcQLL"),
            AGE,
        ],
        ("admissionregistration.k8s.io", "validatingadmissionpolicies") => vec![
            NAME,
            c(
                "Validations",
                "integer",
                "Validations indicates the number of validation rules defined in this configuration",
            ),
            c(
                "ParamKind",
                "string",
                "ParamKind specifies the kind of resources used to parameterize this policy",
            ),
            AGE,
        ],
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings") => vec![
            NAME,
            c(
                "PolicyName",
                "string",
                "PolicyName indicates the policy definition which the policy binding binded to",
            ),
            c(
                "ParamRef",
                "string",
                "ParamRef indicates the param resource which sets the configration param",
            ),
            AGE,
        ],
        _ => return None,
    };
    Some(cols)
}

/// A quantity as `resource.Quantity.String()` prints a stored (already canonical) value;
/// `<nil>` when absent, as Go prints a nil `*Quantity`.
fn qty_or_nil(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "<nil>".into(),
    }
}

/// `intstr.IntOrString.String()`.
fn int_or_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// `listWithMoreString`.
fn list_with_more(list: &[String], more: bool, count: usize, max: usize) -> String {
    let ret = list.join(",");
    if more {
        return format!("{ret} + {} more...", count - max);
    }
    if ret.is_empty() {
        "<unset>".into()
    } else {
        ret
    }
}

/// `formatHPAMetrics` over `autoscaling/v2` fields (an `autoscaling/v1` object's CPU target is
/// read as the equivalent metric).
fn hpa_metrics(o: &Value) -> String {
    let mut specs: Vec<Value> = arr(o, "/spec/metrics").to_vec();
    let mut statuses: Vec<Value> = arr(o, "/status/currentMetrics").to_vec();
    if at(o, "/spec/metrics").is_none() {
        let target = at(o, "/spec/targetCPUUtilizationPercentage")
            .and_then(Value::as_i64)
            .unwrap_or(80);
        specs = vec![json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": target}}})];
        if let Some(cur) = at(o, "/status/currentCPUUtilizationPercentage").and_then(Value::as_i64)
        {
            statuses = vec![json!({"type": "Resource", "resource": {"name": "cpu",
                "current": {"averageUtilization": cur}}})];
        }
    }
    if specs.is_empty() {
        return "<none>".into();
    }
    let status = |i: usize, key: &str| {
        statuses
            .get(i)
            .and_then(|s| s.get(key))
            .filter(|v| v.is_object())
    };
    let mut list: Vec<String> = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let entry = match st(spec, "/type") {
            t @ ("External" | "Object") => {
                let key = if t == "External" {
                    "external"
                } else {
                    "object"
                };
                let target = spec.get(key).cloned().unwrap_or_else(|| json!({}));
                if let Some(avg) = at(&target, "/target/averageValue") {
                    let current = status(i, key)
                        .and_then(|s| at(s, "/current/averageValue"))
                        .map_or_else(|| "<unknown>".to_string(), |v| qty_or_nil(Some(v)));
                    format!("{current}/{} (avg)", qty_or_nil(Some(avg)))
                } else {
                    let current = status(i, key).map_or_else(
                        || "<unknown>".to_string(),
                        |s| qty_or_nil(at(s, "/current/value")),
                    );
                    format!("{current}/{}", qty_or_nil(at(&target, "/target/value")))
                }
            }
            "Pods" => {
                let current = status(i, "pods").map_or_else(
                    || "<unknown>".to_string(),
                    |s| qty_or_nil(at(s, "/current/averageValue")),
                );
                format!(
                    "{current}/{}",
                    qty_or_nil(at(spec, "/pods/target/averageValue"))
                )
            }
            t @ ("Resource" | "ContainerResource") => {
                let key = if t == "Resource" {
                    "resource"
                } else {
                    "containerResource"
                };
                let res = spec.get(key).cloned().unwrap_or_else(|| json!({}));
                let name = st(&res, "/name");
                if let Some(avg) = at(&res, "/target/averageValue") {
                    let current = status(i, key).map_or_else(
                        || "<unknown>".to_string(),
                        |s| qty_or_nil(at(s, "/current/averageValue")),
                    );
                    format!("{name}: {current}/{}", qty_or_nil(Some(avg)))
                } else {
                    let current = status(i, key)
                        .and_then(|s| at(s, "/current/averageUtilization"))
                        .and_then(Value::as_i64)
                        .map_or_else(|| "<unknown>".to_string(), |u| format!("{u}%"));
                    let target = at(&res, "/target/averageUtilization")
                        .and_then(Value::as_i64)
                        .map_or_else(|| "<auto>".to_string(), |u| format!("{u}%"));
                    format!("{name}: {current}/{target}")
                }
            }
            _ => "<unknown type>".into(),
        };
        list.push(entry);
    }
    let count = list.len();
    if count > 2 {
        list.truncate(2);
        return format!("{} + {} more...", list.join(", "), count - 2);
    }
    list.join(", ")
}

impl Printer<'_> {
    fn extra_cells(&self, group: &str, resource: &str) -> Option<Vec<Value>> {
        let o = self.o;
        let cells = match (group, resource) {
            ("policy", "poddisruptionbudgets") => {
                let f = |p: &str| match at(o, p).filter(|v| !v.is_null()) {
                    Some(v) => int_or_string(v),
                    None => "N/A".into(),
                };
                vec![
                    self.name(),
                    json!(f("/spec/minAvailable")),
                    json!(f("/spec/maxUnavailable")),
                    json!(self.i("/status/disruptionsAllowed")),
                    self.age(),
                ]
            }
            ("autoscaling", "horizontalpodautoscalers") => {
                let reference = format!(
                    "{}/{}",
                    self.s("/spec/scaleTargetRef/kind"),
                    self.s("/spec/scaleTargetRef/name")
                );
                let min = match at(o, "/spec/minReplicas").and_then(Value::as_i64) {
                    Some(m) => m.to_string(),
                    None => "<unset>".into(),
                };
                vec![
                    self.name(),
                    json!(reference),
                    json!(hpa_metrics(o)),
                    json!(min),
                    json!(self.i("/spec/maxReplicas")),
                    json!(self.i("/status/currentReplicas")),
                    self.age(),
                ]
            }
            ("discovery.k8s.io", "endpointslices") => {
                const MAX: usize = 3;
                let ports = arr(o, "/ports");
                let mut list: Vec<String> = Vec::new();
                let mut more = false;
                for p in ports {
                    if list.len() < MAX {
                        let n = match (
                            p.get("port").and_then(Value::as_i64),
                            p.get("name").and_then(Value::as_str),
                        ) {
                            (Some(n), _) => n.to_string(),
                            (None, Some(name)) => name.to_string(),
                            (None, None) => "*".into(),
                        };
                        list.push(n);
                    } else if list.len() == MAX {
                        more = true;
                    }
                }
                let ports = list_with_more(&list, more, ports.len(), MAX);
                let mut list: Vec<String> = Vec::new();
                let mut more = false;
                let mut count = 0;
                for e in arr(o, "/endpoints") {
                    for a in arr(e, "/addresses") {
                        if list.len() < MAX {
                            list.push(a.as_str().unwrap_or_default().to_string());
                        } else if list.len() == MAX {
                            more = true;
                        }
                        count += 1;
                    }
                }
                vec![
                    self.name(),
                    json!(self.s("/addressType")),
                    json!(ports),
                    json!(list_with_more(&list, more, count, MAX)),
                    self.age(),
                ]
            }
            ("node.k8s.io", "runtimeclasses") => {
                vec![self.name(), json!(self.s("/handler")), self.age()]
            }
            ("networking.k8s.io", "servicecidrs") => {
                let cidrs: Vec<&str> = arr(o, "/spec/cidrs")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                vec![self.name(), json!(cidrs.join(",")), self.age()]
            }
            ("networking.k8s.io", "ipaddresses") => {
                let parent = match at(o, "/spec/parentRef").filter(|p| p.is_object()) {
                    Some(p) => {
                        let (g, r) = (st(p, "/group"), st(p, "/resource"));
                        let gr = if g.is_empty() {
                            r.to_string()
                        } else {
                            format!("{r}.{g}")
                        };
                        let mut s = gr.to_lowercase();
                        let ns = st(p, "/namespace");
                        if !ns.is_empty() {
                            s = format!("{s}/{ns}");
                        }
                        format!("{s}/{}", st(p, "/name"))
                    }
                    None => "<none>".into(),
                };
                // Kubernetes prints an age cell without an Age column here.
                vec![self.name(), json!(parent), self.age()]
            }
            ("storage.k8s.io", "csinodes") => {
                vec![
                    self.name(),
                    json!(arr(o, "/spec/drivers").len()),
                    self.age(),
                ]
            }
            ("storage.k8s.io", "csidrivers") => {
                let b = |p: &str, d: bool| at(o, p).and_then(Value::as_bool).unwrap_or(d);
                let token_requests = match at(o, "/spec/tokenRequests").and_then(Value::as_array) {
                    Some(t) => t
                        .iter()
                        .map(|t| st(t, "/audience"))
                        .collect::<Vec<_>>()
                        .join(","),
                    None => "<unset>".into(),
                };
                let modes: Vec<&str> = arr(o, "/spec/volumeLifecycleModes")
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                vec![
                    self.name(),
                    json!(b("/spec/attachRequired", true)),
                    json!(b("/spec/podInfoOnMount", false)),
                    json!(b("/spec/storageCapacity", false)),
                    json!(token_requests),
                    json!(b("/spec/requiresRepublish", false)),
                    json!(or_none(&modes.join(","))),
                    self.age(),
                ]
            }
            ("storage.k8s.io", "volumeattachments") => vec![
                self.name(),
                json!(self.s("/spec/attacher")),
                json!(self.s("/spec/source/persistentVolumeName")),
                json!(self.s("/spec/nodeName")),
                json!(
                    at(o, "/status/attached")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                ),
                self.age(),
            ],
            ("certificates.k8s.io", "certificatesigningrequests") => {
                let (mut approved, mut denied, mut failed) = (false, false, false);
                for c in arr(o, "/status/conditions") {
                    match st(c, "/type") {
                        "Approved" => approved = true,
                        "Denied" => denied = true,
                        "Failed" => failed = true,
                        _ => {}
                    }
                }
                let mut status = if denied {
                    "Denied"
                } else if approved {
                    "Approved"
                } else {
                    "Pending"
                }
                .to_string();
                if failed {
                    status.push_str(",Failed");
                }
                if !self.s("/status/certificate").is_empty() {
                    status.push_str(",Issued");
                }
                let duration = match at(o, "/spec/expirationSeconds").and_then(Value::as_i64) {
                    Some(s) => human_duration(jiff::SignedDuration::from_secs(s)),
                    None => "<none>".into(),
                };
                vec![
                    self.name(),
                    self.age(),
                    json!(or_none(self.s("/spec/signerName"))),
                    json!(self.s("/spec/username")),
                    json!(duration),
                    json!(status),
                ]
            }
            ("", "resourcequotas") => {
                let hard = at(o, "/status/hard").and_then(Value::as_object);
                let mut keys: Vec<&String> = hard.map(|h| h.keys().collect()).unwrap_or_default();
                keys.sort();
                let (mut req, mut lim) = (Vec::new(), Vec::new());
                for k in keys {
                    let used = match at(o, "/status/used").and_then(|u| u.get(k.as_str())) {
                        Some(v) => quantity(Some(v)),
                        None => "0".into(),
                    };
                    let h = quantity(hard.and_then(|h| h.get(k.as_str())));
                    let entry = format!("{k}: {used}/{h}");
                    let pieces: Vec<&str> = k.split('.').collect();
                    if pieces.len() > 1 && pieces[0] == "limits" {
                        lim.push(entry);
                    } else {
                        req.push(entry);
                    }
                }
                vec![
                    self.name(),
                    json!(req.join(", ")),
                    json!(lim.join(", ")),
                    self.age(),
                ]
            }
            ("flowcontrol.apiserver.k8s.io", "flowschemas") => {
                let distinguisher =
                    match at(o, "/spec/distinguisherMethod").filter(|d| d.is_object()) {
                        Some(d) => st(d, "/type").to_string(),
                        None => "<none>".into(),
                    };
                let missing = arr(o, "/status/conditions")
                    .iter()
                    .find(|c| st(c, "/type") == "Dangling")
                    .map_or("?", |c| st(c, "/status"));
                vec![
                    self.name(),
                    json!(self.s("/spec/priorityLevelConfiguration/name")),
                    json!(self.i("/spec/matchingPrecedence")),
                    json!(distinguisher),
                    self.age(),
                    json!(missing),
                ]
            }
            ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations") => {
                let none = || json!("<none>");
                let (mut ncs, mut queues, mut hand, mut qll) = (none(), none(), none(), none());
                if let Some(l) = at(o, "/spec/limited").filter(|l| l.is_object()) {
                    ncs = json!(int(l, "/nominalConcurrencyShares"));
                    if let Some(q) = at(l, "/limitResponse/queuing").filter(|q| q.is_object()) {
                        queues = json!(int(q, "/queues"));
                        hand = json!(int(q, "/handSize"));
                        qll = json!(int(q, "/queueLengthLimit"));
                    }
                }
                vec![
                    self.name(),
                    json!(self.s("/spec/type")),
                    ncs,
                    queues,
                    hand,
                    qll,
                    self.age(),
                ]
            }
            ("admissionregistration.k8s.io", "validatingadmissionpolicies") => {
                let param_kind = match at(o, "/spec/paramKind").filter(|p| p.is_object()) {
                    Some(p) => format!("{}/{}", st(p, "/apiVersion"), st(p, "/kind")),
                    None => "<unset>".into(),
                };
                vec![
                    self.name(),
                    json!(arr(o, "/spec/validations").len()),
                    json!(param_kind),
                    self.age(),
                ]
            }
            ("admissionregistration.k8s.io", "validatingadmissionpolicybindings") => {
                let param = match at(o, "/spec/paramRef").filter(|p| p.is_object()) {
                    Some(p) => {
                        let (name, ns) = (st(p, "/name"), st(p, "/namespace"));
                        if !name.is_empty() {
                            if ns.is_empty() {
                                format!("*/{name}")
                            } else {
                                format!("{ns}/{name}")
                            }
                        } else if let Some(sel) = p.get("selector").filter(|s| s.is_object()) {
                            selector_string(Some(sel)).unwrap_or_else(|| "<error>".into())
                        } else {
                            "<unset>".into()
                        }
                    }
                    None => "<unset>".into(),
                };
                vec![
                    self.name(),
                    json!(self.s("/spec/policyName")),
                    json!(param),
                    self.age(),
                ]
            }
            _ => return None,
        };
        Some(cells)
    }
}

/// The Swagger documentation of the fields the printers describe their columns with.
fn doc(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" => {
            "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
        }
        "creationTimestamp" => {
            "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
        }
        "podIP" => {
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        }
        "nodeName" => {
            "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename"
        }
        "nominatedNodeName" => {
            "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled."
        }
        "readinessGates" => {
            "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates"
        }
        "rsSpecReplicas" => {
            "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
        }
        "rsStatusReplicas" => {
            "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
        }
        "rsStatusReady" => {
            "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition."
        }
        "rsSelector" => {
            "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
        }
        "dsDesired" => {
            "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
        }
        "dsCurrent" => {
            "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
        }
        "dsReady" => {
            "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."
        }
        "dsUpdated" => "The total number of nodes that are running updated daemon pod",
        "dsAvailable" => {
            "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"
        }
        "nodeSelector" => {
            "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"
        }
        "dsSelector" => {
            "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
        }
        "jobSucceeded" => {
            "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs."
        }
        "jobSelector" => {
            "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
        }
        "cjSchedule" => "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
        "cjTimeZone" => {
            "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"
        }
        "cjSuspend" => {
            "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false."
        }
        "cjActive" => "A list of pointers to currently running jobs.",
        "cjLastSchedule" => {
            "Information when was the last time the job was successfully scheduled."
        }
        "svcType" => {
            "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"
        }
        "svcClusterIP" => {
            "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
        }
        "svcExternalIPs" => {
            "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system."
        }
        "svcPorts" => {
            "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
        }
        "svcSelector" => {
            "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/"
        }
        "epSubsets" => {
            "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service."
        }
        "kubeletVersion" => "Kubelet Version reported by the node.",
        "nodeAddresses" => {
            "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP)."
        }
        "osImage" => {
            "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."
        }
        "kernelVersion" => {
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."
        }
        "containerRuntimeVersion" => {
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."
        }
        "evLastTimestamp" => {
            "The time at which the most recent occurrence of this event was recorded."
        }
        "evType" => "Type of this event (Normal, Warning), new types could be added in the future",
        "evReason" => {
            "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."
        }
        "evInvolvedObject" => "The object that this event is about.",
        "evFieldPath" => {
            "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object."
        }
        "evSource" => {
            "The component reporting this event. Should be a short machine understandable string."
        }
        "evMessage" => "A human-readable description of the status of this operation.",
        "evFirstTimestamp" => {
            "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"
        }
        "evCount" => "The number of times this event has occurred.",
        "secretType" => {
            "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"
        }
        "secretData" => {
            "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"
        }
        "saSecrets" => {
            "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret"
        }
        "depUpdated" => {
            "Total number of non-terminating pods targeted by this deployment that have the desired template spec."
        }
        "depAvailable" => {
            "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment."
        }
        "depSelector" => {
            "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels."
        }
        "cmData" => {
            "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."
        }
        "leaseHolder" => {
            "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field."
        }
        "crRevision" => "Revision indicates the revision of the state represented by Data.",
        "rcSpecReplicas" => {
            "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller"
        }
        "rcStatusReplicas" => {
            "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller"
        }
        "rcStatusReady" => "The number of ready replicas for this replication controller.",
        "rcSelector" => {
            "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
        }
        "rbRoleRef" => {
            "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable."
        }
        "crbRoleRef" => {
            "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable."
        }
        "scProvisioner" => "provisioner indicates the type of the provisioner.",
        "scReclaimPolicy" => {
            "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete."
        }
        "scVolumeBindingMode" => {
            "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature."
        }
        "scAllowVolumeExpansion" => {
            "allowVolumeExpansion shows whether the storage class allow volume expand."
        }
        "npPodSelector" => {
            "podSelector selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace."
        }
        "pcValue" => {
            "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."
        }
        "pcGlobalDefault" => {
            "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority."
        }
        "pcPreemptionPolicy" => {
            "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."
        }
        "pvCapacity" => {
            "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"
        }
        "pvAccessModes" => {
            "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"
        }
        "pvReclaim" => {
            "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"
        }
        "pvPhase" => {
            "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"
        }
        "pvClaimRef" => {
            "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"
        }
        "pvReason" => {
            "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."
        }
        "pvVolumeMode" => {
            "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec."
        }
        "pvcPhase" => "phase represents the current phase of PersistentVolumeClaim.",
        "pvcVolumeName" => {
            "volumeName is the binding reference to the PersistentVolume backing this claim."
        }
        "pvcCapacity" => "capacity represents the actual resources of the underlying volume.",
        "pvcAccessModes" => {
            "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"
        }
        "pvcVolumeMode" => {
            "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec."
        }
        "esAddressType" => {
            "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name. (Deprecated) The EndpointSlice controller only generates, and kube-proxy only processes, slices of addressType \"IPv4\" and \"IPv6\". No semantics are defined for the \"FQDN\" type."
        }
        "esPorts" => {
            "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. Each slice may include a maximum of 100 ports. Services always have at least 1 port, so EndpointSlices generated by the EndpointSlice controller will likewise always have at least 1 port. EndpointSlices used for other purposes may have an empty ports list."
        }
        "esEndpoints" => {
            "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints."
        }
        "scidrCidrs" => {
            "CIDRs defines the IP blocks in CIDR notation (e.g. \"192.168.0.0/24\" or \"2001:db8::/64\") from which to assign service cluster IPs. Max of two CIDRs is allowed, one of each IP family. This field is immutable."
        }
        "ipParentRef" => {
            "ParentRef references the resource that an IPAddress is attached to. An IPAddress must reference a parent object."
        }
        "vaAttacher" => {
            "attacher indicates the name of the volume driver that MUST handle this request. This is the name returned by GetPluginName()."
        }
        "vaPV" => "persistentVolumeName represents the name of the persistent volume to attach.",
        "vaNode" => "nodeName represents the node that the volume should be attached to.",
        "vaAttached" => {
            "attached indicates the volume is successfully attached. This field must only be set by the entity completing the attach operation, i.e. the external-attacher."
        }
        "csrSignerName" => {
            "signerName indicates the requested signer, and is a qualified name.\n\nList/watch requests for CertificateSigningRequests can filter on this field using a \"spec.signerName=NAME\" fieldSelector.\n\nWell-known Kubernetes signers are:\n 1. \"kubernetes.io/kube-apiserver-client\": issues client certificates that can be used to authenticate to kube-apiserver.\n  Requests for this signer are never auto-approved by kube-controller-manager, can be issued by the \"csrsigning\" controller in kube-controller-manager.\n 2. \"kubernetes.io/kube-apiserver-client-kubelet\": issues client certificates that kubelets use to authenticate to kube-apiserver.\n  Requests for this signer can be auto-approved by the \"csrapproving\" controller in kube-controller-manager, and can be issued by the \"csrsigning\" controller in kube-controller-manager.\n 3. \"kubernetes.io/kubelet-serving\" issues serving certificates that kubelets use to serve TLS endpoints, which kube-apiserver can connect to securely.\n  Requests for this signer are never auto-approved by kube-controller-manager, and can be issued by the \"csrsigning\" controller in kube-controller-manager.\n\nMore details are available at https://k8s.io/docs/reference/access-authn-authz/certificate-signing-requests/#kubernetes-signers\n\nCustom signerNames can also be specified. The signer defines:\n 1. Trust distribution: how trust (CA bundles) are distributed.\n 2. Permitted subjects: and behavior when a disallowed subject is requested.\n 3. Required, permitted, or forbidden x509 extensions in the request (including whether subjectAltNames are allowed, which types, restrictions on allowed values) and behavior when a disallowed extension is requested.\n 4. Required, permitted, or forbidden key usages / extended key usages.\n 5. Expiration/certificate lifetime: whether it is fixed by the signer, configurable by the admin.\n 6. Whether or not requests for CA certificates are allowed."
        }
        "csrRequest" => {
            "request contains an x509 certificate signing request encoded in a \"CERTIFICATE REQUEST\" PEM block. When serialized as JSON or YAML, the data is additionally base64-encoded."
        }
        "csrExpiration" => {
            "expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes."
        }
        "csrConditions" => {
            "conditions applied to the request. Known conditions are \"Approved\", \"Denied\", and \"Failed\"."
        }
        "hpaRef" => {
            "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count."
        }
        "hpaMetrics" => {
            "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization."
        }
        "hpaMin" => {
            "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available."
        }
        "hpaMax" => {
            "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas."
        }
        "hpaCurrent" => {
            "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler."
        }
        "fsPL" => {
            "`name` is the name of the priority level configuration being referenced Required."
        }
        "fsPrecedence" => {
            "`matchingPrecedence` is used to choose among the FlowSchemas that match a given request. The chosen FlowSchema is among those with the numerically lowest (which we take to be logically highest) MatchingPrecedence.  Each MatchingPrecedence value must be ranged in [1,10000]. Note that if the precedence is not specified, it will be set to 1000 as default."
        }
        "fsDistinguisher" => {
            "`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema. `nil` specifies that the distinguisher is disabled and thus will always be the empty string."
        }
        "plcType" => {
            "`type` indicates whether this priority level is subject to limitation on request execution.  A value of `\"Exempt\"` means that requests of this priority level are not subject to a limit (and thus are never queued) and do not detract from the capacity made available to other priority levels.  A value of `\"Limited\"` means that (a) requests of this priority level _are_ subject to limits and (b) some of the server's limited capacity is made available exclusively to this priority level. Required."
        }
        "plcNCS" => {
            "`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level. This is the number of execution seats available at this priority level. This is used both for requests dispatched from this priority level as well as requests dispatched from other priority levels borrowing seats from this level. The server's concurrency limit (ServerCL) is divided among the Limited priority levels in proportion to their NCS values:\n\nNominalCL(i)  = ceil( ServerCL * NCS(i) / sum_ncs ) sum_ncs = sum[priority level k] NCS(k)\n\nBigger numbers mean a larger nominal concurrency limit, at the expense of every other priority level.\n\nIf not specified, this field defaults to a value of 30.\n\nSetting this field to zero supports the construction of a \"jail\" for this priority level that is used to hold some request(s)"
        }
        "plcQueues" => {
            "`queues` is the number of queues for this priority level. The queues exist independently at each apiserver. The value must be positive.  Setting it to 1 effectively precludes shufflesharding and thus makes the distinguisher method of associated flow schemas irrelevant.  This field has a default value of 64."
        }
        "plcHandSize" => {
            "`handSize` is a small positive number that configures the shuffle sharding of requests into queues.  When enqueuing a request at this priority level the request's flow identifier (a string pair) is hashed and the hash value is used to shuffle the list of queues and deal a hand of the size specified here.  The request is put into one of the shortest queues in that hand. `handSize` must be no larger than `queues`, and should be significantly smaller (so that a few heavy flows do not saturate most of the queues).  See the user-facing documentation for more extensive guidance on setting this field.  This field has a default value of 8."
        }
        "plcQLL" => {
            "`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time; excess requests are rejected.  This value must be positive.  If not specified, it will be defaulted to 50."
        }
        "cdAttach" => {
            "attachRequired indicates this CSI volume driver requires an attach operation (because it implements the CSI ControllerPublishVolume() method), and that the Kubernetes attach detach controller should call the attach volume interface which checks the volumeattachment status and waits until the volume is attached before proceeding to mounting. The CSI external-attacher coordinates with CSI volume driver and updates the volumeattachment status when the attach operation is complete. If the CSIDriverRegistry feature gate is enabled and the value is specified to false, the attach operation will be skipped. Otherwise the attach operation will be called.\n\nThis field is immutable."
        }
        "cdPodInfo" => {
            "podInfoOnMount indicates this CSI volume driver requires additional pod information (like podName, podUID, etc.) during mount operations, if set to true. If set to false, pod information will not be passed on mount. Default is false.\n\nThe CSI driver specifies podInfoOnMount as part of driver deployment. If true, Kubelet will pass pod information as VolumeContext in the CSI NodePublishVolume() calls. The CSI driver is responsible for parsing and validating the information passed in as VolumeContext.\n\nThe following VolumeContext will be passed if podInfoOnMount is set to true. This list might grow, but the prefix will be used. \"csi.storage.k8s.io/pod.name\": pod.Name \"csi.storage.k8s.io/pod.namespace\": pod.Namespace \"csi.storage.k8s.io/pod.uid\": string(pod.UID) \"csi.storage.k8s.io/ephemeral\": \"true\" if the volume is an ephemeral inline volume\n                                defined by a CSIVolumeSource, otherwise \"false\"\n\n\"csi.storage.k8s.io/ephemeral\" is a new feature in Kubernetes 1.16. It is only required for drivers which support both the \"Persistent\" and \"Ephemeral\" VolumeLifecycleMode. Other drivers can leave pod info disabled and/or ignore this field. As Kubernetes 1.15 doesn't support this field, drivers can only support one mode when deployed on such a cluster and the deployment determines which mode that is, for example via a command line parameter of the driver.\n\nThis field was immutable in Kubernetes \\< 1.29 and now is mutable."
        }
        "cdStorageCap" => {
            "storageCapacity indicates that the CSI volume driver wants pod scheduling to consider the storage capacity that the driver deployment will report by creating CSIStorageCapacity objects with capacity information, if set to true.\n\nThe check can be enabled immediately when deploying a driver. In that case, provisioning new volumes with late binding will pause until the driver deployment has published some suitable CSIStorageCapacity object.\n\nAlternatively, the driver can be deployed with the field unset or false and it can be flipped later when storage capacity information has been published.\n\nThis field was immutable in Kubernetes \\<= 1.22 and now is mutable."
        }
        "cdTokenRequests" => {
            "tokenRequests indicates the CSI driver needs pods' service account tokens it is mounting volume for to do necessary authentication. Kubelet will pass the tokens in VolumeContext in the CSI NodePublishVolume calls. The CSI driver should parse and validate the following VolumeContext: \"csi.storage.k8s.io/serviceAccount.tokens\": {\n  \"\\<audience\\>\": {\n    \"token\": \\<token\\>,\n    \"expirationTimestamp\": \\<expiration timestamp in RFC3339\\>,\n  },\n  ...\n}\n\nNote: Audience in each TokenRequest should be different and at most one token is empty string. To receive a new token after expiry, RequiresRepublish can be used to trigger NodePublishVolume periodically."
        }
        "cdRepublish" => {
            "requiresRepublish indicates the CSI driver wants `NodePublishVolume` being periodically called to reflect any possible change in the mounted volume. This field defaults to false.\n\nNote: After a successful initial NodePublishVolume call, subsequent calls to NodePublishVolume should only update the contents of the volume. New mount points will not be seen by a running container."
        }
        "cdModes" => {
            "volumeLifecycleModes defines what kind of volumes this CSI volume driver supports. The default if the list is empty is \"Persistent\", which is the usage defined by the CSI specification and implemented in Kubernetes via the usual PV/PVC mechanism.\n\nThe other mode is \"Ephemeral\". In this mode, volumes are defined inline inside the pod spec with CSIVolumeSource and their lifecycle is tied to the lifecycle of that pod. A driver has to be aware of this because it is only going to get a NodePublishVolume call for such a volume.\n\nFor more information about implementing this mode, see https://kubernetes-csi.github.io/docs/ephemeral-local-volumes.html A driver can support one or more of these modes and more modes may be added in the future.\n\nThis field is beta. This field is immutable."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> jiff::Timestamp {
        "2025-01-01T12:00:00Z".parse().unwrap()
    }

    fn names(group: &str, resource: &str) -> Vec<String> {
        column_definitions(group, resource, None)
            .iter()
            .map(|c| {
                let n = c["name"].as_str().unwrap().to_string();
                if c["priority"] == 1 {
                    format!("{n}*")
                } else {
                    n
                }
            })
            .collect()
    }

    fn cells(group: &str, resource: &str, obj: &Value) -> Vec<Value> {
        let r = row(group, resource, obj, None, IncludeObject::Metadata, now());
        r["cells"].as_array().unwrap().clone()
    }

    #[test]
    fn human_duration_upstream_cases() {
        let s = jiff::SignedDuration::from_secs;
        let h = |x: i64| s(x * 3600);
        let cases = [
            (s(1), "1s"),
            (s(70), "70s"),
            (s(190), "3m10s"),
            (s(70 * 60), "70m"),
            (h(47), "47h"),
            (h(49), "2d1h"),
            (h(8 * 24 + 2), "8d"),
            (h(367 * 24 + 2), "367d"),
            (h(365 * 2 * 24 + 25), "2y1d"),
            (h(365 * 8 * 24 + 2), "8y"),
            (s(-1), "0s"),
            (s(-2), "<invalid>"),
            (s(600), "10m"),
            (s(540), "9m"),
            (h(3), "3h"),
            (s(3 * 3600 + 120), "3h2m"),
        ];
        for (d, want) in cases {
            assert_eq!(human(d), want, "{d:?}");
        }
    }

    #[test]
    fn column_sets() {
        assert_eq!(
            names("", "pods"),
            [
                "Name",
                "Ready",
                "Status",
                "Restarts",
                "Age",
                "IP*",
                "Node*",
                "Nominated Node*",
                "Readiness Gates*"
            ]
        );
        assert_eq!(
            names("apps", "deployments"),
            [
                "Name",
                "Ready",
                "Up-to-date",
                "Available",
                "Age",
                "Containers*",
                "Images*",
                "Selector*"
            ]
        );
        assert_eq!(
            names("apps", "replicasets"),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Age",
                "Containers*",
                "Images*",
                "Selector*"
            ]
        );
        assert_eq!(
            names("apps", "statefulsets"),
            ["Name", "Ready", "Age", "Containers*", "Images*"]
        );
        assert_eq!(
            names("apps", "daemonsets"),
            [
                "Name",
                "Desired",
                "Current",
                "Ready",
                "Up-to-date",
                "Available",
                "Node Selector",
                "Age",
                "Containers*",
                "Images*",
                "Selector*"
            ]
        );
        assert_eq!(
            names("batch", "jobs"),
            [
                "Name",
                "Status",
                "Completions",
                "Duration",
                "Age",
                "Containers*",
                "Images*",
                "Selector*"
            ]
        );
        assert_eq!(
            names("batch", "cronjobs"),
            [
                "Name",
                "Schedule",
                "Timezone",
                "Suspend",
                "Active",
                "Last Schedule",
                "Age",
                "Containers*",
                "Images*",
                "Selector*"
            ]
        );
        assert_eq!(
            names("", "services"),
            [
                "Name",
                "Type",
                "Cluster-IP",
                "External-IP",
                "Port(s)",
                "Age",
                "Selector*"
            ]
        );
        assert_eq!(names("", "endpoints"), ["Name", "Endpoints", "Age"]);
        assert_eq!(
            names("", "nodes"),
            [
                "Name",
                "Status",
                "Roles",
                "Age",
                "Version",
                "Internal-IP*",
                "External-IP*",
                "OS-Image*",
                "Kernel-Version*",
                "Container-Runtime*"
            ]
        );
        assert_eq!(names("", "namespaces"), ["Name", "Status", "Age"]);
        assert_eq!(
            names("", "events"),
            [
                "Last Seen",
                "Type",
                "Reason",
                "Object",
                "Subobject*",
                "Source*",
                "Message",
                "First Seen*",
                "Count*",
                "Name*"
            ]
        );
        assert_eq!(names("", "configmaps"), ["Name", "Data", "Age"]);
        assert_eq!(names("", "secrets"), ["Name", "Type", "Data", "Age"]);
        assert_eq!(
            names("networking.k8s.io", "ingresses"),
            ["Name", "Class", "Hosts", "Address", "Ports", "Age"]
        );
        assert_eq!(
            names("coordination.k8s.io", "leases"),
            ["Name", "Holder", "Age"]
        );
        assert_eq!(names("", "serviceaccounts"), ["Name", "Secrets", "Age"]);
        assert_eq!(
            names("rbac.authorization.k8s.io", "clusterroles"),
            ["Name", "Created At"]
        );
        let pods = column_definitions("", "pods", None);
        assert_eq!(pods[0]["format"], "name");
        assert_eq!(pods[0]["type"], "string");
        assert!(
            pods[0]["description"]
                .as_str()
                .unwrap()
                .starts_with("Name must be unique")
        );
        assert_eq!(
            pods[5]["description"],
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        );
        assert_eq!(pods[4]["format"], "");
        assert!(has_printer("", "pods"));
        assert!(!has_printer("rbac.authorization.k8s.io", "roles"));
    }

    #[test]
    fn running_pod_half_ready_with_restarts() {
        let pod = json!({
            "metadata": {"name": "web-1", "creationTimestamp": "2025-01-01T11:00:00Z"},
            "spec": {"nodeName": "node-a", "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {
                "phase": "Running",
                "podIP": "10.0.0.5",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {"name": "a", "ready": true, "restartCount": 0,
                     "state": {"running": {"startedAt": "2025-01-01T11:00:00Z"}}},
                    {"name": "b", "ready": false, "restartCount": 3,
                     "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2025-01-01T11:55:00Z"}},
                     "state": {"running": {"startedAt": "2025-01-01T11:55:01Z"}}}
                ]
            }
        });
        assert_eq!(
            cells("", "pods", &pod),
            [
                json!("web-1"),
                json!("1/2"),
                json!("Running"),
                json!("3 (5m ago)"),
                json!("60m"),
                json!("10.0.0.5"),
                json!("node-a"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn pod_statuses() {
        let terminating = json!({
            "metadata": {"name": "p", "creationTimestamp": "2025-01-01T11:59:50Z",
                          "deletionTimestamp": "2025-01-01T12:00:30Z"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}}]}
        });
        let c = cells("", "pods", &terminating);
        assert_eq!(c[2], "Terminating");
        assert_eq!(c[3], "0");
        assert_eq!(c[4], "10s");
        assert_eq!(c[5], "<none>");

        let crash = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 7,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        });
        let c = cells("", "pods", &crash);
        assert_eq!(c[1], "0/1");
        assert_eq!(c[2], "CrashLoopBackOff");
        assert_eq!(c[3], "7");
        assert_eq!(c[4], "<unknown>");

        let done = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [
                {"name": "a", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}
        });
        let r = row("", "pods", &done, None, IncludeObject::None, now());
        assert_eq!(r["cells"][2], "Completed");
        assert_eq!(r["conditions"][0]["type"], "Completed");
        assert_eq!(r["conditions"][0]["reason"], "Succeeded");
        assert!(r["object"].is_null());

        let init = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "a"}],
                     "readinessGates": [{"conditionType": "x"}]},
            "status": {"phase": "Pending",
                "conditions": [{"type": "x", "status": "True"}],
                "initContainerStatuses": [
                {"name": "i", "ready": false, "restartCount": 0, "state": {"running": {}}}],
                "containerStatuses": [{"name": "a", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "PodInitializing"}}}]}
        });
        let c = cells("", "pods", &init);
        assert_eq!(c[2], "Init:0/1");
        assert_eq!(c[8], "1/1");

        let init_err = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "i", "restartCount": 2, "state": {"terminated": {"exitCode": 3}}}]}
        });
        let c = cells("", "pods", &init_err);
        assert_eq!(c[2], "Init:ExitCode:3");
        assert_eq!(c[3], "2");

        // A restartable (sidecar) init container counts as a container.
        let sidecar = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "s", "restartPolicy": "Always"}],
                     "containers": [{"name": "a"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}],
                "initContainerStatuses": [
                {"name": "s", "ready": true, "started": true, "restartCount": 1, "state": {"running": {}}}],
                "containerStatuses": [{"name": "a", "ready": true, "restartCount": 0,
                 "state": {"running": {}}}]}
        });
        let c = cells("", "pods", &sidecar);
        assert_eq!(c[1], "2/2");
        assert_eq!(c[2], "Running");
        assert_eq!(c[3], "1");
    }

    #[test]
    fn service_rows() {
        let svc = json!({
            "metadata": {"name": "web", "creationTimestamp": "2025-01-01T11:57:58Z"},
            "spec": {"type": "NodePort", "clusterIP": "10.96.0.10",
                     "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                               {"port": 53, "protocol": "UDP"}],
                     "selector": {"app": "web", "tier": "fe"}}
        });
        assert_eq!(
            cells("", "services", &svc),
            [
                json!("web"),
                json!("NodePort"),
                json!("10.96.0.10"),
                json!("<none>"),
                json!("80:30080/TCP,53/UDP"),
                json!("2m2s"),
                json!("app=web,tier=fe")
            ]
        );
        let lb = json!({
            "metadata": {"name": "lb"},
            "spec": {"type": "LoadBalancer", "clusterIP": "None"},
        });
        let c = cells("", "services", &lb);
        assert_eq!(c[2], "None");
        assert_eq!(c[3], "<pending>");
        assert_eq!(c[4], "<none>");
        assert_eq!(c[6], "<none>");
    }

    #[test]
    fn workload_rows() {
        let dep = json!({
            "metadata": {"name": "web", "creationTimestamp": "2024-12-30T12:00:00Z"},
            "spec": {"replicas": 3,
                     "selector": {"matchLabels": {"app": "web"},
                                  "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]},
                     "template": {"spec": {"containers": [
                         {"name": "nginx", "image": "nginx:1.27"},
                         {"name": "side", "image": "busybox"}]}}},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        });
        assert_eq!(
            cells("apps", "deployments", &dep),
            [
                json!("web"),
                json!("2/3"),
                json!(3),
                json!(2),
                json!("2d"),
                json!("nginx,side"),
                json!("nginx:1.27,busybox"),
                json!("app=web,env in (dev,prod)")
            ]
        );
        let rs = json!({"metadata": {"name": "r"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}},
                        "status": {"replicas": 2, "readyReplicas": 1}});
        let c = cells("apps", "replicasets", &rs);
        assert_eq!(&c[..4], &[json!("r"), json!(2), json!(2), json!(1)]);
        assert_eq!(c[7], "a=b");
        let sts = json!({"metadata": {"name": "s"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 3}});
        assert_eq!(cells("apps", "statefulsets", &sts)[1], "3/3");
        let ds = json!({"metadata": {"name": "d"},
            "spec": {"selector": {}, "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}}}},
            "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1,
                       "updatedNumberScheduled": 2, "numberAvailable": 1}});
        let c = cells("apps", "daemonsets", &ds);
        assert_eq!(c[6], "kubernetes.io/os=linux");
        assert_eq!(c[10], "<none>");
    }

    #[test]
    fn job_and_cronjob_rows() {
        let job = json!({
            "metadata": {"name": "pi", "creationTimestamp": "2025-01-01T11:50:00Z"},
            "spec": {"completions": 1, "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
                     "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}},
            "status": {"succeeded": 1, "startTime": "2025-01-01T11:50:00Z",
                       "completionTime": "2025-01-01T11:50:42Z",
                       "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                                      {"type": "Complete", "status": "True"}]}
        });
        assert_eq!(
            cells("batch", "jobs", &job),
            [
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("42s"),
                json!("10m"),
                json!("pi"),
                json!("perl"),
                json!("batch.kubernetes.io/controller-uid=u")
            ]
        );
        let running = json!({"metadata": {"name": "j"}, "spec": {"parallelism": 3},
                             "status": {"startTime": "2025-01-01T11:59:00Z"}});
        let c = cells("batch", "jobs", &running);
        assert_eq!(c[1], "Running");
        assert_eq!(c[2], "0/1 of 3");
        assert_eq!(c[3], "60s");
        let suspended = json!({"metadata": {"name": "j"}, "spec": {"completions": 2},
            "status": {"conditions": [{"type": "Suspended", "status": "True"}]}});
        let c = cells("batch", "jobs", &suspended);
        assert_eq!(c[1], "Suspended");
        assert_eq!(c[2], "0/2");
        assert_eq!(c[3], "");

        let cj = json!({
            "metadata": {"name": "hello", "creationTimestamp": "2025-01-01T09:00:00Z"},
            "spec": {"schedule": "*/1 * * * *", "suspend": false,
                     "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "h", "image": "busybox"}]}}}}},
            "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": "2025-01-01T11:59:30Z"}
        });
        assert_eq!(
            cells("batch", "cronjobs", &cj),
            [
                json!("hello"),
                json!("*/1 * * * *"),
                json!("<none>"),
                json!("False"),
                json!(1),
                json!("30s"),
                json!("3h"),
                json!("h"),
                json!("busybox"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn event_row() {
        let ev = json!({
            "metadata": {"name": "web-1.17a", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{nginx}"},
            "reason": "Pulled", "type": "Normal", "message": "Pulled image \"nginx\"\n",
            "source": {"component": "kubelet", "host": "node-a"},
            "firstTimestamp": "2025-01-01T11:00:00Z", "lastTimestamp": "2025-01-01T11:58:00Z",
            "count": 4
        });
        assert_eq!(
            cells("", "events", &ev),
            [
                json!("2m"),
                json!("Normal"),
                json!("Pulled"),
                json!("pod/web-1"),
                json!("spec.containers{nginx}"),
                json!("kubelet, node-a"),
                json!("Pulled image \"nginx\""),
                json!("60m"),
                json!(4),
                json!("web-1.17a")
            ]
        );
        let new_style = json!({
            "metadata": {"name": "e"},
            "involvedObject": {"kind": "Node"},
            "eventTime": "2025-01-01T11:59:55.000000Z",
            "reportingComponent": "scheduler",
            "type": "Warning", "reason": "X", "message": "m"
        });
        let c = cells("", "events", &new_style);
        assert_eq!(c[0], "5s");
        assert_eq!(c[3], "node");
        assert_eq!(c[5], "scheduler");
        assert_eq!(c[7], "5s");
        assert_eq!(c[8], 1);
    }

    #[test]
    fn other_rows() {
        let ep = json!({"metadata": {"name": "e"}, "subsets": [
            {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}, {"ip": "fd00::1"}],
             "ports": [{"port": 80}]}]});
        assert_eq!(
            cells("", "endpoints", &ep)[1],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more..."
        );
        let ep6 = json!({"metadata": {"name": "e"}, "subsets": [
            {"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 80}]}]});
        assert_eq!(cells("", "endpoints", &ep6)[1], "[fd00::1]:80");
        assert_eq!(
            cells("", "endpoints", &json!({"metadata": {"name": "e"}}))[1],
            "<none>"
        );

        let node = json!({
            "metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": "",
                                                   "kubernetes.io/role": "worker"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}],
                       "addresses": [{"type": "InternalIP", "address": "192.168.1.2"}],
                       "nodeInfo": {"kubeletVersion": "v1.33.0", "osImage": "Debian"}}
        });
        let c = cells("", "nodes", &node);
        assert_eq!(c[1], "Ready,SchedulingDisabled");
        assert_eq!(c[2], "control-plane,worker");
        assert_eq!(c[4], "v1.33.0");
        assert_eq!(c[5], "192.168.1.2");
        assert_eq!(c[6], "<none>");
        assert_eq!(c[7], "Debian");
        assert_eq!(c[8], "<unknown>");
        let bare = json!({"metadata": {"name": "n2"}});
        assert_eq!(cells("", "nodes", &bare)[1], "Unknown");
        assert_eq!(cells("", "nodes", &bare)[2], "<none>");

        let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": ""}});
        assert_eq!(cells("", "configmaps", &cm)[1], 3);
        let secret = json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"k": "dg=="}});
        assert_eq!(
            cells("", "secrets", &secret)[1..3],
            [json!("Opaque"), json!(1)]
        );
        let ns = json!({"metadata": {"name": "default"}, "status": {"phase": "Active"}});
        assert_eq!(cells("", "namespaces", &ns)[1], "Active");
        let sa = json!({"metadata": {"name": "default"}});
        assert_eq!(cells("", "serviceaccounts", &sa)[1], 0);
        let lease = json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "me"}});
        assert_eq!(cells("coordination.k8s.io", "leases", &lease)[1], "me");
        let ing = json!({"metadata": {"name": "i"},
            "spec": {"ingressClassName": "nginx", "rules": [{"host": "a.example"}, {}], "tls": [{}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}});
        assert_eq!(
            cells("networking.k8s.io", "ingresses", &ing)[1..5],
            [
                json!("nginx"),
                json!("a.example"),
                json!("1.2.3.4"),
                json!("80, 443")
            ]
        );
        let cr = json!({"metadata": {"name": "web-7d", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": true}]},
            "revision": 2});
        assert_eq!(
            cells("apps", "controllerrevisions", &cr)[1..3],
            [json!("statefulset.apps/web"), json!(2)]
        );
    }

    #[test]
    fn crd_printer_columns() {
        let custom = vec![
            json!({"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}),
            json!({"name": "Ratio", "type": "number", "jsonPath": ".spec.ratio", "priority": 1}),
            json!({"name": "On", "type": "boolean", "jsonPath": ".spec.on"}),
            json!({"name": "Phase", "type": "string", "jsonPath": ".status.phase", "description": "The phase"}),
            json!({"name": "Started", "type": "date", "jsonPath": ".status.started"}),
        ];
        let cols = column_definitions("example.com", "widgets", Some(&custom));
        let n: Vec<&str> = cols.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(n, ["Name", "Replicas", "Ratio", "On", "Phase", "Started"]);
        assert_eq!(cols[0]["format"], "name");
        assert_eq!(cols[2]["priority"], 1);
        assert_eq!(
            cols[1]["description"],
            "Custom resource definition column (in JSONPath format): .spec.replicas"
        );
        assert_eq!(cols[4]["description"], "The phase");
        let obj = json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w1"},
            "spec": {"replicas": 3, "ratio": 0.5, "on": true},
            "status": {"phase": "Ready", "started": "2025-01-01T11:00:00Z"}
        });
        let r = row(
            "example.com",
            "widgets",
            &obj,
            Some(&custom),
            IncludeObject::Object,
            now(),
        );
        assert_eq!(r["cells"], json!(["w1", 3, 0.5, true, "Ready", "60m"]));
        assert_eq!(r["object"], obj);
        let missing = json!({"metadata": {"name": "w2"}});
        let r = row(
            "example.com",
            "widgets",
            &missing,
            Some(&custom),
            IncludeObject::Metadata,
            now(),
        );
        assert_eq!(r["cells"], json!(["w2", null, null, null, null, null]));

        // No additionalPrinterColumns: Name and Age.
        let cols = column_definitions("example.com", "widgets", Some(&[]));
        let n: Vec<&str> = cols.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(n, ["Name", "Age"]);
        let obj = json!({"metadata": {"name": "w", "creationTimestamp": "2025-01-01T11:59:00Z"}});
        let r = row(
            "example.com",
            "widgets",
            &obj,
            Some(&[]),
            IncludeObject::Metadata,
            now(),
        );
        assert_eq!(r["cells"], json!(["w", "60s"]));
    }

    #[test]
    fn default_table() {
        let items = vec![json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "admin", "creationTimestamp": "2025-01-01T10:00:00Z", "uid": "u1"},
            "rules": []
        })];
        let t = table_at(
            "rbac.authorization.k8s.io",
            "clusterroles",
            &items,
            json!({"resourceVersion": "42", "continue": "abc"}),
            None,
            IncludeObject::Metadata,
            now(),
        );
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(
            t["metadata"],
            json!({"resourceVersion": "42", "continue": "abc"})
        );
        assert_eq!(t["columnDefinitions"][1]["name"], "Created At");
        assert_eq!(t["columnDefinitions"][1]["type"], "date");
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["admin", "2025-01-01T10:00:00Z"])
        );
        assert_eq!(
            t["rows"][0]["object"],
            json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": {"name": "admin", "creationTimestamp": "2025-01-01T10:00:00Z", "uid": "u1"}
            })
        );
        let empty = table("", "pods", &[], Value::Null, None, IncludeObject::None);
        assert_eq!(empty["rows"], json!([]));
        assert_eq!(empty["metadata"], json!({}));
        assert_eq!(empty["columnDefinitions"].as_array().unwrap().len(), 9);
    }

    #[test]
    fn single_object_table() {
        let obj = json!({"metadata": {"name": "c", "resourceVersion": "7"}, "data": {"a": "b"}});
        let t = table_for_object("", "configmaps", &obj, None, IncludeObject::Object);
        assert_eq!(t["metadata"], json!({"resourceVersion": "7"}));
        assert_eq!(t["rows"][0]["cells"][1], 1);
        assert_eq!(t["rows"][0]["object"], obj);
    }

    #[test]
    fn extra_kinds() {
        let hpa = json!({"metadata": {"name": "h"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                     "metrics": [
                        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                        {"type": "Pods", "pods": {"target": {"averageValue": "1k"}}},
                        {"type": "Resource", "resource": {"name": "memory", "target": {"averageValue": "100Mi"}}}]},
            "status": {"currentReplicas": 2, "currentMetrics": [
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 12}}}]}});
        assert_eq!(
            cells("autoscaling", "horizontalpodautoscalers", &hpa)[1..6],
            [
                json!("Deployment/web"),
                json!("cpu: 12%/50%, <unknown>/1k + 1 more..."),
                json!("<unset>"),
                json!(5),
                json!(2)
            ]
        );
        let v1 = json!({"metadata": {"name": "h"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 1, "maxReplicas": 3, "targetCPUUtilizationPercentage": 70}});
        assert_eq!(
            cells("autoscaling", "horizontalpodautoscalers", &v1)[2],
            "cpu: <unknown>/70%"
        );
        let pdb = json!({"metadata": {"name": "p"}, "spec": {"minAvailable": "50%"}, "status": {"disruptionsAllowed": 1}});
        assert_eq!(
            cells("policy", "poddisruptionbudgets", &pdb)[1..4],
            [json!("50%"), json!("N/A"), json!(1)]
        );
        let es = json!({"metadata": {"name": "e"}, "addressType": "IPv4",
            "ports": [{"port": 80}, {"name": "x"}], "endpoints": [{"addresses": ["10.0.0.1"]}]});
        assert_eq!(
            cells("discovery.k8s.io", "endpointslices", &es)[1..4],
            [json!("IPv4"), json!("80,x"), json!("10.0.0.1")]
        );
        let es0 = json!({"metadata": {"name": "e"}, "addressType": "IPv4"});
        assert_eq!(
            cells("discovery.k8s.io", "endpointslices", &es0)[2],
            "<unset>"
        );
        let csr = json!({"metadata": {"name": "c"}, "spec": {"signerName": "kubernetes.io/kube-apiserver-client",
            "username": "alice", "expirationSeconds": 86400},
            "status": {"conditions": [{"type": "Approved"}], "certificate": "Zm9v"}});
        assert_eq!(
            cells("certificates.k8s.io", "certificatesigningrequests", &csr)[2..6],
            [
                json!("kubernetes.io/kube-apiserver-client"),
                json!("alice"),
                json!("24h"),
                json!("Approved,Issued")
            ]
        );
        let rq = json!({"metadata": {"name": "q"}, "status": {
            "hard": {"pods": "10", "limits.cpu": "2", "requests.cpu": "1"},
            "used": {"pods": "3", "requests.cpu": "500m"}}});
        assert_eq!(
            cells("", "resourcequotas", &rq)[1..3],
            [
                json!("pods: 3/10, requests.cpu: 500m/1"),
                json!("limits.cpu: 0/2")
            ]
        );
        assert_eq!(
            names("networking.k8s.io", "ipaddresses"),
            ["Name", "ParentRef"]
        );
    }

    #[test]
    fn include_object_parse() {
        assert_eq!(IncludeObject::parse(None), Ok(IncludeObject::Metadata));
        assert_eq!(IncludeObject::parse(Some("None")), Ok(IncludeObject::None));
        assert_eq!(
            IncludeObject::parse(Some("Object")),
            Ok(IncludeObject::Object)
        );
        assert!(IncludeObject::parse(Some("bogus")).is_err());
    }

    #[test]
    fn selectors() {
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        assert_eq!(
            format_label_selector(Some(&json!({"matchExpressions": [
                {"key": "b", "operator": "Exists"},
                {"key": "a", "operator": "NotIn", "values": ["x"]},
                {"key": "c", "operator": "DoesNotExist"}]}))),
            "a notin (x),b,!c"
        );
        assert_eq!(
            format_label_selector(Some(
                &json!({"matchExpressions": [{"key": "b", "operator": "In"}]})
            )),
            "<error>"
        );
    }
}
