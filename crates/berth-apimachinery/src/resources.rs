//! The table of resources the API server serves: what discovery lists and what the handlers need
//! to know about each resource (scope, verbs, subresources).
//!
//! The table mirrors what a Kubernetes v1.33 kube-apiserver reports in discovery
//! (`/api/v1`, `/apis/<group>/<version>`, `kubectl api-resources -o wide`) for the resources
//! Berth serves: plural and singular names, kind, scope, verbs (sorted, as discovery sorts them),
//! short names and categories. Subresources are limited to the ones Berth implements.
//!
//! The table is built once, lazily ([`std::sync::LazyLock`]); [`builtin_table`] and the `find_*`
//! functions hand out `&'static` references into it, [`builtin_resources`] returns an owned copy.
//!
//! Ordering follows Kubernetes:
//! - groups in the order `/apis` lists them (the kube-aggregator's group priorities, core group
//!   first), see [`builtin_groups`];
//! - resources inside a group-version sorted by plural name, as `APIResourceList` does (the
//!   subresources of a resource are listed right after it, also sorted).

use serde::Serialize;
use std::sync::LazyLock;

/// A subresource such as `status`, `scale`, `binding`, `eviction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubresourceInfo {
    /// `status`, `scale`, ...
    pub name: String,
    /// The kind the subresource speaks (`Deployment` for status, `Scale` for scale).
    pub kind: String,
    /// Group and version of that kind when they differ from the parent's (`autoscaling`/`v1` for
    /// Scale, `policy`/`v1` for Eviction); empty otherwise.
    pub group: String,
    pub version: String,
    pub verbs: Vec<String>,
}

impl SubresourceInfo {
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Group of the kind this subresource speaks: its own group if set, else the parent's.
    pub fn kind_group<'a>(&'a self, parent: &'a ResourceInfo) -> &'a str {
        if self.group.is_empty() && self.version.is_empty() {
            &parent.group
        } else {
            &self.group
        }
    }

    /// Version of the kind this subresource speaks: its own version if set, else the parent's.
    pub fn kind_version<'a>(&'a self, parent: &'a ResourceInfo) -> &'a str {
        if self.version.is_empty() {
            &parent.version
        } else {
            &self.version
        }
    }
}

/// One resource of one group-version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceInfo {
    /// API group; empty for the core group.
    pub group: String,
    pub version: String,
    /// Plural, lower case: `deployments`.
    pub resource: String,
    /// `deployment`.
    pub singular: String,
    /// `Deployment`.
    pub kind: String,
    pub namespaced: bool,
    /// Verbs on the collection and items: get, list, watch, create, update, patch, delete,
    /// deletecollection.
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Vec<SubresourceInfo>,
}

impl ResourceInfo {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `DeploymentList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    pub fn subresource(&self, name: &str) -> Option<&SubresourceInfo> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// `deployments.apps`, or `pods` for the core group (a GroupResource as Kubernetes prints it).
    pub fn group_resource(&self) -> String {
        crate::status::group_resource(&self.group, &self.resource)
    }

    /// `Deployment.apps`, or `Pod` for the core group (a GroupKind as Kubernetes prints it).
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `Namespaced` or `Cluster`, the scope names of aggregated discovery.
    pub fn scope(&self) -> &'static str {
        if self.namespaced {
            "Namespaced"
        } else {
            "Cluster"
        }
    }
}

/// A built-in API group as `/apis` lists it. Every built-in group Berth serves has exactly one
/// version, which is therefore the preferred one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BuiltinGroup {
    /// Empty for the core group (served under `/api`, not `/apis`).
    pub group: &'static str,
    pub version: &'static str,
    /// The kube-aggregator's `groupPriorityMinimum` for this group: higher comes first in `/apis`.
    pub group_priority: i32,
    /// The kube-aggregator's `versionPriority` for this version inside its group.
    pub version_priority: i32,
}

impl BuiltinGroup {
    /// `apps/v1`, or `v1` for the core group.
    pub fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// `groupPriorityMinimum` Kubernetes gives the APIServices of CRD groups (crdregistration
/// controller). `/apis` lists groups by descending group priority, ties broken by the APIService
/// name (`<version>.<group>`), so CRD groups come after every built-in group, sorted by name.
pub const CRD_GROUP_PRIORITY_MINIMUM: i32 = 1000;
/// `versionPriority` of CRD versions; versions of equal priority are ordered by
/// Kubernetes' version ordering (v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > others).
pub const CRD_VERSION_PRIORITY: i32 = 100;

/// The groups Berth serves, in the order Kubernetes v1.33 lists them: core group first (`/api`),
/// then `/apis` order (descending `groupPriorityMinimum` from kube-apiserver's
/// `apiVersionPriorities`; admissionregistration/apiextensions tie at 16700 and sort by name).
static GROUPS: [BuiltinGroup; 13] = [
    BuiltinGroup {
        group: "",
        version: "v1",
        group_priority: 18000,
        version_priority: 1,
    },
    BuiltinGroup {
        group: "apps",
        version: "v1",
        group_priority: 17800,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "events.k8s.io",
        version: "v1",
        group_priority: 17750,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "authentication.k8s.io",
        version: "v1",
        group_priority: 17700,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "autoscaling",
        version: "v2",
        group_priority: 17500,
        version_priority: 30,
    },
    BuiltinGroup {
        group: "batch",
        version: "v1",
        group_priority: 17400,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "networking.k8s.io",
        version: "v1",
        group_priority: 17200,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "policy",
        version: "v1",
        group_priority: 17100,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        group_priority: 17000,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "apiextensions.k8s.io",
        version: "v1",
        group_priority: 16700,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "scheduling.k8s.io",
        version: "v1",
        group_priority: 16600,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "coordination.k8s.io",
        version: "v1",
        group_priority: 16500,
        version_priority: 15,
    },
    BuiltinGroup {
        group: "discovery.k8s.io",
        version: "v1",
        group_priority: 16200,
        version_priority: 15,
    },
];

/// The built-in groups in discovery order: the core group (`""`) first, then the `/apis` order
/// (`apps`, `events.k8s.io`, `autoscaling`, `batch`, ...).
pub fn builtin_groups() -> &'static [BuiltinGroup] {
    &GROUPS
}

/// The built-in group names in discovery order (core group `""` first).
pub fn group_order() -> Vec<&'static str> {
    GROUPS.iter().map(|g| g.group).collect()
}

/// The built-in group `group`, if Berth serves it.
pub fn builtin_group(group: &str) -> Option<&'static BuiltinGroup> {
    GROUPS.iter().find(|g| g.group == group)
}

/// The preferred (and only) version Berth serves for a built-in group.
pub fn preferred_version(group: &str) -> Option<&'static str> {
    builtin_group(group).map(|g| g.version)
}

/// Whether `group` is a built-in group Berth serves (CRDs may not define resources in it).
pub fn is_builtin_group(group: &str) -> bool {
    builtin_group(group).is_some()
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Namespaces have no deletecollection.
const NO_DELETECOLLECTION: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];

struct Spec {
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    verbs: &'static [&'static str],
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    /// `status` subresource.
    status: bool,
    /// `scale` subresource (autoscaling/v1 Scale).
    scale: bool,
}

const fn spec(
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> Spec {
    Spec {
        group,
        version,
        resource,
        singular,
        kind,
        namespaced,
        verbs: ALL_VERBS,
        short_names: &[],
        categories: &[],
        status: false,
        scale: false,
    }
}

impl Spec {
    const fn short(mut self, names: &'static [&'static str]) -> Self {
        self.short_names = names;
        self
    }
    const fn all(mut self) -> Self {
        self.categories = &["all"];
        self
    }
    const fn categories(mut self, categories: &'static [&'static str]) -> Self {
        self.categories = categories;
        self
    }
    const fn status(mut self) -> Self {
        self.status = true;
        self
    }
    const fn scale(mut self) -> Self {
        self.scale = true;
        self
    }
    const fn verbs(mut self, verbs: &'static [&'static str]) -> Self {
        self.verbs = verbs;
        self
    }
}

const CORE: &str = "";
const APPS: &str = "apps";
const BATCH: &str = "batch";
const AUTOSCALING: &str = "autoscaling";
const POLICY: &str = "policy";
const NETWORKING: &str = "networking.k8s.io";
const DISCOVERY: &str = "discovery.k8s.io";
const COORDINATION: &str = "coordination.k8s.io";
const EVENTS: &str = "events.k8s.io";
const AUTHENTICATION: &str = "authentication.k8s.io";
const RBAC: &str = "rbac.authorization.k8s.io";
const SCHEDULING: &str = "scheduling.k8s.io";
const APIEXTENSIONS: &str = "apiextensions.k8s.io";

/// The resources, grouped by group in discovery order and sorted by plural name inside a group.
const SPECS: &[Spec] = &[
    // core/v1
    spec(CORE, "v1", "configmaps", "configmap", "ConfigMap", true).short(&["cm"]),
    spec(CORE, "v1", "endpoints", "endpoints", "Endpoints", true).short(&["ep"]),
    spec(CORE, "v1", "events", "event", "Event", true).short(&["ev"]),
    spec(CORE, "v1", "limitranges", "limitrange", "LimitRange", true).short(&["limits"]),
    spec(CORE, "v1", "namespaces", "namespace", "Namespace", false)
        .short(&["ns"])
        .verbs(NO_DELETECOLLECTION)
        .status(),
    spec(CORE, "v1", "nodes", "node", "Node", false)
        .short(&["no"])
        .status(),
    spec(
        CORE,
        "v1",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
    )
    .short(&["pvc"])
    .status(),
    // pods: binding, eviction, log are added in `build`.
    spec(CORE, "v1", "pods", "pod", "Pod", true)
        .short(&["po"])
        .all()
        .status(),
    spec(
        CORE,
        "v1",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        true,
    )
    .short(&["quota"])
    .status(),
    spec(CORE, "v1", "secrets", "secret", "Secret", true),
    spec(
        CORE,
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
    )
    .short(&["sa"]),
    spec(CORE, "v1", "services", "service", "Service", true)
        .short(&["svc"])
        .all()
        .status(),
    // apps/v1
    spec(
        APPS,
        "v1",
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        true,
    ),
    spec(APPS, "v1", "daemonsets", "daemonset", "DaemonSet", true)
        .short(&["ds"])
        .all()
        .status(),
    spec(APPS, "v1", "deployments", "deployment", "Deployment", true)
        .short(&["deploy"])
        .all()
        .scale()
        .status(),
    spec(APPS, "v1", "replicasets", "replicaset", "ReplicaSet", true)
        .short(&["rs"])
        .all()
        .scale()
        .status(),
    spec(
        APPS,
        "v1",
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
    )
    .short(&["sts"])
    .all()
    .scale()
    .status(),
    // events.k8s.io/v1
    spec(EVENTS, "v1", "events", "event", "Event", true).short(&["ev"]),
    // authentication.k8s.io/v1: `kubectl auth whoami`.
    spec(
        AUTHENTICATION,
        "v1",
        "selfsubjectreviews",
        "selfsubjectreview",
        "SelfSubjectReview",
        false,
    )
    .verbs(&["create"]),
    // autoscaling/v2
    spec(
        AUTOSCALING,
        "v2",
        "horizontalpodautoscalers",
        "horizontalpodautoscaler",
        "HorizontalPodAutoscaler",
        true,
    )
    .short(&["hpa"])
    .all()
    .status(),
    // batch/v1
    spec(BATCH, "v1", "cronjobs", "cronjob", "CronJob", true)
        .short(&["cj"])
        .all()
        .status(),
    spec(BATCH, "v1", "jobs", "job", "Job", true).all().status(),
    // networking.k8s.io/v1
    spec(
        NETWORKING,
        "v1",
        "ingressclasses",
        "ingressclass",
        "IngressClass",
        false,
    ),
    spec(NETWORKING, "v1", "ingresses", "ingress", "Ingress", true)
        .short(&["ing"])
        .status(),
    spec(
        NETWORKING,
        "v1",
        "networkpolicies",
        "networkpolicy",
        "NetworkPolicy",
        true,
    )
    .short(&["netpol"]),
    // policy/v1
    spec(
        POLICY,
        "v1",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        "PodDisruptionBudget",
        true,
    )
    .short(&["pdb"])
    .status(),
    // rbac.authorization.k8s.io/v1
    spec(
        RBAC,
        "v1",
        "clusterrolebindings",
        "clusterrolebinding",
        "ClusterRoleBinding",
        false,
    ),
    spec(
        RBAC,
        "v1",
        "clusterroles",
        "clusterrole",
        "ClusterRole",
        false,
    ),
    spec(
        RBAC,
        "v1",
        "rolebindings",
        "rolebinding",
        "RoleBinding",
        true,
    ),
    spec(RBAC, "v1", "roles", "role", "Role", true),
    // apiextensions.k8s.io/v1
    spec(
        APIEXTENSIONS,
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        false,
    )
    .short(&["crd", "crds"])
    .categories(&["api-extensions"])
    .status(),
    // scheduling.k8s.io/v1
    spec(
        SCHEDULING,
        "v1",
        "priorityclasses",
        "priorityclass",
        "PriorityClass",
        false,
    )
    .short(&["pc"]),
    // coordination.k8s.io/v1
    spec(COORDINATION, "v1", "leases", "lease", "Lease", true),
    // discovery.k8s.io/v1
    spec(
        DISCOVERY,
        "v1",
        "endpointslices",
        "endpointslice",
        "EndpointSlice",
        true,
    ),
];

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_string()).collect()
}

fn subresource(
    name: &str,
    kind: &str,
    group: &str,
    version: &str,
    verbs: &[&str],
) -> SubresourceInfo {
    SubresourceInfo {
        name: name.to_string(),
        kind: kind.to_string(),
        group: group.to_string(),
        version: version.to_string(),
        verbs: strings(verbs),
    }
}

fn build(s: &Spec) -> ResourceInfo {
    let mut subresources = Vec::new();
    if s.group == CORE && s.resource == "pods" {
        subresources.push(subresource("binding", "Binding", "", "", &["create"]));
        subresources.push(subresource(
            "eviction",
            "Eviction",
            POLICY,
            "v1",
            &["create"],
        ));
        subresources.push(subresource(
            "exec",
            "PodExecOptions",
            "",
            "",
            &["create", "get"],
        ));
        subresources.push(subresource("log", "Pod", "", "", &["get"]));
    }
    if s.group == CORE && s.resource == "serviceaccounts" {
        subresources.push(subresource(
            "token",
            "TokenRequest",
            AUTHENTICATION,
            "v1",
            &["create"],
        ));
    }
    if s.scale {
        subresources.push(subresource(
            "scale",
            "Scale",
            AUTOSCALING,
            "v1",
            STATUS_VERBS,
        ));
    }
    if s.status {
        subresources.push(subresource("status", s.kind, "", "", STATUS_VERBS));
    }
    subresources.sort_by(|a, b| a.name.cmp(&b.name));
    ResourceInfo {
        group: s.group.to_string(),
        version: s.version.to_string(),
        resource: s.resource.to_string(),
        singular: s.singular.to_string(),
        kind: s.kind.to_string(),
        namespaced: s.namespaced,
        verbs: strings(s.verbs),
        short_names: strings(s.short_names),
        categories: strings(s.categories),
        subresources,
    }
}

static TABLE: LazyLock<Vec<ResourceInfo>> = LazyLock::new(|| SPECS.iter().map(build).collect());

/// The lazily built static table of every built-in resource Berth serves, in discovery order.
pub fn builtin_table() -> &'static [ResourceInfo] {
    &TABLE
}

/// Every built-in resource Berth serves, in discovery order (an owned copy of
/// [`builtin_table`]).
pub fn builtin_resources() -> Vec<ResourceInfo> {
    TABLE.clone()
}

/// The built-in resources of one group-version, in `APIResourceList` order.
pub fn builtin_resources_of<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    TABLE
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

/// The built-in resource `resource` (plural name) of `group`/`version`.
pub fn find_builtin(group: &str, version: &str, resource: &str) -> Option<&'static ResourceInfo> {
    TABLE
        .iter()
        .find(|r| r.group == group && r.version == version && r.resource == resource)
}

/// The built-in resource of `group`/`version` whose kind is `kind`.
pub fn find_builtin_by_kind(
    group: &str,
    version: &str,
    kind: &str,
) -> Option<&'static ResourceInfo> {
    TABLE
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// The built-in resource `resource` of `group` in whatever version Berth serves it.
pub fn find_builtin_group_resource(group: &str, resource: &str) -> Option<&'static ResourceInfo> {
    TABLE
        .iter()
        .find(|r| r.group == group && r.resource == resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    #[test]
    fn every_resource_is_sane() {
        let table = builtin_table();
        assert_eq!(table.len(), 34);
        for r in table {
            assert!(!r.verbs.is_empty(), "{} has no verbs", r.resource);
            let mut sorted = r.verbs.clone();
            sorted.sort();
            assert_eq!(sorted, r.verbs, "verbs of {} not sorted", r.resource);
            assert!(!r.singular.is_empty());
            assert!(
                r.kind
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase())
            );
            assert_eq!(r.resource, r.resource.to_lowercase());
            assert!(is_builtin_group(&r.group), "group {} not listed", r.group);
            assert_eq!(preferred_version(&r.group), Some(r.version.as_str()));
            for s in &r.subresources {
                assert!(!s.verbs.is_empty());
                if s.name == "status" {
                    assert_eq!(s.kind, r.kind);
                    assert_eq!(s.verbs, ["get", "patch", "update"]);
                }
            }
            let names: Vec<&str> = r.subresources.iter().map(|s| s.name.as_str()).collect();
            let mut sorted_names = names.clone();
            sorted_names.sort();
            assert_eq!(names, sorted_names);
        }
    }

    #[test]
    fn kinds_and_resources_unique_per_group_version() {
        let mut kinds = HashSet::new();
        let mut resources = HashSet::new();
        for r in builtin_table() {
            assert!(
                kinds.insert((r.group.clone(), r.kind.clone())),
                "{}",
                r.kind
            );
            assert!(
                resources.insert((r.group.clone(), r.resource.clone())),
                "{}",
                r.resource
            );
        }
    }

    #[test]
    fn short_names_as_kubernetes() {
        let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in builtin_table() {
            if !r.short_names.is_empty() {
                got.insert(r.group_resource(), r.short_names.clone());
            }
        }
        let want: BTreeMap<String, Vec<String>> = [
            ("namespaces", vec!["ns"]),
            ("pods", vec!["po"]),
            ("services", vec!["svc"]),
            ("endpoints", vec!["ep"]),
            ("configmaps", vec!["cm"]),
            ("serviceaccounts", vec!["sa"]),
            ("events", vec!["ev"]),
            ("nodes", vec!["no"]),
            ("persistentvolumeclaims", vec!["pvc"]),
            ("resourcequotas", vec!["quota"]),
            ("limitranges", vec!["limits"]),
            ("deployments.apps", vec!["deploy"]),
            ("replicasets.apps", vec!["rs"]),
            ("statefulsets.apps", vec!["sts"]),
            ("daemonsets.apps", vec!["ds"]),
            ("cronjobs.batch", vec!["cj"]),
            ("horizontalpodautoscalers.autoscaling", vec!["hpa"]),
            ("poddisruptionbudgets.policy", vec!["pdb"]),
            ("ingresses.networking.k8s.io", vec!["ing"]),
            ("networkpolicies.networking.k8s.io", vec!["netpol"]),
            ("events.events.k8s.io", vec!["ev"]),
            ("priorityclasses.scheduling.k8s.io", vec!["pc"]),
            (
                "customresourcedefinitions.apiextensions.k8s.io",
                vec!["crd", "crds"],
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn categories_as_kubernetes() {
        let all: Vec<String> = builtin_table()
            .iter()
            .filter(|r| r.categories == ["all"])
            .map(|r| r.group_resource())
            .collect();
        assert_eq!(
            all,
            [
                "pods",
                "services",
                "daemonsets.apps",
                "deployments.apps",
                "replicasets.apps",
                "statefulsets.apps",
                "horizontalpodautoscalers.autoscaling",
                "cronjobs.batch",
                "jobs.batch"
            ]
        );
        let crd = find_builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions");
        assert_eq!(
            crd.map(|r| r.categories.clone()),
            Some(vec!["api-extensions".to_string()])
        );
    }

    #[test]
    fn subresources() {
        let pods = find_builtin("", "v1", "pods").expect("pods");
        let names: Vec<&str> = pods.subresources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["binding", "eviction", "exec", "log", "status"]);
        let eviction = pods.subresource("eviction").expect("eviction");
        assert_eq!(
            (
                eviction.kind.as_str(),
                eviction.group.as_str(),
                eviction.version.as_str()
            ),
            ("Eviction", "policy", "v1")
        );
        assert_eq!(eviction.verbs, ["create"]);
        assert_eq!(eviction.kind_group(pods), "policy");
        let binding = pods.subresource("binding").expect("binding");
        assert_eq!(
            (binding.kind.as_str(), binding.verbs.as_slice()),
            ("Binding", &["create".to_string()][..])
        );
        assert_eq!(binding.kind_group(pods), "");
        assert_eq!(binding.kind_version(pods), "v1");
        let log = pods.subresource("log").expect("log");
        assert_eq!(
            (log.kind.as_str(), log.verbs.as_slice()),
            ("Pod", &["get".to_string()][..])
        );

        for res in ["deployments", "replicasets", "statefulsets"] {
            let r = find_builtin("apps", "v1", res).expect(res);
            let scale = r.subresource("scale").expect("scale");
            assert_eq!(
                (
                    scale.kind.as_str(),
                    scale.group.as_str(),
                    scale.version.as_str()
                ),
                ("Scale", "autoscaling", "v1")
            );
            assert_eq!(scale.verbs, ["get", "patch", "update"]);
        }
        assert!(
            find_builtin("apps", "v1", "daemonsets")
                .expect("ds")
                .subresource("scale")
                .is_none()
        );

        let with_status: Vec<String> = builtin_table()
            .iter()
            .filter(|r| r.subresource("status").is_some())
            .map(|r| r.group_resource())
            .collect();
        assert_eq!(with_status.len(), 16);
        assert!(
            find_builtin("", "v1", "nodes")
                .expect("nodes")
                .subresource("proxy")
                .is_none()
        );
        let ns = find_builtin("", "v1", "namespaces").expect("ns");
        assert!(!ns.has_verb("deletecollection"));
        assert!(ns.has_verb("delete"));
        assert!(
            find_builtin("", "v1", "services")
                .expect("svc")
                .has_verb("deletecollection")
        );
    }

    #[test]
    fn group_order_matches_apis() {
        assert_eq!(
            group_order(),
            [
                "",
                "apps",
                "events.k8s.io",
                "authentication.k8s.io",
                "autoscaling",
                "batch",
                "networking.k8s.io",
                "policy",
                "rbac.authorization.k8s.io",
                "apiextensions.k8s.io",
                "scheduling.k8s.io",
                "coordination.k8s.io",
                "discovery.k8s.io"
            ]
        );
        let prios: Vec<i32> = builtin_groups().iter().map(|g| g.group_priority).collect();
        let mut sorted = prios.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(prios, sorted);
        // The table follows the group order, resources sorted inside a group.
        let mut last_group_index = 0;
        let mut last: Option<&ResourceInfo> = None;
        for r in builtin_table() {
            let idx = group_order()
                .iter()
                .position(|g| *g == r.group)
                .expect("group listed");
            assert!(idx >= last_group_index);
            if let Some(prev) = last
                && prev.group == r.group
            {
                assert!(
                    prev.resource < r.resource,
                    "{} before {}",
                    prev.resource,
                    r.resource
                );
            }
            last_group_index = idx;
            last = Some(r);
        }
        assert_eq!(preferred_version("autoscaling"), Some("v2"));
        assert_eq!(
            builtin_group("apps").map(|g| g.group_version()),
            Some("apps/v1".to_string())
        );
        assert!(preferred_version("example.com").is_none());
    }

    #[test]
    fn lookups() {
        let d = find_builtin("apps", "v1", "deployments").expect("deployments");
        assert_eq!(d.kind, "Deployment");
        assert_eq!(d.api_version(), "apps/v1");
        assert_eq!(d.list_kind(), "DeploymentList");
        assert_eq!(d.group_kind(), "Deployment.apps");
        assert_eq!(d.scope(), "Namespaced");
        assert!(find_builtin("apps", "v1beta1", "deployments").is_none());
        assert!(find_builtin("", "v1", "nodes/proxy").is_none());
        let ev = find_builtin_by_kind("events.k8s.io", "v1", "Event").expect("events");
        assert_eq!(ev.resource, "events");
        assert_eq!(
            find_builtin_group_resource("autoscaling", "horizontalpodautoscalers")
                .map(|r| r.version.as_str()),
            Some("v2")
        );
        assert_eq!(builtin_resources_of("batch", "v1").count(), 2);
        assert_eq!(builtin_resources().len(), builtin_table().len());
        let endpoints = find_builtin("", "v1", "endpoints").expect("endpoints");
        assert_eq!(endpoints.singular, "endpoints");
        assert_eq!(
            find_builtin("", "v1", "nodes").map(|n| n.scope()),
            Some("Cluster")
        );
    }
}
