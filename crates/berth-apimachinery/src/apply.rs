//! Server-side apply (`application/apply-patch+yaml`) and managed-fields tracking, as
//! `sigs.k8s.io/structured-merge-diff/v4` (`merge.Updater`) and the apiserver's field manager
//! (`k8s.io/apiserver/pkg/util/managedfields/internal`) do it, as pure functions on JSON.
//!
//! - [`apply`]: an apply by a field manager: merges the configuration into the live object,
//!   removes the fields the manager applied before and no longer applies (unless someone else
//!   owns them), detects conflicts with other managers (409 unless `force`) and returns the
//!   object with its new `metadata.managedFields`.
//! - [`record_update`]: the `managedFields` after an ordinary write (create, update, patch):
//!   the writer (operation `Update`) takes the fields it changed from everybody else.
//! - [`conflict_message`] / [`conflict_error`]: the 409 Kubernetes answers for conflicts.
//!
//! The schema of a kind decides how lists and maps are tracked:
//! - built-in kinds use the struct table of [`crate::strategic`]: a list with a patch merge
//!   key is an associative list keyed by it (a few fields are keyed as their `+listMapKey`
//!   tags say: container ports by `containerPort,protocol`, service ports by `port,protocol`,
//!   topology spread constraints by `topologyKey,whenUnsatisfiable`; `protocol` defaults to
//!   `TCP`), a merge-strategy list of scalars is a set, every other list is atomic; structs and
//!   maps are granular except the `+structType=atomic` / `+mapType=atomic` ones (label
//!   selectors, object references, key selectors, node selectors, service selectors, ...);
//! - custom resources use their `openAPIV3Schema` (`x-kubernetes-list-type`,
//!   `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`, key defaults from `default`),
//!   `metadata` being typed as `ObjectMeta`; without a schema, maps are granular and lists
//!   atomic (structured-merge-diff's "deduced" type).
//!
//! Never tracked: `apiVersion`, `kind`, `metadata.{name,namespace,uid,resourceVersion,
//! generation,creationTimestamp,selfLink,managedFields}`, and `status` for kinds with a status
//! subresource (the caller resets it on the main resource).
//!
//! Deviations from upstream: no version conversion (every entry is compared as it is stored),
//! no cap of 10 `Update` managers (`ancient-changes`), no upgrade of client-side apply
//! (`kubectl.kubernetes.io/last-applied-configuration`), no union normalization, only writes to
//! the main resource (entries of subresources are kept and treated as other managers), unknown
//! fields are tracked instead of being rejected (the decoding of the object rejects them), and
//! a granular map or list emptied by the removal of all its items is dropped instead of kept
//! empty.

use crate::status::ApiError;
use crate::strategic::{Field, builtin_schema};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// The kind being written and the schema its fields are tracked with.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    /// The `openAPIV3Schema` of the custom resource's version (`None` for built-in kinds).
    pub crd_schema: Option<&'a Value>,
    /// Whether the resource has a `status` subresource: `status` is then never tracked for
    /// writes to the main resource.
    pub status_subresource: bool,
}

impl<'a> Target<'a> {
    /// A built-in kind; whether it has a status subresource comes from the resource table.
    pub fn builtin(group: &'a str, kind: &'a str) -> Self {
        let status_subresource = crate::resources::builtin_table()
            .iter()
            .any(|r| r.group == group && r.kind == kind && r.subresource("status").is_some());
        Target {
            group,
            kind,
            crd_schema: None,
            status_subresource,
        }
    }

    /// A custom resource with its version's `openAPIV3Schema` (if any).
    pub fn custom(
        group: &'a str,
        kind: &'a str,
        crd_schema: Option<&'a Value>,
        status_subresource: bool,
    ) -> Self {
        Target {
            group,
            kind,
            crd_schema,
            status_subresource,
        }
    }

    fn root(&self) -> Ty<'a> {
        if let Some(s) = self.crd_schema {
            return Ty::Root(Some(s));
        }
        match builtin_schema().root(self.group, self.kind) {
            Some(t) => Ty::Builtin(t),
            None => Ty::Root(None),
        }
    }

    /// The fields never tracked for this target (structured-merge-diff's ignored fields).
    fn ignored(&self) -> Set {
        let mut s = Set::default();
        if self.status_subresource {
            s.insert(&["f:status".to_string()]);
        }
        s
    }
}

/// The outcome of an apply.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyResult {
    /// The new object, with `metadata.managedFields` set (absent when empty).
    pub object: Value,
    /// The new `metadata.managedFields` array.
    pub managed_fields: Value,
    /// Whether the object (not counting `managedFields`) differs from the live one.
    pub changed: bool,
}

/// One field another manager owns and the apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager's name.
    pub manager: String,
    /// Its operation, `Apply` or `Update`.
    pub operation: String,
    /// The API version of its entry.
    pub api_version: String,
    /// Its subresource (empty for the main resource).
    pub subresource: String,
    /// The field, as structured-merge-diff prints paths: `.spec.replicas`,
    /// `.spec.template.spec.containers[name="web"].image`, `.metadata.finalizers[="x"]`.
    pub field: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApplyError {
    /// Fields owned by other managers would change (409, see [`conflict_error`]).
    Conflicts(Vec<Conflict>),
    /// The configuration is not acceptable (400 BadRequest with this message).
    Invalid(String),
}

/// Server-side apply of `applied` (the manager's configuration) to `live` (the current object,
/// `None` when the apply creates it), by `manager` (the `fieldManager`), at `now` (RFC 3339 time
/// written into managedFields).
pub fn apply(
    target: &Target,
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<ApplyResult, ApplyError> {
    let root = target.root();
    let api_version = check_applied(applied)?;
    let ignored = target.ignored();

    let mut entries = match live {
        Some(l) => decode_managed(l.pointer("/metadata/managedFields")).unwrap_or_default(),
        None => Vec::new(),
    };
    let live_v = match live {
        Some(l) => without_managed_fields(l),
        None => {
            json!({"apiVersion": api_version, "kind": applied.get("kind").cloned().unwrap_or(Value::Null)})
        }
    };
    if live.is_some() && entries.is_empty() {
        // skipNonAppliedManager: an object nobody tracked yet belongs to "before-first-apply".
        let zero = zero_object(target, &live_v);
        entries = update_entries(
            target,
            &zero,
            &live_v,
            entries,
            "before-first-apply",
            api_version,
            now,
        );
    }

    let config = config_set(applied, root, &mut Vec::new())
        .map_err(ApplyError::Invalid)?
        .recursive_difference(&ignored);
    let merged = merge(&live_v, applied, root);

    let own = entries
        .iter()
        .position(|e| e.operation == "Apply" && e.manager == manager && e.subresource.is_empty());
    let pruned = match own {
        Some(i) if !entries[i].set.is_empty() => {
            let others: Vec<&Entry> = entries
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, e)| e)
                .collect();
            prune(&merged, root, &entries[i].set, &others, &config)
        }
        _ => merged,
    };

    let compare_base = match live {
        Some(_) => live_v.clone(),
        None => zero_object(target, &live_v),
    };
    let cmp = diff(&compare_base, &pruned, root).filter(&ignored);
    let changed_paths = cmp.modified.union(&cmp.added);

    let mut conflicts = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if Some(i) == own {
            continue;
        }
        let c = e.set.intersection(&changed_paths);
        for p in c.paths() {
            conflicts.push(Conflict {
                manager: e.manager.clone(),
                operation: e.operation.clone(),
                api_version: e.api_version.clone(),
                subresource: e.subresource.clone(),
                field: path_string(&p),
            });
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(ApplyError::Conflicts(conflicts));
    }

    for (i, e) in entries.iter_mut().enumerate() {
        if Some(i) == own {
            continue;
        }
        e.set = e.set.difference(&changed_paths).difference(&cmp.removed);
    }
    let object_changed = pruned != live_v;
    let new_set = strip_meta(&config);
    match own {
        Some(i) => {
            let e = &mut entries[i];
            if object_changed || e.time.is_none() || e.set != new_set {
                e.time = Some(now.to_string());
            }
            e.set = new_set;
            e.api_version = api_version.to_string();
        }
        None => entries.push(Entry {
            manager: manager.to_string(),
            operation: "Apply".to_string(),
            api_version: api_version.to_string(),
            time: Some(now.to_string()),
            subresource: String::new(),
            set: new_set,
        }),
    }
    entries.retain(|e| !e.set.is_empty());
    let managed_fields = encode_managed(entries);
    let mut object = pruned;
    set_managed_fields(&mut object, &managed_fields);
    Ok(ApplyResult {
        object,
        managed_fields,
        changed: object_changed,
    })
}

/// The `metadata.managedFields` after an ordinary write (create when `old` is `None`, update,
/// patch) of `new` by `manager` (operation `Update`): the fields the write added or changed
/// move to the manager's entry for `new`'s apiVersion, fields it removed leave every entry.
/// As upstream, managedFields given in `new` replace the live ones (`[]` or `[{}]` resets them),
/// and an existing object without managedFields stays untracked.
pub fn record_update(
    target: &Target,
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    now: &str,
) -> Value {
    let api_version = new.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let new_mf = new.pointer("/metadata/managedFields");
    let reset = match new_mf {
        Some(Value::Array(a)) => {
            a.is_empty() || (a.len() == 1 && a[0].as_object().is_some_and(Map::is_empty))
        }
        _ => false,
    };
    let entries = if reset {
        Vec::new()
    } else {
        match decode_managed(new_mf) {
            Some(e) if !e.is_empty() => e,
            _ => old
                .and_then(|o| decode_managed(o.pointer("/metadata/managedFields")))
                .unwrap_or_default(),
        }
    };
    let new_v = without_managed_fields(new);
    let old_v = match old {
        Some(o) => {
            if entries.is_empty() {
                return Value::Array(Vec::new());
            }
            without_managed_fields(o)
        }
        None => zero_object(target, &new_v),
    };
    encode_managed(update_entries(
        target,
        &old_v,
        &new_v,
        entries,
        manager,
        api_version,
        now,
    ))
}

/// The message and `details.causes` of the 409 Kubernetes answers for apply conflicts:
/// `Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas`, or
/// for several, `Apply failed with 2 conflicts: conflicts with "a":\n- .spec.x\n- .spec.y`;
/// each cause is `{"reason": "FieldManagerConflict", "message": "conflict with \"a\"",
/// "field": ".spec.x"}`. `Apply` managers are printed without ` using <apiVersion>`.
pub fn conflict_message(conflicts: &[Conflict]) -> (String, Vec<Value>) {
    let causes = conflicts
        .iter()
        .map(|c| {
            json!({
                "reason": "FieldManagerConflict",
                "message": format!("conflict with {}", print_manager(c)),
                "field": c.field,
            })
        })
        .collect();
    if let [c] = conflicts {
        let message = format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            print_manager(c),
            c.field
        );
        return (message, causes);
    }
    let mut by_manager: BTreeMap<String, (String, Vec<&str>)> = BTreeMap::new();
    for c in conflicts {
        by_manager
            .entry(manager_identifier(c))
            .or_insert_with(|| (print_manager(c), Vec::new()))
            .1
            .push(&c.field);
    }
    let mut lines = Vec::new();
    for (printed, fields) in by_manager.values() {
        lines.push(format!("conflicts with {printed}:"));
        for f in fields {
            lines.push(format!("- {f}"));
        }
    }
    let message = format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    );
    (message, causes)
}

/// The whole 409 `Conflict` error (`errors.NewApplyConflict`).
pub fn conflict_error(conflicts: &[Conflict]) -> ApiError {
    let (message, causes) = conflict_message(conflicts);
    ApiError::new(409, "Conflict", message).with_details(json!({ "causes": causes }))
}

impl ApplyError {
    /// The error as the API answers it: 409 for conflicts, 400 otherwise.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            ApplyError::Conflicts(c) => conflict_error(c),
            ApplyError::Invalid(m) => ApiError::bad_request(m.clone()),
        }
    }
}

fn print_manager(c: &Conflict) -> String {
    let mut s = go_quote(&c.manager);
    if !c.subresource.is_empty() {
        s = format!("{s} with subresource {}", go_quote(&c.subresource));
    }
    if c.operation == "Update" {
        s = format!("{s} using {}", c.api_version);
    }
    s
}

/// The manager identifier upstream sorts by (`BuildManagerIdentifier`).
fn manager_identifier(c: &Conflict) -> String {
    let mut m = Map::new();
    m.insert("manager".into(), json!(c.manager));
    m.insert("operation".into(), json!(c.operation));
    if c.operation != "Apply" && !c.api_version.is_empty() {
        m.insert("apiVersion".into(), json!(c.api_version));
    }
    if !c.subresource.is_empty() {
        m.insert("subresource".into(), json!(c.subresource));
    }
    Value::Object(m).to_string()
}

fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

// ---------------------------------------------------------------------------------------------
// Apply helpers
// ---------------------------------------------------------------------------------------------

/// Checks the configuration and returns its apiVersion.
fn check_applied(applied: &Value) -> Result<&str, ApplyError> {
    let Some(obj) = applied.as_object() else {
        return Err(ApplyError::Invalid(
            "error decoding YAML: the apply configuration must be an object".into(),
        ));
    };
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if api_version.is_empty() {
        return Err(ApplyError::Invalid(
            "Object 'apiVersion' is missing in the apply configuration".into(),
        ));
    }
    if kind.is_empty() {
        return Err(ApplyError::Invalid(
            "Object 'Kind' is missing in the apply configuration".into(),
        ));
    }
    let meta = obj.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if name.is_empty() {
        return Err(ApplyError::Invalid(
            "metadata.name: Required value: name is required".into(),
        ));
    }
    if meta
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|m| !m.is_null())
    {
        return Err(ApplyError::Invalid(
            "metadata.managedFields must be nil".into(),
        ));
    }
    Ok(api_version)
}

/// structured-merge-diff's `prune`: removes what the manager applied last time (`last`) and
/// no longer applies, unless another manager owns it.
fn prune(merged: &Value, root: Ty, last: &Set, others: &[&Entry], config: &Set) -> Value {
    let last_e = last.ensure_named_fields_are_members();
    let mut managed = config.clone();
    for e in others {
        managed = managed.union(&e.set);
    }
    let managed_e = managed.ensure_named_fields_are_members();
    let merged_full = full_set(merged, root);
    // Remove everything the manager applied last time...
    let mut p1 = merged.clone();
    remove_items(&mut p1, &last_e, root);
    let p1_full = full_set(&p1, root);
    // ... then add back what is still owned by someone (addBackOwnedItems) ...
    let rm2 = merged_full.difference(&p1_full.union(&managed_e));
    let mut p2 = merged.clone();
    remove_items(&mut p2, &rm2, root);
    let p2_full = full_set(&p2, root);
    // ... and only ever remove fields of the last applied set (addBackDanglingItems).
    let rm3 = merged_full.difference(&p2_full).intersection(&last_e);
    let mut out = merged.clone();
    remove_items(&mut out, &rm3, root);
    out
}

/// The Update operation of structured-merge-diff and the managedFieldsUpdater: `manager`
/// takes what changed between `old_v` and `new_v`, everybody else loses it.
fn update_entries(
    target: &Target,
    old_v: &Value,
    new_v: &Value,
    mut entries: Vec<Entry>,
    manager: &str,
    api_version: &str,
    now: &str,
) -> Vec<Entry> {
    let root = target.root();
    let cmp = diff(old_v, new_v, root).filter(&target.ignored());
    let changed = cmp.modified.union(&cmp.added);
    for e in entries.iter_mut() {
        e.set = e.set.difference(&changed).difference(&cmp.removed);
    }
    let own = strip_meta(&changed);
    if !own.is_empty() {
        let pos = entries.iter().position(|e| {
            e.operation == "Update"
                && e.manager == manager
                && e.api_version == api_version
                && e.subresource.is_empty()
        });
        match pos {
            Some(i) => {
                entries[i].set = entries[i].set.union(&own);
                entries[i].time = Some(now.to_string());
            }
            None => entries.push(Entry {
                manager: manager.to_string(),
                operation: "Update".to_string(),
                api_version: api_version.to_string(),
                time: Some(now.to_string()),
                subresource: String::new(),
                set: own,
            }),
        }
    }
    entries.retain(|e| !e.set.is_empty());
    entries
}

fn without_managed_fields(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    v
}

fn set_managed_fields(object: &mut Value, managed_fields: &Value) {
    let empty = managed_fields.as_array().is_none_or(Vec::is_empty);
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    if empty {
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
        }
        return;
    }
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    if let Some(m) = meta.as_object_mut() {
        m.insert("managedFields".into(), managed_fields.clone());
    }
}

/// The object a typed create starts from (`scope.Creater.New`): the kind's non-pointer structs
/// exist as `{}`, the few non-`omitempty` lists on the way as `null`.
fn zero_object(target: &Target, like: &Value) -> Value {
    let mut m = Map::new();
    for k in ["apiVersion", "kind"] {
        if let Some(v) = like.get(k) {
            m.insert(k.into(), v.clone());
        }
    }
    if target.crd_schema.is_none()
        && let Some(root) = builtin_schema().root(target.group, target.kind)
    {
        for (k, v) in zero_struct(root, 0) {
            if k != "apiVersion" && k != "kind" {
                m.insert(k, v);
            }
        }
    }
    Value::Object(m)
}

/// Lists without `omitempty` reachable through non-pointer structs (they encode as `null`).
const NULL_LISTS: &[(&str, &str)] = &[
    ("core.PodSpec", "containers"),
    ("rbac.Role", "rules"),
    ("rbac.ClusterRole", "rules"),
    ("discovery.EndpointSlice", "endpoints"),
    ("core.LimitRangeSpec", "limits"),
    ("storage.CSINodeSpec", "drivers"),
];

fn zero_struct(t: &'static str, depth: usize) -> Map<String, Value> {
    let mut m = Map::new();
    if depth > 16 {
        return m;
    }
    for f in struct_fields(t) {
        if is_struct_name(f.ty) {
            m.insert(f.json.into(), Value::Object(zero_struct(f.ty, depth + 1)));
        } else if NULL_LISTS.contains(&(t, f.json)) {
            m.insert(f.json.into(), Value::Null);
        }
    }
    m
}

fn is_struct_name(ty: &str) -> bool {
    ty != "s" && !ty.starts_with(['*', '[', '{'])
}

// ---------------------------------------------------------------------------------------------
// Managed fields entries
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    manager: String,
    operation: String,
    api_version: String,
    time: Option<String>,
    subresource: String,
    set: Set,
}

/// Decodes `metadata.managedFields`; `None` when absent or not a list of FieldsV1 entries.
fn decode_managed(v: Option<&Value>) -> Option<Vec<Entry>> {
    let arr = v?.as_array()?;
    let mut out = Vec::new();
    for e in arr {
        let o = e.as_object()?;
        let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if o.get("fieldsType").and_then(Value::as_str) != Some("FieldsV1") {
            return None;
        }
        let operation = s("operation");
        if operation != "Apply" && operation != "Update" {
            return None;
        }
        out.push(Entry {
            manager: s("manager"),
            operation,
            api_version: s("apiVersion"),
            time: o.get("time").and_then(Value::as_str).map(str::to_string),
            subresource: s("subresource"),
            set: o
                .get("fieldsV1")
                .map(Set::from_fields_v1)
                .unwrap_or_default(),
        });
    }
    Some(out)
}

/// Encodes the entries in upstream's order (operation, time, manager, apiVersion, subresource).
fn encode_managed(mut entries: Vec<Entry>) -> Value {
    entries.sort_by(|p, q| {
        (
            &p.operation,
            &p.time,
            &p.manager,
            &p.api_version,
            &p.subresource,
        )
            .cmp(&(
                &q.operation,
                &q.time,
                &q.manager,
                &q.api_version,
                &q.subresource,
            ))
    });
    Value::Array(
        entries
            .into_iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("manager".into(), json!(e.manager));
                m.insert("operation".into(), json!(e.operation));
                m.insert("apiVersion".into(), json!(e.api_version));
                if let Some(t) = e.time {
                    m.insert("time".into(), json!(t));
                }
                m.insert("fieldsType".into(), json!("FieldsV1"));
                m.insert("fieldsV1".into(), e.set.to_fields_v1());
                if !e.subresource.is_empty() {
                    m.insert("subresource".into(), json!(e.subresource));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// `stripMetaManager`: the top-level and metadata fields never recorded (non-recursive).
fn strip_meta(set: &Set) -> Set {
    let mut strip = Set::default();
    for f in ["f:apiVersion", "f:kind", "f:metadata"] {
        strip.insert(&[f.to_string()]);
    }
    for f in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        strip.insert(&["f:metadata".to_string(), format!("f:{f}")]);
    }
    set.difference(&strip)
}

// ---------------------------------------------------------------------------------------------
// Field sets (fieldpath.Set), keyed by FieldsV1 path elements: `f:name`, `k:{...}`, `v:...`,
// `i:N`.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
struct Set {
    members: BTreeSet<String>,
    children: BTreeMap<String, Set>,
}

impl Set {
    fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(Set::is_empty)
    }

    fn insert(&mut self, path: &[String]) {
        match path {
            [] => {}
            [last] => {
                self.members.insert(last.clone());
            }
            [first, rest @ ..] => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    fn add_child(&mut self, pe: &str, child: Set) {
        if !child.is_empty() {
            self.children.insert(pe.to_string(), child);
        }
    }

    fn union(&self, o: &Set) -> Set {
        let mut out = self.clone();
        out.members.extend(o.members.iter().cloned());
        for (k, c) in &o.children {
            let merged = match out.children.get(k) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.add_child(k, merged);
        }
        out
    }

    fn difference(&self, o: &Set) -> Set {
        let mut out = Set {
            members: self.members.difference(&o.members).cloned().collect(),
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            let d = match o.children.get(k) {
                Some(oc) => c.difference(oc),
                None => c.clone(),
            };
            out.add_child(k, d);
        }
        out
    }

    fn intersection(&self, o: &Set) -> Set {
        let mut out = Set {
            members: self.members.intersection(&o.members).cloned().collect(),
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if let Some(oc) = o.children.get(k) {
                out.add_child(k, c.intersection(oc));
            }
        }
        out
    }

    /// Removes `o`'s members and everything under them.
    fn recursive_difference(&self, o: &Set) -> Set {
        let mut out = Set {
            members: self.members.difference(&o.members).cloned().collect(),
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if o.members.contains(k) {
                continue;
            }
            let d = match o.children.get(k) {
                Some(oc) => c.recursive_difference(oc),
                None => c.clone(),
            };
            out.add_child(k, d);
        }
        out
    }

    /// `EnsureNamedFieldsAreMembers`, taking every `f:` element with children as a named field.
    fn ensure_named_fields_are_members(&self) -> Set {
        let mut out = Set {
            members: self.members.clone(),
            children: BTreeMap::new(),
        };
        for (k, c) in &self.children {
            if k.starts_with("f:") && !c.is_empty() {
                out.members.insert(k.clone());
            }
            out.add_child(k, c.ensure_named_fields_are_members());
        }
        out
    }

    /// The member paths: this level's members first, then the children's (`Set.Iterate`).
    fn paths(&self) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = self.members.iter().map(|m| vec![m.clone()]).collect();
        for (k, c) in &self.children {
            for mut p in c.paths() {
                p.insert(0, k.clone());
                out.push(p);
            }
        }
        out
    }

    fn from_fields_v1(v: &Value) -> Set {
        let mut out = Set::default();
        let Some(obj) = v.as_object() else {
            return out;
        };
        for (k, child) in obj {
            if k == "." {
                continue;
            }
            let is_leaf = child.as_object().is_none_or(Map::is_empty);
            if is_leaf || child.get(".").is_some() {
                out.members.insert(k.clone());
            }
            out.add_child(k, Set::from_fields_v1(child));
        }
        out
    }

    fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit(false))
    }

    fn emit(&self, include_self: bool) -> Map<String, Value> {
        let mut m = Map::new();
        if include_self && !self.is_empty() {
            m.insert(".".into(), json!({}));
        }
        let keys: BTreeSet<&String> = self.members.iter().chain(self.children.keys()).collect();
        for k in keys {
            let v = match self.children.get(k) {
                Some(c) if !c.is_empty() => Value::Object(c.emit(self.members.contains(k))),
                _ => json!({}),
            };
            m.insert(k.clone(), v);
        }
        m
    }
}

/// `.spec.containers[name="web"].image`, as `fieldpath.Path.String()` prints it.
fn path_string(path: &[String]) -> String {
    let mut out = String::new();
    for pe in path {
        if let Some(f) = pe.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = pe.strip_prefix("k:") {
            let parts: Vec<String> = match serde_json::from_str::<Map<String, Value>>(k) {
                Ok(m) => m
                    .iter()
                    .map(|(n, v)| format!("{n}={}", value_string(v)))
                    .collect(),
                Err(_) => vec![k.to_string()],
            };
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = pe.strip_prefix("v:") {
            let shown = serde_json::from_str::<Value>(v)
                .map(|v| value_string(&v))
                .unwrap_or_else(|_| v.to_string());
            out.push_str(&format!("[={shown}]"));
        } else if let Some(i) = pe.strip_prefix("i:") {
            out.push_str(&format!("[{i}]"));
        } else {
            out.push_str(pe);
        }
    }
    out
}

/// `value.ToString`: strings quoted, everything else as JSON.
fn value_string(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------------

/// A node's type.
#[derive(Debug, Clone, Copy)]
enum Ty<'a> {
    /// A scalar or an atomic struct, map or list.
    Leaf,
    /// No schema: maps granular, lists atomic.
    Deduced,
    /// A built-in type, encoded as in the strategic-merge table (not a list).
    Builtin(&'static str),
    /// A built-in list: element type (encoded) and how it is tracked.
    BList(&'static str, BListKind),
    /// A node of a CRD's structural schema.
    Crd(&'a Value),
    /// The root of a custom resource (or of a kind without schema): `metadata` is ObjectMeta.
    Root(Option<&'a Value>),
}

#[derive(Debug, Clone, Copy)]
enum BListKind {
    Atomic,
    Set,
    Map(&'static [&'static str]),
}

/// How a value is walked.
enum Shape<'a> {
    Leaf,
    Obj,
    Set,
    Assoc(Vec<&'a str>),
}

/// `+structType=atomic` structs.
const ATOMIC_STRUCTS: &[&str] = &[
    "meta.LabelSelector",
    "core.LocalObjectReference",
    "core.ObjectReference",
    "core.TypedLocalObjectReference",
    "core.ConfigMapKeySelector",
    "core.SecretKeySelector",
    "core.ObjectFieldSelector",
    "core.ResourceFieldSelector",
    "core.ConfigMapEnvSource",
    "core.SecretEnvSource",
    "core.NodeSelector",
    "core.NodeSelectorTerm",
    "core.TopologySelectorTerm",
    "core.SecretReference",
];

/// `+mapType=atomic` maps.
const ATOMIC_MAPS: &[(&str, &str)] = &[
    ("core.ServiceSpec", "selector"),
    ("core.ReplicationControllerSpec", "selector"),
    ("core.PodSpec", "nodeSelector"),
];

/// Associative lists whose `+listMapKey`s differ from the patch merge key.
const LIST_MAP_KEYS: &[(&str, &str, &[&str])] = &[
    ("core.Container", "ports", &["containerPort", "protocol"]),
    (
        "core.EphemeralContainer",
        "ports",
        &["containerPort", "protocol"],
    ),
    ("core.ServiceSpec", "ports", &["port", "protocol"]),
    (
        "core.PodSpec",
        "topologySpreadConstraints",
        &["topologyKey", "whenUnsatisfiable"],
    ),
];

fn struct_fields(t: &str) -> &'static [Field] {
    builtin_schema().types.get(t).map_or(&[][..], Vec::as_slice)
}

fn struct_field(t: &str, key: &str) -> Option<&'static Field> {
    struct_fields(t).iter().find(|f| f.json == key)
}

/// The type of an encoded element/value type.
fn enc_ty<'a>(t: &'static str) -> Ty<'a> {
    let bare = t.trim_start_matches('*');
    match bare.strip_prefix('[') {
        Some(elem) => Ty::BList(elem, BListKind::Atomic),
        None => Ty::Builtin(t),
    }
}

fn field_ty<'a>(owner: &str, f: &'static Field) -> Ty<'a> {
    if ATOMIC_MAPS.contains(&(owner, f.json)) {
        return Ty::Leaf;
    }
    let bare = f.ty.trim_start_matches('*');
    let Some(elem) = bare.strip_prefix('[') else {
        return Ty::Builtin(f.ty);
    };
    let merge = f.strategy.split(',').any(|s| s == "merge");
    let kind = if let Some((_, _, keys)) = LIST_MAP_KEYS
        .iter()
        .find(|(o, n, _)| *o == owner && *n == f.json)
    {
        BListKind::Map(keys)
    } else if merge && !f.merge_key.is_empty() {
        BListKind::Map(std::slice::from_ref(&f.merge_key))
    } else if merge && elem == "s" {
        BListKind::Set
    } else {
        BListKind::Atomic
    };
    Ty::BList(elem, kind)
}

fn shape<'a>(ty: Ty<'a>, v: &Value) -> Shape<'a> {
    match ty {
        Ty::Leaf => Shape::Leaf,
        Ty::Deduced | Ty::Root(_) => {
            if v.is_object() {
                Shape::Obj
            } else {
                Shape::Leaf
            }
        }
        Ty::Builtin(t) => {
            let t = t.trim_start_matches('*');
            if t == "s" || ATOMIC_STRUCTS.contains(&t) || !v.is_object() {
                Shape::Leaf
            } else {
                Shape::Obj
            }
        }
        Ty::BList(_, kind) => match (kind, v.is_array()) {
            (BListKind::Set, true) => Shape::Set,
            (BListKind::Map(keys), true) => Shape::Assoc(keys.to_vec()),
            _ => Shape::Leaf,
        },
        Ty::Crd(s) => {
            if s.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
                return Shape::Leaf;
            }
            let ext = |k: &str| s.get(k).and_then(Value::as_str);
            match v {
                Value::Object(_) if ext("x-kubernetes-map-type") != Some("atomic") => Shape::Obj,
                Value::Array(_) => match ext("x-kubernetes-list-type") {
                    Some("set") => Shape::Set,
                    Some("map") => Shape::Assoc(
                        s.get("x-kubernetes-list-map-keys")
                            .and_then(Value::as_array)
                            .map(|a| a.iter().filter_map(Value::as_str).collect())
                            .unwrap_or_default(),
                    ),
                    _ => Shape::Leaf,
                },
                _ => Shape::Leaf,
            }
        }
    }
}

fn crd_child<'a>(s: &'a Value, key: &str) -> Ty<'a> {
    if let Some(p) = s.get("properties").and_then(|p| p.get(key)) {
        Ty::Crd(p)
    } else if let Some(a) = s.get("additionalProperties").filter(|a| a.is_object()) {
        Ty::Crd(a)
    } else {
        Ty::Deduced
    }
}

/// The type of a map's or struct's member.
fn child<'a>(ty: Ty<'a>, key: &str) -> Ty<'a> {
    match ty {
        Ty::Builtin(t) => {
            let t = t.trim_start_matches('*');
            if let Some(elem) = t.strip_prefix('{') {
                return enc_ty(elem);
            }
            match struct_field(t, key) {
                Some(f) => field_ty(t, f),
                None => Ty::Deduced,
            }
        }
        Ty::Root(s) => match key {
            "metadata" => Ty::Builtin("meta.ObjectMeta"),
            "apiVersion" | "kind" => Ty::Leaf,
            _ => s.map_or(Ty::Deduced, |s| crd_child(s, key)),
        },
        Ty::Crd(s) => crd_child(s, key),
        Ty::Deduced => Ty::Deduced,
        Ty::Leaf | Ty::BList(..) => Ty::Leaf,
    }
}

/// Whether `key` is a declared field (a struct field) rather than a map key.
fn declared(ty: Ty, key: &str) -> bool {
    match ty {
        Ty::Builtin(t) => {
            let t = t.trim_start_matches('*');
            !t.starts_with('{') && struct_field(t, key).is_some()
        }
        Ty::Root(s) => {
            matches!(key, "metadata" | "apiVersion" | "kind")
                || s.is_some_and(|s| s.get("properties").and_then(|p| p.get(key)).is_some())
        }
        Ty::Crd(s) => s.get("properties").and_then(|p| p.get(key)).is_some(),
        _ => false,
    }
}

fn elem<'a>(ty: Ty<'a>) -> Ty<'a> {
    match ty {
        Ty::BList(e, _) => enc_ty(e),
        Ty::Crd(s) => s.get("items").map_or(Ty::Deduced, Ty::Crd),
        _ => Ty::Deduced,
    }
}

/// The default of a missing key field of an associative list item.
fn key_default(ty: Ty, key: &str) -> Option<Value> {
    match ty {
        Ty::BList(..) => (key == "protocol").then(|| json!("TCP")),
        Ty::Crd(s) => s
            .get("items")
            .and_then(|i| i.get("properties"))
            .and_then(|p| p.get(key))
            .and_then(|k| k.get("default"))
            .cloned(),
        _ => None,
    }
}

/// The path elements of a set or associative list's items, in order; an error for an item
/// without its keys or for duplicates.
fn index_items(ty: Ty, shape: &Shape, items: &[Value]) -> Result<Vec<String>, String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pe = match shape {
            Shape::Assoc(keys) => {
                let Some(obj) = item.as_object() else {
                    return Err(format!(
                        "element {i}: associative list with keys may not have non-map elements"
                    ));
                };
                let mut sorted = keys.clone();
                sorted.sort_unstable();
                sorted.dedup();
                let mut m = Map::new();
                for k in sorted {
                    let v = obj
                        .get(k)
                        .filter(|v| !v.is_null())
                        .cloned()
                        .or_else(|| key_default(ty, k))
                        .ok_or_else(|| {
                            format!(
                                "element {i}: associative list with keys has an element that \
                                 omits key field {} (and doesn't have default value)",
                                go_quote(k)
                            )
                        })?;
                    m.insert(k.to_string(), v);
                }
                format!("k:{}", Value::Object(m))
            }
            _ => format!("v:{item}"),
        };
        if !seen.insert(pe.clone()) {
            return Err(format!(
                "duplicate entries for key {}",
                path_string(std::slice::from_ref(&pe))
            ));
        }
        out.push(pe);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Walks
// ---------------------------------------------------------------------------------------------

/// `ToFieldSet` of a configuration: leaves, list items, map keys and empty values.
fn config_set(v: &Value, ty: Ty, path: &mut Vec<String>) -> Result<Set, String> {
    let mut out = Set::default();
    match (shape(ty, v), v) {
        (Shape::Obj, Value::Object(obj)) => {
            for (k, cv) in obj {
                let cty = child(ty, k);
                let pe = format!("f:{k}");
                path.push(pe.clone());
                let c = config_set(cv, cty, path)?;
                path.pop();
                let member = matches!(shape(cty, cv), Shape::Leaf)
                    || cv.is_null()
                    || cv.as_object().is_some_and(Map::is_empty)
                    || !declared(ty, k);
                if member {
                    out.members.insert(pe.clone());
                }
                out.add_child(&pe, c);
            }
        }
        (s @ (Shape::Set | Shape::Assoc(_)), Value::Array(items)) => {
            let pes =
                index_items(ty, &s, items).map_err(|e| format!("{}: {e}", path_string(path)))?;
            let ety = elem(ty);
            for (pe, item) in pes.into_iter().zip(items) {
                path.push(pe.clone());
                let c = config_set(item, ety, path)?;
                path.pop();
                out.members.insert(pe.clone());
                out.add_child(&pe, c);
            }
        }
        _ => {}
    }
    Ok(out)
}

/// Every node under `v` (ToFieldSet with named fields as members).
fn full_set(v: &Value, ty: Ty) -> Set {
    let mut out = Set::default();
    match (shape(ty, v), v) {
        (Shape::Obj, Value::Object(obj)) => {
            for (k, cv) in obj {
                let pe = format!("f:{k}");
                out.members.insert(pe.clone());
                out.add_child(&pe, full_set(cv, child(ty, k)));
            }
        }
        (s @ (Shape::Set | Shape::Assoc(_)), Value::Array(items)) => {
            if let Ok(pes) = index_items(ty, &s, items) {
                let ety = elem(ty);
                for (pe, item) in pes.into_iter().zip(items) {
                    out.members.insert(pe.clone());
                    out.add_child(&pe, full_set(item, ety));
                }
            }
        }
        _ => {}
    }
    out
}

/// `Merge`: `r` merged into `l`.
fn merge(l: &Value, r: &Value, ty: Ty) -> Value {
    match (shape(ty, l), shape(ty, r), l, r) {
        (Shape::Obj, Shape::Obj, Value::Object(lm), Value::Object(rm)) => {
            let mut out = lm.clone();
            for (k, rv) in rm {
                let nv = match lm.get(k) {
                    Some(lv) => merge(lv, rv, child(ty, k)),
                    None => rv.clone(),
                };
                out.insert(k.clone(), nv);
            }
            Value::Object(out)
        }
        (
            ls @ (Shape::Set | Shape::Assoc(_)),
            rs @ (Shape::Set | Shape::Assoc(_)),
            Value::Array(la),
            Value::Array(ra),
        ) => {
            let (Ok(lp), Ok(rp)) = (index_items(ty, &ls, la), index_items(ty, &rs, ra)) else {
                return r.clone();
            };
            let ety = elem(ty);
            let r_index: BTreeMap<&String, usize> = rp.iter().zip(0..).collect();
            let l_index: BTreeMap<&String, usize> = lp.iter().zip(0..).collect();
            let mut done = BTreeSet::new();
            let mut out = Vec::with_capacity(la.len() + ra.len());
            let (mut li, mut ri) = (0, 0);
            while li < lp.len() || ri < rp.len() {
                if li < lp.len() && ri < rp.len() && lp[li] == rp[ri] {
                    out.push(merge(&la[li], &ra[ri], ety));
                    done.insert(&rp[ri]);
                    li += 1;
                    ri += 1;
                } else if li < lp.len() && !r_index.contains_key(&lp[li]) {
                    out.push(la[li].clone());
                    li += 1;
                } else if li < lp.len() && done.contains(&lp[li]) {
                    li += 1;
                } else if ri < rp.len() {
                    let item = match l_index.get(&rp[ri]) {
                        Some(&i) => merge(&la[i], &ra[ri], ety),
                        None => ra[ri].clone(),
                    };
                    out.push(item);
                    done.insert(&rp[ri]);
                    ri += 1;
                } else {
                    li += 1;
                }
            }
            Value::Array(out)
        }
        _ => r.clone(),
    }
}

/// `RemoveItems`: removes the members of `set` (with their subtrees) from `v`. A map or list
/// emptied by the removal is dropped from its parent.
fn remove_items(v: &mut Value, set: &Set, ty: Ty) {
    let sh = shape(ty, v);
    match (sh, v) {
        (Shape::Obj, Value::Object(obj)) => {
            obj.retain(|k, _| !set.members.contains(&format!("f:{k}")));
            let mut emptied = Vec::new();
            for (k, cv) in obj.iter_mut() {
                if let Some(c) = set.children.get(&format!("f:{k}")) {
                    let was_empty = is_empty_container(cv);
                    remove_items(cv, c, child(ty, k));
                    if !was_empty && is_empty_container(cv) {
                        emptied.push(k.clone());
                    }
                }
            }
            obj.retain(|k, _| !emptied.contains(k));
        }
        (s @ (Shape::Set | Shape::Assoc(_)), Value::Array(items)) => {
            let Ok(pes) = index_items(ty, &s, items) else {
                return;
            };
            let ety = elem(ty);
            let old = std::mem::take(items);
            for (pe, mut item) in pes.into_iter().zip(old) {
                if set.members.contains(&pe) {
                    continue;
                }
                if let Some(c) = set.children.get(&pe) {
                    remove_items(&mut item, c, ety);
                }
                items.push(item);
            }
        }
        _ => {}
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `Compare`: what was added, removed and modified from `l` to `r`.
#[derive(Debug, Default)]
struct Comparison {
    added: Set,
    removed: Set,
    modified: Set,
}

impl Comparison {
    fn filter(self, ignored: &Set) -> Comparison {
        Comparison {
            added: self.added.recursive_difference(ignored),
            removed: self.removed.recursive_difference(ignored),
            modified: self.modified.recursive_difference(ignored),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Change {
    Added,
    Removed,
    Modified,
}

fn diff(l: &Value, r: &Value, ty: Ty) -> Comparison {
    let mut out = Comparison::default();
    compare(Some(l), Some(r), ty, &mut out);
    out
}

fn attach(out: &mut Comparison, pe: &str, sub: Comparison, change: Option<Change>) {
    match change {
        Some(Change::Added) => out.added.members.insert(pe.to_string()),
        Some(Change::Removed) => out.removed.members.insert(pe.to_string()),
        Some(Change::Modified) => out.modified.members.insert(pe.to_string()),
        None => false,
    };
    out.added.add_child(pe, sub.added);
    out.removed.add_child(pe, sub.removed);
    out.modified.add_child(pe, sub.modified);
}

/// Compares one node; fills `out` with the changes under it and returns its own change.
fn compare(l: Option<&Value>, r: Option<&Value>, ty: Ty, out: &mut Comparison) -> Option<Change> {
    let (l, r) = match (l, r) {
        (None, None) => return None,
        (None, Some(r)) => {
            out.added = full_set(r, ty);
            return Some(Change::Added);
        }
        (Some(l), None) => {
            out.removed = full_set(l, ty);
            return Some(Change::Removed);
        }
        (Some(l), Some(r)) => (l, r),
    };
    // A null container compares as an empty one of the other side's kind.
    let empty_obj = Value::Object(Map::new());
    let empty_arr = Value::Array(Vec::new());
    let (l, r) = match (l, r) {
        (Value::Null, Value::Object(_)) => (&empty_obj, r),
        (Value::Null, Value::Array(_)) => (&empty_arr, r),
        (Value::Object(_), Value::Null) => (l, &empty_obj),
        (Value::Array(_), Value::Null) => (l, &empty_arr),
        _ => (l, r),
    };
    match (shape(ty, l), shape(ty, r), l, r) {
        (Shape::Obj, Shape::Obj, Value::Object(lm), Value::Object(rm)) => {
            let keys: Vec<&String> = lm
                .keys()
                .chain(rm.keys().filter(|k| !lm.contains_key(*k)))
                .collect();
            for k in keys {
                let mut sub = Comparison::default();
                let ch = compare(lm.get(k), rm.get(k), child(ty, k), &mut sub);
                attach(out, &format!("f:{k}"), sub, ch);
            }
            None
        }
        (
            ls @ (Shape::Set | Shape::Assoc(_)),
            rs @ (Shape::Set | Shape::Assoc(_)),
            Value::Array(la),
            Value::Array(ra),
        ) => {
            let (Ok(lp), Ok(rp)) = (index_items(ty, &ls, la), index_items(ty, &rs, ra)) else {
                return (l != r).then_some(Change::Modified);
            };
            let ety = elem(ty);
            let li: BTreeMap<&String, &Value> = lp.iter().zip(la).collect();
            let ri: BTreeMap<&String, &Value> = rp.iter().zip(ra).collect();
            let keys: Vec<&String> = lp
                .iter()
                .chain(rp.iter().filter(|p| !li.contains_key(p)))
                .collect();
            for pe in keys {
                let mut sub = Comparison::default();
                let ch = compare(li.get(pe).copied(), ri.get(pe).copied(), ety, &mut sub);
                attach(out, pe, sub, ch);
            }
            None
        }
        _ => (l != r).then_some(Change::Modified),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: &str = "2024-01-01T00:00:00Z";
    const T1: &str = "2024-01-01T00:01:00Z";
    const T2: &str = "2024-01-01T00:02:00Z";

    fn deploy() -> Target<'static> {
        Target::builtin("apps", "Deployment")
    }

    fn config(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image}]}
                }
            }
        })
    }

    /// What the server stores: the object with identity fields and a default.
    fn stored(mut obj: Value) -> Value {
        obj["metadata"]["namespace"] = json!("default");
        obj["metadata"]["uid"] = json!("u1");
        obj["metadata"]["resourceVersion"] = json!("1");
        obj["metadata"]["creationTimestamp"] = json!(T0);
        obj
    }

    static NULL: Value = Value::Null;

    fn entry<'v>(mf: &'v Value, manager: &str, op: &str) -> &'v Value {
        mf.as_array()
            .and_then(|a| {
                a.iter()
                    .find(|e| e["manager"] == manager && e["operation"] == op)
            })
            .unwrap_or(&NULL)
    }

    fn create(cfg: &Value, manager: &str) -> Value {
        let r = apply(&deploy(), None, cfg, manager, false, T0).unwrap();
        stored(r.object)
    }

    #[test]
    fn apply_creates_with_managed_fields() {
        let r = apply(&deploy(), None, &config(2, "nginx:1"), "kubectl", false, T0).unwrap();
        assert_eq!(r.object["spec"]["replicas"], 2);
        assert_eq!(r.object["metadata"]["managedFields"], r.managed_fields);
        assert_eq!(
            r.managed_fields,
            json!([{
                "manager": "kubectl",
                "operation": "Apply",
                "apiVersion": "apps/v1",
                "time": T0,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {"f:app": {}}},
                    "f:spec": {
                        "f:replicas": {},
                        "f:selector": {},
                        "f:template": {
                            "f:metadata": {"f:labels": {"f:app": {}}},
                            "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                                ".": {}, "f:image": {}, "f:name": {}
                            }}}
                        }
                    }
                }
            }])
        );
        // The same apply again changes nothing and keeps the time.
        let live = stored(r.object);
        let again = apply(
            &deploy(),
            Some(&live),
            &config(2, "nginx:1"),
            "kubectl",
            false,
            T1,
        )
        .unwrap();
        assert!(!again.changed);
        assert_eq!(again.managed_fields[0]["time"], T0);
    }

    #[test]
    fn conflict_with_other_applier_and_force() {
        let live = create(&config(2, "nginx:1"), "kubectl");
        let other = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": 5}
        });
        let err = apply(&deploy(), Some(&live), &other, "hpa", false, T1).unwrap_err();
        let ApplyError::Conflicts(c) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, ".spec.replicas");
        let (msg, causes) = conflict_message(c);
        assert_eq!(
            msg,
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
        );
        assert_eq!(
            causes,
            vec![json!({
                "reason": "FieldManagerConflict",
                "message": "conflict with \"kubectl\"",
                "field": ".spec.replicas"
            })]
        );
        let api = err.to_api_error();
        assert_eq!(api.code, 409);
        assert_eq!(api.reason, "Conflict");

        // Forced: the value changes and the field moves to "hpa".
        let r = apply(&deploy(), Some(&live), &other, "hpa", true, T1).unwrap();
        assert_eq!(r.object["spec"]["replicas"], 5);
        let mf = &r.managed_fields;
        assert_eq!(
            entry(mf, "hpa", "Apply")["fieldsV1"],
            json!({"f:spec": {"f:replicas": {}}})
        );
        assert!(
            entry(mf, "kubectl", "Apply")["fieldsV1"]["f:spec"]
                .get("f:replicas")
                .is_none()
        );
        assert_eq!(entry(mf, "kubectl", "Apply")["time"], T0);
        assert_eq!(entry(mf, "hpa", "Apply")["time"], T1);
        // Ordered by operation, time, manager.
        assert_eq!(mf[0]["manager"], "kubectl");
        assert_eq!(mf[1]["manager"], "hpa");
    }

    #[test]
    fn same_value_is_shared_without_conflict() {
        let live = create(&config(2, "nginx:1"), "kubectl");
        let other = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": 2}
        });
        let r = apply(&deploy(), Some(&live), &other, "other", false, T1).unwrap();
        assert!(!r.changed);
        let mf = &r.managed_fields;
        assert!(entry(mf, "kubectl", "Apply")["fieldsV1"]["f:spec"]["f:replicas"].is_object());
        assert!(entry(mf, "other", "Apply")["fieldsV1"]["f:spec"]["f:replicas"].is_object());
        // "kubectl" drops replicas: "other" still owns it, so the value stays.
        let mut cfg = config(2, "nginx:1");
        cfg["spec"].as_object_mut().unwrap().remove("replicas");
        let live = stored(r.object);
        let r = apply(&deploy(), Some(&live), &cfg, "kubectl", false, T2).unwrap();
        assert_eq!(r.object["spec"]["replicas"], 2);
        // Now "other" drops it too: nobody owns it any more and it is removed.
        let cfg2 = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"team": "a"}}
        });
        let live = stored(r.object);
        let r = apply(&deploy(), Some(&live), &cfg2, "other", false, T2).unwrap();
        assert!(r.object["spec"].get("replicas").is_none());
        assert_eq!(
            r.object["metadata"]["labels"],
            json!({"app": "web", "team": "a"})
        );
        assert_eq!(r.object["metadata"]["name"], "web");
        assert_eq!(r.object["metadata"]["uid"], "u1");
    }

    #[test]
    fn removed_field_and_label_are_pruned() {
        let mut cfg = config(2, "nginx:1");
        cfg["metadata"]["labels"]["tier"] = json!("front");
        cfg["spec"]["minReadySeconds"] = json!(5);
        let live = create(&cfg, "kubectl");
        let r = apply(
            &deploy(),
            Some(&live),
            &config(2, "nginx:1"),
            "kubectl",
            false,
            T1,
        )
        .unwrap();
        assert!(r.changed);
        assert_eq!(r.object["metadata"]["labels"], json!({"app": "web"}));
        assert!(r.object["spec"].get("minReadySeconds").is_none());
        assert_eq!(r.object["metadata"]["namespace"], "default");
        assert_eq!(r.object["metadata"]["creationTimestamp"], T0);
    }

    #[test]
    fn containers_merge_by_name_and_labels_are_granular() {
        let live = create(&config(2, "nginx:1"), "kubectl");
        let sidecar = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"sidecar": "yes"}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "proxy", "image": "envoy", "ports": [{"containerPort": 80}]}
            ]}}}
        });
        let r = apply(&deploy(), Some(&live), &sidecar, "mesh", false, T1).unwrap();
        let containers = &r.object["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().map(Vec::len), Some(2));
        assert_eq!(containers[0]["name"], "web");
        assert_eq!(containers[1]["name"], "proxy");
        assert_eq!(
            r.object["metadata"]["labels"],
            json!({"app": "web", "sidecar": "yes"})
        );
        let mesh = &entry(&r.managed_fields, "mesh", "Apply")["fieldsV1"];
        assert_eq!(
            mesh,
            &json!({
                "f:metadata": {"f:labels": {"f:sidecar": {}}},
                "f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"proxy\"}": {
                        ".": {}, "f:image": {}, "f:name": {},
                        "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                            ".": {}, "f:containerPort": {}
                        }}
                    }
                }}}}
            })
        );
        // The mesh changing the web container's image conflicts with kubectl.
        let clash = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}}
        });
        let live = stored(r.object);
        let Err(ApplyError::Conflicts(c)) =
            apply(&deploy(), Some(&live), &clash, "mesh", false, T2)
        else {
            panic!("expected a conflict")
        };
        assert_eq!(
            c.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
            vec![".spec.template.spec.containers[name=\"web\"].image"]
        );
    }

    #[test]
    fn several_conflicts_message() {
        let c = |m: &str, op: &str, f: &str| Conflict {
            manager: m.into(),
            operation: op.into(),
            api_version: "apps/v1".into(),
            subresource: String::new(),
            field: f.into(),
        };
        let (msg, causes) = conflict_message(&[
            c("kubectl-client-side-apply", "Update", ".spec.replicas"),
            c("kubectl-client-side-apply", "Update", ".spec.paused"),
            c("argo", "Apply", ".metadata.labels.app"),
        ]);
        assert_eq!(
            msg,
            "Apply failed with 3 conflicts: conflicts with \"argo\":\n- .metadata.labels.app\n\
             conflicts with \"kubectl-client-side-apply\" using apps/v1:\n- .spec.replicas\n\
             - .spec.paused"
        );
        assert_eq!(
            causes[0]["message"],
            "conflict with \"kubectl-client-side-apply\" using apps/v1"
        );
    }

    #[test]
    fn record_update_create_and_edit() {
        // kubectl create (Update) of a defaulted deployment.
        let mut obj = stored(config(2, "nginx:1"));
        obj["spec"]["strategy"] = json!({"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
        obj["status"] = json!({});
        let mf = record_update(&deploy(), None, &obj, "kubectl-create", T0);
        assert_eq!(
            mf,
            json!([{
                "manager": "kubectl-create",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": T0,
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {
                        "f:replicas": {},
                        "f:selector": {},
                        "f:strategy": {
                            "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                            "f:type": {}
                        },
                        "f:template": {
                            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                            "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                                ".": {}, "f:image": {}, "f:name": {}
                            }}}
                        }
                    }
                }
            }])
        );
        // kubectl edit (a merge patch) changes the image: it takes the field.
        let mut live = obj.clone();
        live["metadata"]["managedFields"] = mf;
        let mut new = live.clone();
        new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
        new["metadata"]["resourceVersion"] = json!("2");
        let mf = record_update(&deploy(), Some(&live), &new, "kubectl-edit", T1);
        let edit = entry(&mf, "kubectl-edit", "Update");
        assert_eq!(
            edit["fieldsV1"],
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"web\"}": {"f:image": {}}
            }}}}})
        );
        assert_eq!(edit["time"], T1);
        let create = entry(&mf, "kubectl-create", "Update");
        assert_eq!(create["time"], T0);
        assert!(
            create["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
                ["k:{\"name\":\"web\"}"]
                .get("f:image")
                .is_none()
        );
        // An apply of another image now conflicts with kubectl-edit's Update.
        new["metadata"]["managedFields"] = mf;
        let Err(ApplyError::Conflicts(c)) = apply(
            &deploy(),
            Some(&new),
            &config(2, "nginx:3"),
            "kubectl",
            false,
            T2,
        ) else {
            panic!("expected a conflict")
        };
        let (msg, _) = conflict_message(&c);
        assert_eq!(
            msg,
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: \
             .spec.template.spec.containers[name=\"web\"].image"
        );
        // An update that only bumps the resourceVersion records nothing new.
        let mut bump = new.clone();
        bump["metadata"]["resourceVersion"] = json!("3");
        let mf2 = record_update(&deploy(), Some(&new), &bump, "other", T2);
        assert_eq!(mf2, new["metadata"]["managedFields"]);
    }

    #[test]
    fn record_update_untracked_and_reset() {
        let obj = stored(config(2, "nginx:1"));
        let mut new = obj.clone();
        new["spec"]["replicas"] = json!(3);
        assert_eq!(
            record_update(&deploy(), Some(&obj), &new, "x", T1),
            json!([])
        );
        let mut live = obj.clone();
        live["metadata"]["managedFields"] =
            record_update(&deploy(), None, &obj, "kubectl-create", T0);
        new["metadata"]["managedFields"] = json!([{}]);
        assert_eq!(
            record_update(&deploy(), Some(&live), &new, "x", T1),
            json!([])
        );
    }

    #[test]
    fn first_apply_to_untracked_object_conflicts_with_before_first_apply() {
        let live = stored(config(2, "nginx:1"));
        let Err(ApplyError::Conflicts(c)) = apply(
            &deploy(),
            Some(&live),
            &config(3, "nginx:1"),
            "kubectl",
            false,
            T1,
        ) else {
            panic!("expected a conflict")
        };
        assert_eq!(c[0].manager, "before-first-apply");
        assert_eq!(c[0].field, ".spec.replicas");
    }

    #[test]
    fn invalid_configurations() {
        let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}});
        assert!(matches!(
            apply(
                &Target::builtin("", "ConfigMap"),
                None,
                &bad,
                "m",
                false,
                T0
            ),
            Err(ApplyError::Invalid(_))
        ));
        let no_key = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
            "spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}
        });
        let Err(ApplyError::Invalid(m)) = apply(&deploy(), None, &no_key, "m", false, T0) else {
            panic!("expected an error")
        };
        assert_eq!(
            m,
            ".spec.template.spec.containers: element 0: associative list with keys has an \
             element that omits key field \"name\" (and doesn't have default value)"
        );
        let dup = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
            "spec": {"template": {"spec": {"containers": [{"name": "x"}, {"name": "x"}]}}}
        });
        let Err(ApplyError::Invalid(m)) = apply(&deploy(), None, &dup, "m", false, T0) else {
            panic!("expected an error")
        };
        assert_eq!(
            m,
            ".spec.template.spec.containers: duplicate entries for key [name=\"x\"]"
        );
    }

    #[test]
    fn status_is_not_tracked_and_finalizers_are_a_set() {
        let mut cfg = config(1, "a");
        cfg["status"] = json!({"replicas": 1});
        cfg["metadata"]["finalizers"] = json!(["example.com/f"]);
        let r = apply(&deploy(), None, &cfg, "m", false, T0).unwrap();
        let f = &r.managed_fields[0]["fieldsV1"];
        assert!(f.get("f:status").is_none());
        assert_eq!(
            f["f:metadata"]["f:finalizers"],
            json!({"v:\"example.com/f\"": {}})
        );
    }

    #[test]
    fn service_ports_keyed_by_port_and_protocol_and_selector_atomic() {
        let svc = json!({
            "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"selector": {"app": "a"}, "ports": [{"port": 80, "targetPort": 8080}]}
        });
        let r = apply(&Target::builtin("", "Service"), None, &svc, "m", false, T0).unwrap();
        assert_eq!(
            r.managed_fields[0]["fieldsV1"],
            json!({"f:spec": {
                "f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {
                    ".": {}, "f:port": {}, "f:targetPort": {}
                }},
                "f:selector": {}
            }})
        );
    }

    #[test]
    fn custom_resource_with_schema() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {"type": "object", "properties": {
                    "size": {"type": "integer"},
                    "items": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["id"],
                        "items": {"type": "object", "properties": {
                            "id": {"type": "string"}, "v": {"type": "integer"}
                        }}
                    },
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "sel": {"type": "object", "x-kubernetes-map-type": "atomic",
                        "additionalProperties": {"type": "string"}}
                }}
            }
        });
        let t = Target::custom("example.com", "Widget", Some(&schema), true);
        let cfg = json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"size": 1, "items": [{"id": "a", "v": 1}], "tags": ["x"],
                     "sel": {"a": "b"}}
        });
        let r = apply(&t, None, &cfg, "m1", false, T0).unwrap();
        assert_eq!(
            r.managed_fields[0]["fieldsV1"],
            json!({"f:spec": {
                "f:items": {"k:{\"id\":\"a\"}": {".": {}, "f:id": {}, "f:v": {}}},
                "f:sel": {},
                "f:size": {},
                "f:tags": {}
            }})
        );
        let live = stored(r.object);
        let cfg2 = json!({
            "apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"items": [{"id": "b", "v": 2}]}
        });
        let r = apply(&t, Some(&live), &cfg2, "m2", false, T1).unwrap();
        assert_eq!(
            r.object["spec"]["items"],
            json!([{"id": "a", "v": 1}, {"id": "b", "v": 2}])
        );
        // A record_update creating a CR owns spec itself ("." under f:spec).
        let mf = record_update(&t, None, &cfg, "kubectl-create", T0);
        assert_eq!(mf[0]["fieldsV1"]["f:spec"]["."], json!({}));
    }
}
