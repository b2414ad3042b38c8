//! Names and labels of rendered objects.

use std::collections::BTreeMap;

use berth_apimachinery::names;
use berth_spec::meta;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use crate::{RenderContext, RenderError};

/// `environment` label of a spec that names no environment.
pub(crate) const DEFAULT_ENVIRONMENT: &str = "default";

/// Who owns the objects: an App or a CronApp of a name, plus what every label needs.
pub(crate) struct Owner<'a> {
    /// `App` or `CronApp`.
    pub kind: &'static str,
    pub name: &'a str,
    pub namespace: &'a str,
    /// Labels of every object (see [`Owner::new`]).
    pub labels: BTreeMap<String, String>,
}

impl<'a> Owner<'a> {
    /// Checks `name` and builds the labels every object carries: managed-by, owner, app,
    /// project (when set), environment and cluster.
    pub fn new(
        kind: &'static str,
        name: &'a str,
        project: Option<&str>,
        environment: Option<&str>,
        ctx: &'a RenderContext,
    ) -> Result<Owner<'a>, RenderError> {
        check_name(kind, name)?;
        let mut labels = BTreeMap::new();
        let mut put = |key: &str, value: String| -> Result<(), RenderError> {
            check_label_value(key, &value)?;
            labels.insert(key.to_string(), value);
            Ok(())
        };
        put(meta::LABEL_MANAGED_BY, meta::MANAGED_BY_VALUE.to_string())?;
        put(meta::LABEL_OWNER, meta::owner_value(kind, name))?;
        put(meta::LABEL_APP, name.to_string())?;
        if let Some(project) = project {
            put(meta::LABEL_PROJECT, project.to_string())?;
        }
        put(
            meta::LABEL_ENVIRONMENT,
            environment.unwrap_or(DEFAULT_ENVIRONMENT).to_string(),
        )?;
        put(meta::LABEL_CLUSTER, ctx.cluster.clone())?;
        Ok(Owner {
            kind,
            name,
            namespace: &ctx.namespace,
            labels,
        })
    }

    /// Metadata of an object named `name`: namespace and the owner's labels. No
    /// ownerReferences: the operator adds them (it knows the owner's UID).
    pub fn object_meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.namespace.to_string()),
            labels: Some(self.labels.clone()),
            ..Default::default()
        }
    }

    /// Labels a pod template carries: the object labels plus `track` and `log-type` (what the
    /// seeds' log pipeline routes on).
    pub fn pod_labels(
        &self,
        debug: bool,
        log_type: Option<berth_spec::LogType>,
    ) -> BTreeMap<String, String> {
        let mut labels = self.labels.clone();
        labels.insert(
            meta::LABEL_TRACK.to_string(),
            if debug { "debug" } else { "stable" }.to_string(),
        );
        labels.insert(
            meta::LABEL_LOG_TYPE.to_string(),
            log_type
                .unwrap_or(berth_spec::LogType::Text)
                .as_str()
                .to_string(),
        );
        labels
    }

    /// The selector of the Deployment, Service and PodDisruptionBudget: `app` and the owner.
    /// The owner keeps a CronApp of the same name out; `app` alone is what `berth isolate`
    /// changes to take a pod out of service.
    pub fn selector_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (meta::LABEL_APP.to_string(), self.name.to_string()),
            (
                meta::LABEL_OWNER.to_string(),
                meta::owner_value(self.kind, self.name),
            ),
        ])
    }

    pub fn label_selector(&self) -> LabelSelector {
        LabelSelector {
            match_labels: Some(self.selector_labels()),
            ..Default::default()
        }
    }
}

/// An App's name becomes a Service name (a DNS-1035 label) and, as `App.<name>`, a label value
/// (63 characters); a CronApp's name becomes a CronJob name, which Kubernetes limits to 52
/// characters so that Job names (`<name>-<11 digits>`) stay within 63.
fn check_name(kind: &str, name: &str) -> Result<(), RenderError> {
    let invalid = |reason: String| RenderError::InvalidName {
        name: name.to_string(),
        reason,
    };
    if let Some(reason) = names::is_dns1035_label(name).into_iter().next() {
        return Err(invalid(reason));
    }
    let max = match kind {
        "CronApp" => 52,
        _ => 63 - meta::owner_value(kind, "").len(),
    };
    if name.len() > max {
        return Err(invalid(format!(
            "must be no more than {max} characters for a {kind}"
        )));
    }
    Ok(())
}

fn check_label_value(key: &str, value: &str) -> Result<(), RenderError> {
    match names::is_valid_label_value(value).into_iter().next() {
        None => Ok(()),
        Some(reason) => Err(RenderError::InvalidLabel {
            key: key.to_string(),
            value: value.to_string(),
            reason,
        }),
    }
}
