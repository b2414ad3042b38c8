//! Workload controllers: Deployments, ReplicaSets, StatefulSets, DaemonSets
//! (`pkg/apis/apps/validation`), ReplicationControllers, Jobs and CronJobs
//! (`pkg/apis/batch/validation`).

use super::pod::validate_pod_template_spec;
use super::*;
use crate::selectors::LabelSelector;

const EMPTY: &Value = &Value::Null;

fn spec_of(obj: &Value) -> &Value {
    get(obj, "spec").unwrap_or(EMPTY)
}

fn template_labels(spec: &Value) -> Option<&Value> {
    spec.pointer("/template/metadata/labels")
        .filter(|v| !v.is_null())
}

fn labels_map(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// Whether the selector JSON matches the template labels; `None` when the selector does not
/// convert (`LabelSelectorAsSelector` fails).
fn selector_matches(sel: Option<&Value>, labels: Option<&Value>) -> Option<bool> {
    let sel = match sel {
        None => return Some(false), // nil selector: labels.Nothing()
        Some(s) => LabelSelector::from_label_selector_json(s).ok()?,
    };
    Some(sel.matches(&labels_map(labels)))
}

fn selector_is_empty(sel: &Value) -> bool {
    obj(sel, "matchLabels").is_none_or(|m| m.is_empty()) && arr(sel, "matchExpressions").is_empty()
}

/// Shared: selector required / valid / non-empty.
fn validate_required_selector(errs: &mut Errs, spec: &Value, what: &str) {
    match get(spec, "selector") {
        None => errs.push(FieldError::required("spec.selector", "")),
        Some(sel) => {
            errs.extend(names::validate_label_selector(sel, "spec.selector"));
            if selector_is_empty(sel) {
                errs.push(invalid_raw(
                    "spec.selector",
                    &go_label_selector(Some(sel)),
                    &format!("empty selector is invalid for {what}"),
                ));
            }
        }
    }
}

/// `ValidatePodTemplateSpecForReplicaSet` (also used by Deployments).
fn validate_template_for_replica_set(errs: &mut Errs, spec: &Value, selector_ok: bool) {
    let Some(tpl) = get(spec, "template") else {
        errs.push(FieldError::required("spec.template", ""));
        return;
    };
    if selector_ok
        && let Some(sel) = get(spec, "selector")
        && let Ok(s) = LabelSelector::from_label_selector_json(sel)
        && !s.is_empty()
        && !s.matches(&labels_map(template_labels(spec)))
    {
        errs.push(invalid_raw(
            "spec.template.metadata.labels",
            &go_map(template_labels(spec)),
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(validate_pod_template_spec(tpl, "spec.template"));
    let rp = tpl
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("");
    if rp != "Always" {
        errs.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            json!(rp),
            &["Always"],
        ));
    }
    if tpl
        .pointer("/spec/activeDeadlineSeconds")
        .is_some_and(|v| !v.is_null())
    {
        errs.push(FieldError::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in ReplicaSet is not Supported",
        ));
    }
}

fn selector_converts(spec: &Value) -> bool {
    match get(spec, "selector") {
        None => true,
        Some(s) => LabelSelector::from_label_selector_json(s).is_ok(),
    }
}

// ---------------------------------------------------------------------------------------------
// Deployments and ReplicaSets.
// ---------------------------------------------------------------------------------------------

/// `ValidateDeploymentSpec`.
pub(super) fn validate_deployment(obj: &Value, _old: Option<&Value>) -> Errs {
    let spec = spec_of(obj);
    let mut errs = Vec::new();
    nonneg(&mut errs, int(spec, "replicas"), "spec.replicas");
    validate_required_selector(&mut errs, spec, "deployment");
    if selector_converts(spec) {
        validate_template_for_replica_set(&mut errs, spec, true);
    } else {
        errs.push(invalid_raw(
            "spec.selector",
            &go_label_selector(get(spec, "selector")),
            "invalid label selector",
        ));
    }
    validate_deployment_strategy(&mut errs, spec);
    let min_ready = int(spec, "minReadySeconds").unwrap_or(0);
    nonneg(&mut errs, Some(min_ready), "spec.minReadySeconds");
    nonneg(
        &mut errs,
        int(spec, "revisionHistoryLimit"),
        "spec.revisionHistoryLimit",
    );
    if let Some(rb) = get(spec, "rollbackTo") {
        nonneg(&mut errs, int(rb, "revision"), "spec.rollback.revision");
    }
    if let Some(pds) = int(spec, "progressDeadlineSeconds") {
        nonneg(&mut errs, Some(pds), "spec.progressDeadlineSeconds");
        if pds <= min_ready {
            errs.push(FieldError::invalid(
                "spec.progressDeadlineSeconds",
                json!(pds),
                "must be greater than minReadySeconds",
            ));
        }
    }
    errs
}

fn validate_deployment_strategy(errs: &mut Errs, spec: &Value) {
    let strategy = get(spec, "strategy").unwrap_or(EMPTY);
    let t = st(strategy, "type");
    match t {
        "Recreate" => {
            if get(strategy, "rollingUpdate").is_some() {
                errs.push(FieldError::forbidden(
                    "spec.strategy.rollingUpdate",
                    "may not be specified when strategy `type` is 'Recreate'",
                ));
            }
        }
        "RollingUpdate" => match get(strategy, "rollingUpdate") {
            None => errs.push(FieldError::required(
                "spec.strategy.rollingUpdate",
                "this should be defaulted and never be nil",
            )),
            Some(ru) => {
                let p = "spec.strategy.rollingUpdate";
                let mu = ru.get("maxUnavailable");
                let ms = ru.get("maxSurge");
                positive_int_or_percent(errs, mu, &format!("{p}.maxUnavailable"));
                positive_int_or_percent(errs, ms, &format!("{p}.maxSurge"));
                if int_or_percent_value(mu) == 0 && int_or_percent_value(ms) == 0 {
                    errs.push(invalid_raw(
                        format!("{p}.maxUnavailable"),
                        &go_int_or_string(mu),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                not_more_than_100_percent(errs, mu, &format!("{p}.maxUnavailable"));
            }
        },
        _ => {
            let ru = if get(strategy, "rollingUpdate").is_some() {
                "(*apps.RollingUpdateDeployment)(0xc000000000)"
            } else {
                "(*apps.RollingUpdateDeployment)(nil)"
            };
            errs.push(not_supported_raw(
                "spec.strategy",
                &format!(
                    "apps.DeploymentStrategy{{Type:{}, RollingUpdate:{ru}}}",
                    names::go_quote(t)
                ),
                &["Recreate", "RollingUpdate"],
            ));
        }
    }
}

fn percent_value(v: Option<&Value>) -> Option<i64> {
    let s = v?.as_str()?;
    if !is_valid_percent(s).is_empty() {
        return None;
    }
    s[..s.len() - 1].parse().ok()
}

/// `getIntOrPercentValue`.
fn int_or_percent_value(v: Option<&Value>) -> i64 {
    if let Some(p) = percent_value(v) {
        return p;
    }
    match v {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(n) => n.as_i64().unwrap_or(0),
        None => 0,
    }
}

/// `ValidatePositiveIntOrPercent`.
fn positive_int_or_percent(errs: &mut Errs, v: Option<&Value>, path: &str) {
    match v {
        Some(Value::String(s)) => {
            for m in is_valid_percent(s) {
                errs.push(invalid_raw(path, &go_int_or_string(v), &m));
            }
        }
        Some(n @ Value::Number(_)) => nonneg(errs, n.as_i64(), path),
        _ => {}
    }
}

/// `IsNotMoreThan100Percent`.
fn not_more_than_100_percent(errs: &mut Errs, v: Option<&Value>, path: &str) {
    if percent_value(v).is_some_and(|p| p > 100) {
        errs.push(invalid_raw(
            path,
            &go_int_or_string(v),
            "must not be greater than 100%",
        ));
    }
}

pub(super) fn validate_deployment_update(new: &Value, old: &Value) -> Errs {
    let mut errs = validate_deployment(new, Some(old));
    immutable_rendered(
        &mut errs,
        get(spec_of(new), "selector"),
        get(spec_of(old), "selector"),
        "spec.selector",
        go_label_selector,
    );
    errs
}

/// `ValidateReplicaSetSpec`.
pub(super) fn validate_replica_set(obj: &Value, _old: Option<&Value>) -> Errs {
    let spec = spec_of(obj);
    let mut errs = Vec::new();
    nonneg(&mut errs, int(spec, "replicas"), "spec.replicas");
    nonneg(
        &mut errs,
        int(spec, "minReadySeconds"),
        "spec.minReadySeconds",
    );
    // Upstream says "deployment" here too.
    validate_required_selector(&mut errs, spec, "deployment");
    if selector_converts(spec) {
        validate_template_for_replica_set(&mut errs, spec, true);
    } else {
        errs.push(invalid_raw(
            "spec.selector",
            &go_label_selector(get(spec, "selector")),
            "invalid label selector",
        ));
    }
    errs
}

pub(super) fn validate_replica_set_update(new: &Value, old: &Value) -> Errs {
    let mut errs = validate_replica_set(new, Some(old));
    immutable_rendered(
        &mut errs,
        get(spec_of(new), "selector"),
        get(spec_of(old), "selector"),
        "spec.selector",
        go_label_selector,
    );
    errs
}

/// `ValidateReplicationControllerSpec`.
pub(super) fn validate_replication_controller(obj: &Value) -> Errs {
    let spec = spec_of(obj);
    let mut errs = Vec::new();
    nonneg(
        &mut errs,
        int(spec, "minReadySeconds"),
        "spec.minReadySeconds",
    );
    let sel = get(spec, "selector");
    let sel_empty = sel.and_then(Value::as_object).is_none_or(|m| m.is_empty());
    if sel_empty {
        errs.push(FieldError::required("spec.selector", ""));
    }
    nonneg(&mut errs, int(spec, "replicas"), "spec.replicas");
    match get(spec, "template") {
        None => errs.push(FieldError::required("spec.template", "")),
        Some(tpl) => {
            if !sel_empty {
                let labels = labels_map(template_labels(spec));
                let matches = sel
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
                if !matches {
                    errs.push(invalid_raw(
                        "spec.template.metadata.labels",
                        &go_map(template_labels(spec)),
                        "`selector` does not match template `labels`",
                    ));
                }
            }
            errs.extend(validate_pod_template_spec(tpl, "spec.template"));
            let rp = tpl
                .pointer("/spec/restartPolicy")
                .and_then(Value::as_str)
                .unwrap_or("");
            if rp != "Always" {
                errs.push(FieldError::not_supported(
                    "spec.template.spec.restartPolicy",
                    json!(rp),
                    &["Always"],
                ));
            }
            if tpl
                .pointer("/spec/activeDeadlineSeconds")
                .is_some_and(|v| !v.is_null())
            {
                errs.push(FieldError::forbidden(
                    "spec.template.spec.activeDeadlineSeconds",
                    "activeDeadlineSeconds in ReplicationController is not Supported",
                ));
            }
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// StatefulSets.
// ---------------------------------------------------------------------------------------------

/// `ValidateStatefulSetSpec`.
pub(super) fn validate_stateful_set(obj: &Value) -> Errs {
    let spec = spec_of(obj);
    let mut errs = Vec::new();
    match st(spec, "podManagementPolicy") {
        "" => errs.push(FieldError::required("spec.podManagementPolicy", "")),
        "OrderedReady" | "Parallel" => {}
        other => errs.push(FieldError::invalid(
            "spec.podManagementPolicy",
            json!(other),
            "must be 'OrderedReady' or 'Parallel'",
        )),
    }
    let us = get(spec, "updateStrategy").unwrap_or(EMPTY);
    match st(us, "type") {
        "" => errs.push(FieldError::required("spec.updateStrategy", "")),
        "OnDelete" => {
            if get(us, "rollingUpdate").is_some() {
                errs.push(invalid_raw(
                    "spec.updateStrategy.rollingUpdate",
                    "(*apps.RollingUpdateStatefulSetStrategy)(0xc000000000)",
                    "only allowed for updateStrategy 'RollingUpdate'",
                ));
            }
        }
        "RollingUpdate" => {
            if let Some(ru) = get(us, "rollingUpdate") {
                let p = "spec.updateStrategy.rollingUpdate";
                nonneg(&mut errs, int(ru, "partition"), &format!("{p}.partition"));
                if let Some(mu) = ru.get("maxUnavailable").filter(|v| !v.is_null()) {
                    let mp = format!("{p}.maxUnavailable");
                    positive_int_or_percent(&mut errs, Some(mu), &mp);
                    if int_or_percent_value(Some(mu)) == 0 {
                        errs.push(invalid_raw(&mp, &go_int_or_string(Some(mu)), "cannot be 0"));
                    } else {
                        not_more_than_100_percent(&mut errs, Some(mu), &mp);
                    }
                }
            }
        }
        other => errs.push(invalid_raw(
            "spec.updateStrategy",
            &format!(
                "apps.StatefulSetUpdateStrategy{{Type:{}, RollingUpdate:(*apps.RollingUpdateStatefulSetStrategy)(nil)}}",
                names::go_quote(other)
            ),
            "must be 'RollingUpdate' or 'OnDelete'",
        )),
    }
    if let Some(pol) = get(spec, "persistentVolumeClaimRetentionPolicy") {
        for k in ["whenDeleted", "whenScaled"] {
            let v = st(pol, k);
            let p = format!("spec.persistentVolumeClaimRetentionPolicy.{k}");
            match v {
                "Retain" | "Delete" => {}
                "" => errs.push(FieldError::required(p, "")),
                other => errs.push(FieldError::not_supported(
                    p,
                    json!(other),
                    &["Retain", "Delete"],
                )),
            }
        }
    }
    if let Some(o) = get(spec, "ordinals") {
        nonneg(&mut errs, int(o, "start"), "spec.ordinals.start");
    }
    nonneg(&mut errs, int(spec, "replicas"), "spec.replicas");
    nonneg(
        &mut errs,
        int(spec, "minReadySeconds"),
        "spec.minReadySeconds",
    );
    match get(spec, "selector") {
        None => errs.push(FieldError::required("spec.selector", "")),
        Some(sel) => {
            errs.extend(names::validate_label_selector(sel, "spec.selector"));
            if selector_is_empty(sel) {
                errs.push(invalid_raw(
                    "spec.selector",
                    &go_label_selector(Some(sel)),
                    "empty selector is invalid for statefulset",
                ));
            }
        }
    }
    if selector_converts(spec) {
        let tpl = get(spec, "template");
        match tpl {
            None => errs.push(FieldError::required("spec.template", "")),
            Some(tpl) => {
                if let Some(sel) = get(spec, "selector")
                    && let Ok(s) = LabelSelector::from_label_selector_json(sel)
                    && !s.is_empty()
                    && !s.matches(&labels_map(template_labels(spec)))
                {
                    errs.push(invalid_raw(
                        "spec.template.metadata.labels",
                        &go_map(template_labels(spec)),
                        "`selector` does not match template `labels`",
                    ));
                }
                // Upstream validates only the template metadata here (the pod spec may mount the
                // volumeClaimTemplates, which are not pod volumes).
                validate_stateful_set_template_meta(&mut errs, tpl);
            }
        }
    } else {
        errs.push(invalid_raw(
            "spec.selector",
            &go_label_selector(get(spec, "selector")),
            "",
        ));
    }
    let rp = spec
        .pointer("/template/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("");
    if rp != "Always" {
        errs.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            json!(rp),
            &["Always"],
        ));
    }
    if spec
        .pointer("/template/spec/activeDeadlineSeconds")
        .is_some_and(|v| !v.is_null())
    {
        errs.push(FieldError::forbidden(
            "spec.template.spec.activeDeadlineSeconds",
            "activeDeadlineSeconds in StatefulSet is not Supported",
        ));
    }
    errs
}

/// The metadata part of `ValidatePodTemplateSpecForStatefulSet`.
fn validate_stateful_set_template_meta(errs: &mut Errs, tpl: &Value) {
    let meta = get(tpl, "metadata").unwrap_or(EMPTY);
    if let Some(l) = get(meta, "labels") {
        errs.extend(names::validate_labels(l, "spec.template.labels"));
    }
    if let Some(a) = get(meta, "annotations") {
        errs.extend(names::validate_annotations(a, "spec.template.annotations"));
    }
}

pub(super) fn validate_stateful_set_update(new: &Value, old: &Value) -> Errs {
    let mut errs = validate_stateful_set(new);
    let mut n = spec_of(new).clone();
    let o = spec_of(old);
    if let Some(m) = n.as_object_mut() {
        for k in [
            "replicas",
            "template",
            "updateStrategy",
            "minReadySeconds",
            "ordinals",
            "revisionHistoryLimit",
            "persistentVolumeClaimRetentionPolicy",
        ] {
            match o.get(k) {
                Some(v) => {
                    m.insert(k.into(), v.clone());
                }
                None => {
                    m.remove(k);
                }
            }
        }
    }
    if !sem_eq(&n, o) {
        errs.push(FieldError::forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// DaemonSets.
// ---------------------------------------------------------------------------------------------

/// `ValidateDaemonSetSpec`.
pub(super) fn validate_daemon_set(obj: &Value) -> Errs {
    let spec = spec_of(obj);
    let mut errs = Vec::new();
    if let Some(sel) = get(spec, "selector") {
        errs.extend(names::validate_label_selector(sel, "spec.selector"));
    }
    if selector_matches(get(spec, "selector"), template_labels(spec)) == Some(false) {
        errs.push(invalid_raw(
            "spec.template.metadata.labels",
            &go_map(template_labels(spec)),
            "`selector` does not match template `labels`",
        ));
    }
    if let Some(sel) = get(spec, "selector")
        && selector_is_empty(sel)
    {
        errs.push(invalid_raw(
            "spec.selector",
            &go_label_selector(Some(sel)),
            "empty selector is invalid for daemonset",
        ));
    }
    errs.extend(validate_pod_template_spec(
        get(spec, "template").unwrap_or(EMPTY),
        "spec.template",
    ));
    let rp = spec
        .pointer("/template/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("");
    if rp != "Always" {
        errs.push(FieldError::not_supported(
            "spec.template.spec.restartPolicy",
            json!(rp),
            &["Always"],
        ));
    }
    if let Some(ads) = spec
        .pointer("/template/spec/activeDeadlineSeconds")
        .filter(|v| !v.is_null())
    {
        errs.push(FieldError::invalid(
            "spec.template.spec.activeDeadlineSeconds",
            ads.clone(),
            "activeDeadlineSeconds must be nil for DaemonSets",
        ));
    }
    nonneg(
        &mut errs,
        int(spec, "minReadySeconds"),
        "spec.minReadySeconds",
    );
    nonneg(
        &mut errs,
        int(spec, "templateGeneration"),
        "spec.templateGeneration",
    );
    let us = get(spec, "updateStrategy").unwrap_or(EMPTY);
    let p = "spec.updateStrategy";
    match st(us, "type") {
        "OnDelete" => {}
        "RollingUpdate" => match get(us, "rollingUpdate") {
            None => errs.push(FieldError::required(format!("{p}.rollingUpdate"), "")),
            Some(ru) => {
                let rp = format!("{p}.rollingUpdate");
                let mu = ru.get("maxUnavailable");
                let ms = ru.get("maxSurge");
                positive_int_or_percent(&mut errs, mu, &format!("{rp}.maxUnavailable"));
                positive_int_or_percent(&mut errs, ms, &format!("{rp}.maxSurge"));
                not_more_than_100_percent(&mut errs, mu, &format!("{rp}.maxUnavailable"));
                not_more_than_100_percent(&mut errs, ms, &format!("{rp}.maxSurge"));
                let has_unavailable = int_or_percent_value(mu) != 0;
                let has_surge = int_or_percent_value(ms) != 0;
                if has_unavailable && has_surge {
                    errs.push(invalid_raw(
                        format!("{rp}.maxSurge"),
                        &go_int_or_string(ms),
                        "may not be set when maxUnavailable is non-zero",
                    ));
                } else if !has_unavailable && !has_surge {
                    errs.push(FieldError::required(
                        format!("{rp}.maxUnavailable"),
                        "cannot be 0 when maxSurge is 0",
                    ));
                }
            }
        },
        other => errs.push(not_supported_raw(
            p,
            &format!(
                "apps.DaemonSetUpdateStrategy{{Type:{}, RollingUpdate:(*apps.RollingUpdateDaemonSet)(nil)}}",
                names::go_quote(other)
            ),
            &["RollingUpdate", "OnDelete"],
        )),
    }
    nonneg(
        &mut errs,
        int(spec, "revisionHistoryLimit"),
        "spec.revisionHistoryLimit",
    );
    errs
}

pub(super) fn validate_daemon_set_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    immutable_rendered(
        &mut errs,
        get(spec_of(new), "selector"),
        get(spec_of(old), "selector"),
        "spec.selector",
        go_label_selector,
    );
    errs.extend(validate_daemon_set(new));
    errs
}

// ---------------------------------------------------------------------------------------------
// Jobs.
// ---------------------------------------------------------------------------------------------

/// `validateJobSpec` (the part shared with job templates) at `path` (`spec` or
/// `spec.jobTemplate.spec`).
fn validate_job_spec_common(errs: &mut Errs, spec: &Value, path: &str) {
    let p = |c: &str| child(path, c);
    nonneg(errs, int(spec, "parallelism"), &p("parallelism"));
    nonneg(errs, int(spec, "completions"), &p("completions"));
    nonneg(
        errs,
        int(spec, "activeDeadlineSeconds"),
        &p("activeDeadlineSeconds"),
    );
    nonneg(errs, int(spec, "backoffLimit"), &p("backoffLimit"));
    nonneg(
        errs,
        int(spec, "ttlSecondsAfterFinished"),
        &p("ttlSecondsAfterFinished"),
    );
    let mode = get(spec, "completionMode").and_then(Value::as_str);
    let indexed = mode == Some("Indexed");
    if let Some(bl) = int(spec, "backoffLimitPerIndex") {
        nonneg(errs, Some(bl), &p("backoffLimitPerIndex"));
        if !indexed {
            errs.push(FieldError::forbidden(
                p("backoffLimitPerIndex"),
                "requires indexed completion mode",
            ));
        }
    }
    if let Some(mf) = int(spec, "maxFailedIndexes") {
        nonneg(errs, Some(mf), &p("maxFailedIndexes"));
        if int(spec, "backoffLimitPerIndex").is_none() {
            errs.push(FieldError::required(
                p("backoffLimitPerIndex"),
                "when maxFailedIndexes is specified",
            ));
        }
        if !indexed {
            errs.push(FieldError::forbidden(
                p("maxFailedIndexes"),
                "requires indexed completion mode",
            ));
        }
    }
    if let Some(m) = mode {
        if m != "NonIndexed" && m != "Indexed" {
            errs.push(FieldError::not_supported(
                p("completionMode"),
                json!(m),
                &["NonIndexed", "Indexed"],
            ));
        }
        if indexed {
            match int(spec, "completions") {
                None => errs.push(FieldError::required(
                    p("completions"),
                    "when completion mode is Indexed",
                )),
                Some(c) if c >= 100_000 => {
                    if int(spec, "parallelism").is_some_and(|par| par > 100_000) {
                        errs.push(FieldError::invalid(
                            p("parallelism"),
                            json!(int(spec, "parallelism")),
                            "must be less than or equal to 100000 when completion mode is Indexed",
                        ));
                    }
                }
                _ => {
                    if int(spec, "parallelism").is_some_and(|par| par > 100_000) {
                        errs.push(FieldError::invalid(
                            p("parallelism"),
                            json!(int(spec, "parallelism")),
                            "must be less than or equal to 100000 when completion mode is Indexed",
                        ));
                    }
                }
            }
        }
    }
    if let Some(pfp) = get(spec, "podFailurePolicy") {
        validate_pod_failure_policy(errs, pfp, &p("podFailurePolicy"));
    }
    let tpl = get(spec, "template").unwrap_or(EMPTY);
    errs.extend(validate_pod_template_spec(tpl, &p("template")));
    let rp = tpl
        .pointer("/spec/restartPolicy")
        .and_then(Value::as_str)
        .unwrap_or("");
    let rp_path = format!("{path}.template.spec.restartPolicy");
    if rp == "Always" || rp.is_empty() {
        errs.push(FieldError::required(
            rp_path,
            "valid values: \"OnFailure\", \"Never\"",
        ));
    } else if rp != "OnFailure" && rp != "Never" {
        errs.push(FieldError::not_supported(
            rp_path,
            json!(rp),
            &["OnFailure", "Never"],
        ));
    } else if get(spec, "podFailurePolicy").is_some() && rp != "Never" {
        errs.push(FieldError::invalid(
            rp_path,
            json!(rp),
            "only \"Never\" is supported when podFailurePolicy is specified",
        ));
    }
}

fn validate_pod_failure_policy(errs: &mut Errs, pfp: &Value, path: &str) {
    let rules = arr(pfp, "rules");
    if rules.len() > 20 {
        errs.push(FieldError::new(
            FieldErrorKind::TooMany,
            child(path, "rules"),
            Some(json!(rules.len())),
            "must have at most 20 items",
        ));
    }
    for (i, r) in rules.iter().enumerate() {
        let rp = format!("{path}.rules[{i}]");
        let action = st(r, "action");
        match action {
            "Ignore" | "FailJob" | "Count" | "FailIndex" => {}
            "" => errs.push(FieldError::required(child(&rp, "action"), "")),
            other => errs.push(FieldError::not_supported(
                child(&rp, "action"),
                json!(other),
                &["Count", "FailIndex", "FailJob", "Ignore"],
            )),
        }
        let has_exit = get(r, "onExitCodes").is_some();
        let has_cond = !arr(r, "onPodConditions").is_empty();
        if has_exit && has_cond {
            errs.push(FieldError::invalid(
                rp.clone(),
                json!(""),
                "specifying both OnExitCodes and OnPodConditions is not supported",
            ));
        } else if !has_exit && !has_cond {
            errs.push(FieldError::invalid(
                rp.clone(),
                json!(""),
                "specifying one of OnExitCodes and OnPodConditions is required",
            ));
        }
    }
}

/// `ValidateJob` (spec part).
pub(super) fn validate_job(obj: &Value) -> Errs {
    let spec = spec_of(obj);
    let mut errs = Vec::new();
    let manual = boolean(spec, "manualSelector") == Some(true);
    if !manual {
        validate_generated_selector(&mut errs, obj);
    }
    validate_job_spec(&mut errs, spec);
    errs
}

/// `ValidateJobSpec`.
fn validate_job_spec(errs: &mut Errs, spec: &Value) {
    validate_job_spec_common(errs, spec, "spec");
    match get(spec, "selector") {
        None => errs.push(FieldError::required("spec.selector", "")),
        Some(sel) => errs.extend(names::validate_label_selector(sel, "spec.selector")),
    }
    if let Some(sel) = get(spec, "selector")
        && let Ok(s) = LabelSelector::from_label_selector_json(sel)
        && !s.matches(&labels_map(template_labels(spec)))
    {
        errs.push(invalid_raw(
            "spec.template.metadata.labels",
            &go_map(template_labels(spec)),
            "`selector` does not match template `labels`",
        ));
    }
}

/// `validateGeneratedSelector`.
fn validate_generated_selector(errs: &mut Errs, job: &Value) {
    let spec = spec_of(job);
    let Some(sel) = get(spec, "selector") else {
        return;
    };
    let uid = job
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = job
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    if uid.is_empty() {
        errs.push(FieldError::required("metadata.uid", ""));
    }
    let labels = template_labels(spec);
    let lm = labels_map(labels);
    for (k, expected) in [
        ("controller-uid", uid),
        ("job-name", name),
        ("batch.kubernetes.io/controller-uid", uid),
        ("batch.kubernetes.io/job-name", name),
    ] {
        let p = format!("spec.template.metadata.labels[{k}]");
        match lm.get(k).and_then(Value::as_str) {
            None => errs.push(FieldError::required(p, format!("must be '{expected}'"))),
            Some(v) if v != expected => errs.push(invalid_raw(
                p,
                &go_map(labels),
                &format!("must be '{expected}'"),
            )),
            _ => {}
        }
    }
    let mut expected = Map::new();
    expected.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
    if let Ok(s) = LabelSelector::from_label_selector_json(sel)
        && !s.matches(&expected)
    {
        errs.push(invalid_raw(
            "spec.selector",
            &go_label_selector(Some(sel)),
            "`selector` not auto-generated",
        ));
    }
}

fn go_pod_template_spec(_v: Option<&Value>) -> String {
    "core.PodTemplateSpec{...}".to_string()
}

/// `ValidateJobUpdate`.
pub(super) fn validate_job_update(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    let ns = spec_of(new);
    let os = spec_of(old);
    validate_job_spec(&mut errs, ns);
    // validateCompletions (elastic indexed jobs are GA).
    let indexed = st(ns, "completionMode") == "Indexed";
    let nc = get(ns, "completions");
    let oc = get(os, "completions");
    if !indexed {
        immutable_scalar(&mut errs, nc, oc, "spec.completions");
    } else if !sem_eq(nc.unwrap_or(&Value::Null), oc.unwrap_or(&Value::Null))
        && let Some(c) = int(ns, "completions")
        && Some(c) != int(ns, "parallelism")
    {
        errs.push(FieldError::invalid(
            "spec.completions",
            json!(c),
            "can only be modified in tandem with spec.parallelism",
        ));
    }
    immutable_rendered(
        &mut errs,
        get(ns, "selector"),
        get(os, "selector"),
        "spec.selector",
        go_label_selector,
    );
    // The template is immutable, except scheduling directives of a suspended job that never
    // started.
    let suspended_never_started = boolean(os, "suspend") == Some(true)
        && old.pointer("/status/startTime").is_none_or(Value::is_null);
    let mut ot = get(os, "template").cloned().unwrap_or(Value::Null);
    let nt = get(ns, "template").cloned().unwrap_or(Value::Null);
    if suspended_never_started && let (Some(om), Some(nm)) = (ot.as_object_mut(), nt.as_object()) {
        let nmeta = nm.get("metadata").cloned().unwrap_or(json!({}));
        let ometa = om.entry("metadata").or_insert(json!({}));
        if let Some(ometa) = ometa.as_object_mut() {
            for k in ["labels", "annotations"] {
                match nmeta.get(k) {
                    Some(v) => {
                        ometa.insert(k.into(), v.clone());
                    }
                    None => {
                        ometa.remove(k);
                    }
                }
            }
        }
        let nspec = nm.get("spec").cloned().unwrap_or(json!({}));
        let ospec = om.entry("spec").or_insert(json!({}));
        if let Some(ospec) = ospec.as_object_mut() {
            for k in ["nodeSelector", "tolerations", "schedulingGates"] {
                match nspec.get(k) {
                    Some(v) => {
                        ospec.insert(k.into(), v.clone());
                    }
                    None => {
                        ospec.remove(k);
                    }
                }
            }
            let new_na = nspec.pointer("/affinity/nodeAffinity").cloned();
            let new_aff = nspec.get("affinity").filter(|v| !v.is_null());
            match (
                new_aff,
                ospec.get_mut("affinity").and_then(Value::as_object_mut),
            ) {
                (None, Some(oa)) => {
                    oa.remove("nodeAffinity");
                    if oa.is_empty() {
                        ospec.remove("affinity");
                    }
                }
                (Some(_), None) => {
                    let mut a = Map::new();
                    if let Some(na) = new_na {
                        a.insert("nodeAffinity".into(), na);
                    }
                    ospec.insert("affinity".into(), Value::Object(a));
                }
                (Some(_), Some(oa)) => match new_na {
                    Some(na) => {
                        oa.insert("nodeAffinity".into(), na);
                    }
                    None => {
                        oa.remove("nodeAffinity");
                    }
                },
                (None, None) => {}
            }
        }
    }
    if !sem_eq(&nt, &ot) {
        errs.push(invalid_raw(
            "spec.template",
            &go_pod_template_spec(Some(&nt)),
            FIELD_IMMUTABLE_MSG,
        ));
    }
    immutable_scalar(
        &mut errs,
        get(ns, "completionMode"),
        get(os, "completionMode"),
        "spec.completionMode",
    );
    if !sem_eq(
        get(ns, "podFailurePolicy").unwrap_or(&Value::Null),
        get(os, "podFailurePolicy").unwrap_or(&Value::Null),
    ) {
        errs.push(invalid_raw(
            "spec.podFailurePolicy",
            "&batch.PodFailurePolicy{...}",
            FIELD_IMMUTABLE_MSG,
        ));
    }
    immutable_scalar(
        &mut errs,
        get(ns, "backoffLimitPerIndex"),
        get(os, "backoffLimitPerIndex"),
        "spec.backoffLimitPerIndex",
    );
    immutable_scalar(
        &mut errs,
        get(ns, "managedBy"),
        get(os, "managedBy"),
        "spec.managedBy",
    );
    if !sem_eq(
        get(ns, "successPolicy").unwrap_or(&Value::Null),
        get(os, "successPolicy").unwrap_or(&Value::Null),
    ) {
        errs.push(invalid_raw(
            "spec.successPolicy",
            "&batch.SuccessPolicy{...}",
            FIELD_IMMUTABLE_MSG,
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// CronJobs.
// ---------------------------------------------------------------------------------------------

/// `ValidateCronJobCreate` / `ValidateCronJobUpdate` (spec part, plus the name length rule on
/// create).
pub(super) fn validate_cron_job(obj: &Value, old: Option<&Value>) -> Errs {
    let spec = spec_of(obj);
    let old_spec = old.map(spec_of);
    let mut errs = Vec::new();
    let schedule = st(spec, "schedule");
    let tz = get(spec, "timeZone").and_then(Value::as_str);
    if schedule.is_empty() {
        errs.push(FieldError::required("spec.schedule", ""));
    } else {
        let allow_tz = old_spec.is_some_and(|o| st(o, "schedule").contains("TZ"));
        if let Err(e) = cron::parse_standard(schedule) {
            errs.push(FieldError::invalid("spec.schedule", json!(schedule), e));
        }
        if allow_tz && schedule.contains("TZ") && tz.is_some() {
            errs.push(FieldError::invalid(
                "spec.schedule",
                json!(schedule),
                "cannot use both timeZone field and TZ or CRON_TZ in schedule",
            ));
        } else if !allow_tz && schedule.contains("TZ") {
            errs.push(FieldError::invalid(
                "spec.schedule",
                json!(schedule),
                "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
            ));
        }
    }
    nonneg(
        &mut errs,
        int(spec, "startingDeadlineSeconds"),
        "spec.startingDeadlineSeconds",
    );
    let old_tz = old_spec
        .and_then(|o| get(o, "timeZone"))
        .and_then(Value::as_str);
    if (old.is_none() || old_tz != tz)
        && let Some(tz) = tz
    {
        validate_time_zone(&mut errs, tz);
    }
    let cp = st(spec, "concurrencyPolicy");
    match cp {
        "Allow" | "Forbid" | "Replace" => {}
        "" => errs.push(FieldError::required("spec.concurrencyPolicy", "")),
        other => errs.push(FieldError::not_supported(
            "spec.concurrencyPolicy",
            json!(other),
            &["Allow", "Forbid", "Replace"],
        )),
    }
    let jt = get(spec, "jobTemplate").unwrap_or(EMPTY);
    let jspec = get(jt, "spec").unwrap_or(EMPTY);
    validate_job_spec_common(&mut errs, jspec, "spec.jobTemplate.spec");
    if let Some(sel) = get(jspec, "selector") {
        errs.push(invalid_raw(
            "spec.jobTemplate.spec.selector",
            &go_label_selector(Some(sel)),
            "`selector` will be auto-generated",
        ));
    }
    if boolean(jspec, "manualSelector") == Some(true) {
        errs.push(FieldError::not_supported(
            "spec.jobTemplate.spec.manualSelector",
            json!(true),
            &["nil", "false"],
        ));
    }
    nonneg(
        &mut errs,
        int(spec, "successfulJobsHistoryLimit"),
        "spec.successfulJobsHistoryLimit",
    );
    nonneg(
        &mut errs,
        int(spec, "failedJobsHistoryLimit"),
        "spec.failedJobsHistoryLimit",
    );
    if old.is_none() {
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if name.len() > 52 {
            errs.push(FieldError::invalid(
                "metadata.name",
                json!(name),
                "must be no more than 52 characters",
            ));
        }
    }
    errs
}

fn validate_time_zone(errs: &mut Errs, tz: &str) {
    let p = "spec.timeZone";
    if tz.is_empty() {
        errs.push(FieldError::invalid(
            p,
            json!(tz),
            "timeZone must be nil or non-empty string",
        ));
        return;
    }
    for part in tz.split('/') {
        let ok_chars = !part.is_empty()
            && part.len() <= 14
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'+'));
        if part == "." || part == ".." || part.starts_with('-') || !ok_chars {
            errs.push(FieldError::invalid(
                p,
                json!(tz),
                format!("unknown time zone {tz}"),
            ));
            return;
        }
    }
    if tz.eq_ignore_ascii_case("Local") {
        errs.push(FieldError::invalid(
            p,
            json!(tz),
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        ));
    }
    if let Err(e) = cron::load_location(tz) {
        errs.push(FieldError::invalid(p, json!(tz), e));
    }
}
