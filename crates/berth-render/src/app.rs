//! App -> ConfigMap, Service, Deployment, PodDisruptionBudget, HorizontalPodAutoscaler, Ingress.

use std::collections::BTreeMap;

use berth_spec::{AppSpec, Autoscaling, PortSpec, Rollout};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    ContainerPort, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
    TopologySpreadConstraint,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use crate::container::{Process, container};
use crate::files::{FILES_HASH_ANNOTATION, render_files};
use crate::labels::Owner;
use crate::probes::{Check, hooks, probes};
use crate::{RenderContext, RenderError, check_object, to_value};

/// Name of the app's container.
pub const APP_CONTAINER: &str = "app";
/// IngressClass of Berth's ingress controller.
const INGRESS_CLASS: &str = "berth";
const DEFAULT_MAX_SURGE: &str = "25%";
const DEFAULT_MAX_UNAVAILABLE: &str = "0";
const DEFAULT_PROGRESS_DEADLINE: i32 = 600;
const REVISION_HISTORY_LIMIT: i32 = 10;
const DEFAULT_CPU_PERCENT: i32 = 80;
const DEFAULT_METRICS_PATH: &str = "/metrics";
const METRICS_PORT_NAME: &str = "metrics";
/// Spreading pods over nodes is by host name.
const HOSTNAME_TOPOLOGY_KEY: &str = "kubernetes.io/hostname";

/// Renders an App named `name`. Objects come in apply order: ConfigMap (when there are config
/// files), Service (when there are ports), Deployment, PodDisruptionBudget (when at least two
/// pods are wanted), HorizontalPodAutoscaler (when autoscaling), Ingress (when a domain).
/// `spec.environment`'s override is applied first.
pub fn render_app(
    name: &str,
    spec: &AppSpec,
    ctx: &RenderContext,
) -> Result<Vec<Value>, RenderError> {
    let spec = berth_spec::resolve_app(spec)?;
    let owner = Owner::new(
        "App",
        name,
        spec.project.as_deref(),
        spec.environment.as_deref(),
        ctx,
    )?;
    let scale = Scale::of(&spec)?;
    let files = render_files(&owner, &spec.config_files)?;
    let ports = named_ports(&spec.ports)?;
    let first_port = spec.ports.first().map(|p| p.port);

    let mut objects = Vec::new();
    if let Some(files) = &files {
        objects.push(to_value(&files.config_map)?);
    }
    if !ports.is_empty() {
        objects.push(to_value(&service(&owner, &ports))?);
    }
    objects.push(to_value(&deployment(
        &owner,
        &spec,
        &scale,
        files.as_ref(),
        &ports,
        first_port,
    )?)?);
    if scale.min >= 2 {
        objects.push(to_value(&pod_disruption_budget(&owner))?);
    }
    if let Some(autoscaling) = &spec.autoscaling {
        objects.push(to_value(&autoscaler(&owner, autoscaling))?);
    }
    if let Some(ingress) = ingress(&owner, &spec, &ports)? {
        objects.push(to_value(&ingress)?);
    }
    for object in &objects {
        check_object(object)?;
    }
    Ok(objects)
}

/// How many pods the app runs: exactly `replicas`, or between the autoscaling bounds.
struct Scale {
    /// `spec.replicas` of the Deployment; `None` when the autoscaler owns it.
    replicas: Option<i32>,
    /// Fewest pods there will be (a PodDisruptionBudget only makes sense from two).
    min: i32,
    /// Most pods there can be (spreading over nodes only matters from two).
    max: i32,
}

impl Scale {
    fn of(spec: &AppSpec) -> Result<Scale, RenderError> {
        match &spec.autoscaling {
            Some(a) => {
                if a.min_replicas < 1 || a.max_replicas < a.min_replicas {
                    return Err(RenderError::invalid(
                        "autoscaling",
                        format!(
                            "need 1 <= minReplicas <= maxReplicas (got {} and {})",
                            a.min_replicas, a.max_replicas
                        ),
                    ));
                }
                Ok(Scale {
                    replicas: None,
                    min: a.min_replicas,
                    max: a.max_replicas,
                })
            }
            None => {
                let replicas = spec.replicas.unwrap_or(1);
                if replicas < 0 {
                    return Err(RenderError::invalid(
                        "replicas",
                        format!("{replicas} must not be negative"),
                    ));
                }
                Ok(Scale {
                    replicas: Some(replicas),
                    min: replicas,
                    max: replicas,
                })
            }
        }
    }
}

/// A spec port with its name settled: `http` for the first, `port-<n>` for the others.
struct NamedPort {
    name: String,
    port: i32,
    service_port: i32,
}

fn named_ports(ports: &[PortSpec]) -> Result<Vec<NamedPort>, RenderError> {
    ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            for (field, value) in [
                ("ports.port", Some(p.port)),
                ("ports.servicePort", p.service_port),
            ] {
                if let Some(v) = value
                    && !(1..=65535).contains(&v)
                {
                    return Err(RenderError::invalid(
                        field,
                        format!("{v} is not a port number (1-65535)"),
                    ));
                }
            }
            Ok(NamedPort {
                name: match (&p.name, i) {
                    (Some(name), _) => name.clone(),
                    (None, 0) => "http".to_string(),
                    (None, _) => format!("port-{}", p.port),
                },
                port: p.port,
                service_port: p.service_port.unwrap_or(p.port),
            })
        })
        .collect()
}

fn service(owner: &Owner<'_>, ports: &[NamedPort]) -> Service {
    Service {
        metadata: owner.object_meta(owner.name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".to_string()),
            selector: Some(owner.selector_labels()),
            ports: Some(
                ports
                    .iter()
                    .map(|p| ServicePort {
                        name: Some(p.name.clone()),
                        port: p.service_port,
                        target_port: Some(IntOrString::String(p.name.clone())),
                        protocol: Some("TCP".to_string()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn deployment(
    owner: &Owner<'_>,
    spec: &AppSpec,
    scale: &Scale,
    files: Option<&crate::files::Files>,
    ports: &[NamedPort],
    first_port: Option<i32>,
) -> Result<Deployment, RenderError> {
    let process = Process {
        runtime: spec.runtime.as_deref(),
        image: spec.image.as_deref(),
        entrypoint: spec.entrypoint.as_deref(),
        command: spec.command.as_deref(),
        args: spec.args.as_deref(),
        working_dir: spec.working_dir.as_deref(),
        resources: spec.resources.as_ref(),
        env: &spec.env,
    };
    let mut container = container(APP_CONTAINER, &process, files)?;

    let mut container_ports: Vec<ContainerPort> = ports
        .iter()
        .map(|p| ContainerPort {
            name: Some(p.name.clone()),
            container_port: p.port,
            protocol: Some("TCP".to_string()),
            ..Default::default()
        })
        .collect();
    let mut annotations = BTreeMap::new();
    if let Some(files) = files {
        annotations.insert(FILES_HASH_ANNOTATION.to_string(), files.hash.clone());
    }
    if let Some(metrics) = &spec.metrics {
        if !ports.iter().any(|p| p.port == metrics.port) {
            container_ports.push(ContainerPort {
                name: Some(METRICS_PORT_NAME.to_string()),
                container_port: metrics.port,
                protocol: Some("TCP".to_string()),
                ..Default::default()
            });
        }
        annotations.insert("prometheus.io/scrape".to_string(), "true".to_string());
        annotations.insert("prometheus.io/port".to_string(), metrics.port.to_string());
        annotations.insert(
            "prometheus.io/path".to_string(),
            metrics
                .path
                .clone()
                .unwrap_or_else(|| DEFAULT_METRICS_PATH.to_string()),
        );
    }
    container.ports = (!container_ports.is_empty()).then_some(container_ports);

    // Debug mode: nothing restarts or stops the app behind the user's back.
    let mut termination_grace_period_seconds = None;
    if !spec.debug {
        let check = Check::from_health(spec.health.as_ref(), first_port)?;
        let probes = probes(spec.health.as_ref(), check.as_ref(), first_port)?;
        container.readiness_probe = probes.readiness;
        container.liveness_probe = probes.liveness;
        container.startup_probe = probes.startup;
        let hooks = hooks(
            spec.lifecycle.as_ref(),
            spec.health.as_ref(),
            check.as_ref(),
            first_port,
        )?;
        container.lifecycle = hooks.lifecycle;
        termination_grace_period_seconds = hooks.termination_grace_period_seconds;
    }

    // Soft spreading: pods prefer different nodes, and a one-node cluster still runs them all.
    let topology_spread_constraints = (scale.max >= 2).then(|| {
        vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: HOSTNAME_TOPOLOGY_KEY.to_string(),
            when_unsatisfiable: "ScheduleAnyway".to_string(),
            label_selector: Some(owner.label_selector()),
            ..Default::default()
        }]
    });

    let rollout = spec.rollout.as_ref();
    let max_surge = int_or_percent(
        "rollout.maxSurge",
        rollout
            .and_then(|r| r.max_surge.as_deref())
            .unwrap_or(DEFAULT_MAX_SURGE),
    )?;
    let max_unavailable = int_or_percent(
        "rollout.maxUnavailable",
        rollout
            .and_then(|r| r.max_unavailable.as_deref())
            .unwrap_or(DEFAULT_MAX_UNAVAILABLE),
    )?;

    Ok(Deployment {
        metadata: owner.object_meta(owner.name),
        spec: Some(DeploymentSpec {
            replicas: scale.replicas,
            selector: owner.label_selector(),
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".to_string()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(max_surge),
                    max_unavailable: Some(max_unavailable),
                }),
            }),
            progress_deadline_seconds: Some(progress_deadline(rollout)),
            revision_history_limit: Some(REVISION_HISTORY_LIMIT),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(owner.pod_labels(spec.debug, spec.log_type)),
                    annotations: (!annotations.is_empty()).then_some(annotations),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    // Service links put every Service of the namespace into the environment;
                    // in a big namespace that overflowed the argv/env limit (E2BIG) in the
                    // seeds. Apps find services by DNS.
                    enable_service_links: Some(false),
                    termination_grace_period_seconds,
                    topology_spread_constraints,
                    volumes: files.map(|f| vec![f.volume.clone()]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn progress_deadline(rollout: Option<&Rollout>) -> i32 {
    rollout
        .and_then(|r| r.progress_deadline_seconds)
        .unwrap_or(DEFAULT_PROGRESS_DEADLINE)
}

/// `"1"` -> the integer 1 (Kubernetes reads the string `"1"` as a malformed percentage);
/// `"25%"` stays a string.
fn int_or_percent(field: &str, value: &str) -> Result<IntOrString, RenderError> {
    let invalid = || RenderError::InvalidIntOrPercent {
        field: field.to_string(),
        value: value.to_string(),
    };
    let value = value.trim();
    let digits = value.strip_suffix('%').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let number: i32 = digits.parse().map_err(|_| invalid())?;
    if value.ends_with('%') {
        Ok(IntOrString::String(format!("{number}%")))
    } else {
        Ok(IntOrString::Int(number))
    }
}

/// At most one pod away at a time by voluntary disruptions (node drains).
fn pod_disruption_budget(owner: &Owner<'_>) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: owner.object_meta(owner.name),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(owner.label_selector()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn autoscaler(owner: &Owner<'_>, autoscaling: &Autoscaling) -> HorizontalPodAutoscaler {
    HorizontalPodAutoscaler {
        metadata: owner.object_meta(owner.name),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".to_string()),
                kind: "Deployment".to_string(),
                name: owner.name.to_string(),
            },
            min_replicas: Some(autoscaling.min_replicas),
            max_replicas: autoscaling.max_replicas,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".to_string(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".to_string(),
                    target: MetricTarget {
                        type_: "Utilization".to_string(),
                        average_utilization: Some(
                            autoscaling.cpu_percent.unwrap_or(DEFAULT_CPU_PERCENT),
                        ),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An Ingress for the domain, routing everything to the Service's first port. A domain without
/// a port, or TLS without a domain, is refused rather than silently dropped.
fn ingress(
    owner: &Owner<'_>,
    spec: &AppSpec,
    ports: &[NamedPort],
) -> Result<Option<Ingress>, RenderError> {
    let Some(domain) = &spec.domain else {
        if spec.tls.is_some() {
            return Err(RenderError::invalid("tls", "needs a domain"));
        }
        return Ok(None);
    };
    let Some(port) = ports.first() else {
        return Err(RenderError::invalid(
            "domain",
            format!("{domain:?} needs a port to route to"),
        ));
    };
    Ok(Some(Ingress {
        metadata: owner.object_meta(owner.name),
        spec: Some(IngressSpec {
            ingress_class_name: Some(INGRESS_CLASS.to_string()),
            rules: Some(vec![IngressRule {
                host: Some(domain.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".to_string()),
                        path_type: "Prefix".to_string(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: owner.name.to_string(),
                                port: Some(ServiceBackendPort {
                                    number: Some(port.service_port),
                                    ..Default::default()
                                }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            tls: spec.tls.as_ref().map(|tls| {
                vec![IngressTLS {
                    hosts: Some(vec![domain.clone()]),
                    secret_name: Some(tls.secret_name.clone()),
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_or_percent_parsing() {
        assert_eq!(int_or_percent("f", "1").expect("1"), IntOrString::Int(1));
        assert_eq!(
            int_or_percent("f", "25%").expect("25%"),
            IntOrString::String("25%".into())
        );
        for bad in ["", "%", "-1", "1.5", "abc", "10 %", "99999999999"] {
            assert!(int_or_percent("f", bad).is_err(), "{bad}");
        }
    }
}
