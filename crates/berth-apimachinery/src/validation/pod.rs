//! Pods, pod templates and pod specs (`ValidatePodSpec`, `ValidatePodTemplateSpec`,
//! `ValidatePodCreate`, `ValidatePodUpdate` of `pkg/apis/core/validation`).

use super::*;
use std::collections::{BTreeMap, BTreeSet};

const FILE_MODE_MSG: &str = "must be a number between 0 and 0777 (octal), both inclusive";
const MAX_INT32: i64 = 2147483647;

/// The volume sources of a `VolumeSource`, in upstream's checking order, with the path child used
/// for the "more than 1 volume type" error.
const VOLUME_SOURCES: &[(&str, &str)] = &[
    ("emptyDir", "emptyDir"),
    ("hostPath", "hostPath"),
    ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"),
    ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"),
    ("nfs", "nfs"),
    ("iscsi", "iscsi"),
    ("glusterfs", "glusterfs"),
    ("flocker", "flocker"),
    ("persistentVolumeClaim", "persistentVolumeClaim"),
    ("rbd", "rbd"),
    ("cinder", "cinder"),
    ("cephfs", "cephFS"),
    ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"),
    ("fc", "fc"),
    ("flexVolume", "flexVolume"),
    ("configMap", "configMap"),
    ("azureFile", "azureFile"),
    ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"),
    ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"),
    ("storageos", "storageos"),
    ("projected", "projected"),
    ("scaleIO", "scaleIO"),
    ("csi", "csi"),
    ("ephemeral", "ephemeral"),
    ("image", "image"),
];

/// Volume name -> source key (for volumeMounts / volumeDevices).
type Volumes = BTreeMap<String, String>;

// ---------------------------------------------------------------------------------------------
// Pod create / update.
// ---------------------------------------------------------------------------------------------

/// `validatePodMetadataAndSpec` without the metadata part.
fn validate_pod_spec_of(pod: &Value) -> Errs {
    let empty = json!({});
    let spec = get(pod, "spec").unwrap_or(&empty);
    let meta = get(pod, "metadata").unwrap_or(&empty);
    let mut errs =
        validate_pod_specific_annotations(get(meta, "annotations"), spec, "metadata.annotations");
    errs.extend(validate_pod_spec(spec, "spec", true));
    if st(spec, "serviceAccountName").is_empty() {
        for (vi, vol) in arr(spec, "volumes").iter().enumerate() {
            if let Some(p) = get(vol, "projected") {
                for (si, src) in arr(p, "sources").iter().enumerate() {
                    if get(src, "serviceAccountToken").is_some() {
                        errs.push(FieldError::forbidden(
                            format!(
                                "spec.volumes[{vi}].projected.sources[{si}].serviceAccountToken"
                            ),
                            "must not be specified when serviceAccountName is not set",
                        ));
                    }
                }
            }
        }
    }
    for list in ["containers", "initContainers"] {
        for (i, c) in arr(spec, list).iter().enumerate() {
            let image = st(c, "image");
            if image.len() != image.trim().len() {
                errs.push(FieldError::invalid(
                    format!("spec.{list}[{i}].image"),
                    json!(image),
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
    errs
}

/// The pod itself, or, when it has no `spec`, a copy with the defaulted empty spec Kubernetes
/// would decode it with.
pub(super) fn with_spec(pod: &Value) -> std::borrow::Cow<'_, Value> {
    if get(pod, "spec").is_some() || !pod.is_object() {
        return std::borrow::Cow::Borrowed(pod);
    }
    let mut p = pod.clone();
    if let Some(m) = p.as_object_mut() {
        m.insert("spec".into(), json!({}));
    }
    crate::defaults::apply_defaults("", "Pod", &mut p);
    std::borrow::Cow::Owned(p)
}

/// `ValidatePodCreate`.
pub(super) fn validate_pod_create(pod: &Value) -> Errs {
    let mut errs = validate_pod_spec_of(pod);
    let empty = json!({});
    let spec = get(pod, "spec").unwrap_or(&empty);
    if !arr(spec, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            "spec.ephemeralContainers",
            "cannot be set on create",
        ));
    }
    if !st(spec, "nodeName").is_empty() && !arr(spec, "schedulingGates").is_empty() {
        errs.push(FieldError::forbidden(
            "spec.nodeName",
            "cannot be set until all schedulingGates have been cleared",
        ));
    }
    errs
}

const UPDATABLE_POD_SPEC_FIELDS: &[&str] = &[
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
];

/// `ValidateContainerUpdates`: (errors, stop).
fn validate_container_updates(new: &[Value], old: &[Value], path: &str) -> (Errs, bool) {
    let mut errs = Vec::new();
    if new.len() != old.len() {
        errs.push(FieldError::forbidden(
            path,
            "pod updates may not add or remove containers",
        ));
        return (errs, true);
    }
    for (i, c) in new.iter().enumerate() {
        let image = st(c, "image");
        if image.is_empty() {
            errs.push(FieldError::required(format!("{path}[{i}].image"), ""));
        }
        if image.trim().len() != image.len() {
            errs.push(FieldError::invalid(
                format!("{path}[{i}].image"),
                json!(image),
                "must not have leading or trailing whitespace",
            ));
        }
    }
    (errs, false)
}

/// `ValidatePodUpdate` (without the metadata part).
pub(super) fn validate_pod_update(new: &Value, old: &Value) -> Errs {
    let mut errs = validate_pod_spec_of(new);
    let empty = json!({});
    let nspec = get(new, "spec").unwrap_or(&empty);
    let ospec = get(old, "spec").unwrap_or(&empty);
    errs.extend(validate_pod_annotation_updates(new, old));

    for list in ["containers", "initContainers"] {
        let (e, stop) =
            validate_container_updates(arr(nspec, list), arr(ospec, list), &format!("spec.{list}"));
        errs.extend(e);
        if stop {
            return errs;
        }
    }

    let new_ads = int(nspec, "activeDeadlineSeconds");
    let old_ads = int(ospec, "activeDeadlineSeconds");
    match new_ads {
        Some(n) => {
            if !(0..=MAX_INT32).contains(&n) {
                errs.push(FieldError::invalid(
                    "spec.activeDeadlineSeconds",
                    json!(n),
                    inclusive_range_error(0, MAX_INT32),
                ));
                return errs;
            }
            if let Some(o) = old_ads
                && o < n
            {
                errs.push(FieldError::invalid(
                    "spec.activeDeadlineSeconds",
                    json!(n),
                    "must be less than or equal to previous value",
                ));
                return errs;
            }
        }
        None => {
            if old_ads.is_some() {
                errs.push(FieldError::invalid(
                    "spec.activeDeadlineSeconds",
                    Value::Null,
                    "must not update from a positive integer to nil value",
                ));
            }
        }
    }

    // Only additions to tolerations.
    let new_tols = arr(nspec, "tolerations");
    let old_tols = arr(ospec, "tolerations");
    let mut tol_ok = true;
    for o in old_tols {
        let found = new_tols.iter().any(|n| {
            let mut oc = o.clone();
            let mut nc = n.clone();
            if let (Some(om), Some(nm)) = (oc.as_object_mut(), nc.as_object_mut()) {
                om.remove("tolerationSeconds");
                nm.remove("tolerationSeconds");
            }
            sem_eq(&oc, &nc)
        });
        if !found {
            errs.push(FieldError::forbidden(
                "spec.tolerations",
                "existing toleration can not be modified except its tolerationSeconds",
            ));
            tol_ok = false;
            break;
        }
    }
    if tol_ok {
        validate_tolerations(&mut errs, new_tols, "spec.tolerations");
    }

    // Only deletions of scheduling gates.
    let new_gates = arr(nspec, "schedulingGates");
    if !new_gates.is_empty() {
        let old_names: BTreeSet<&str> = arr(ospec, "schedulingGates")
            .iter()
            .map(|g| st(g, "name"))
            .collect();
        let mut added: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, g) in new_gates.iter().enumerate() {
            added.insert(st(g, "name"), i);
        }
        for (name, i) in added {
            if !old_names.contains(name) {
                errs.push(FieldError::forbidden(
                    format!("spec.schedulingGates[{i}].name"),
                    format!("only deletion is allowed, but found new scheduling gate '{name}'"),
                ));
            }
        }
    }

    if sem_eq(nspec, ospec) {
        return errs;
    }

    // Munge the updatable fields and compare the rest.
    let mut munged = nspec.clone();
    if let Some(m) = munged.as_object_mut() {
        for list in ["containers", "initContainers"] {
            if let Some(cs) = m.get_mut(list).and_then(Value::as_array_mut) {
                for (i, c) in cs.iter_mut().enumerate() {
                    let old_image = arr(ospec, list)
                        .get(i)
                        .and_then(|o| o.get("image"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    if let Some(cm) = c.as_object_mut() {
                        cm.insert("image".into(), old_image);
                    }
                }
            }
        }
        for k in ["activeDeadlineSeconds", "schedulingGates", "tolerations"] {
            match ospec.get(k) {
                Some(v) => {
                    m.insert(k.into(), v.clone());
                }
                None => {
                    m.remove(k);
                }
            }
        }
        let old_grace = int(ospec, "terminationGracePeriodSeconds");
        if old_grace.is_some_and(|g| g < 0)
            && int(nspec, "terminationGracePeriodSeconds") == Some(1)
        {
            m.insert("terminationGracePeriodSeconds".into(), json!(old_grace));
        }
        // Gated pods may add node selectors and node affinity.
        if !arr(ospec, "schedulingGates").is_empty() {
            let new_sel = get(nspec, "nodeSelector");
            let old_sel = get(ospec, "nodeSelector");
            if !sem_eq(
                new_sel.unwrap_or(&Value::Null),
                old_sel.unwrap_or(&Value::Null),
            ) {
                let kept = obj(ospec, "nodeSelector").is_none_or(|om| {
                    om.iter()
                        .all(|(k, v)| new_sel.and_then(|n| n.get(k)) == Some(v))
                });
                if !kept {
                    errs.push(invalid_raw(
                        "spec.nodeSelector",
                        &go_map(new_sel),
                        "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
                    ));
                }
                match old_sel {
                    Some(v) => {
                        m.insert("nodeSelector".into(), v.clone());
                    }
                    None => {
                        m.remove("nodeSelector");
                    }
                }
            }
            let old_na = ospec.pointer("/affinity/nodeAffinity").cloned();
            let new_na = nspec.pointer("/affinity/nodeAffinity").cloned();
            if !sem_eq(
                old_na.as_ref().unwrap_or(&Value::Null),
                new_na.as_ref().unwrap_or(&Value::Null),
            ) {
                if let Some(aff) = m.get_mut("affinity").and_then(Value::as_object_mut) {
                    match &old_na {
                        Some(v) => {
                            aff.insert("nodeAffinity".into(), v.clone());
                        }
                        None => {
                            aff.remove("nodeAffinity");
                        }
                    }
                } else if let Some(v) = &old_na {
                    m.insert("affinity".into(), json!({ "nodeAffinity": v }));
                }
            }
        }
    }
    if !sem_eq(&munged, ospec) {
        let diff = spec_diff(ospec, &munged);
        errs.push(FieldError::forbidden(
            "spec",
            format!(
                "pod updates may not change fields other than {}\n{}",
                UPDATABLE_POD_SPEC_FIELDS.join(","),
                diff
            ),
        ));
    }
    errs
}

/// A short diff of two pod specs in the spirit of `cmp.Diff` (not byte-identical to Go's).
fn spec_diff(old: &Value, new: &Value) -> String {
    let empty = Map::new();
    let om = old.as_object().unwrap_or(&empty);
    let nm = new.as_object().unwrap_or(&empty);
    let keys: BTreeSet<&String> = om.keys().chain(nm.keys()).collect();
    let mut out = String::from("  core.PodSpec{\n");
    for k in keys {
        let o = om.get(k).unwrap_or(&Value::Null);
        let n = nm.get(k).unwrap_or(&Value::Null);
        if sem_eq(o, n) {
            continue;
        }
        let name = go_field_name(k);
        if !is_unset(o) {
            out.push_str(&format!("- \t{name}: {},\n", o));
        }
        if !is_unset(n) {
            out.push_str(&format!("+ \t{name}: {},\n", n));
        }
    }
    out.push_str("  }\n");
    out
}

fn go_field_name(k: &str) -> String {
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `ValidatePodSpecificAnnotationUpdates` (mirror pod annotation and AppArmor annotations).
fn validate_pod_annotation_updates(new: &Value, old: &Value) -> Errs {
    let mut errs = Vec::new();
    let empty = Map::new();
    let na = new
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let oa = old
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    const MIRROR: &str = "kubernetes.io/config.mirror";
    const APPARMOR: &str = "container.apparmor.security.beta.kubernetes.io/";
    for (k, ov) in oa {
        if na.get(k) == Some(ov) {
            continue;
        }
        if k.starts_with(APPARMOR) {
            errs.push(FieldError::forbidden(
                format!("metadata.annotations[{k}]"),
                "may not remove or update AppArmor annotations",
            ));
        }
        if k == MIRROR {
            errs.push(FieldError::forbidden(
                format!("metadata.annotations[{k}]"),
                "may not remove or update mirror pod annotation",
            ));
        }
    }
    for k in na.keys() {
        if oa.contains_key(k) {
            continue;
        }
        if k.starts_with(APPARMOR) {
            errs.push(FieldError::forbidden(
                format!("metadata.annotations[{k}]"),
                "may not add AppArmor annotations",
            ));
        }
        if k == MIRROR {
            errs.push(FieldError::forbidden(
                format!("metadata.annotations[{k}]"),
                "may not add mirror pod annotation",
            ));
        }
    }
    errs
}

/// `ValidatePodSpecificAnnotations` (mirror pod and deletion cost).
fn validate_pod_specific_annotations(
    annotations: Option<&Value>,
    spec: &Value,
    path: &str,
) -> Errs {
    let mut errs = Vec::new();
    let Some(a) = annotations.and_then(Value::as_object) else {
        return errs;
    };
    if let Some(v) = a.get("kubernetes.io/config.mirror")
        && st(spec, "nodeName").is_empty()
    {
        errs.push(FieldError::invalid(
            key(path, "kubernetes.io/config.mirror"),
            v.clone(),
            "must set spec.nodeName if mirror pod annotation is set",
        ));
    }
    if let Some(v) = a.get("controller.kubernetes.io/pod-deletion-cost") {
        let ok = v
            .as_str()
            .is_some_and(|s| s.parse::<i32>().is_ok() && !s.starts_with('+'));
        if !ok {
            errs.push(FieldError::invalid(
                key(path, "controller.kubernetes.io/pod-deletion-cost"),
                v.clone(),
                "must be a 32bit integer",
            ));
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Templates.
// ---------------------------------------------------------------------------------------------

/// `ValidatePodTemplateSpec` at `path` (e.g. `spec.template`).
pub(crate) fn validate_pod_template_spec(tpl: &Value, path: &str) -> Errs {
    let mut errs = Vec::new();
    let empty = json!({});
    let meta = get(tpl, "metadata").unwrap_or(&empty);
    let spec = get(tpl, "spec").unwrap_or(&empty);
    if let Some(l) = get(meta, "labels") {
        errs.extend(names::validate_labels(l, &child(path, "labels")));
    }
    if let Some(a) = get(meta, "annotations") {
        errs.extend(names::validate_annotations(a, &child(path, "annotations")));
    }
    errs.extend(validate_pod_specific_annotations(
        get(meta, "annotations"),
        spec,
        &child(path, "annotations"),
    ));
    errs.extend(validate_pod_spec(spec, &child(path, "spec"), false));
    if !arr(spec, "ephemeralContainers").is_empty() {
        errs.push(FieldError::forbidden(
            format!("{path}.spec.ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Pod spec.
// ---------------------------------------------------------------------------------------------

/// `ValidatePodSpec` at `path`; `is_pod` for a Pod (not a template).
pub(crate) fn validate_pod_spec(spec: &Value, path: &str, is_pod: bool) -> Errs {
    let mut errs = Vec::new();
    let grace = int(spec, "terminationGracePeriodSeconds");
    if grace.is_none() {
        errs.push(FieldError::required(
            child(path, "terminationGracePeriodSeconds"),
            "",
        ));
    }
    let vols = validate_volumes(
        &mut errs,
        arr(spec, "volumes"),
        &child(path, "volumes"),
        is_pod,
    );
    let claim_names: BTreeSet<String> = arr(spec, "resourceClaims")
        .iter()
        .map(|c| st(c, "name").to_string())
        .filter(|n| !n.is_empty())
        .collect();
    validate_pod_resource_claims(
        &mut errs,
        arr(spec, "resourceClaims"),
        &child(path, "resourceClaims"),
    );
    let restart_policy = st(spec, "restartPolicy");
    let host_users = spec
        .pointer("/securityContext/hostUsers")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let ctx = Ctx {
        vols: &vols,
        claims: &claim_names,
        grace,
        restart_policy,
        host_users,
    };
    validate_containers(
        &mut errs,
        arr(spec, "containers"),
        &child(path, "containers"),
        &ctx,
    );
    validate_init_containers(
        &mut errs,
        arr(spec, "initContainers"),
        arr(spec, "containers"),
        &child(path, "initContainers"),
        &ctx,
    );
    validate_ephemeral_containers(&mut errs, spec, &child(path, "ephemeralContainers"), &ctx);

    // Host network: host ports must match container ports.
    if boolean(spec, "hostNetwork") == Some(true) {
        for (i, c) in arr(spec, "containers").iter().enumerate() {
            for (j, p) in arr(c, "ports").iter().enumerate() {
                let hp = int(p, "hostPort").unwrap_or(0);
                let cp = int(p, "containerPort").unwrap_or(0);
                if (is_pod || hp != 0) && hp != cp {
                    errs.push(FieldError::invalid(
                        format!("{path}.containers[{i}].ports[{j}].hostPort"),
                        json!(hp),
                        "must match `containerPort` when `hostNetwork` is true",
                    ));
                }
            }
        }
    }

    let rp_path = child(path, "restartPolicy");
    match restart_policy {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(rp_path, "")),
        other => errs.push(FieldError::not_supported(
            rp_path,
            json!(other),
            &["Always", "OnFailure", "Never"],
        )),
    }
    let dns_path = child(path, "dnsPolicy");
    let dns_policy = st(spec, "dnsPolicy");
    match dns_policy {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.push(FieldError::required(dns_path, "")),
        other => errs.push(FieldError::not_supported(
            dns_path,
            json!(other),
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    if let Some(ns) = get(spec, "nodeSelector") {
        errs.extend(names::validate_labels(ns, &child(path, "nodeSelector")));
    }
    validate_pod_security_context(&mut errs, spec, path);
    for (i, s) in arr(spec, "imagePullSecrets").iter().enumerate() {
        if let Some(m) = s.as_object()
            && m.keys().any(|k| k != "name")
        {
            errs.push(invalid_raw(
                format!("{path}.imagePullSecrets[{i}]"),
                &format!(
                    "core.LocalObjectReference{{Name:{}}}",
                    names::go_quote(st(s, "name"))
                ),
                "only name may be set",
            ));
        }
    }
    if let Some(aff) = get(spec, "affinity") {
        validate_affinity(&mut errs, aff, &child(path, "affinity"));
    }
    validate_dns_config(&mut errs, spec, dns_policy, &child(path, "dnsConfig"));
    for (i, g) in arr(spec, "readinessGates").iter().enumerate() {
        qualified_name(
            &mut errs,
            st(g, "conditionType"),
            &format!("{path}.readinessGates[{i}].conditionType"),
        );
    }
    let mut seen_gates = BTreeSet::new();
    for (i, g) in arr(spec, "schedulingGates").iter().enumerate() {
        let name = st(g, "name");
        let p = format!("{path}.schedulingGates[{i}]");
        qualified_name(&mut errs, name, &p);
        if !seen_gates.insert(name) {
            errs.push(FieldError::duplicate(p, json!(name)));
        }
    }
    validate_topology_spread(
        &mut errs,
        arr(spec, "topologySpreadConstraints"),
        &child(path, "topologySpreadConstraints"),
    );
    if !host_users {
        for (k, p) in [
            ("hostNetwork", "hostNetwork"),
            ("hostPID", "HostPID"),
            ("hostIPC", "HostIPC"),
        ] {
            if boolean(spec, k) == Some(true) {
                errs.push(FieldError::forbidden(
                    child(path, p),
                    "when `pod.Spec.HostUsers` is false",
                ));
            }
        }
    }
    let sa = st(spec, "serviceAccountName");
    if !sa.is_empty() {
        dns1123_subdomain(&mut errs, sa, &child(path, "serviceAccountName"));
    }
    let node = st(spec, "nodeName");
    if !node.is_empty() {
        dns1123_subdomain(&mut errs, node, &child(path, "nodeName"));
    }
    if let Some(v) = int(spec, "activeDeadlineSeconds")
        && !(1..=MAX_INT32).contains(&v)
    {
        errs.push(FieldError::invalid(
            child(path, "activeDeadlineSeconds"),
            json!(v),
            inclusive_range_error(1, MAX_INT32),
        ));
    }
    let hostname = st(spec, "hostname");
    if !hostname.is_empty() {
        dns1123_label(&mut errs, hostname, &child(path, "hostname"));
    }
    let subdomain = st(spec, "subdomain");
    if !subdomain.is_empty() {
        dns1123_label(&mut errs, subdomain, &child(path, "subdomain"));
    }
    validate_tolerations(
        &mut errs,
        arr(spec, "tolerations"),
        &child(path, "tolerations"),
    );
    for (i, ha) in arr(spec, "hostAliases").iter().enumerate() {
        valid_ip(
            &mut errs,
            st(ha, "ip"),
            &format!("{path}.hostAliases[{i}].ip"),
        );
        for (j, h) in strings(ha, "hostnames").iter().enumerate() {
            dns1123_subdomain(
                &mut errs,
                h,
                &format!("{path}.hostAliases[{i}].hostnames[{j}]"),
            );
        }
    }
    let pc = st(spec, "priorityClassName");
    if !pc.is_empty() {
        dns1123_subdomain(&mut errs, pc, &child(path, "priorityClassName"));
    }
    if let Some(rc) = get(spec, "runtimeClassName").and_then(Value::as_str) {
        dns1123_subdomain(&mut errs, rc, &child(path, "runtimeClassName"));
    }
    if let Some(pp) = get(spec, "preemptionPolicy").and_then(Value::as_str) {
        let p = child(path, "preemptionPolicy");
        match pp {
            "PreemptLowerPriority" | "Never" => {}
            "" => errs.push(FieldError::required(p, "")),
            other => errs.push(FieldError::not_supported(
                p,
                json!(other),
                &["PreemptLowerPriority", "Never"],
            )),
        }
    }
    if let Some(overhead) = get(spec, "overhead") {
        let reqs = json!({ "limits": overhead });
        validate_resource_requirements(&mut errs, &reqs, &claim_names, &child(path, "overhead"));
    }
    if let Some(os) = get(spec, "os") {
        let name = st(os, "name");
        if name.is_empty() {
            errs.push(FieldError::required(
                format!("{path}.os.name"),
                "cannot be empty",
            ));
        } else if name != "linux" && name != "windows" {
            errs.push(FieldError::not_supported(
                child(path, "os"),
                json!(name),
                &["linux", "windows"],
            ));
        }
    }
    errs
}

struct Ctx<'a> {
    vols: &'a Volumes,
    claims: &'a BTreeSet<String>,
    grace: Option<i64>,
    restart_policy: &'a str,
    host_users: bool,
}

fn validate_pod_resource_claims(errs: &mut Errs, claims: &[Value], path: &str) {
    let mut names = BTreeSet::new();
    for (i, c) in claims.iter().enumerate() {
        let p = index(path, i);
        let name = st(c, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&p, "name"), ""));
        } else if names.contains(name) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        } else {
            dns1123_label(errs, name, &child(&p, "name"));
            names.insert(name);
        }
        let rcn = get(c, "resourceClaimName").and_then(Value::as_str);
        let rctn = get(c, "resourceClaimTemplateName").and_then(Value::as_str);
        if rcn.is_some() && rctn.is_some() {
            errs.push(FieldError::invalid(
                p.clone(),
                c.clone(),
                "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified",
            ));
        }
        if rcn.is_none() && rctn.is_none() {
            errs.push(FieldError::invalid(
                p.clone(),
                c.clone(),
                "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`",
            ));
        }
        if let Some(n) = rcn {
            dns1123_subdomain(errs, n, &child(&p, "resourceClaimName"));
        }
        if let Some(n) = rctn {
            dns1123_subdomain(errs, n, &child(&p, "resourceClaimTemplateName"));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Volumes.
// ---------------------------------------------------------------------------------------------

fn validate_volumes(errs: &mut Errs, volumes: &[Value], path: &str, is_pod: bool) -> Volumes {
    let mut all = Volumes::new();
    for (i, vol) in volumes.iter().enumerate() {
        let p = index(path, i);
        let name_path = child(&p, "name");
        let name = st(vol, "name");
        let (mut el, kind) = validate_volume_source(vol, &p, is_pod);
        if name.is_empty() {
            el.push(FieldError::required(name_path.clone(), ""));
        } else {
            dns1123_label(&mut el, name, &name_path);
        }
        if all.contains_key(name) {
            el.push(FieldError::duplicate(name_path, json!(name)));
        }
        if el.is_empty() {
            all.insert(name.to_string(), kind);
        } else {
            errs.extend(el);
        }
    }
    all
}

/// Validates one volume's source; returns the errors and the source key found.
fn validate_volume_source(vol: &Value, path: &str, is_pod: bool) -> (Errs, String) {
    let mut errs = Vec::new();
    let mut num = 0;
    let mut kind = String::new();
    for (key_name, err_child) in VOLUME_SOURCES {
        let Some(src) = get(vol, key_name) else {
            continue;
        };
        if num > 0 {
            errs.push(FieldError::forbidden(
                child(path, err_child),
                "may not specify more than 1 volume type",
            ));
            continue;
        }
        num += 1;
        kind = key_name.to_string();
        validate_one_source(&mut errs, key_name, src, path, is_pod);
    }
    if num == 0 {
        errs.push(FieldError::required(path, "must specify a volume type"));
    }
    (errs, kind)
}

fn require_fields(errs: &mut Errs, src: &Value, path: &str, fields: &[&str]) {
    for f in fields {
        let missing = match src.get(*f) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if missing {
            errs.push(FieldError::required(child(path, f), ""));
        }
    }
}

fn validate_one_source(errs: &mut Errs, kind: &str, src: &Value, path: &str, is_pod: bool) {
    let p = child(path, kind);
    match kind {
        "emptyDir" => {
            if let Some(sl) = get(src, "sizeLimit") {
                let mut tmp = Vec::new();
                if let Some(q) = parse_quantity(&mut tmp, sl, &child(&p, "sizeLimit"))
                    && q.sign() < 0
                {
                    errs.push(FieldError::forbidden(
                        child(&p, "sizeLimit"),
                        "SizeLimit field must be a valid resource quantity",
                    ));
                }
                errs.extend(tmp);
            }
        }
        "hostPath" => {
            let hp = st(src, "path");
            if hp.is_empty() {
                errs.push(FieldError::required(child(&p, "path"), ""));
                return;
            }
            path_no_backsteps(errs, hp, &child(&p, "path"));
            if let Some(t) = get(src, "type").and_then(Value::as_str) {
                const TYPES: &[&str] = &[
                    "",
                    "BlockDevice",
                    "CharDevice",
                    "Directory",
                    "DirectoryOrCreate",
                    "File",
                    "FileOrCreate",
                    "Socket",
                ];
                if !TYPES.contains(&t) {
                    errs.push(FieldError::not_supported(
                        child(&p, "type"),
                        json!(t),
                        TYPES,
                    ));
                }
            }
        }
        "gitRepo" => {
            require_fields(errs, src, &p, &["repository"]);
            local_descending_path(errs, st(src, "directory"), &child(&p, "directory"));
        }
        "gcePersistentDisk" => {
            let pp = child(path, "persistentDisk");
            require_fields(errs, src, &pp, &["pdName"]);
            if let Some(part) = int(src, "partition")
                && !(0..=255).contains(&part)
            {
                errs.push(FieldError::invalid(
                    child(&pp, "partition"),
                    json!(part),
                    inclusive_range_error(1, 255),
                ));
            }
        }
        "awsElasticBlockStore" => {
            require_fields(errs, src, &p, &["volumeID"]);
            if let Some(part) = int(src, "partition")
                && !(0..=255).contains(&part)
            {
                errs.push(FieldError::invalid(
                    child(&p, "partition"),
                    json!(part),
                    inclusive_range_error(1, 255),
                ));
            }
        }
        "secret" => {
            require_fields(errs, src, &p, &["secretName"]);
            file_mode(errs, src, "defaultMode", &p);
            for (i, kp) in arr(src, "items").iter().enumerate() {
                key_to_path(errs, kp, &format!("{p}.items[{i}]"));
            }
        }
        "configMap" => {
            require_fields(errs, src, &p, &["name"]);
            file_mode(errs, src, "defaultMode", &p);
            for (i, kp) in arr(src, "items").iter().enumerate() {
                key_to_path(errs, kp, &format!("{p}.items[{i}]"));
            }
        }
        "nfs" => {
            require_fields(errs, src, &p, &["server", "path"]);
            let np = st(src, "path");
            if !np.starts_with('/') {
                errs.push(FieldError::invalid(
                    child(&p, "path"),
                    json!(np),
                    "must be an absolute path",
                ));
            }
        }
        "iscsi" => {
            require_fields(errs, src, &p, &["targetPortal", "iqn"]);
            if let Some(lun) = int(src, "lun")
                && !(0..=255).contains(&lun)
            {
                errs.push(FieldError::invalid(
                    child(&p, "lun"),
                    json!(lun),
                    inclusive_range_error(0, 255),
                ));
            }
        }
        "glusterfs" => require_fields(errs, src, &p, &["endpoints", "path"]),
        "flocker" => {
            let n = st(src, "datasetName");
            let u = st(src, "datasetUUID");
            if n.is_empty() && u.is_empty() {
                errs.push(FieldError::required(
                    p.clone(),
                    "one of datasetName and datasetUUID is required",
                ));
            }
            if !n.is_empty() && !u.is_empty() {
                errs.push(FieldError::invalid(
                    p.clone(),
                    json!("resource"),
                    "datasetName and datasetUUID can not be specified simultaneously",
                ));
            }
            if n.contains('/') {
                errs.push(FieldError::invalid(
                    child(&p, "datasetName"),
                    json!(n),
                    "must not contain '/'",
                ));
            }
        }
        "persistentVolumeClaim" => require_fields(errs, src, &p, &["claimName"]),
        "rbd" => require_fields(errs, src, &p, &["monitors", "image"]),
        "cinder" => require_fields(errs, src, &p, &["volumeID"]),
        "cephfs" => require_fields(errs, src, &p, &["monitors"]),
        "quobyte" => require_fields(errs, src, &p, &["registry", "volume"]),
        "downwardAPI" => {
            file_mode(errs, src, "defaultMode", &p);
            for item in arr(src, "items") {
                downward_api_file(errs, item, &p);
            }
        }
        "fc" if arr(src, "targetWWNs").is_empty() && arr(src, "wwids").is_empty() => {
            errs.push(FieldError::required(
                child(&p, "targetWWNs"),
                "must specify either targetWWNs or wwids, but not both",
            ));
        }
        "flexVolume" => require_fields(errs, src, &p, &["driver"]),
        "azureFile" => require_fields(errs, src, &p, &["secretName", "shareName"]),
        "vsphereVolume" => require_fields(errs, src, &p, &["volumePath"]),
        "photonPersistentDisk" => require_fields(errs, src, &p, &["pdID"]),
        "portworxVolume" => require_fields(errs, src, &p, &["volumeID"]),
        "azureDisk" => require_fields(errs, src, &p, &["diskName", "diskURI"]),
        "storageos" => require_fields(errs, src, &p, &["volumeName"]),
        "scaleIO" => require_fields(errs, src, &p, &["gateway", "system", "volumeName"]),
        "projected" => {
            file_mode(errs, src, "defaultMode", &p);
            projection_sources(errs, src, &p);
        }
        "csi" => {
            let d = st(src, "driver");
            let dp = child(&p, "driver");
            if d.is_empty() {
                errs.push(FieldError::required(dp.clone(), ""));
            }
            if d.len() > 63 {
                errs.push(FieldError::too_long(dp.clone(), json!(""), 63));
            }
            for msg in names::is_dns1123_subdomain(&d.to_lowercase()) {
                errs.push(FieldError::invalid(dp.clone(), json!(d), msg));
            }
        }
        "ephemeral" => {
            if get(src, "volumeClaimTemplate").is_none() {
                errs.push(FieldError::required(child(&p, "volumeClaimTemplate"), ""));
            } else if let Some(t) = get(src, "volumeClaimTemplate") {
                let empty = json!({});
                let spec = get(t, "spec").unwrap_or(&empty);
                super::misc::validate_pvc_spec(
                    errs,
                    spec,
                    &format!("{p}.volumeClaimTemplate.spec"),
                );
            }
        }
        "image" => {
            if is_pod && st(src, "reference").is_empty() {
                errs.push(FieldError::required(child(&p, "reference"), ""));
            }
            pull_policy(errs, st(src, "pullPolicy"), &child(&p, "pullPolicy"));
        }
        _ => {}
    }
}

fn file_mode(errs: &mut Errs, src: &Value, field: &str, path: &str) {
    if let Some(m) = int(src, field)
        && !(0..=0o777).contains(&m)
    {
        errs.push(FieldError::invalid(
            child(path, field),
            json!(m),
            FILE_MODE_MSG,
        ));
    }
}

fn path_no_backsteps(errs: &mut Errs, target: &str, path: &str) {
    if target.replace('\\', "/").split('/').any(|p| p == "..") {
        errs.push(FieldError::invalid(
            path,
            json!(target),
            "must not contain '..'",
        ));
    }
}

fn local_descending_path(errs: &mut Errs, target: &str, path: &str) {
    if target.starts_with('/') {
        errs.push(FieldError::invalid(
            path,
            json!(target),
            "must be a relative path",
        ));
    }
    path_no_backsteps(errs, target, path);
}

fn local_non_reserved_path(errs: &mut Errs, target: &str, path: &str) {
    local_descending_path(errs, target, path);
    if target.starts_with("..") && !target.starts_with("../") {
        errs.push(FieldError::invalid(
            path,
            json!(target),
            "must not start with '..'",
        ));
    }
}

fn key_to_path(errs: &mut Errs, kp: &Value, path: &str) {
    if st(kp, "key").is_empty() {
        errs.push(FieldError::required(child(path, "key"), ""));
    }
    let p = st(kp, "path");
    if p.is_empty() {
        errs.push(FieldError::required(child(path, "path"), ""));
    }
    local_non_reserved_path(errs, p, &child(path, "path"));
    file_mode(errs, kp, "mode", path);
}

const VOLUME_DOWNWARD_FIELDS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
];

const ENV_DOWNWARD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

const CONTAINER_RESOURCE_FIELDS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

fn downward_api_file(errs: &mut Errs, file: &Value, path: &str) {
    let p = st(file, "path");
    if p.is_empty() {
        errs.push(FieldError::required(child(path, "path"), ""));
    }
    local_non_reserved_path(errs, p, &child(path, "path"));
    if let Some(fr) = get(file, "fieldRef") {
        object_field_selector(errs, fr, VOLUME_DOWNWARD_FIELDS, &child(path, "fieldRef"));
        if get(file, "resourceFieldRef").is_some() {
            errs.push(FieldError::invalid(
                path,
                json!("resource"),
                "fieldRef and resourceFieldRef can not be specified simultaneously",
            ));
        }
    } else if let Some(rf) = get(file, "resourceFieldRef") {
        resource_field_selector(errs, rf, &child(path, "resourceFieldRef"), true);
    } else {
        errs.push(FieldError::required(
            path,
            "one of fieldRef and resourceFieldRef is required",
        ));
    }
    file_mode(errs, file, "mode", path);
}

fn object_field_selector(errs: &mut Errs, fs: &Value, allowed: &[&str], path: &str) {
    let api_version = st(fs, "apiVersion");
    let field_path = st(fs, "fieldPath");
    if api_version.is_empty() {
        errs.push(FieldError::required(child(path, "apiVersion"), ""));
        return;
    }
    if field_path.is_empty() {
        errs.push(FieldError::required(child(path, "fieldPath"), ""));
        return;
    }
    // Subscripted paths: metadata.labels['key'] / metadata.annotations['key'].
    if let Some(open) = field_path.find("['")
        && field_path.ends_with("']")
        && open + 2 <= field_path.len() - 2
    {
        let base = &field_path[..open];
        let sub = &field_path[open + 2..field_path.len() - 2];
        match base {
            "metadata.annotations" => qualified_name(errs, &sub.to_lowercase(), path),
            "metadata.labels" => qualified_name(errs, sub, path),
            _ => errs.push(FieldError::invalid(
                path,
                json!(base),
                "does not support subscript",
            )),
        }
        return;
    }
    if !allowed.contains(&field_path) {
        errs.push(FieldError::not_supported(
            child(path, "fieldPath"),
            json!(field_path),
            allowed,
        ));
    }
}

fn resource_field_selector(errs: &mut Errs, rf: &Value, path: &str, volume: bool) {
    let resource = st(rf, "resource");
    if volume && st(rf, "containerName").is_empty() {
        errs.push(FieldError::required(child(path, "containerName"), ""));
    } else if resource.is_empty() {
        errs.push(FieldError::required(child(path, "resource"), ""));
    } else if !CONTAINER_RESOURCE_FIELDS.contains(&resource)
        && !resource.starts_with("requests.hugepages-")
        && !resource.starts_with("limits.hugepages-")
    {
        errs.push(FieldError::not_supported(
            child(path, "resource"),
            json!(resource),
            CONTAINER_RESOURCE_FIELDS,
        ));
    }
    if let Some(d) = get(rf, "divisor") {
        let mut tmp = Vec::new();
        if let Some(q) = parse_quantity(&mut tmp, d, &child(path, "divisor"))
            && !q.is_zero()
        {
            let s = q.canonical();
            let (ok, what) = match resource {
                "limits.cpu" | "requests.cpu" => (
                    matches!(s.as_str(), "1m" | "1"),
                    "only divisor's values 1m and 1 are supported with the cpu resource",
                ),
                "limits.memory" | "requests.memory" => (
                    is_byte_divisor(&s),
                    "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource",
                ),
                "limits.ephemeral-storage" | "requests.ephemeral-storage" => (
                    is_byte_divisor(&s),
                    "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local ephemeral storage resource",
                ),
                _ => (true, ""),
            };
            if !ok {
                errs.push(FieldError::invalid(
                    child(path, "divisor"),
                    json!(resource),
                    what,
                ));
            }
        }
        errs.extend(tmp);
    }
}

fn is_byte_divisor(s: &str) -> bool {
    matches!(
        s,
        "1" | "1k"
            | "1M"
            | "1G"
            | "1T"
            | "1P"
            | "1E"
            | "1Ki"
            | "1Mi"
            | "1Gi"
            | "1Ti"
            | "1Pi"
            | "1Ei"
    )
}

fn projection_sources(errs: &mut Errs, src: &Value, path: &str) {
    let mut all_paths = BTreeSet::new();
    for (i, s) in arr(src, "sources").iter().enumerate() {
        let mut num = 0;
        let sp = format!("{path}.sources[{i}]");
        for kind in ["secret", "configMap"] {
            if let Some(x) = get(s, kind) {
                num += 1;
                let pp = child(&sp, kind);
                if st(x, "name").is_empty() {
                    errs.push(FieldError::required(child(&pp, "name"), ""));
                }
                for (j, kp) in arr(x, "items").iter().enumerate() {
                    key_to_path(errs, kp, &format!("{pp}.items[{j}]"));
                    let p = st(kp, "path");
                    if !p.is_empty() && !all_paths.insert(p.to_string()) {
                        errs.push(FieldError::invalid(
                            path,
                            json!(st(x, "name")),
                            "conflicting duplicate paths",
                        ));
                    }
                }
            }
        }
        if let Some(d) = get(s, "downwardAPI") {
            num += 1;
            let pp = child(&sp, "downwardAPI");
            for item in arr(d, "items") {
                downward_api_file(errs, item, &pp);
                let p = st(item, "path");
                if !p.is_empty() && !all_paths.insert(p.to_string()) {
                    errs.push(FieldError::invalid(
                        path,
                        json!(p),
                        "conflicting duplicate paths",
                    ));
                }
            }
        }
        if let Some(t) = get(s, "serviceAccountToken") {
            num += 1;
            let pp = child(&sp, "serviceAccountToken");
            let exp = int(t, "expirationSeconds").unwrap_or(0);
            if exp < 600 {
                errs.push(FieldError::invalid(
                    child(&pp, "expirationSeconds"),
                    json!(exp),
                    "may not specify a duration less than 10 minutes",
                ));
            }
            if exp > 1 << 32 {
                errs.push(FieldError::invalid(
                    child(&pp, "expirationSeconds"),
                    json!(exp),
                    "may not specify a duration larger than 2^32 seconds",
                ));
            }
            let tp = st(t, "path");
            if tp.is_empty() {
                errs.push(FieldError::required(child(path, "path"), ""));
            } else {
                local_non_reserved_path(errs, tp, &child(path, "path"));
            }
        }
        if let Some(ctb) = get(s, "clusterTrustBundle") {
            num += 1;
            let pp = child(&sp, "clusterTrustBundle");
            if st(ctb, "path").is_empty() {
                errs.push(FieldError::required(child(&pp, "path"), ""));
            }
            let has_name = get(ctb, "name").is_some();
            let has_signer = get(ctb, "signerName").is_some();
            if !has_name && !has_signer {
                errs.push(FieldError::required(
                    pp.clone(),
                    "either name or signerName must be specified",
                ));
            }
        }
        if num > 1 {
            errs.push(FieldError::forbidden(
                sp,
                "may not specify more than 1 volume type per source",
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Containers.
// ---------------------------------------------------------------------------------------------

fn validate_containers(errs: &mut Errs, containers: &[Value], path: &str, ctx: &Ctx<'_>) {
    if containers.is_empty() {
        errs.push(FieldError::required(path, ""));
        return;
    }
    let mut all_names = BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = index(path, i);
        validate_container_common(errs, c, &p, ctx);
        let name = st(c, "name");
        if !all_names.insert(name) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        }
        if let Some(lc) = get(c, "lifecycle") {
            validate_lifecycle(errs, lc, ctx.grace, &child(&p, "lifecycle"));
        }
        validate_probes(errs, c, &p, ctx.grace);
        if get(c, "restartPolicy").is_some() {
            errs.push(FieldError::forbidden(
                child(&p, "restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    check_host_port_conflicts(errs, containers, path);
}

fn validate_probes(errs: &mut Errs, c: &Value, p: &str, grace: Option<i64>) {
    for (k, liveness_like, readiness) in [
        ("livenessProbe", true, false),
        ("readinessProbe", false, true),
        ("startupProbe", true, false),
    ] {
        if let Some(probe) = get(c, k) {
            let pp = child(p, k);
            validate_probe(errs, probe, grace, &pp);
            if liveness_like {
                let st_ = int(probe, "successThreshold").unwrap_or(0);
                if st_ != 1 {
                    errs.push(FieldError::invalid(
                        child(&pp, "successThreshold"),
                        json!(st_),
                        "must be 1",
                    ));
                }
            }
            if readiness && let Some(t) = get(probe, "terminationGracePeriodSeconds") {
                errs.push(FieldError::invalid(
                    child(&pp, "terminationGracePeriodSeconds"),
                    t.clone(),
                    "must not be set for readinessProbes",
                ));
            }
        }
    }
}

fn validate_init_containers(
    errs: &mut Errs,
    containers: &[Value],
    regular: &[Value],
    path: &str,
    ctx: &Ctx<'_>,
) {
    let mut all_names: BTreeSet<&str> = regular.iter().map(|c| st(c, "name")).collect();
    for (i, c) in containers.iter().enumerate() {
        let p = index(path, i);
        validate_container_common(errs, c, &p, ctx);
        let mut restart_always = false;
        if let Some(rp) = get(c, "restartPolicy").and_then(Value::as_str) {
            if rp != "Always" {
                errs.push(FieldError::not_supported(
                    child(&p, "restartPolicy"),
                    json!(rp),
                    &["Always"],
                ));
            }
            restart_always = rp == "Always";
        }
        let name = st(c, "name");
        if all_names.contains(name) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        } else if !name.is_empty() {
            all_names.insert(name);
        }
        check_host_port_conflicts(errs, std::slice::from_ref(c), path);
        if restart_always {
            if let Some(lc) = get(c, "lifecycle") {
                validate_lifecycle(errs, lc, ctx.grace, &child(&p, "lifecycle"));
            }
            validate_probes(errs, c, &p, ctx.grace);
        } else {
            for k in [
                "lifecycle",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
            ] {
                if get(c, k).is_some() {
                    errs.push(FieldError::forbidden(
                        child(&p, k),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
    }
}

fn validate_ephemeral_containers(errs: &mut Errs, spec: &Value, path: &str, ctx: &Ctx<'_>) {
    let ecs = arr(spec, "ephemeralContainers");
    if ecs.is_empty() {
        return;
    }
    let mut other: BTreeSet<&str> = BTreeSet::new();
    for c in arr(spec, "containers")
        .iter()
        .chain(arr(spec, "initContainers"))
    {
        other.insert(st(c, "name"));
    }
    let mut all = other.clone();
    for (i, c) in ecs.iter().enumerate() {
        let p = index(path, i);
        validate_container_common(errs, c, &p, ctx);
        let image = st(c, "image");
        if image.len() != image.trim().len() {
            errs.push(FieldError::invalid(
                child(&p, "image"),
                json!(image),
                "must not have leading or trailing whitespace",
            ));
        }
        let name = st(c, "name");
        if !all.insert(name) {
            errs.push(FieldError::duplicate(child(&p, "name"), json!(name)));
        }
        let target = st(c, "targetContainerName");
        if !target.is_empty() && !other.contains(target) {
            errs.push(not_found(child(&p, "targetContainerName"), json!(target)));
        }
        for k in [
            "ports",
            "resources",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle",
            "resizePolicy",
            "restartPolicy",
        ] {
            if get(c, k).is_some_and(|v| !is_unset(v)) {
                errs.push(FieldError::forbidden(
                    child(&p, k),
                    "cannot be set for an Ephemeral Container",
                ));
            }
        }
        for (j, vm) in arr(c, "volumeMounts").iter().enumerate() {
            for k in ["subPath", "subPathExpr"] {
                if !st(vm, k).is_empty() {
                    errs.push(FieldError::forbidden(
                        format!("{p}.volumeMounts[{j}].{k}"),
                        "cannot be set for an Ephemeral Container",
                    ));
                }
            }
        }
    }
}

fn check_host_port_conflicts(errs: &mut Errs, containers: &[Value], path: &str) {
    let mut seen = BTreeSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, p) in arr(c, "ports").iter().enumerate() {
            let hp = int(p, "hostPort").unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let s = format!("{}/{}/{}", st(p, "protocol"), st(p, "hostIP"), hp);
            if !seen.insert(s.clone()) {
                errs.push(FieldError::duplicate(
                    format!("{path}[{ci}].ports[{pi}].hostPort"),
                    json!(s),
                ));
            }
        }
    }
}

/// `validateContainerCommon`.
fn validate_container_common(errs: &mut Errs, c: &Value, path: &str, ctx: &Ctx<'_>) {
    let name = st(c, "name");
    let name_path = child(path, "name");
    if name.is_empty() {
        errs.push(FieldError::required(name_path, ""));
    } else {
        dns1123_label(errs, name, &name_path);
    }
    if st(c, "image").is_empty() {
        errs.push(FieldError::required(child(path, "image"), ""));
    }
    let tmp = child(path, "terminationMessagePolicy");
    match st(c, "terminationMessagePolicy") {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.push(FieldError::required(tmp, "")),
        other => errs.push(FieldError::not_supported(
            tmp,
            json!(other),
            &["File", "FallbackToLogsOnError"],
        )),
    }
    let mounts: BTreeMap<&str, &str> = arr(c, "volumeMounts")
        .iter()
        .map(|m| (st(m, "name"), st(m, "mountPath")))
        .collect();
    let devices: BTreeMap<&str, &str> = arr(c, "volumeDevices")
        .iter()
        .map(|d| (st(d, "name"), st(d, "devicePath")))
        .collect();
    validate_container_ports(errs, arr(c, "ports"), &child(path, "ports"));
    validate_env(errs, arr(c, "env"), &child(path, "env"));
    validate_env_from(errs, arr(c, "envFrom"), &child(path, "envFrom"));
    validate_volume_mounts(errs, c, &devices, ctx.vols, &child(path, "volumeMounts"));
    validate_volume_devices(
        errs,
        arr(c, "volumeDevices"),
        &mounts,
        ctx.vols,
        &child(path, "volumeDevices"),
    );
    pull_policy(
        errs,
        st(c, "imagePullPolicy"),
        &child(path, "imagePullPolicy"),
    );
    let empty = json!({});
    validate_resource_requirements(
        errs,
        get(c, "resources").unwrap_or(&empty),
        ctx.claims,
        &child(path, "resources"),
    );
    validate_resize_policy(
        errs,
        arr(c, "resizePolicy"),
        &child(path, "resizePolicy"),
        ctx.restart_policy,
    );
    if let Some(sc) = get(c, "securityContext") {
        validate_security_context(errs, sc, &child(path, "securityContext"), ctx.host_users);
    }
}

fn pull_policy(errs: &mut Errs, policy: &str, path: &str) {
    match policy {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(FieldError::required(path, "")),
        other => errs.push(FieldError::not_supported(
            path,
            json!(other),
            &["Always", "IfNotPresent", "Never"],
        )),
    }
}

fn validate_resize_policy(errs: &mut Errs, list: &[Value], path: &str, pod_restart: &str) {
    let mut seen = BTreeSet::new();
    for (i, p) in list.iter().enumerate() {
        let rn = st(p, "resourceName");
        let rp = st(p, "restartPolicy");
        if !seen.insert(rn) {
            errs.push(FieldError::duplicate(index(path, i), json!(rn)));
        }
        match rn {
            "cpu" | "memory" => {}
            "" => errs.push(FieldError::required(path, "")),
            other => errs.push(FieldError::not_supported(
                path,
                json!(other),
                &["cpu", "memory"],
            )),
        }
        match rp {
            "NotRequired" | "RestartContainer" => {}
            "" => errs.push(FieldError::required(path, "")),
            other => errs.push(FieldError::not_supported(
                path,
                json!(other),
                &["NotRequired", "RestartContainer"],
            )),
        }
        if pod_restart == "Never" && rp != "NotRequired" {
            errs.push(FieldError::invalid(
                path,
                json!(rp),
                "must be 'NotRequired' when `restartPolicy` is 'Never'",
            ));
        }
    }
}

fn validate_container_ports(errs: &mut Errs, ports: &[Value], path: &str) {
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let ip = index(path, i);
        let name = st(p, "name");
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                for m in msgs {
                    errs.push(FieldError::invalid(child(&ip, "name"), json!(name), m));
                }
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(child(&ip, "name"), json!(name)));
            }
        }
        let cp = int(p, "containerPort").unwrap_or(0);
        if cp == 0 {
            errs.push(FieldError::required(child(&ip, "containerPort"), ""));
        } else {
            for m in is_valid_port_num(cp) {
                errs.push(FieldError::invalid(
                    child(&ip, "containerPort"),
                    json!(cp),
                    m,
                ));
            }
        }
        let hp = int(p, "hostPort").unwrap_or(0);
        if hp != 0 {
            for m in is_valid_port_num(hp) {
                errs.push(FieldError::invalid(child(&ip, "hostPort"), json!(hp), m));
            }
        }
        protocol(errs, st(p, "protocol"), &child(&ip, "protocol"));
    }
}

pub(crate) fn protocol(errs: &mut Errs, proto: &str, path: &str) {
    match proto {
        "TCP" | "UDP" | "SCTP" => {}
        "" => errs.push(FieldError::required(path, "")),
        other => errs.push(FieldError::not_supported(
            path,
            json!(other),
            &["SCTP", "TCP", "UDP"],
        )),
    }
}

fn validate_env(errs: &mut Errs, vars: &[Value], path: &str) {
    for (i, ev) in vars.iter().enumerate() {
        let ip = index(path, i);
        let name = st(ev, "name");
        if name.is_empty() {
            errs.push(FieldError::required(child(&ip, "name"), ""));
        } else {
            for m in is_env_var_name(name) {
                errs.push(FieldError::invalid(child(&ip, "name"), json!(name), m));
            }
        }
        let Some(vf) = get(ev, "valueFrom") else {
            continue;
        };
        let vp = child(&ip, "valueFrom");
        let mut num = 0;
        if let Some(fr) = get(vf, "fieldRef") {
            num += 1;
            object_field_selector(errs, fr, ENV_DOWNWARD_FIELDS, &child(&vp, "fieldRef"));
        }
        if let Some(rf) = get(vf, "resourceFieldRef") {
            num += 1;
            resource_field_selector(errs, rf, &child(&vp, "resourceFieldRef"), false);
        }
        for k in ["configMapKeyRef", "secretKeyRef"] {
            if let Some(r) = get(vf, k) {
                num += 1;
                let rp = child(&vp, k);
                let n = st(r, "name");
                for m in names::is_dns1123_subdomain(n) {
                    errs.push(FieldError::invalid(child(&rp, "name"), json!(n), m));
                }
                let kk = st(r, "key");
                if kk.is_empty() {
                    errs.push(FieldError::required(child(&rp, "key"), ""));
                } else {
                    for m in is_config_map_key(kk) {
                        errs.push(FieldError::invalid(child(&rp, "key"), json!(kk), m));
                    }
                }
            }
        }
        if num == 0 {
            errs.push(FieldError::invalid(
                vp,
                json!(""),
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !st(ev, "value").is_empty() {
            errs.push(FieldError::invalid(
                vp,
                json!(""),
                "may not be specified when `value` is not empty",
            ));
        } else if num > 1 {
            errs.push(FieldError::invalid(
                vp,
                json!(""),
                "may not have more than one field specified at a time",
            ));
        }
    }
}

fn validate_env_from(errs: &mut Errs, vars: &[Value], path: &str) {
    for (i, ev) in vars.iter().enumerate() {
        let ip = index(path, i);
        let prefix = st(ev, "prefix");
        if !prefix.is_empty() {
            for m in is_env_var_name(prefix) {
                errs.push(FieldError::invalid(child(&ip, "prefix"), json!(prefix), m));
            }
        }
        let mut num = 0;
        for k in ["configMapRef", "secretRef"] {
            if let Some(r) = get(ev, k) {
                num += 1;
                let rp = child(&ip, k);
                let n = st(r, "name");
                if n.is_empty() {
                    errs.push(FieldError::required(child(&rp, "name"), ""));
                } else {
                    for m in names::NameRule::Dns1123Subdomain.validate(n, true) {
                        errs.push(FieldError::invalid(child(&rp, "name"), json!(n), m));
                    }
                }
            }
        }
        if num == 0 {
            errs.push(FieldError::invalid(
                path,
                json!(""),
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if num > 1 {
            errs.push(FieldError::invalid(
                path,
                json!(""),
                "may not have more than one field specified at a time",
            ));
        }
    }
}

fn validate_volume_mounts(
    errs: &mut Errs,
    c: &Value,
    devices: &BTreeMap<&str, &str>,
    vols: &Volumes,
    path: &str,
) {
    let privileged = c
        .pointer("/securityContext/privileged")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut mountpoints = BTreeSet::new();
    for (i, m) in arr(c, "volumeMounts").iter().enumerate() {
        let ip = index(path, i);
        let name = st(m, "name");
        let mp = st(m, "mountPath");
        if name.is_empty() {
            errs.push(FieldError::required(child(&ip, "name"), ""));
        }
        if !vols.contains_key(name) {
            errs.push(not_found(child(&ip, "name"), json!(name)));
        }
        if mp.is_empty() {
            errs.push(FieldError::required(child(&ip, "mountPath"), ""));
        }
        if !mountpoints.insert(mp) {
            errs.push(FieldError::invalid(
                child(&ip, "mountPath"),
                json!(mp),
                "must be unique",
            ));
        }
        if devices.contains_key(name) {
            errs.push(FieldError::invalid(
                child(&ip, "name"),
                json!(name),
                "must not already exist in volumeDevices",
            ));
        }
        if devices.values().any(|p| *p == mp) {
            errs.push(FieldError::invalid(
                child(&ip, "mountPath"),
                json!(mp),
                "must not already exist as a path in volumeDevices",
            ));
        }
        let sub = st(m, "subPath");
        let sub_expr = st(m, "subPathExpr");
        if vols.get(name).is_some_and(|k| k == "image") {
            if !sub.is_empty() {
                errs.push(FieldError::invalid(
                    child(&ip, "subPath"),
                    json!(sub),
                    "not allowed in image volume sources",
                ));
            }
            if !sub_expr.is_empty() {
                errs.push(FieldError::invalid(
                    child(&ip, "subPathExpr"),
                    json!(sub_expr),
                    "not allowed in image volume sources",
                ));
            }
        }
        if !sub.is_empty() {
            local_descending_path(errs, sub, &child(path, "subPath"));
        }
        if !sub_expr.is_empty() {
            if !sub.is_empty() {
                errs.push(FieldError::invalid(
                    child(&ip, "subPathExpr"),
                    json!(sub_expr),
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            local_descending_path(errs, sub_expr, &child(path, "subPathExpr"));
        }
        if let Some(prop) = get(m, "mountPropagation").and_then(Value::as_str) {
            let pp = child(path, "mountPropagation");
            if !matches!(prop, "Bidirectional" | "HostToContainer" | "None") {
                errs.push(FieldError::not_supported(
                    pp.clone(),
                    json!(prop),
                    &["Bidirectional", "HostToContainer", "None"],
                ));
            }
            if prop == "Bidirectional" && !privileged {
                errs.push(FieldError::forbidden(
                    pp,
                    "Bidirectional mount propagation is available only to privileged containers",
                ));
            }
        }
        if let Some(rro) = get(m, "recursiveReadOnly").and_then(Value::as_str) {
            let rp = child(path, "recursiveReadOnly");
            match rro {
                "Disabled" => {}
                "Enabled" | "IfPossible" => {
                    if boolean(m, "readOnly") != Some(true) {
                        errs.push(FieldError::forbidden(
                            rp.clone(),
                            "may only be specified when readOnly is true",
                        ));
                    }
                    if get(m, "mountPropagation")
                        .and_then(Value::as_str)
                        .is_some_and(|p| p != "None")
                    {
                        errs.push(FieldError::forbidden(
                            rp,
                            "may only be specified when mountPropagation is None or not specified",
                        ));
                    }
                }
                other => errs.push(FieldError::not_supported(
                    rp,
                    json!(other),
                    &["Disabled", "Enabled", "IfPossible"],
                )),
            }
        }
    }
}

fn validate_volume_devices(
    errs: &mut Errs,
    devices: &[Value],
    mounts: &BTreeMap<&str, &str>,
    vols: &Volumes,
    path: &str,
) {
    let mut paths = BTreeSet::new();
    let mut names_seen = BTreeSet::new();
    for (i, d) in devices.iter().enumerate() {
        let ip = index(path, i);
        let name = st(d, "name");
        let dp = st(d, "devicePath");
        let kind = vols.get(name);
        let is_pvc = kind.is_some_and(|k| k == "persistentVolumeClaim" || k == "ephemeral");
        if name.is_empty() {
            errs.push(FieldError::required(child(&ip, "name"), ""));
        }
        if names_seen.contains(name) {
            errs.push(FieldError::invalid(
                child(&ip, "name"),
                json!(name),
                "must be unique",
            ));
        }
        if kind.is_some() && !is_pvc {
            errs.push(FieldError::invalid(
                child(&ip, "name"),
                json!(name),
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            ));
        }
        if kind.is_none() {
            errs.push(not_found(child(&ip, "name"), json!(name)));
        }
        if dp.is_empty() {
            errs.push(FieldError::required(child(&ip, "devicePath"), ""));
        }
        if paths.contains(dp) {
            errs.push(FieldError::invalid(
                child(&ip, "devicePath"),
                json!(dp),
                "must be unique",
            ));
        }
        if !dp.is_empty() && dp.replace('\\', "/").split('/').any(|p| p == "..") {
            errs.push(FieldError::invalid(
                child(&ip, "devicePath"),
                json!(dp),
                "can not contain backsteps ('..')",
            ));
        } else {
            paths.insert(dp);
        }
        if mounts.contains_key(name) {
            errs.push(FieldError::invalid(
                child(&ip, "name"),
                json!(name),
                "must not already exist in volumeMounts",
            ));
        }
        if mounts.values().any(|m| *m == dp) {
            errs.push(FieldError::invalid(
                child(&ip, "devicePath"),
                json!(dp),
                "must not already exist as a path in volumeMounts",
            ));
        }
        if !name.is_empty() {
            names_seen.insert(name);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Probes and lifecycle handlers.
// ---------------------------------------------------------------------------------------------

fn validate_probe(errs: &mut Errs, probe: &Value, grace: Option<i64>, path: &str) {
    validate_handler(errs, probe, grace, path, false);
    for f in [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ] {
        nonneg(errs, Some(int(probe, f).unwrap_or(0)), &child(path, f));
    }
    if let Some(t) = int(probe, "terminationGracePeriodSeconds")
        && t <= 0
    {
        errs.push(FieldError::invalid(
            child(path, "terminationGracePeriodSeconds"),
            json!(t),
            "must be greater than 0",
        ));
    }
}

fn validate_handler(errs: &mut Errs, h: &Value, grace: Option<i64>, path: &str, lifecycle: bool) {
    let kinds: &[&str] = if lifecycle {
        &["exec", "httpGet", "tcpSocket", "sleep"]
    } else {
        &["exec", "httpGet", "tcpSocket", "grpc"]
    };
    let mut num = 0;
    for k in kinds {
        let Some(x) = get(h, k) else {
            continue;
        };
        let p = child(path, k);
        if num > 0 {
            errs.push(FieldError::forbidden(
                p,
                "may not specify more than 1 handler type",
            ));
            continue;
        }
        num += 1;
        match *k {
            "exec" if arr(x, "command").is_empty() => {
                errs.push(FieldError::required(child(&p, "command"), ""));
            }
            "httpGet" => {
                if st(x, "path").is_empty() {
                    errs.push(FieldError::required(child(&p, "path"), ""));
                }
                port_num_or_name(errs, x.get("port"), &child(&p, "port"));
                let scheme = st(x, "scheme");
                if scheme != "HTTP" && scheme != "HTTPS" {
                    errs.push(FieldError::not_supported(
                        child(&p, "scheme"),
                        json!(scheme),
                        &["HTTP", "HTTPS"],
                    ));
                }
                for hdr in arr(x, "httpHeaders") {
                    let n = st(hdr, "name");
                    for m in is_http_header_name(n) {
                        errs.push(FieldError::invalid(child(&p, "httpHeaders"), json!(n), m));
                    }
                }
            }
            "tcpSocket" => port_num_or_name(errs, x.get("port"), &child(&p, "port")),
            "grpc" => {
                let port = int(x, "port").unwrap_or(0);
                for m in is_valid_port_num(port) {
                    errs.push(FieldError::invalid(child(&p, "port"), json!(port), m));
                }
            }
            "sleep" => {
                let secs = int(x, "seconds").unwrap_or(0);
                if let Some(g) = grace
                    && (secs < 0 || secs > g)
                {
                    errs.push(FieldError::invalid(
                        p,
                        json!(secs),
                        format!(
                            "must be non-negative and less than terminationGracePeriodSeconds ({g})"
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    if num == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
}

fn validate_lifecycle(errs: &mut Errs, lc: &Value, grace: Option<i64>, path: &str) {
    for k in ["postStart", "preStop"] {
        if let Some(h) = get(lc, k) {
            validate_handler(errs, h, grace, &child(path, k), true);
        }
    }
}

/// `ValidatePortNumOrName`.
pub(crate) fn port_num_or_name(errs: &mut Errs, port: Option<&Value>, path: &str) {
    match port {
        Some(Value::String(s)) => {
            for m in is_valid_port_name(s) {
                errs.push(FieldError::invalid(path, json!(s), m));
            }
        }
        other => {
            let n = other.and_then(Value::as_i64).unwrap_or(0);
            for m in is_valid_port_num(n) {
                errs.push(FieldError::invalid(path, json!(n), m));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resources.
// ---------------------------------------------------------------------------------------------

const STANDARD_CONTAINER_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage"];

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

/// `helper.IsNativeResource`.
pub(crate) fn is_native_resource(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

/// `helper.IsExtendedResourceName`.
pub(crate) fn is_extended_resource_name(name: &str) -> bool {
    if is_native_resource(name) || name.starts_with("requests.") {
        return false;
    }
    names::is_qualified_name(&format!("requests.{name}")).is_empty()
}

/// `helper.IsOvercommitAllowed`.
fn is_overcommit_allowed(name: &str) -> bool {
    is_native_resource(name) && !is_hugepages(name)
}

/// `helper.IsIntegerResourceName`.
pub(crate) fn is_integer_resource_name(name: &str) -> bool {
    const INTEGER: &[&str] = &[
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    ];
    INTEGER.contains(&name) || name.starts_with("count/") || is_extended_resource_name(name)
}

/// `helper.IsStandardResourceName`.
pub(crate) fn is_standard_resource_name(name: &str) -> bool {
    const STANDARD: &[&str] = &[
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "services",
        "replicationcontrollers",
        "resourcequotas",
        "secrets",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
        "configmaps",
    ];
    STANDARD.contains(&name)
        || is_hugepages(name)
        || name.starts_with("requests.hugepages-")
        || name.starts_with("limits.hugepages-")
}

/// `validateResourceName`.
pub(crate) fn validate_resource_name(errs: &mut Errs, name: &str, path: &str) -> bool {
    let before = errs.len();
    qualified_name(errs, name, path);
    if errs.len() != before {
        return false;
    }
    if !name.contains('/') && !is_standard_resource_name(name) {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "must be a standard resource type or fully qualified",
        ));
        return false;
    }
    true
}

fn validate_container_resource_name(errs: &mut Errs, name: &str, path: &str) {
    validate_resource_name(errs, name, path);
    if !name.contains('/') {
        if !STANDARD_CONTAINER_RESOURCES.contains(&name) && !is_hugepages(name) {
            errs.push(FieldError::invalid(
                path,
                json!(name),
                "must be a standard resource for containers",
            ));
        }
    } else if !is_native_resource(name) && !is_extended_resource_name(name) {
        errs.push(FieldError::invalid(
            path,
            json!(name),
            "doesn't follow extended resource name standard",
        ));
    }
}

/// `ValidateResourceQuantityValue`.
pub(crate) fn validate_resource_quantity_value(
    errs: &mut Errs,
    resource: &str,
    q: &quantity::Quantity,
    path: &str,
) {
    if q.sign() < 0 {
        errs.push(FieldError::invalid(
            path,
            json!(q.canonical()),
            IS_NEGATIVE_MSG,
        ));
    }
    if is_integer_resource_name(resource) && q.milli_value() % 1000 != 0 {
        errs.push(FieldError::invalid(
            path,
            json!(q.canonical()),
            "must be an integer",
        ));
    }
}

/// `ValidateContainerResourceRequirements` at `path` (`...resources`).
pub(crate) fn validate_resource_requirements(
    errs: &mut Errs,
    reqs: &Value,
    claim_names: &BTreeSet<String>,
    path: &str,
) {
    let lim_path = child(path, "limits");
    let req_path = child(path, "requests");
    let mut lim_cpu_mem = false;
    let mut req_cpu_mem = false;
    let mut lim_huge = false;
    let mut req_huge = false;
    let mut limits: BTreeMap<&str, quantity::Quantity> = BTreeMap::new();
    if let Some(l) = obj(reqs, "limits") {
        for (name, v) in l {
            let p = key(&lim_path, name);
            validate_container_resource_name(errs, name, &p);
            if let Some(q) = parse_quantity(errs, v, &p) {
                validate_resource_quantity_value(errs, name, &q, &p);
                limits.insert(name, q);
            }
            if is_hugepages(name) {
                lim_huge = true;
            }
            if name == "cpu" || name == "memory" {
                lim_cpu_mem = true;
            }
        }
    }
    if let Some(r) = obj(reqs, "requests") {
        for (name, v) in r {
            let p = key(&req_path, name);
            validate_container_resource_name(errs, name, &p);
            let q = parse_quantity(errs, v, &p);
            if let Some(q) = &q {
                validate_resource_quantity_value(errs, name, q, &p);
            }
            let lim_present = obj(reqs, "limits").is_some_and(|l| l.contains_key(name));
            if let (Some(q), Some(lim)) = (&q, limits.get(name.as_str())) {
                if q != lim && !is_overcommit_allowed(name) {
                    errs.push(FieldError::invalid(
                        req_path.clone(),
                        json!(q.canonical()),
                        format!("must be equal to {name} limit of {}", lim.canonical()),
                    ));
                } else if q > lim {
                    errs.push(FieldError::invalid(
                        req_path.clone(),
                        json!(q.canonical()),
                        format!(
                            "must be less than or equal to {name} limit of {}",
                            lim.canonical()
                        ),
                    ));
                }
            } else if !lim_present && !is_overcommit_allowed(name) {
                errs.push(FieldError::required(
                    lim_path.clone(),
                    "Limit must be set for non overcommitable resources",
                ));
            }
            if is_hugepages(name) {
                req_huge = true;
            }
            if name == "cpu" || name == "memory" {
                req_cpu_mem = true;
            }
        }
    }
    if !lim_cpu_mem && !req_cpu_mem && (req_huge || lim_huge) {
        errs.push(FieldError::forbidden(
            path,
            "HugePages require cpu or memory",
        ));
    }
    // Claims must name entries of spec.resourceClaims.
    let mut seen = BTreeSet::new();
    for (i, c) in arr(reqs, "claims").iter().enumerate() {
        let name = st(c, "name");
        let p = format!("{path}.claims[{i}]");
        if name.is_empty() {
            errs.push(FieldError::required(p, ""));
            continue;
        }
        let request = st(c, "request");
        let k = if request.is_empty() {
            name.to_string()
        } else {
            format!("{name}/{request}")
        };
        if !seen.insert(k.clone()) {
            errs.push(FieldError::duplicate(p.clone(), json!(k)));
        }
        if !claim_names.contains(name) {
            let mut detail = "must be one of the names in pod.spec.resourceClaims".to_string();
            if claim_names.is_empty() {
                detail.push_str(" which is empty");
            } else {
                detail.push_str(": ");
                detail.push_str(&claim_names.iter().cloned().collect::<Vec<_>>().join(", "));
            }
            errs.push(FieldError::new(
                FieldErrorKind::NotFound,
                p,
                Some(json!(name)),
                detail,
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Security contexts.
// ---------------------------------------------------------------------------------------------

fn id_range(errs: &mut Errs, v: Option<i64>, path: &str) {
    if let Some(id) = v
        && !(0..=MAX_INT32).contains(&id)
    {
        errs.push(FieldError::invalid(
            path,
            json!(id),
            inclusive_range_error(0, MAX_INT32),
        ));
    }
}

fn seccomp_profile(errs: &mut Errs, sp: Option<&Value>, path: &str) {
    let Some(sp) = sp else {
        return;
    };
    let t = st(sp, "type");
    let tp = child(path, "type");
    match t {
        "Localhost" | "RuntimeDefault" | "Unconfined" => {}
        "" => errs.push(FieldError::required(
            tp,
            "type is required when seccompProfile is set",
        )),
        other => errs.push(FieldError::not_supported(
            tp,
            json!(other),
            &["Localhost", "RuntimeDefault", "Unconfined"],
        )),
    }
    let lp = get(sp, "localhostProfile").and_then(Value::as_str);
    if t == "Localhost" {
        match lp {
            None => errs.push(FieldError::required(
                child(path, "localhostProfile"),
                "must be set when seccomp type is Localhost",
            )),
            Some(p) => local_descending_path(errs, p, &child(path, "localhostProfile")),
        }
    } else if lp.is_some() {
        errs.push(invalid_raw(
            child(path, "localhostProfile"),
            &format!(
                "core.SeccompProfile{{Type:{}, LocalhostProfile:(*string)(nil)}}",
                names::go_quote(t)
            ),
            "can only be set when seccomp type is Localhost",
        ));
    }
}

fn app_armor_profile(errs: &mut Errs, ap: Option<&Value>, path: &str) {
    let Some(ap) = ap else {
        return;
    };
    let t = st(ap, "type");
    let lp = get(ap, "localhostProfile").and_then(Value::as_str);
    match t {
        "Localhost" => match lp {
            None => errs.push(FieldError::required(
                child(path, "localhostProfile"),
                "must be set when AppArmor type is Localhost",
            )),
            Some(p) => {
                if p.trim() != p {
                    errs.push(FieldError::invalid(
                        child(path, "localhostProfile"),
                        json!(p),
                        "must not be padded with whitespace",
                    ));
                } else if p.is_empty() {
                    errs.push(FieldError::required(
                        child(path, "localhostProfile"),
                        "must be set when AppArmor type is Localhost",
                    ));
                }
            }
        },
        "RuntimeDefault" | "Unconfined" => {
            if let Some(p) = lp {
                errs.push(FieldError::invalid(
                    child(path, "localhostProfile"),
                    json!(p),
                    "can only be set when AppArmor type is Localhost",
                ));
            }
        }
        "" => errs.push(FieldError::required(
            child(path, "type"),
            "type is required when appArmorProfile is set",
        )),
        other => errs.push(FieldError::not_supported(
            child(path, "type"),
            json!(other),
            &["Localhost", "RuntimeDefault", "Unconfined"],
        )),
    }
}

fn validate_security_context(errs: &mut Errs, sc: &Value, path: &str, host_users: bool) {
    id_range(errs, int(sc, "runAsUser"), &child(path, "runAsUser"));
    id_range(errs, int(sc, "runAsGroup"), &child(path, "runAsGroup"));
    if let Some(pm) = get(sc, "procMount").and_then(Value::as_str) {
        let p = child(path, "procMount");
        if pm != "Default" && pm != "Unmasked" {
            errs.push(FieldError::not_supported(
                p.clone(),
                json!(pm),
                &["Default", "Unmasked"],
            ));
        }
        if host_users && pm == "Unmasked" {
            errs.push(FieldError::invalid(
                p,
                json!(pm),
                "`hostUsers` must be false to use `Unmasked`",
            ));
        }
    }
    seccomp_profile(
        errs,
        get(sc, "seccompProfile"),
        &child(path, "seccompProfile"),
    );
    if boolean(sc, "allowPrivilegeEscalation") == Some(false) {
        if boolean(sc, "privileged") == Some(true) {
            errs.push(FieldError::invalid(
                path,
                sc.clone(),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            ));
        }
        if sc
            .pointer("/capabilities/add")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|c| c.as_str() == Some("CAP_SYS_ADMIN")))
        {
            errs.push(FieldError::invalid(
                path,
                sc.clone(),
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
            ));
        }
    }
    app_armor_profile(
        errs,
        get(sc, "appArmorProfile"),
        &child(path, "appArmorProfile"),
    );
}

fn validate_pod_security_context(errs: &mut Errs, spec: &Value, path: &str) {
    let Some(sc) = get(spec, "securityContext") else {
        return;
    };
    let p = child(path, "securityContext");
    id_range(errs, int(sc, "fsGroup"), &child(&p, "fsGroup"));
    id_range(errs, int(sc, "runAsUser"), &child(&p, "runAsUser"));
    id_range(errs, int(sc, "runAsGroup"), &child(&p, "runAsGroup"));
    for (i, g) in arr(sc, "supplementalGroups").iter().enumerate() {
        id_range(errs, g.as_i64(), &format!("{p}.supplementalGroups[{i}]"));
    }
    if boolean(spec, "shareProcessNamespace") == Some(true)
        && boolean(spec, "hostPID") == Some(true)
    {
        errs.push(FieldError::invalid(
            child(&p, "shareProcessNamespace"),
            json!(true),
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, s) in arr(sc, "sysctls").iter().enumerate() {
        let name = st(s, "name");
        let np = format!("{p}.sysctls[{i}].name");
        if name.is_empty() {
            errs.push(FieldError::required(np, ""));
        } else if !is_valid_sysctl_name(name) {
            errs.push(FieldError::invalid(
                np,
                json!(name),
                "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
            ));
        } else if !seen.insert(name) {
            errs.push(FieldError::duplicate(np, json!(name)));
        }
    }
    if let Some(pol) = get(sc, "fsGroupChangePolicy").and_then(Value::as_str)
        && pol != "OnRootMismatch"
        && pol != "Always"
    {
        errs.push(FieldError::not_supported(
            child(&p, "fsGroupChangePolicy"),
            json!(pol),
            &["Always", "OnRootMismatch"],
        ));
    }
    seccomp_profile(
        errs,
        get(sc, "seccompProfile"),
        &child(&p, "seccompProfile"),
    );
    app_armor_profile(
        errs,
        get(sc, "appArmorProfile"),
        &child(&p, "appArmorProfile"),
    );
    if let Some(pol) = get(sc, "supplementalGroupsPolicy").and_then(Value::as_str)
        && pol != "Merge"
        && pol != "Strict"
    {
        errs.push(FieldError::not_supported(
            child(&p, "supplementalGroupsPolicy"),
            json!(pol),
            &["Merge", "Strict"],
        ));
    }
    if let Some(pol) = get(sc, "seLinuxChangePolicy").and_then(Value::as_str)
        && pol != "MountOption"
        && pol != "Recursive"
    {
        errs.push(FieldError::not_supported(
            child(&p, "seLinuxChangePolicy"),
            json!(pol),
            &["MountOption", "Recursive"],
        ));
    }
}

fn is_valid_sysctl_name(name: &str) -> bool {
    if name.len() > 253 {
        return false;
    }
    let seg_ok = |s: &str| {
        let b = s.as_bytes();
        !b.is_empty()
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && (b[b.len() - 1].is_ascii_lowercase() || b[b.len() - 1].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'_')
    };
    name.split(['.', '/']).all(seg_ok)
}

// ---------------------------------------------------------------------------------------------
// Scheduling: tolerations, affinity, DNS config, topology spread.
// ---------------------------------------------------------------------------------------------

pub(crate) fn taint_effect(errs: &mut Errs, effect: &str, allow_empty: bool, path: &str) {
    if !allow_empty && effect.is_empty() {
        errs.push(FieldError::required(path, ""));
        return;
    }
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        errs.push(FieldError::not_supported(
            path,
            json!(effect),
            &["NoSchedule", "PreferNoSchedule", "NoExecute"],
        ));
    }
}

/// `ValidateTolerations`.
pub(crate) fn validate_tolerations(errs: &mut Errs, tolerations: &[Value], path: &str) {
    for (i, t) in tolerations.iter().enumerate() {
        let ip = index(path, i);
        let k = st(t, "key");
        let op = st(t, "operator");
        let effect = st(t, "effect");
        let value = st(t, "value");
        if !k.is_empty() {
            label_name(errs, k, &child(&ip, "key"));
        }
        if k.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                child(&ip, "operator"),
                json!(op),
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if get(t, "tolerationSeconds").is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                child(&ip, "effect"),
                json!(effect),
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match op {
            "Equal" | "" => {
                let msgs = names::is_valid_label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&ip, "operator"),
                        json!(value),
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&ip, "operator"),
                        json!(value),
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                child(&ip, "operator"),
                json!(other),
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() {
            taint_effect(errs, effect, true, &child(&ip, "effect"));
        }
    }
}

fn node_selector_requirement(errs: &mut Errs, rq: &Value, path: &str, check_values: bool) {
    let op = st(rq, "operator");
    let values = arr(rq, "values");
    match op {
        "In" | "NotIn" => {
            if values.is_empty() {
                errs.push(FieldError::required(
                    child(path, "values"),
                    "must be specified when `operator` is 'In' or 'NotIn'",
                ));
            }
        }
        "Exists" | "DoesNotExist" => {
            if !values.is_empty() {
                errs.push(FieldError::forbidden(
                    child(path, "values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                ));
            }
        }
        "Gt" | "Lt" => {
            if values.len() != 1 {
                errs.push(FieldError::required(
                    child(path, "values"),
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                ));
            }
        }
        other => errs.push(FieldError::invalid(
            child(path, "operator"),
            json!(other),
            "not a valid selector operator",
        )),
    }
    label_name(errs, st(rq, "key"), &child(path, "key"));
    if check_values {
        for (i, v) in values.iter().enumerate() {
            let v = v.as_str().unwrap_or_default();
            for m in names::is_valid_label_value(v) {
                errs.push(FieldError::invalid(
                    format!("{path}.values[{i}]"),
                    json!(v),
                    m,
                ));
            }
        }
    }
}

fn node_selector_term(errs: &mut Errs, term: &Value, path: &str, check_values: bool) {
    for (j, rq) in arr(term, "matchExpressions").iter().enumerate() {
        node_selector_requirement(
            errs,
            rq,
            &format!("{path}.matchExpressions[{j}]"),
            check_values,
        );
    }
    for (j, rq) in arr(term, "matchFields").iter().enumerate() {
        let p = format!("{path}.matchFields[{j}]");
        let op = st(rq, "operator");
        if op == "In" || op == "NotIn" {
            if arr(rq, "values").len() != 1 {
                errs.push(FieldError::required(
                    child(&p, "values"),
                    "must be only one value when `operator` is 'In' or 'NotIn' for node field selector",
                ));
            }
        } else {
            errs.push(FieldError::invalid(
                child(&p, "operator"),
                json!(op),
                "not a valid selector operator",
            ));
        }
        let k = st(rq, "key");
        if k != "metadata.name" {
            errs.push(FieldError::invalid(
                child(&p, "key"),
                json!(k),
                "not a valid field selector key",
            ));
        } else {
            for (i, v) in strings(rq, "values").iter().enumerate() {
                dns1123_subdomain(errs, v, &format!("{p}.values[{i}]"));
            }
        }
    }
}

/// `ValidateNodeSelector`.
pub(crate) fn node_selector(errs: &mut Errs, ns: &Value, path: &str) {
    let tp = child(path, "nodeSelectorTerms");
    let terms = arr(ns, "nodeSelectorTerms");
    if terms.is_empty() {
        errs.push(FieldError::required(
            tp,
            "must have at least one node selector term",
        ));
        return;
    }
    for (i, t) in terms.iter().enumerate() {
        node_selector_term(errs, t, &index(&tp, i), true);
    }
}

fn pod_affinity_term(errs: &mut Errs, term: &Value, path: &str) {
    if let Some(ls) = get(term, "labelSelector") {
        errs.extend(names::validate_label_selector(
            ls,
            &child(path, "labelSelector"),
        ));
    }
    if let Some(ns) = get(term, "namespaceSelector") {
        errs.extend(names::validate_label_selector(
            ns,
            &child(path, "namespaceSelector"),
        ));
    }
    for n in strings(term, "namespaces") {
        dns1123_label(errs, &n, &child(path, "namespace"));
    }
    let tk = st(term, "topologyKey");
    if tk.is_empty() {
        errs.push(FieldError::required(
            child(path, "topologyKey"),
            "can not be empty",
        ));
    }
    label_name(errs, tk, &child(path, "topologyKey"));
}

fn validate_affinity(errs: &mut Errs, aff: &Value, path: &str) {
    if let Some(na) = get(aff, "nodeAffinity") {
        let p = child(path, "nodeAffinity");
        if let Some(req) = get(na, "requiredDuringSchedulingIgnoredDuringExecution") {
            node_selector(
                errs,
                req,
                &child(&p, "requiredDuringSchedulingIgnoredDuringExecution"),
            );
        }
        for (i, t) in arr(na, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let tp = format!("{p}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            let w = int(t, "weight").unwrap_or(0);
            if !(1..=100).contains(&w) {
                errs.push(FieldError::invalid(
                    child(&tp, "weight"),
                    json!(w),
                    "must be in the range 1-100",
                ));
            }
            if let Some(pref) = get(t, "preference") {
                node_selector_term(errs, pref, &child(&tp, "preference"), false);
            }
        }
    }
    for k in ["podAffinity", "podAntiAffinity"] {
        let Some(pa) = get(aff, k) else {
            continue;
        };
        let p = child(path, k);
        for (i, t) in arr(pa, "requiredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            pod_affinity_term(
                errs,
                t,
                &format!("{p}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"),
            );
        }
        for (i, t) in arr(pa, "preferredDuringSchedulingIgnoredDuringExecution")
            .iter()
            .enumerate()
        {
            let tp = format!("{p}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
            let w = int(t, "weight").unwrap_or(0);
            if !(1..=100).contains(&w) {
                errs.push(FieldError::invalid(
                    child(&tp, "weight"),
                    json!(w),
                    "must be in the range 1-100",
                ));
            }
            if let Some(term) = get(t, "podAffinityTerm") {
                pod_affinity_term(errs, term, &child(&tp, "podAffinityTerm"));
            }
        }
    }
}

fn validate_dns_config(errs: &mut Errs, spec: &Value, dns_policy: &str, path: &str) {
    let cfg = get(spec, "dnsConfig");
    if dns_policy == "None" {
        let Some(c) = cfg else {
            errs.push(FieldError::required(
                path,
                "must provide `dnsConfig` when `dnsPolicy` is None",
            ));
            return;
        };
        if arr(c, "nameservers").is_empty() {
            errs.push(FieldError::required(
                child(path, "nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            ));
            return;
        }
    }
    let Some(c) = cfg else {
        return;
    };
    let ns = strings(c, "nameservers");
    if ns.len() > 3 {
        errs.push(invalid_raw(
            child(path, "nameservers"),
            &names::go_string_slice(&ns),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, n) in ns.iter().enumerate() {
        valid_ip(errs, n, &format!("{path}.nameservers[{i}]"));
    }
    let searches = strings(c, "searches");
    if searches.len() > 32 {
        errs.push(invalid_raw(
            child(path, "searches"),
            &names::go_string_slice(&searches),
            "must not have more than 32 search paths",
        ));
    }
    if searches.join(" ").len() > 2048 {
        errs.push(invalid_raw(
            child(path, "searches"),
            &names::go_string_slice(&searches),
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    for (i, s) in searches.iter().enumerate() {
        if s == "." {
            continue;
        }
        let trimmed = s.strip_suffix('.').unwrap_or(s);
        // Relaxed DNS search validation (on in v1.33): underscores are allowed.
        let check = trimmed.replace('_', "a");
        if !names::is_dns1123_subdomain(&check.to_lowercase()).is_empty() {
            errs.push(FieldError::invalid(
                format!("{path}.searches[{i}]"),
                json!(trimmed),
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*')",
            ));
        }
    }
    for (i, o) in arr(c, "options").iter().enumerate() {
        if st(o, "name").is_empty() {
            errs.push(FieldError::required(
                format!("{path}.options[{i}]"),
                "must not be empty",
            ));
        }
    }
}

fn validate_topology_spread(errs: &mut Errs, constraints: &[Value], path: &str) {
    for (i, c) in constraints.iter().enumerate() {
        let p = index(path, i);
        let skew = int(c, "maxSkew").unwrap_or(0);
        if skew <= 0 {
            errs.push(FieldError::invalid(
                child(&p, "maxSkew"),
                json!(skew),
                "must be greater than zero",
            ));
        }
        let tk = st(c, "topologyKey");
        if tk.is_empty() {
            errs.push(FieldError::required(
                child(&p, "topologyKey"),
                "can not be empty",
            ));
        }
        let wu = st(c, "whenUnsatisfiable");
        if wu != "DoNotSchedule" && wu != "ScheduleAnyway" {
            errs.push(FieldError::not_supported(
                child(&p, "whenUnsatisfiable"),
                json!(wu),
                &["DoNotSchedule", "ScheduleAnyway"],
            ));
        }
        if constraints[i + 1..]
            .iter()
            .any(|o| st(o, "topologyKey") == tk && st(o, "whenUnsatisfiable") == wu)
        {
            errs.push(FieldError::duplicate(
                child(&p, "{topologyKey, whenUnsatisfiable}"),
                json!(format!("{{{tk}, {wu}}}")),
            ));
        }
        if let Some(md) = int(c, "minDomains") {
            if md <= 0 {
                errs.push(FieldError::invalid(
                    child(&p, "minDomains"),
                    json!(md),
                    "must be greater than zero",
                ));
            }
            if wu != "DoNotSchedule" {
                errs.push(FieldError::invalid(
                    child(&p, "minDomains"),
                    json!(md),
                    format!("can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {wu}"),
                ));
            }
        }
        for k in ["nodeAffinityPolicy", "nodeTaintsPolicy"] {
            if let Some(v) = get(c, k).and_then(Value::as_str)
                && v != "Honor"
                && v != "Ignore"
            {
                errs.push(FieldError::not_supported(
                    child(&p, k),
                    json!(v),
                    &["Honor", "Ignore"],
                ));
            }
        }
        if let Some(ls) = get(c, "labelSelector") {
            errs.extend(names::validate_label_selector(
                ls,
                &child(&p, "labelSelector"),
            ));
        }
    }
}
