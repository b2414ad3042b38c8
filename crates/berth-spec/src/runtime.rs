//! Named runtimes (`python-3.11`, `java-17`, ...): on Kubernetes a base image, on the embedded
//! node (which runs containers as host processes) the host's interpreter of the same name.

/// Families Berth knows and the versions it accepts for each.
const FAMILIES: &[(&str, &[&str])] = &[
    ("python", &["3.9", "3.10", "3.11", "3.12", "3.13"]),
    ("java", &["8", "11", "17", "21"]),
    ("node", &["18", "20", "22"]),
    ("ruby", &["3.2", "3.3"]),
    ("go", &[]),
    ("shell", &[]),
];

/// A resolved runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runtime {
    /// `python`, `java`, `node`, `ruby`, `go` (a static binary) or `shell`.
    pub family: &'static str,
    pub version: Option<String>,
}

impl Runtime {
    /// Parses `family-version` (or a bare family without versions, like `go` and `shell`).
    pub fn parse(name: &str) -> Result<Runtime, String> {
        let (family, version) = match name.split_once('-') {
            Some((f, v)) => (f, Some(v)),
            None => (name, None),
        };
        let Some((family, versions)) = FAMILIES.iter().find(|(f, _)| *f == family) else {
            return Err(format!(
                "unknown runtime {name:?}; known: {}",
                known_runtimes().join(", ")
            ));
        };
        match (version, versions.is_empty()) {
            (None, true) => Ok(Runtime {
                family,
                version: None,
            }),
            (Some(v), false) if versions.contains(&v) => Ok(Runtime {
                family,
                version: Some(v.to_string()),
            }),
            _ => Err(format!(
                "unknown runtime {name:?}; known: {}",
                known_runtimes().join(", ")
            )),
        }
    }

    /// The base image on Kubernetes.
    pub fn image(&self) -> String {
        let v = self.version.as_deref().unwrap_or("");
        match self.family {
            "python" => format!("python:{v}-slim"),
            "java" => format!("eclipse-temurin:{v}-jre"),
            "node" => format!("node:{v}-slim"),
            "ruby" => format!("ruby:{v}-slim"),
            "go" => "gcr.io/distroless/static-debian12".to_string(),
            _ => "debian:bookworm-slim".to_string(),
        }
    }

    /// The command that runs `entrypoint` under this runtime. The interpreter is named without
    /// a version (`python3`, `java`) so the same command runs in the image and on a host.
    pub fn command(&self, entrypoint: &str) -> Vec<String> {
        let e = entrypoint.to_string();
        match self.family {
            "python" => vec!["python3".into(), e],
            "java" => vec!["java".into(), "-jar".into(), e],
            "node" => vec!["node".into(), e],
            "ruby" => vec!["ruby".into(), e],
            "go" => vec![e],
            _ => vec!["sh".into(), e],
        }
    }

    /// JVM runtimes size their heap from the container's memory limit.
    pub fn is_jvm(&self) -> bool {
        self.family == "java"
    }
}

/// Every accepted runtime name, for error messages and the JSON Schema.
pub fn known_runtimes() -> Vec<String> {
    FAMILIES
        .iter()
        .flat_map(|(f, vs)| {
            if vs.is_empty() {
                vec![f.to_string()]
            } else {
                vs.iter().map(|v| format!("{f}-{v}")).collect()
            }
        })
        .collect()
}

/// Requests applied where a spec leaves resources out (the project defaults); limits default to
/// the requests.
pub const DEFAULT_CPU: &str = "100m";
pub const DEFAULT_MEMORY: &str = "128Mi";
/// Share of the memory limit a JVM may use for its heap (`-XX:MaxRAMPercentage`).
pub const JVM_MAX_RAM_PERCENTAGE: &str = "75.0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_and_refuses_unknown() {
        let py = Runtime::parse("python-3.11").expect("python");
        assert_eq!(py.image(), "python:3.11-slim");
        assert_eq!(py.command("app.py"), ["python3", "app.py"]);
        assert!(Runtime::parse("java-17").expect("java").is_jvm());
        assert_eq!(Runtime::parse("shell").expect("shell").family, "shell");
        let err = Runtime::parse("python-2.7").expect_err("old python");
        assert!(err.contains("python-3.11"), "{err}");
        assert!(Runtime::parse("cobol").is_err());
        assert!(Runtime::parse("shell-5").is_err());
    }
}
