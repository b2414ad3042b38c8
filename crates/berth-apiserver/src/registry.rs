//! The set of resources being served: built-in ones, plus those of CustomResourceDefinitions,
//! which appear and disappear at run time as CRDs are created, updated and deleted.

use berth_apiextensions::CompiledSchema;
use berth_apimachinery::resources::{ResourceInfo, builtin_resources};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// What the handlers need to know about a custom resource version.
pub struct CustomResource {
    /// `metadata.name` of the CRD (`apps.berth.dev`).
    pub crd_name: String,
    /// The version objects are stored in.
    pub storage_version: String,
    /// Structural schema of this version, if any.
    pub schema: Option<CompiledSchema>,
    /// The CRD object, for scale paths and printer columns.
    pub crd: Value,
}

/// One served group-version-resource.
pub struct Served {
    pub info: ResourceInfo,
    pub custom: Option<CustomResource>,
    /// Watch events already rendered for watchers without selectors.
    pub rendered: RenderedEvents,
}

/// Recent watch event lines of one resource, keyed by revision and key. Every watcher without
/// selectors sends the same bytes for an event, so the event is parsed and serialized once
/// instead of once per watcher.
#[derive(Default)]
pub struct RenderedEvents {
    entries: std::sync::Mutex<std::collections::VecDeque<(i64, String, bytes::Bytes)>>,
}

impl RenderedEvents {
    const CAPACITY: usize = 512;

    pub fn get(&self, revision: i64, key: &str) -> Option<bytes::Bytes> {
        let entries = self.entries.lock().expect("render cache lock poisoned");
        entries
            .iter()
            .rev()
            .find(|(r, k, _)| *r == revision && k == key)
            .map(|(_, _, b)| b.clone())
    }

    pub fn put(&self, revision: i64, key: &str, line: bytes::Bytes) {
        let mut entries = self.entries.lock().expect("render cache lock poisoned");
        if entries.len() >= Self::CAPACITY {
            entries.pop_front();
        }
        entries.push_back((revision, key.to_string(), line));
    }
}

impl Served {
    /// The store key prefix of this resource's objects (shared by all versions of a resource).
    /// Events of both API groups live in the core group's storage, as in Kubernetes.
    pub fn storage_prefix(&self) -> String {
        let group = match (self.info.group.as_str(), self.info.resource.as_str()) {
            ("events.k8s.io", "events") | ("", _) => "core",
            (g, _) => g,
        };
        format!("/registry/{group}/{}/", self.info.resource)
    }

    /// The store key of one object.
    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        match namespace {
            Some(ns) if self.info.namespaced => format!("{}{ns}/{name}", self.storage_prefix()),
            _ => format!("{}{name}", self.storage_prefix()),
        }
    }

    /// The prefix for a list: one namespace, or every namespace when `None`.
    pub fn list_prefix(&self, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.info.namespaced => format!("{}{ns}/", self.storage_prefix()),
            _ => self.storage_prefix(),
        }
    }

    pub fn is_custom(&self) -> bool {
        self.custom.is_some()
    }
}

type Gvr = (String, String, String);

#[derive(Default)]
struct State {
    by_gvr: HashMap<Gvr, Arc<Served>>,
    /// Group -> versions in preference order (first = preferred).
    group_versions: BTreeMap<String, Vec<String>>,
    /// Discovery order of groups (core "" first, built-ins, then CRD groups sorted).
    builtin_group_order: Vec<String>,
    /// CRD name -> the GVRs it contributed.
    crds: HashMap<String, Vec<Gvr>>,
}

/// The served resources. Cheap to read concurrently.
pub struct Registry {
    state: RwLock<State>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    pub fn new() -> Self {
        let mut st = State::default();
        for info in builtin_resources() {
            let gvr = (
                info.group.clone(),
                info.version.clone(),
                info.resource.clone(),
            );
            if !st.builtin_group_order.contains(&info.group) {
                st.builtin_group_order.push(info.group.clone());
            }
            let versions = st.group_versions.entry(info.group.clone()).or_default();
            if !versions.contains(&info.version) {
                versions.push(info.version.clone());
            }
            st.by_gvr.insert(
                gvr,
                Arc::new(Served {
                    info,
                    custom: None,
                    rendered: RenderedEvents::default(),
                }),
            );
        }
        Self {
            state: RwLock::new(st),
        }
    }

    pub fn get(&self, group: &str, version: &str, resource: &str) -> Option<Arc<Served>> {
        let st = self.state.read().expect("registry lock poisoned");
        st.by_gvr
            .get(&(group.to_string(), version.to_string(), resource.to_string()))
            .cloned()
    }

    /// Every served resource of a group-version, in a stable order.
    pub fn resources_of(&self, group: &str, version: &str) -> Vec<Arc<Served>> {
        let st = self.state.read().expect("registry lock poisoned");
        let mut v: Vec<Arc<Served>> = st
            .by_gvr
            .iter()
            .filter(|((g, ver, _), _)| g == group && ver == version)
            .map(|(_, s)| s.clone())
            .collect();
        v.sort_by(|a, b| a.info.resource.cmp(&b.info.resource));
        v
    }

    /// Every served resource.
    pub fn all(&self) -> Vec<Arc<Served>> {
        let st = self.state.read().expect("registry lock poisoned");
        st.by_gvr.values().cloned().collect()
    }

    /// Groups in discovery order with their versions (preferred first). Excludes the core group.
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let st = self.state.read().expect("registry lock poisoned");
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for g in &st.builtin_group_order {
            if g.is_empty() {
                continue;
            }
            if let Some(v) = st.group_versions.get(g) {
                out.push((g.clone(), v.clone()));
            }
        }
        for (g, v) in &st.group_versions {
            if !g.is_empty() && !st.builtin_group_order.contains(g) && !v.is_empty() {
                out.push((g.clone(), v.clone()));
            }
        }
        out
    }

    pub fn versions_of(&self, group: &str) -> Vec<String> {
        let st = self.state.read().expect("registry lock poisoned");
        st.group_versions.get(group).cloned().unwrap_or_default()
    }

    /// Serves (or re-serves) the resources of a CRD. Only established CRDs that are not being
    /// deleted are passed here.
    pub fn install_crd(&self, crd: &Value) {
        let Some(crd_name) = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            return;
        };
        let infos = berth_apiextensions::crd_resource_infos(crd);
        let storage_version = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .and_then(|vs| {
                vs.iter()
                    .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|v| v.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut st = self.state.write().expect("registry lock poisoned");
        remove_crd_locked(&mut st, &crd_name);
        let mut gvrs = Vec::new();
        for info in infos {
            let schema = crd
                .pointer("/spec/versions")
                .and_then(Value::as_array)
                .and_then(|vs| {
                    vs.iter()
                        .find(|v| v.get("name").and_then(Value::as_str) == Some(&info.version))
                })
                .and_then(|v| v.pointer("/schema/openAPIV3Schema"))
                .and_then(|s| match CompiledSchema::new(s) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(crd = %crd_name, error = %e, "CRD schema not usable");
                        None
                    }
                });
            let gvr = (
                info.group.clone(),
                info.version.clone(),
                info.resource.clone(),
            );
            let versions = st.group_versions.entry(info.group.clone()).or_default();
            if !versions.contains(&info.version) {
                versions.push(info.version.clone());
                sort_versions(versions);
            }
            st.by_gvr.insert(
                gvr.clone(),
                Arc::new(Served {
                    info,
                    custom: Some(CustomResource {
                        crd_name: crd_name.clone(),
                        storage_version: storage_version.clone(),
                        schema,
                        crd: crd.clone(),
                    }),
                    rendered: RenderedEvents::default(),
                }),
            );
            gvrs.push(gvr);
        }
        st.crds.insert(crd_name, gvrs);
    }

    pub fn remove_crd(&self, crd_name: &str) {
        let mut st = self.state.write().expect("registry lock poisoned");
        remove_crd_locked(&mut st, crd_name);
    }
}

fn remove_crd_locked(st: &mut State, crd_name: &str) {
    let Some(gvrs) = st.crds.remove(crd_name) else {
        return;
    };
    for gvr in gvrs {
        st.by_gvr.remove(&gvr);
        let still_used = st.by_gvr.keys().any(|(g, v, _)| *g == gvr.0 && *v == gvr.1);
        if !still_used && let Some(vs) = st.group_versions.get_mut(&gvr.0) {
            vs.retain(|v| *v != gvr.1);
        }
    }
    st.group_versions
        .retain(|g, v| !v.is_empty() || st.builtin_group_order.contains(g));
}

/// Kubernetes' version priority: GA > beta > alpha, higher numbers first, then others by name.
fn sort_versions(versions: &mut [String]) {
    fn key(v: &str) -> (u8, i64, i64, String) {
        let parse = |s: &str| -> Option<(i64, u8, i64)> {
            let rest = s.strip_prefix('v')?;
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let major: i64 = digits.parse().ok()?;
            let tail = &rest[digits.len()..];
            if tail.is_empty() {
                return Some((major, 0, 0));
            }
            for (kw, rank) in [("beta", 1u8), ("alpha", 2u8)] {
                if let Some(n) = tail.strip_prefix(kw) {
                    return n.parse().ok().map(|minor| (major, rank, minor));
                }
            }
            None
        };
        match parse(v) {
            Some((major, rank, minor)) => (rank, -major, -minor, String::new()),
            None => (3, 0, 0, v.to_string()),
        }
    }
    versions.sort_by_key(|v| key(v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_priority_matches_kubernetes() {
        let mut v: Vec<String> = ["v1alpha1", "foo", "v2beta1", "v1", "v2", "v1beta2", "v10"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sort_versions(&mut v);
        assert_eq!(
            v,
            ["v10", "v2", "v1", "v2beta1", "v1beta2", "v1alpha1", "foo"]
        );
    }
}
