//! API discovery that tolerates per-group failures.
//!
//! kube's `Discovery::run` fails as a whole when one group fails; upstream controllers instead
//! work with whatever was discovered (client-go's `ErrGroupDiscoveryFailed` carries the partial
//! result), so an unavailable group does not stop garbage collection or namespace deletion for
//! every other group. This module reproduces client-go's `ServerPreferredResources` choice of
//! version and keeps every served version for mapping an ownerReference's apiVersion and kind to
//! a resource (the REST mapper's job upstream).

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIResource, APIResourceList};
use kube::Client;
use kube::discovery::ApiResource;

use crate::error::{Error, Result};

/// The key under which a failure to list the named groups is recorded in
/// [`ServedResources::failed`].
const APIS_PATH: &str = "/apis";

/// Identifies a served resource at one version (a GroupVersionResource).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceKey {
    pub group: String,
    pub version: String,
    pub resource: String,
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}/{}", self.version, self.resource)
        } else {
            write!(f, "{}/{}/{}", self.group, self.version, self.resource)
        }
    }
}

/// A top-level resource (no subresource) as served at one group version.
#[derive(Clone, Debug, PartialEq)]
pub struct ServedResource {
    pub api_resource: ApiResource,
    pub namespaced: bool,
    pub verbs: Vec<String>,
}

impl ServedResource {
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            group: self.api_resource.group.clone(),
            version: self.api_resource.version.clone(),
            resource: self.api_resource.plural.clone(),
        }
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    pub fn supports_all(&self, verbs: &[&str]) -> bool {
        verbs.iter().all(|v| self.supports(v))
    }
}

/// One API group as discovery reported it: its versions in server order and their resources.
#[derive(Clone, Debug, Default)]
pub struct DiscoveredGroup {
    pub name: String,
    pub preferred_version: Option<String>,
    /// `(version, resources)` in the order the server lists the versions; versions whose
    /// resource list could not be fetched are absent.
    pub versions: Vec<(String, Vec<APIResource>)>,
}

/// What the server serves, as far as discovery could tell.
#[derive(Clone, Debug, Default)]
pub struct ServedResources {
    /// Every served version of every kind, keyed by (group, version, kind).
    by_kind: HashMap<(String, String, String), ServedResource>,
    /// Each resource at the version client-go's `ServerPreferredResources` picks.
    preferred: Vec<ServedResource>,
    /// Group versions (or groups) whose discovery failed, with the error.
    pub failed: BTreeMap<String, String>,
}

impl ServedResources {
    /// Builds the tables from discovered groups (pure; the network part is [`discover`]).
    pub fn from_groups(groups: &[DiscoveredGroup], failed: BTreeMap<String, String>) -> Self {
        let mut by_kind = HashMap::new();
        let mut preferred = Vec::new();
        for group in groups {
            // client-go: a resource is taken from the first version that lists it, and replaced
            // by the one in the preferred version.
            let mut chosen: Vec<ServedResource> = Vec::new();
            let mut index: HashMap<String, usize> = HashMap::new();
            for (version, resources) in &group.versions {
                let is_preferred = group.preferred_version.as_deref() == Some(version.as_str());
                for r in resources {
                    if r.name.contains('/') {
                        continue; // subresource
                    }
                    let served = served_resource(&group.name, version, r);
                    by_kind
                        .entry((group.name.clone(), version.clone(), r.kind.clone()))
                        .or_insert_with(|| served.clone());
                    match index.get(&r.name) {
                        Some(&i) if is_preferred => chosen[i] = served,
                        Some(_) => {}
                        None => {
                            index.insert(r.name.clone(), chosen.len());
                            chosen.push(served);
                        }
                    }
                }
            }
            preferred.extend(chosen);
        }
        ServedResources {
            by_kind,
            preferred,
            failed,
        }
    }

    /// Maps an apiVersion and kind (of an ownerReference) to the resource serving that exact
    /// version, as upstream's REST mapper does.
    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<&ServedResource> {
        let (group, version) = parse_api_version(api_version)?;
        self.by_kind
            .get(&(group.to_string(), version.to_string(), kind.to_string()))
    }

    /// Resources at their preferred version.
    pub fn preferred(&self) -> &[ServedResource] {
        &self.preferred
    }

    /// Whether discovery of `group` failed this time (so what was known about it should be
    /// kept). A failure to list `/apis` counts for every named group, one of `/api` for core.
    pub fn group_failed(&self, group: &str) -> bool {
        if !group.is_empty() && self.failed.contains_key(APIS_PATH) {
            return true;
        }
        self.failed.keys().any(|gv| match parse_api_version(gv) {
            Some((g, _)) => g == group,
            None => false,
        })
    }

    /// A one-line description of the discovery failures, if any.
    pub fn failure_message(&self) -> Option<String> {
        if self.failed.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .failed
            .iter()
            .map(|(gv, e)| format!("{gv}: {e}"))
            .collect();
        Some(format!(
            "Discovery failed for some groups, {} failing: unable to retrieve the complete list of server APIs: {}",
            parts.len(),
            parts.join(", ")
        ))
    }
}

fn served_resource(group: &str, version: &str, r: &APIResource) -> ServedResource {
    let api_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    ServedResource {
        api_resource: ApiResource {
            group: group.to_string(),
            version: version.to_string(),
            api_version,
            kind: r.kind.clone(),
            plural: r.name.clone(),
        },
        namespaced: r.namespaced,
        verbs: r.verbs.clone(),
    }
}

/// Splits `apps/v1` into `("apps", "v1")` and `v1` into `("", "v1")`.
pub fn parse_api_version(api_version: &str) -> Option<(&str, &str)> {
    match api_version.split_once('/') {
        None if !api_version.is_empty() => Some(("", api_version)),
        Some((group, version))
            if !group.is_empty() && !version.is_empty() && !version.contains('/') =>
        {
            Some((group, version))
        }
        _ => None,
    }
}

/// Asks the server what it serves. Fails only if nothing at all could be discovered; partial
/// failures are in [`ServedResources::failed`].
pub async fn discover(client: &Client) -> Result<ServedResources> {
    let mut failed = BTreeMap::new();
    let mut groups: Vec<DiscoveredGroup> = Vec::new();
    let mut any_listed = false;

    match client.list_core_api_versions().await {
        Ok(core) => {
            any_listed = true;
            groups.push(DiscoveredGroup {
                name: String::new(),
                preferred_version: core.versions.first().cloned(),
                versions: core.versions.into_iter().map(|v| (v, Vec::new())).collect(),
            });
        }
        Err(e) => {
            failed.insert("v1".to_string(), e.to_string());
        }
    }
    match client.list_api_groups().await {
        Ok(list) => {
            any_listed = true;
            for g in list.groups {
                groups.push(DiscoveredGroup {
                    preferred_version: g
                        .preferred_version
                        .map(|p| p.version)
                        .or_else(|| g.versions.first().map(|v| v.version.clone())),
                    versions: g
                        .versions
                        .into_iter()
                        .map(|v| (v.version, Vec::new()))
                        .collect(),
                    name: g.name,
                });
            }
        }
        Err(e) => {
            failed.insert(APIS_PATH.to_string(), e.to_string());
        }
    }
    if !any_listed {
        let msg = failed
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::Discovery(msg));
    }

    // Fetch every group version's resource list, a few at a time.
    let requests: Vec<(usize, usize, String, bool)> = groups
        .iter()
        .enumerate()
        .flat_map(|(gi, g)| {
            g.versions.iter().enumerate().map(move |(vi, (v, _))| {
                let gv = if g.name.is_empty() {
                    v.clone()
                } else {
                    format!("{}/{}", g.name, v)
                };
                (gi, vi, gv, g.name.is_empty())
            })
        })
        .collect();
    let results: Vec<(usize, usize, String, kube::Result<APIResourceList>)> =
        futures::stream::iter(requests)
            .map(|(gi, vi, gv, core)| async move {
                let res = if core {
                    client.list_core_api_resources(&gv).await
                } else {
                    client.list_api_group_resources(&gv).await
                };
                (gi, vi, gv, res)
            })
            .buffer_unordered(8)
            .collect()
            .await;
    let mut lists: HashMap<(usize, usize), Vec<APIResource>> = HashMap::new();
    for (gi, vi, gv, res) in results {
        match res {
            Ok(list) => {
                lists.insert((gi, vi), list.resources);
            }
            // The group version went away between the two requests (a CRD was deleted): it is
            // simply not served any more, which is no failure.
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => {
                failed.insert(gv, e.to_string());
            }
        }
    }
    for (gi, group) in groups.iter_mut().enumerate() {
        let versions = std::mem::take(&mut group.versions);
        group.versions = versions
            .into_iter()
            .enumerate()
            .filter_map(|(vi, (v, _))| lists.remove(&(gi, vi)).map(|r| (v, r)))
            .collect();
    }
    Ok(ServedResources::from_groups(&groups, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(name: &str, kind: &str, namespaced: bool, verbs: &[&str]) -> APIResource {
        APIResource {
            name: name.into(),
            kind: kind.into(),
            namespaced,
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn parses_api_versions() {
        assert_eq!(parse_api_version("v1"), Some(("", "v1")));
        assert_eq!(parse_api_version("apps/v1"), Some(("apps", "v1")));
        assert_eq!(parse_api_version(""), None);
        assert_eq!(parse_api_version("a/b/c"), None);
        assert_eq!(parse_api_version("/v1"), None);
    }

    #[test]
    fn prefers_the_preferred_version_and_keeps_others_for_mapping() {
        let groups = vec![DiscoveredGroup {
            name: "example.com".into(),
            preferred_version: Some("v2".into()),
            versions: vec![
                (
                    "v1".into(),
                    vec![
                        res("widgets", "Widget", true, &["list", "watch", "delete"]),
                        res("oldthings", "OldThing", false, &["list"]),
                        res("widgets/status", "Widget", true, &["get"]),
                    ],
                ),
                (
                    "v2".into(),
                    vec![res(
                        "widgets",
                        "Widget",
                        true,
                        &["list", "watch", "delete", "get"],
                    )],
                ),
            ],
        }];
        let served = ServedResources::from_groups(&groups, BTreeMap::new());
        let preferred: Vec<(String, String)> = served
            .preferred()
            .iter()
            .map(|r| {
                (
                    r.api_resource.plural.clone(),
                    r.api_resource.version.clone(),
                )
            })
            .collect();
        assert_eq!(
            preferred,
            vec![
                ("widgets".to_string(), "v2".to_string()),
                ("oldthings".to_string(), "v1".to_string())
            ]
        );
        let v1 = served
            .resolve("example.com/v1", "Widget")
            .map(|r| r.api_resource.api_version.clone());
        assert_eq!(v1.as_deref(), Some("example.com/v1"));
        assert!(served.resolve("example.com/v3", "Widget").is_none());
        assert!(served.resolve("example.com/v1", "Gadget").is_none());
        assert_eq!(
            served
                .resolve("example.com/v2", "Widget")
                .map(|r| r.namespaced),
            Some(true)
        );
    }

    #[test]
    fn reports_failed_groups() {
        let mut failed = BTreeMap::new();
        failed.insert("metrics.k8s.io/v1beta1".to_string(), "503".to_string());
        failed.insert("v1".to_string(), "boom".to_string());
        let served = ServedResources::from_groups(&[], failed);
        assert!(served.group_failed("metrics.k8s.io"));
        assert!(served.group_failed(""));
        assert!(!served.group_failed("apps"));
        assert!(
            served
                .failure_message()
                .is_some_and(|m| m.contains("2 failing"))
        );

        let mut failed = BTreeMap::new();
        failed.insert(APIS_PATH.to_string(), "timeout".to_string());
        let served = ServedResources::from_groups(&[], failed);
        assert!(
            served.group_failed("apps"),
            "every named group counts as failed"
        );
        assert!(!served.group_failed(""));
    }
}
