//! The horizontal pod autoscaler controller (upstream `pkg/controller/podautoscaler`), for
//! autoscaling/v2 HorizontalPodAutoscalers with CPU utilization targets.
//!
//! Every [`HpaConfig::sync_period`] each autoscaler reads its target's scale subresource, the
//! CPU usage of the target's pods from a [`PodMetricsSource`] and their CPU requests, computes
//! `ceil(readyPods * currentUtilization / targetUtilization)` (no change within the 10 %
//! tolerance; pods without metrics and unready pods handled as upstream's replica calculator),
//! stabilizes it over the behavior's windows (scale down: highest recommendation of the last
//! 300 s by default), limits the rate with the behavior's policies, clamps it to
//! min/maxReplicas, scales through the scale subresource, and reports status and the
//! AbleToScale, ScalingActive and ScalingLimited conditions. Other metric types are reported
//! as not supported.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_apimachinery::quantity;
use berth_apimachinery::selectors::LabelSelector;
use k8s_openapi::api::autoscaling::v1::{Scale, ScaleSpec};
use k8s_openapi::api::autoscaling::v2::{
    HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition,
    HorizontalPodAutoscalerStatus, MetricStatus, MetricValueStatus, ResourceMetricStatus,
};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as ApiQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DynamicObject, PostParams};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::discovery;
use crate::error::Error;
use crate::events::Events;
use crate::podutil;
use crate::runtime::wait_for_shutdown;
use crate::runtime::{Informer, ObjectKey, key_of};

/// Where the autoscaler reads pods' CPU usage (the role of metrics-server's resource metrics
/// API); the binary connects it to the node agents' cgroup statistics.
pub trait PodMetricsSource: Send + Sync {
    /// The pod's current CPU usage in millicores, or `None` when unknown.
    fn cpu_usage_millicores(&self, namespace: &str, pod: &str) -> Option<u64>;
}

/// A source without any metrics (autoscalers then report that they got none).
pub struct NoMetrics;

impl PodMetricsSource for NoMetrics {
    fn cpu_usage_millicores(&self, _: &str, _: &str) -> Option<u64> {
        None
    }
}

/// Settings of the controller (kube-controller-manager flags); [`Default`] has upstream's.
#[derive(Debug, Clone)]
pub struct HpaConfig {
    /// --horizontal-pod-autoscaler-sync-period.
    pub sync_period: Duration,
    /// --horizontal-pod-autoscaler-tolerance (unless the behavior sets one).
    pub tolerance: f64,
    /// --horizontal-pod-autoscaler-downscale-stabilization (unless the behavior sets one).
    pub downscale_stabilization: Duration,
}

impl Default for HpaConfig {
    fn default() -> Self {
        HpaConfig {
            sync_period: Duration::from_secs(15),
            tolerance: 0.1,
            downscale_stabilization: Duration::from_secs(300),
        }
    }
}

/// The autoscaler controller. Build with [`HpaController::new`], then [`HpaController::run`].
pub struct HpaController {
    client: Client,
    metrics: Arc<dyn PodMetricsSource>,
    config: HpaConfig,
    events: Events,
    /// Discovery, refreshed every minute or when a target's kind is not in it.
    served: std::sync::Mutex<Option<(Instant, Arc<discovery::ServedResources>)>>,
}

const DISCOVERY_MAX_AGE: Duration = Duration::from_secs(60);

/// What an autoscaler remembers between syncs.
#[derive(Default)]
struct History {
    recommendations: Vec<(Instant, i32)>,
    /// Replica changes made, for the rate-limiting policies: (when, delta).
    scale_events: Vec<(Instant, i32)>,
}

const ABLE_TO_SCALE: &str = "AbleToScale";
const SCALING_ACTIVE: &str = "ScalingActive";
const SCALING_LIMITED: &str = "ScalingLimited";

impl HpaController {
    pub fn new(client: Client, metrics: Arc<dyn PodMetricsSource>) -> Self {
        Self::with_config(client, metrics, HpaConfig::default())
    }

    pub fn with_config(
        client: Client,
        metrics: Arc<dyn PodMetricsSource>,
        config: HpaConfig,
    ) -> Self {
        HpaController {
            events: Events::new(client.clone(), "horizontal-pod-autoscaler"),
            client,
            metrics,
            config,
            served: std::sync::Mutex::new(None),
        }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting horizontal pod autoscaler controller");
        let hpas = Informer::start(
            Api::<HorizontalPodAutoscaler>::all(self.client.clone()),
            watcher::Config::default(),
            |_, _| {},
        );
        let pods = Informer::start(
            Api::<Pod>::all(self.client.clone()),
            watcher::Config::default(),
            |_, _| {},
        );
        tokio::select! {
            _ = async { hpas.ready().await; pods.ready().await } => {}
            _ = wait_for_shutdown(shutdown.clone()) => return,
        }
        let mut histories: HashMap<ObjectKey, History> = HashMap::new();
        let mut tick = tokio::time::interval(self.config.sync_period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = wait_for_shutdown(shutdown.clone()) => break,
            }
            let all = hpas.store.state();
            histories.retain(|k, _| all.iter().any(|h| key_of(h.as_ref()) == *k));
            for hpa in all {
                let history = histories.entry(key_of(hpa.as_ref())).or_default();
                if let Err(e) = self.reconcile(&hpa, history, &pods.store).await {
                    tracing::warn!(namespace = hpa.namespace(), hpa = hpa.name_any(), error = %e, "autoscaler sync failed");
                }
            }
        }
        tracing::info!("stopped horizontal pod autoscaler controller");
    }

    async fn scale_api(&self, hpa: &HorizontalPodAutoscaler) -> Result<Api<DynamicObject>, String> {
        let target = hpa
            .spec
            .as_ref()
            .map(|s| &s.scale_target_ref)
            .ok_or("no spec")?;
        let api_version = target.api_version.clone().unwrap_or_else(|| "v1".into());
        let cached = self
            .served
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|(at, _)| at.elapsed() < DISCOVERY_MAX_AGE)
            .map(|(_, s)| s);
        let served = match cached.filter(|s| s.resolve(&api_version, &target.kind).is_some()) {
            Some(s) => s,
            None => {
                let s = Arc::new(
                    discovery::discover(&self.client)
                        .await
                        .map_err(|e| e.to_string())?,
                );
                *self.served.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), s.clone()));
                s
            }
        };
        let resource = served.resolve(&api_version, &target.kind).ok_or_else(|| {
            format!(
                "no matches for kind {:?} in group version {api_version:?}",
                target.kind
            )
        })?;
        Ok(Api::namespaced_with(
            self.client.clone(),
            &hpa.namespace().unwrap_or_default(),
            &resource.api_resource,
        ))
    }

    async fn reconcile(
        &self,
        hpa: &HorizontalPodAutoscaler,
        history: &mut History,
        pods: &Store<Pod>,
    ) -> Result<(), Error> {
        let Some(spec) = hpa.spec.clone() else {
            return Ok(());
        };
        let mut status = hpa.status.clone().unwrap_or_default();
        status.observed_generation = hpa.metadata.generation;
        let now = Timestamp::now();
        let target_name = spec.scale_target_ref.name.clone();
        let scale = match self.scale_api(hpa).await {
            Ok(api) => api
                .get_scale(&target_name)
                .await
                .map(|s| (api, s))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let (api, scale) = match scale {
            Ok(v) => v,
            Err(e) => {
                set_condition(
                    &mut status,
                    ABLE_TO_SCALE,
                    false,
                    "FailedGetScale",
                    &format!(
                        "the HPA controller was unable to get the target's current scale: {e}"
                    ),
                    now,
                );
                self.events.warning(hpa, "FailedGetScale", e).await;
                return self.write_status(hpa, status).await;
            }
        };
        set_condition(
            &mut status,
            ABLE_TO_SCALE,
            true,
            "SucceededGetScale",
            "the HPA controller was able to get the target's current scale",
            now,
        );
        let current = scale.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        status.current_replicas = Some(scale.status.as_ref().map_or(current, |s| s.replicas));
        let min = spec.min_replicas.unwrap_or(1);
        let max = spec.max_replicas;

        let desired = if current == 0 && min != 0 {
            set_condition(
                &mut status,
                SCALING_ACTIVE,
                false,
                "ScalingDisabled",
                "scaling is disabled since the replica count of the target is zero",
                now,
            );
            0
        } else {
            let selector = scale
                .status
                .as_ref()
                .and_then(|s| s.selector.clone())
                .unwrap_or_default();
            match self.recommend(hpa, &spec, &selector, current, pods) {
                Ok((recommended, metric)) => {
                    status.current_metrics = Some(vec![metric]);
                    set_condition(
                        &mut status,
                        SCALING_ACTIVE,
                        true,
                        "ValidMetricFound",
                        "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)",
                        now,
                    );
                    let (desired, reason, message) =
                        self.normalize(&spec, history, current, recommended, min, max);
                    let (able_reason, able_message) =
                        stabilized_reason(current, recommended, desired, history);
                    set_condition(
                        &mut status,
                        ABLE_TO_SCALE,
                        true,
                        able_reason,
                        able_message,
                        now,
                    );
                    let limited = reason != "DesiredWithinRange";
                    set_condition(&mut status, SCALING_LIMITED, limited, reason, message, now);
                    desired
                }
                Err(e) => {
                    set_condition(
                        &mut status,
                        SCALING_ACTIVE,
                        false,
                        "FailedGetResourceMetric",
                        &format!("the HPA was unable to compute the replica count: {e}"),
                        now,
                    );
                    self.events
                        .warning(
                            hpa,
                            "FailedComputeMetricsReplicas",
                            format!("invalid metrics (1 invalid out of 1), first error is: {e}"),
                        )
                        .await;
                    status.desired_replicas = current;
                    return self.write_status(hpa, status).await;
                }
            }
        };
        if desired != current {
            let mut new_scale = Scale {
                metadata: scale.metadata.clone(),
                spec: Some(ScaleSpec {
                    replicas: Some(desired),
                }),
                status: None,
            };
            new_scale.metadata.managed_fields = None;
            match api
                .replace_scale(&target_name, &PostParams::default(), &new_scale)
                .await
            {
                Ok(_) => {
                    tracing::info!(
                        namespace = hpa.namespace(),
                        hpa = hpa.name_any(),
                        from = current,
                        to = desired,
                        "rescaled target"
                    );
                    let why = if desired > current {
                        "cpu resource utilization (percentage of request) above target"
                    } else {
                        "All metrics below target"
                    };
                    self.events
                        .normal(
                            hpa,
                            "SuccessfulRescale",
                            format!("New size: {desired}; reason: {why}"),
                        )
                        .await;
                    history
                        .scale_events
                        .push((Instant::now(), desired - current));
                    status.last_scale_time = Some(Time(now));
                }
                Err(e) => {
                    set_condition(
                        &mut status,
                        ABLE_TO_SCALE,
                        false,
                        "FailedUpdateScale",
                        &format!("the HPA controller was unable to update the target scale: {e}"),
                        now,
                    );
                    status.desired_replicas = current;
                    return self.write_status(hpa, status).await;
                }
            }
        }
        status.desired_replicas = desired;
        self.write_status(hpa, status).await
    }

    async fn write_status(
        &self,
        hpa: &HorizontalPodAutoscaler,
        status: HorizontalPodAutoscalerStatus,
    ) -> Result<(), Error> {
        if hpa.status.as_ref() == Some(&status) {
            return Ok(());
        }
        let mut updated = hpa.clone();
        updated.status = Some(status);
        let api: Api<HorizontalPodAutoscaler> =
            Api::namespaced(self.client.clone(), &hpa.namespace().unwrap_or_default());
        match api
            .replace_status(&hpa.name_any(), &PostParams::default(), &updated)
            .await
            .map_err(Error::from)
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() || e.is_conflict() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The replica count the CPU metric asks for, and the metric's status.
    fn recommend(
        &self,
        hpa: &HorizontalPodAutoscaler,
        spec: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerSpec,
        selector: &str,
        current: i32,
        pods: &Store<Pod>,
    ) -> Result<(i32, MetricStatus), String> {
        let metrics = spec.metrics.clone().unwrap_or_default();
        let target = match metrics.as_slice() {
            // autoscaling/v2 defaults to 80 % CPU when no metric is given.
            [] => 80,
            [m] if m.type_ == "Resource"
                && m.resource
                    .as_ref()
                    .is_some_and(|r| r.name == "cpu" && r.target.type_ == "Utilization") =>
            {
                m.resource
                    .as_ref()
                    .and_then(|r| r.target.average_utilization)
                    .unwrap_or(80)
            }
            _ => return Err("only a CPU utilization metric is supported".into()),
        };
        let selector = LabelSelector::parse(selector).map_err(|e| {
            format!("couldn't convert selector into a corresponding internal selector object: {e}")
        })?;
        let ns = hpa.namespace().unwrap_or_default();
        let pods: Vec<Arc<Pod>> = pods
            .state()
            .into_iter()
            .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|p| {
                let labels = serde_json::to_value(&p.metadata.labels)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .unwrap_or_default();
                selector.matches(&labels)
            })
            .collect();
        if pods.is_empty() {
            return Err("failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API".into());
        }
        let mut samples = Vec::new();
        for pod in &pods {
            let request =
                pod_cpu_request(pod).map_err(|e| format!("failed to get cpu utilization: {e}"))?;
            let phase = pod
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .unwrap_or("");
            let state = if pod.metadata.deletion_timestamp.is_some() || phase == "Failed" {
                PodState::Ignored
            } else if phase == "Pending" || !podutil::is_pod_ready(pod) {
                PodState::Unready
            } else {
                match self.metrics.cpu_usage_millicores(&ns, &pod.name_any()) {
                    Some(m) => PodState::Ready(i64::try_from(m).unwrap_or(i64::MAX)),
                    None => PodState::Missing,
                }
            };
            samples.push((state, request));
        }
        let tolerance = spec
            .behavior
            .as_ref()
            .and_then(|b| b.scale_up.as_ref().or(b.scale_down.as_ref()))
            .and_then(|r| r.tolerance.as_ref())
            .and_then(|t| quantity::parse(&t.0).ok())
            .map_or(self.config.tolerance, |q| q.milli_value() as f64 / 1000.0);
        let result = replicas_for_cpu(&samples, current, target, tolerance)
            .map_err(|e| format!("failed to get cpu utilization: {e}"))?;
        let metric = MetricStatus {
            type_: "Resource".into(),
            resource: Some(ResourceMetricStatus {
                name: "cpu".into(),
                current: MetricValueStatus {
                    average_utilization: Some(result.utilization),
                    average_value: Some(ApiQuantity(
                        quantity::parse(&format!("{}m", result.raw_average))
                            .map(|q| q.canonical())
                            .unwrap_or_else(|_| format!("{}m", result.raw_average)),
                    )),
                    value: None,
                },
            }),
            ..MetricStatus::default()
        };
        Ok((result.replicas, metric))
    }

    /// Stabilization and rate limits of the behavior, then min/max
    /// (`normalizeDesiredReplicasWithBehaviors`); returns the replicas and the ScalingLimited
    /// reason and message.
    fn normalize(
        &self,
        spec: &k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscalerSpec,
        history: &mut History,
        current: i32,
        recommended: i32,
        min: i32,
        max: i32,
    ) -> (i32, &'static str, &'static str) {
        let now = Instant::now();
        let behavior = spec.behavior.clone().unwrap_or_default();
        let up = behavior.scale_up.unwrap_or_default();
        let down = behavior.scale_down.unwrap_or_default();
        let up_window = window(&up, Duration::ZERO);
        let down_window = window(&down, self.config.downscale_stabilization);
        history.recommendations.push((now, recommended));
        let longest = up_window.max(down_window);
        history
            .recommendations
            .retain(|(t, _)| now.duration_since(*t) <= longest);
        // Scale up to the lowest recent recommendation, down to the highest.
        let up_rec = history
            .recommendations
            .iter()
            .filter(|(t, _)| now.duration_since(*t) <= up_window)
            .map(|(_, r)| *r)
            .min()
            .unwrap_or(recommended);
        let down_rec = history
            .recommendations
            .iter()
            .filter(|(t, _)| now.duration_since(*t) <= down_window)
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(recommended);
        let mut desired = current;
        if desired < up_rec {
            desired = up_rec;
        }
        if desired > down_rec {
            desired = down_rec;
        }
        let keep = Duration::from_secs(1800);
        history
            .scale_events
            .retain(|(t, _)| now.duration_since(*t) <= keep);
        let up_limit = rate_limit(
            &up,
            &default_up_policies(),
            current,
            &history.scale_events,
            now,
            true,
        );
        let down_limit = rate_limit(
            &down,
            &default_down_policies(),
            current,
            &history.scale_events,
            now,
            false,
        );
        if desired > current {
            let upper = up_limit.min(max);
            if desired > upper {
                return if up_limit < max {
                    (
                        upper,
                        "ScaleUpLimit",
                        "the desired replica count is increasing faster than the maximum scale rate",
                    )
                } else {
                    (
                        upper,
                        "TooManyReplicas",
                        "the desired replica count is more than the maximum replica count",
                    )
                };
            }
        } else if desired < current {
            let lower = down_limit.max(min);
            if desired < lower {
                return if down_limit > min {
                    (
                        lower,
                        "ScaleDownLimit",
                        "the desired replica count is decreasing faster than the maximum scale rate",
                    )
                } else {
                    (
                        lower,
                        "TooFewReplicas",
                        "the desired replica count is less than the minimum replica count",
                    )
                };
            }
        }
        if desired > max {
            return (
                max,
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
            );
        }
        if desired < min {
            return (
                min,
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
            );
        }
        (
            desired,
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        )
    }
}

/// The AbleToScale reason after stabilization.
fn stabilized_reason(
    current: i32,
    recommended: i32,
    desired: i32,
    _history: &History,
) -> (&'static str, &'static str) {
    if recommended < current && desired > recommended {
        (
            "ScaleDownStabilized",
            "recent recommendations were higher than current one, applying the highest recent recommendation",
        )
    } else if recommended > current && desired < recommended && desired <= current {
        (
            "ScaleUpStabilized",
            "recent recommendations were lower than current one, applying the lowest recent recommendation",
        )
    } else {
        ("ReadyForNewScale", "recommended size matches current size")
    }
}

fn window(rules: &HPAScalingRules, default: Duration) -> Duration {
    rules.stabilization_window_seconds.map_or(default, |s| {
        Duration::from_secs(u64::try_from(s).unwrap_or(0))
    })
}

fn default_up_policies() -> Vec<HPAScalingPolicy> {
    vec![
        HPAScalingPolicy {
            type_: "Pods".into(),
            value: 4,
            period_seconds: 15,
        },
        HPAScalingPolicy {
            type_: "Percent".into(),
            value: 100,
            period_seconds: 15,
        },
    ]
}

fn default_down_policies() -> Vec<HPAScalingPolicy> {
    vec![HPAScalingPolicy {
        type_: "Percent".into(),
        value: 100,
        period_seconds: 15,
    }]
}

/// The furthest the replicas may go now in one direction under the policies
/// (`calculateScaleUpLimitWithScalingRules` / `calculateScaleDownLimitWithBehaviors`).
fn rate_limit(
    rules: &HPAScalingRules,
    defaults: &[HPAScalingPolicy],
    current: i32,
    events: &[(Instant, i32)],
    now: Instant,
    up: bool,
) -> i32 {
    let select = rules.select_policy.as_deref().unwrap_or("Max");
    if select == "Disabled" {
        return current;
    }
    let policies = rules
        .policies
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| defaults.to_vec());
    let mut result: Option<i32> = None;
    for p in &policies {
        let period = Duration::from_secs(u64::try_from(p.period_seconds).unwrap_or(0));
        let changed: i32 = events
            .iter()
            .filter(|(t, d)| now.duration_since(*t) <= period && (*d > 0) == up)
            .map(|(_, d)| d.abs())
            .sum();
        let start = if up {
            current - changed
        } else {
            current + changed
        };
        let limit = match (p.type_.as_str(), up) {
            ("Pods", true) => start + p.value,
            ("Percent", true) => {
                (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32
            }
            ("Pods", false) => start - p.value,
            ("Percent", false) => (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32,
            _ => continue,
        };
        // "Max" allows the largest change: the highest limit up, the lowest down.
        let pick_higher = (select == "Max") == up;
        result = Some(match result {
            None => limit,
            Some(r) if pick_higher => r.max(limit),
            Some(r) => r.min(limit),
        });
    }
    result.unwrap_or(current)
}

/// The sum of a pod's containers' CPU requests in millicores.
fn pod_cpu_request(pod: &Pod) -> Result<i64, String> {
    let mut total = 0i64;
    for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
        let request = c
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("cpu"))
            .and_then(|q| quantity::parse(&q.0).ok())
            .ok_or_else(|| {
                format!(
                    "missing request for cpu in container {} of Pod {}",
                    c.name,
                    pod.name_any()
                )
            })?;
        total = total.saturating_add(request.milli_value());
    }
    Ok(total)
}

/// How a pod counts in the CPU calculation (upstream `groupPods`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum PodState {
    /// Ready with this usage in millicores.
    Ready(i64),
    /// Running and ready but without a metric.
    Missing,
    /// Pending or not ready.
    Unready,
    /// Being deleted or failed.
    Ignored,
}

#[derive(Debug, PartialEq)]
struct CpuResult {
    replicas: i32,
    utilization: i32,
    raw_average: i64,
}

/// `GetResourceUtilizationRatio` over (usage, request) pairs.
fn utilization_ratio(samples: &[(i64, i64)], target: i32) -> Result<(f64, i32, i64), String> {
    let usage: i64 = samples.iter().map(|(u, _)| u).sum();
    let requests: i64 = samples.iter().map(|(_, r)| r).sum();
    if requests == 0 {
        return Err("no metrics returned matched known pods".into());
    }
    let utilization = i32::try_from(usage * 100 / requests).unwrap_or(i32::MAX);
    let count = i64::try_from(samples.len()).unwrap_or(1).max(1);
    Ok((
        f64::from(utilization) / f64::from(target.max(1)),
        utilization,
        usage / count,
    ))
}

/// Upstream's `GetResourceReplicas` for CPU utilization.
fn replicas_for_cpu(
    pods: &[(PodState, i64)],
    current: i32,
    target: i32,
    tolerance: f64,
) -> Result<CpuResult, String> {
    let ready: Vec<(i64, i64)> = pods
        .iter()
        .filter_map(|(s, r)| match s {
            PodState::Ready(u) => Some((*u, *r)),
            _ => None,
        })
        .collect();
    if ready.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    }
    let missing: Vec<i64> = pods
        .iter()
        .filter(|(s, _)| *s == PodState::Missing)
        .map(|(_, r)| *r)
        .collect();
    let unready: Vec<i64> = pods
        .iter()
        .filter(|(s, _)| *s == PodState::Unready)
        .map(|(_, r)| *r)
        .collect();
    let (ratio, utilization, raw_average) = utilization_ratio(&ready, target)?;
    let result = |replicas| CpuResult {
        replicas,
        utilization,
        raw_average,
    };
    let scale_up_with_unready = !unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && missing.is_empty() {
        if (1.0 - ratio).abs() <= tolerance {
            return Ok(result(current));
        }
        let ready_count = ready.len() as f64;
        return Ok(result((ratio * ready_count).ceil() as i32));
    }
    let mut all = ready.clone();
    if ratio < 1.0 {
        // Scaling down: pods without metrics are taken to use their whole request (or the
        // target, when above 100 %).
        let fallback = i64::from(target.max(100));
        all.extend(missing.iter().map(|r| (r * fallback / 100, *r)));
    } else if ratio > 1.0 {
        all.extend(missing.iter().map(|r| (0, *r)));
    }
    if scale_up_with_unready {
        all.extend(unready.iter().map(|r| (0, *r)));
    }
    let (new_ratio, _, _) = utilization_ratio(&all, target)?;
    if (1.0 - new_ratio).abs() <= tolerance
        || (ratio < 1.0 && new_ratio > 1.0)
        || (ratio > 1.0 && new_ratio < 1.0)
    {
        return Ok(result(current));
    }
    let replicas = (new_ratio * all.len() as f64).ceil() as i32;
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return Ok(result(current));
    }
    Ok(result(replicas))
}

/// Sets a condition, changing its transition time only when its status changes.
fn set_condition(
    status: &mut HorizontalPodAutoscalerStatus,
    type_: &str,
    ok: bool,
    reason: &str,
    message: &str,
    now: Timestamp,
) {
    let value = if ok { "True" } else { "False" };
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != value {
                c.last_transition_time = Some(Time(now));
            }
            c.status = value.into();
            c.reason = Some(reason.into());
            c.message = Some(message.into());
        }
        None => conditions.push(HorizontalPodAutoscalerCondition {
            type_: type_.into(),
            status: value.into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_transition_time: Some(Time(now)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(usage: i64) -> (PodState, i64) {
        (PodState::Ready(usage), 100)
    }

    #[test]
    fn replicas_follow_the_upstream_formula() {
        // 2 pods at 90 % of 100m against a 50 % target: ceil(2 * 90/50) = 4.
        let r = replicas_for_cpu(&[ready(90), ready(90)], 2, 50, 0.1).unwrap();
        assert_eq!(
            r,
            CpuResult {
                replicas: 4,
                utilization: 90,
                raw_average: 90
            }
        );
        // Within the tolerance: no change.
        assert_eq!(
            replicas_for_cpu(&[ready(54), ready(54)], 2, 50, 0.1)
                .unwrap()
                .replicas,
            2
        );
        // Scale down: 4 pods at 10 % against 50 %: ceil(4 * 0.2) = 1.
        assert_eq!(
            replicas_for_cpu(&[ready(10), ready(10), ready(10), ready(10)], 4, 50, 0.1)
                .unwrap()
                .replicas,
            1
        );
    }

    #[test]
    fn unready_and_missing_pods_damp_the_change() {
        // Scale up with an unready pod counted at 0: (90+90+0)/300 = 60 % -> ceil(3 * 1.2) = 4.
        let pods = [ready(90), ready(90), (PodState::Unready, 100)];
        assert_eq!(replicas_for_cpu(&pods, 3, 50, 0.1).unwrap().replicas, 4);
        // Scale down with a pod missing metrics counted at 100 %: (10+100)/200 = 55 % -> no change.
        let pods = [ready(10), (PodState::Missing, 100)];
        assert_eq!(replicas_for_cpu(&pods, 2, 50, 0.1).unwrap().replicas, 2);
        assert!(replicas_for_cpu(&[(PodState::Unready, 100)], 1, 50, 0.1).is_err());
    }

    #[test]
    fn rate_limits_use_the_default_policies() {
        let now = Instant::now();
        let up = HPAScalingRules::default();
        // max(current + 4, 2 * current).
        assert_eq!(
            rate_limit(&up, &default_up_policies(), 3, &[], now, true),
            7
        );
        assert_eq!(
            rate_limit(&up, &default_up_policies(), 10, &[], now, true),
            20
        );
        // Just scaled up by 4 from 3: the period's start was 3.
        assert_eq!(
            rate_limit(&up, &default_up_policies(), 7, &[(now, 4)], now, true),
            7
        );
        let down = HPAScalingRules::default();
        assert_eq!(
            rate_limit(&down, &default_down_policies(), 10, &[], now, false),
            0
        );
    }
}
