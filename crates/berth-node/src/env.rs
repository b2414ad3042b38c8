//! A container's environment as kubelet builds it (`makeEnvironmentVariables`): service
//! variables, then `envFrom`, then `env` in order with `$(VAR)` expansion against what came
//! before; values from ConfigMaps, Secrets, the pod's fields and its resources.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{ConfigMap, Container, Pod, Secret, Service};
use kube::Client;
use kube::api::{Api, ListParams};

use crate::expansion::expand;
use crate::quantity;

/// The facts about the pod's placement that env values may refer to.
#[derive(Debug, Clone)]
pub struct PodFacts {
    pub host_ip: String,
    pub pod_ip: String,
    pub api_server_host: String,
    pub api_server_port: u16,
    pub node_allocatable_cpu_millis: u64,
    pub node_allocatable_memory: u64,
}

/// An env var that cannot be resolved: the container stays Waiting with reason
/// `CreateContainerConfigError` and this message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct EnvError(pub String);

/// Ordered environment with later definitions replacing earlier ones in place.
#[derive(Debug, Default, Clone)]
pub struct Environment {
    order: Vec<String>,
    values: HashMap<String, String>,
}

impl Environment {
    pub fn set(&mut self, name: &str, value: String) {
        if self.values.insert(name.to_string(), value).is_none() {
            self.order.push(name.to_string());
        }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    pub fn into_vec(mut self) -> Vec<(String, String)> {
        self.order
            .into_iter()
            .filter_map(|k| self.values.remove(&k).map(|v| (k, v)))
            .collect()
    }
}

/// Whether `name` is a valid env var name (upstream `IsEnvVarName`).
fn is_env_var_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

async fn get_config_map(
    client: &Client,
    ns: &str,
    name: &str,
) -> Result<Option<ConfigMap>, EnvError> {
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .map_err(|e| EnvError(format!("cannot get configmap {ns}/{name}: {e}")))
}

async fn get_secret(client: &Client, ns: &str, name: &str) -> Result<Option<Secret>, EnvError> {
    Api::<Secret>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .map_err(|e| EnvError(format!("cannot get secret {ns}/{name}: {e}")))
}

fn secret_data(secret: &Secret) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).to_string()))
        .collect();
    for (k, v) in secret.string_data.iter().flatten() {
        out.insert(k.clone(), v.clone());
    }
    out
}

fn config_map_data(cm: &ConfigMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = cm.data.clone().unwrap_or_default();
    for (k, v) in cm.binary_data.iter().flatten() {
        out.insert(k.clone(), String::from_utf8_lossy(&v.0).to_string());
    }
    out
}

/// A service port: name, number, protocol.
type ServicePort = (Option<String>, i32, String);

/// Service variables: `kubernetes` from `default` always, the pod namespace's services when
/// `enableServiceLinks` is true (the default). `kubernetes` points at the API server directly
/// (Berth has no service proxy in front of it).
async fn service_env(client: &Client, pod: &Pod, facts: &PodFacts, env: &mut Environment) {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let links = pod
        .spec
        .as_ref()
        .and_then(|s| s.enable_service_links)
        .unwrap_or(true);
    let mut services: BTreeMap<String, (String, Vec<ServicePort>)> = BTreeMap::new();
    if links {
        match Api::<Service>::namespaced(client.clone(), ns)
            .list(&ListParams::default())
            .await
        {
            Ok(list) => {
                for svc in list.items {
                    let Some(spec) = svc.spec else { continue };
                    let Some(ip) = spec.cluster_ip.filter(|ip| !ip.is_empty() && ip != "None")
                    else {
                        continue;
                    };
                    let ports = spec
                        .ports
                        .unwrap_or_default()
                        .into_iter()
                        .map(|p| (p.name, p.port, p.protocol.unwrap_or_else(|| "TCP".into())))
                        .collect();
                    services.insert(svc.metadata.name.unwrap_or_default(), (ip, ports));
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list services for env vars"),
        }
    }
    services.insert(
        "kubernetes".to_string(),
        (
            facts.api_server_host.clone(),
            vec![(
                Some("https".to_string()),
                i32::from(facts.api_server_port),
                "TCP".to_string(),
            )],
        ),
    );
    for (name, (ip, ports)) in services {
        let prefix = name.to_uppercase().replace('-', "_");
        let Some((_, first_port, first_proto)) = ports.first() else {
            continue;
        };
        env.set(&format!("{prefix}_SERVICE_HOST"), ip.clone());
        env.set(&format!("{prefix}_SERVICE_PORT"), first_port.to_string());
        for (pname, port, _) in &ports {
            if let Some(pname) = pname.as_deref().filter(|n| !n.is_empty()) {
                let pname = pname.to_uppercase().replace('-', "_");
                env.set(&format!("{prefix}_SERVICE_PORT_{pname}"), port.to_string());
            }
        }
        // Docker-link style variables.
        env.set(
            &format!("{prefix}_PORT"),
            format!("{}://{ip}:{first_port}", first_proto.to_lowercase()),
        );
        for (_, port, proto) in &ports {
            let base = format!("{prefix}_PORT_{port}_{}", proto.to_uppercase());
            env.set(&base, format!("{}://{ip}:{port}", proto.to_lowercase()));
            env.set(&format!("{base}_PROTO"), proto.to_lowercase());
            env.set(&format!("{base}_PORT"), port.to_string());
            env.set(&format!("{base}_ADDR"), ip.clone());
        }
    }
}

/// The value of a downward API `fieldRef` path (upstream `podFieldSelectorRuntimeValue`).
pub fn field_value(pod: &Pod, facts: &PodFacts, path: &str) -> Result<String, EnvError> {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let value = match path {
        "metadata.name" => meta.name.clone().unwrap_or_default(),
        "metadata.namespace" => meta.namespace.clone().unwrap_or_default(),
        "metadata.uid" => meta.uid.clone().unwrap_or_default(),
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => facts.host_ip.clone(),
        "status.podIP" | "status.podIPs" => facts.pod_ip.clone(),
        "metadata.labels" | "metadata.annotations" => {
            let map = if path == "metadata.labels" {
                &meta.labels
            } else {
                &meta.annotations
            };
            map.iter()
                .flatten()
                .map(|(k, v)| {
                    format!(
                        "{k}=\"{}\"",
                        v.replace('\\', "\\\\")
                            .replace('"', "\\\"")
                            .replace('\n', "\\n")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        other => {
            let subscript = |prefix: &str| {
                other
                    .strip_prefix(prefix)
                    .and_then(|r| r.strip_prefix("['"))
                    .and_then(|r| r.strip_suffix("']"))
                    .map(str::to_string)
            };
            if let Some(key) = subscript("metadata.labels") {
                meta.labels
                    .as_ref()
                    .and_then(|m| m.get(&key))
                    .cloned()
                    .unwrap_or_default()
            } else if let Some(key) = subscript("metadata.annotations") {
                meta.annotations
                    .as_ref()
                    .and_then(|m| m.get(&key))
                    .cloned()
                    .unwrap_or_default()
            } else {
                return Err(EnvError(format!("unsupported fieldPath: {other}")));
            }
        }
    };
    Ok(value)
}

/// The value of a `resourceFieldRef` (upstream `ExtractContainerResourceValue`): limits fall
/// back to the node's allocatable; the result is divided by `divisor` and rounded up.
pub fn resource_value(
    container: &Container,
    facts: &PodFacts,
    resource: &str,
    divisor: Option<&str>,
) -> Result<String, EnvError> {
    let res = container.resources.as_ref();
    let get = |which: &str, name: &str| {
        let map = if which == "limits" {
            res.and_then(|r| r.limits.as_ref())
        } else {
            res.and_then(|r| r.requests.as_ref())
        };
        map.and_then(|m| m.get(name))
            .and_then(|q| quantity::parse(&q.0))
    };
    let (which, name) = resource
        .split_once('.')
        .ok_or_else(|| EnvError(format!("unsupported container resource: {resource}")))?;
    let fallback = match name {
        "cpu" => facts.node_allocatable_cpu_millis as f64 / 1000.0,
        "memory" => facts.node_allocatable_memory as f64,
        _ => 0.0,
    };
    let value = match which {
        "limits" => get("limits", name).unwrap_or(fallback),
        "requests" => get("requests", name)
            .or_else(|| get("limits", name))
            .unwrap_or(0.0),
        _ => {
            return Err(EnvError(format!(
                "unsupported container resource: {resource}"
            )));
        }
    };
    let divisor = divisor
        .and_then(quantity::parse)
        .filter(|d| *d > 0.0)
        .unwrap_or(1.0);
    Ok(format!("{}", (value / divisor).ceil() as i64))
}

/// Builds the environment of `container`. `base` is what the runtime adds first (PATH, HOME,
/// HOSTNAME); the pod's own variables override it.
pub async fn container_env(
    client: &Client,
    pod: &Pod,
    container: &Container,
    facts: &PodFacts,
    base: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, EnvError> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut env = Environment::default();
    for (k, v) in base {
        env.set(&k, v);
    }
    service_env(client, pod, facts, &mut env).await;
    for source in container.env_from.iter().flatten() {
        let prefix = source.prefix.clone().unwrap_or_default();
        let (data, kind, name, optional) = if let Some(r) = &source.config_map_ref {
            let cm = get_config_map(client, ns, &r.name).await?;
            (
                cm.as_ref().map(config_map_data),
                "configmaps",
                &r.name,
                r.optional.unwrap_or(false),
            )
        } else if let Some(r) = &source.secret_ref {
            let s = get_secret(client, ns, &r.name).await?;
            (
                s.as_ref().map(secret_data),
                "secrets",
                &r.name,
                r.optional.unwrap_or(false),
            )
        } else {
            continue;
        };
        match data {
            Some(data) => {
                for (k, v) in data {
                    let key = format!("{prefix}{k}");
                    if is_env_var_name(&key) {
                        env.set(&key, v);
                    }
                }
            }
            None if optional => {}
            None => return Err(EnvError(format!("{kind} \"{name}\" not found"))),
        }
    }
    for var in container.env.iter().flatten() {
        let value = if let Some(from) = &var.value_from {
            if let Some(r) = &from.config_map_key_ref {
                let optional = r.optional.unwrap_or(false);
                match get_config_map(client, ns, &r.name).await? {
                    None if optional => continue,
                    None => return Err(EnvError(format!("configmap \"{}\" not found", r.name))),
                    Some(cm) => match config_map_data(&cm).remove(&r.key) {
                        Some(v) => v,
                        None if optional => continue,
                        None => {
                            return Err(EnvError(format!(
                                "couldn't find key {} in ConfigMap {ns}/{}",
                                r.key, r.name
                            )));
                        }
                    },
                }
            } else if let Some(r) = &from.secret_key_ref {
                let optional = r.optional.unwrap_or(false);
                match get_secret(client, ns, &r.name).await? {
                    None if optional => continue,
                    None => return Err(EnvError(format!("secret \"{}\" not found", r.name))),
                    Some(s) => match secret_data(&s).remove(&r.key) {
                        Some(v) => v,
                        None if optional => continue,
                        None => {
                            return Err(EnvError(format!(
                                "couldn't find key {} in Secret {ns}/{}",
                                r.key, r.name
                            )));
                        }
                    },
                }
            } else if let Some(r) = &from.field_ref {
                field_value(pod, facts, &r.field_path)?
            } else if let Some(r) = &from.resource_field_ref {
                let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
                    Some(name) => pod
                        .spec
                        .iter()
                        .flat_map(|s| s.containers.iter())
                        .find(|c| c.name == name)
                        .unwrap_or(container),
                    None => container,
                };
                resource_value(
                    target,
                    facts,
                    &r.resource,
                    r.divisor.as_ref().map(|d| d.0.as_str()),
                )?
            } else {
                String::new()
            }
        } else {
            let raw = var.value.clone().unwrap_or_default();
            expand(&raw, &|name| env.get(name))
        };
        env.set(&var.name, value);
    }
    Ok(env.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names() {
        assert!(is_env_var_name("FOO_bar.1-x"));
        assert!(!is_env_var_name("1FOO"));
        assert!(!is_env_var_name("A B"));
        assert!(!is_env_var_name(""));
    }

    #[test]
    fn environment_keeps_first_position_on_override() {
        let mut env = Environment::default();
        env.set("A", "1".into());
        env.set("B", "2".into());
        env.set("A", "3".into());
        assert_eq!(
            env.into_vec(),
            vec![("A".into(), "3".into()), ("B".into(), "2".into())]
        );
    }
}
