//! Per-environment overrides: a spec plus its chosen `environment` resolves to the spec the
//! renderer sees (the base with that environment's override merged in).

use crate::types::{AppSpec, CronAppSpec, EnvironmentOverride};

/// The environment named in a spec is not one of its `environments`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment {name:?} is not defined in spec.environments (defined: {defined})")]
pub struct UnknownEnvironment {
    pub name: String,
    pub defined: String,
}

fn pick<'a>(
    environment: Option<&str>,
    environments: &'a std::collections::BTreeMap<String, EnvironmentOverride>,
) -> Result<Option<&'a EnvironmentOverride>, UnknownEnvironment> {
    let Some(name) = environment else {
        return Ok(None);
    };
    match environments.get(name) {
        Some(o) => Ok(Some(o)),
        // An environment without overrides is fine when none are defined at all.
        None if environments.is_empty() => Ok(None),
        None => Err(UnknownEnvironment {
            name: name.to_string(),
            defined: environments.keys().cloned().collect::<Vec<_>>().join(", "),
        }),
    }
}

/// The App spec with `spec.environment`'s override applied; `environments` is emptied and
/// `environment` kept (it becomes the `environment` label).
pub fn resolve_app(spec: &AppSpec) -> Result<AppSpec, UnknownEnvironment> {
    let mut out = spec.clone();
    out.environments.clear();
    if let Some(o) = pick(spec.environment.as_deref(), &spec.environments)? {
        if o.replicas.is_some() {
            out.replicas = o.replicas;
        }
        out.env.extend(o.env.clone());
        if o.resources.is_some() {
            out.resources = o.resources.clone();
        }
        if o.autoscaling.is_some() {
            out.autoscaling = o.autoscaling.clone();
        }
        if o.domain.is_some() {
            out.domain = o.domain.clone();
        }
    }
    Ok(out)
}

/// The CronApp spec with `spec.environment`'s override applied (env and resources; replicas,
/// autoscaling and domain mean nothing to a cron job and are refused by lint).
pub fn resolve_cron(spec: &CronAppSpec) -> Result<CronAppSpec, UnknownEnvironment> {
    let mut out = spec.clone();
    out.environments.clear();
    if let Some(o) = pick(spec.environment.as_deref(), &spec.environments)? {
        out.env.extend(o.env.clone());
        if o.resources.is_some() {
            out.resources = o.resources.clone();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_merges_and_unknown_is_refused() {
        let mut spec = AppSpec {
            replicas: Some(1),
            env: [("A".to_string(), "1".to_string()), ("B".into(), "2".into())].into(),
            ..Default::default()
        };
        spec.environments.insert(
            "prod".into(),
            EnvironmentOverride {
                replicas: Some(4),
                env: [("B".to_string(), "prod".to_string())].into(),
                ..Default::default()
            },
        );
        spec.environment = Some("prod".into());
        let r = resolve_app(&spec).expect("prod");
        assert_eq!(r.replicas, Some(4));
        assert_eq!(r.env["A"], "1");
        assert_eq!(r.env["B"], "prod");
        assert!(r.environments.is_empty());

        spec.environment = Some("staging".into());
        let err = resolve_app(&spec).expect_err("unknown");
        assert!(err.to_string().contains("prod"), "{err}");

        spec.environment = None;
        assert_eq!(resolve_app(&spec).expect("base").replicas, Some(1));
    }
}
