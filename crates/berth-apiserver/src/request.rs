//! Parsing of resource request paths, as `k8s.io/apiserver/pkg/endpoints/request.RequestInfo`.

/// What a resource URL names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcePath {
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Non-resource and discovery paths, or a resource path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiPath {
    /// `/api`
    LegacyRoot,
    /// `/apis`
    GroupsRoot,
    /// `/api/v1` or `/apis/G/V`
    GroupVersion {
        group: String,
        version: String,
    },
    /// `/apis/G`
    Group {
        group: String,
    },
    Resource(ResourcePath),
}

/// Parses `/api/v1/...` and `/apis/G/V/...` paths. Returns `None` for anything else.
pub fn parse(path: &str) -> Option<ApiPath> {
    let trimmed = path.trim_end_matches('/');
    let parts: Vec<&str> = trimmed.split('/').skip(1).collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api"] => return Some(ApiPath::LegacyRoot),
        ["apis"] => return Some(ApiPath::GroupsRoot),
        ["apis", g] => {
            return Some(ApiPath::Group {
                group: (*g).to_string(),
            });
        }
        ["api", v, rest @ ..] => (String::new(), (*v).to_string(), rest),
        ["apis", g, v, rest @ ..] => ((*g).to_string(), (*v).to_string(), rest),
        _ => return None,
    };
    if rest.iter().any(|p| p.is_empty()) {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .ok()
    };
    let mut rp = ResourcePath {
        group,
        version,
        ..Default::default()
    };
    // `/namespaces/{ns}/{resource}...` is namespaced, except `/namespaces/{name}[/{sub}]`, which is
    // the namespace object itself.
    let rest: Vec<String> = rest.iter().map(|s| decode(s)).collect::<Option<_>>()?;
    match rest.as_slice() {
        [] => {
            return Some(ApiPath::GroupVersion {
                group: rp.group,
                version: rp.version,
            });
        }
        // `status` and `finalize` after a namespace name are subresources of the namespace.
        [ns_kw, ns, sub] if ns_kw == "namespaces" && (sub == "status" || sub == "finalize") => {
            rp.resource = ns_kw.clone();
            rp.name = Some(ns.clone());
            rp.subresource = Some(sub.clone());
        }
        [ns_kw, ns, resource, tail @ ..] if ns_kw == "namespaces" => {
            rp.namespace = Some(ns.clone());
            rp.resource = resource.clone();
            match tail {
                [] => {}
                [name] => rp.name = Some(name.clone()),
                [name, sub] => {
                    rp.name = Some(name.clone());
                    rp.subresource = Some(sub.clone());
                }
                _ => return None,
            }
        }
        [resource, tail @ ..] => {
            rp.resource = resource.clone();
            match tail {
                [] => {}
                [name] => rp.name = Some(name.clone()),
                [name, sub] => {
                    rp.name = Some(name.clone());
                    rp.subresource = Some(sub.clone());
                }
                _ => return None,
            }
        }
    }
    Some(ApiPath::Resource(rp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> ResourcePath {
        match parse(path) {
            Some(ApiPath::Resource(r)) => r,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn parses_kubernetes_paths() {
        let r = res("/api/v1/namespaces/default/pods/web-1/status");
        assert_eq!(r.namespace.as_deref(), Some("default"));
        assert_eq!(r.resource, "pods");
        assert_eq!(r.name.as_deref(), Some("web-1"));
        assert_eq!(r.subresource.as_deref(), Some("status"));
        let ns = res("/api/v1/namespaces/kube-system");
        assert_eq!(ns.resource, "namespaces");
        assert_eq!(ns.name.as_deref(), Some("kube-system"));
        assert_eq!(ns.namespace, None);
        let fin = res("/api/v1/namespaces/x/finalize");
        assert_eq!(fin.resource, "namespaces");
        assert_eq!(fin.name.as_deref(), Some("x"));
        assert_eq!(fin.subresource.as_deref(), Some("finalize"));
        let d = res("/apis/apps/v1/deployments");
        assert_eq!(
            (d.group.as_str(), d.resource.as_str()),
            ("apps", "deployments")
        );
        assert_eq!(
            parse("/apis/apps/v1"),
            Some(ApiPath::GroupVersion {
                group: "apps".into(),
                version: "v1".into()
            })
        );
        assert_eq!(parse("/api"), Some(ApiPath::LegacyRoot));
        assert_eq!(parse("/apis/"), Some(ApiPath::GroupsRoot));
        assert_eq!(parse("/foo"), None);
        assert_eq!(parse("/api/v1/pods/a/b/c"), None);
    }
}
