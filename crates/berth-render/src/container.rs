//! The one container of an app or job: image, command, env, resources and config file mounts.

use std::collections::BTreeMap;

use berth_apimachinery::quantity;
use berth_spec::Resources;
use berth_spec::runtime::{DEFAULT_CPU, DEFAULT_MEMORY, JVM_MAX_RAM_PERCENTAGE, Runtime};
use k8s_openapi::api::core::v1::{Container, EnvVar, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::RenderError;
use crate::files::Files;

/// The JVM reads extra options from this variable whatever the command line is, so the heap
/// setting works with custom commands too.
const JAVA_TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";

/// What App and CronApp specs share about their process.
pub(crate) struct Process<'a> {
    pub runtime: Option<&'a str>,
    pub image: Option<&'a str>,
    pub entrypoint: Option<&'a str>,
    pub command: Option<&'a [String]>,
    pub args: Option<&'a [String]>,
    pub working_dir: Option<&'a str>,
    pub resources: Option<&'a Resources>,
    pub env: &'a BTreeMap<String, String>,
}

/// The container named `name`, without ports, probes or hooks (the app adds those).
pub(crate) fn container(
    name: &str,
    process: &Process<'_>,
    files: Option<&Files>,
) -> Result<Container, RenderError> {
    let runtime = process
        .runtime
        .map(Runtime::parse)
        .transpose()
        .map_err(RenderError::UnknownRuntime)?;
    let image = match (process.image, &runtime) {
        (Some(image), _) => image.to_string(),
        (None, Some(runtime)) => runtime.image(),
        (None, None) => {
            return Err(RenderError::NothingToRun(
                "set an image, or a runtime and an entrypoint".to_string(),
            ));
        }
    };
    let command = match (process.command, process.entrypoint, &runtime) {
        (Some(command), _, _) => Some(command.to_vec()),
        (None, Some(entrypoint), Some(runtime)) => Some(runtime.command(entrypoint)),
        (None, Some(entrypoint), None) => {
            return Err(RenderError::NothingToRun(format!(
                "entrypoint {entrypoint:?} needs a runtime to run it (or give a command)"
            )));
        }
        // The image's own entrypoint runs.
        (None, None, _) if process.image.is_some() => None,
        (None, None, _) => {
            return Err(RenderError::NothingToRun(format!(
                "runtime {:?} needs an entrypoint or a command",
                process.runtime.unwrap_or_default()
            )));
        }
    };

    let mut env = process.env.clone();
    if runtime.as_ref().is_some_and(Runtime::is_jvm) {
        add_jvm_heap_option(&mut env);
    }

    Ok(Container {
        name: name.to_string(),
        image: Some(image),
        command,
        args: process.args.map(<[String]>::to_vec),
        working_dir: process.working_dir.map(str::to_string),
        env: (!env.is_empty()).then(|| {
            env.into_iter()
                .map(|(name, value)| EnvVar {
                    name,
                    value: Some(value),
                    ..Default::default()
                })
                .collect()
        }),
        resources: Some(resources(process.resources)?),
        volume_mounts: files.map(|f| f.mounts.clone()),
        ..Default::default()
    })
}

/// `-XX:MaxRAMPercentage` sizes the heap from the container's memory limit (the JVM default of
/// 25% wastes most of it). Appended to a user's JAVA_TOOL_OPTIONS unless they set the
/// percentage themselves (the last occurrence wins in the JVM, so appending would override it).
fn add_jvm_heap_option(env: &mut BTreeMap<String, String>) {
    let option = format!("-XX:MaxRAMPercentage={JVM_MAX_RAM_PERCENTAGE}");
    match env.get_mut(JAVA_TOOL_OPTIONS) {
        Some(existing) if existing.contains("MaxRAMPercentage") => {}
        Some(existing) if existing.trim().is_empty() => *existing = option,
        Some(existing) => {
            existing.push(' ');
            existing.push_str(&option);
        }
        None => {
            env.insert(JAVA_TOOL_OPTIONS.to_string(), option);
        }
    }
}

/// Requests from the spec or the platform defaults; limits from the spec or equal to the
/// requests. Both are always set so no pod is unbounded (and memory request = limit keeps a
/// pod from being the first one evicted under node pressure). Quantities are written in the
/// canonical form the API server stores, so a re-render compares equal to the live object.
fn resources(spec: Option<&Resources>) -> Result<ResourceRequirements, RenderError> {
    let cpu = spec.and_then(|r| r.cpu.as_deref()).unwrap_or(DEFAULT_CPU);
    let memory = spec
        .and_then(|r| r.memory.as_deref())
        .unwrap_or(DEFAULT_MEMORY);
    let limits = spec.and_then(|r| r.limits.as_ref());
    let cpu_limit = limits.and_then(|l| l.cpu.as_deref()).unwrap_or(cpu);
    let memory_limit = limits.and_then(|l| l.memory.as_deref()).unwrap_or(memory);
    let list = |cpu: Quantity, memory: Quantity| {
        BTreeMap::from([("cpu".to_string(), cpu), ("memory".to_string(), memory)])
    };
    Ok(ResourceRequirements {
        requests: Some(list(
            parse_quantity("resources.cpu", cpu)?,
            parse_quantity("resources.memory", memory)?,
        )),
        limits: Some(list(
            parse_quantity("resources.limits.cpu", cpu_limit)?,
            parse_quantity("resources.limits.memory", memory_limit)?,
        )),
        ..Default::default()
    })
}

fn parse_quantity(field: &str, value: &str) -> Result<Quantity, RenderError> {
    let invalid = |reason: String| RenderError::InvalidQuantity {
        field: field.to_string(),
        value: value.to_string(),
        reason,
    };
    let mut parsed = quantity::parse(value.trim()).map_err(invalid)?;
    if parsed.sign() <= 0 {
        return Err(invalid("must be greater than zero".to_string()));
    }
    // What the API server's defaulting does to every resource list.
    parsed.round_up(-3);
    Ok(Quantity(parsed.canonical()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jvm_option_is_added_appended_or_left_alone() {
        let mut env = BTreeMap::new();
        add_jvm_heap_option(&mut env);
        assert_eq!(env[JAVA_TOOL_OPTIONS], "-XX:MaxRAMPercentage=75.0");

        let mut env = BTreeMap::from([(JAVA_TOOL_OPTIONS.to_string(), "-Xss1m".to_string())]);
        add_jvm_heap_option(&mut env);
        assert_eq!(env[JAVA_TOOL_OPTIONS], "-Xss1m -XX:MaxRAMPercentage=75.0");

        let mine = "-XX:MaxRAMPercentage=50.0";
        let mut env = BTreeMap::from([(JAVA_TOOL_OPTIONS.to_string(), mine.to_string())]);
        add_jvm_heap_option(&mut env);
        assert_eq!(env[JAVA_TOOL_OPTIONS], mine);
    }

    #[test]
    fn quantities_are_checked_and_canonical() {
        assert_eq!(parse_quantity("cpu", "0.5").expect("0.5").0, "500m");
        assert_eq!(parse_quantity("memory", "1024Mi").expect("1Gi").0, "1Gi");
        assert!(matches!(
            parse_quantity("memory", "lots"),
            Err(RenderError::InvalidQuantity { .. })
        ));
        assert!(parse_quantity("cpu", "0").is_err());
        assert!(parse_quantity("cpu", "-1").is_err());
    }
}
