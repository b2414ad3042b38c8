//! Probes (from `health`) and lifecycle hooks (from `lifecycle`) of an app's container.

use berth_spec::{HealthCheck, Lifecycle};
use k8s_openapi::api::core::v1::{
    ExecAction, HTTPGetAction, Lifecycle as PodLifecycle, LifecycleHandler, Probe, SleepAction,
    TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::RenderError;

const READINESS_PERIOD: i32 = 5;
const LIVENESS_PERIOD: i32 = 10;
/// Every second while the app starts: the first success makes the pod ready (readiness
/// runs at once then), so this bounds how long a started app waits for traffic.
const STARTUP_PERIOD: i32 = 1; // the failure threshold below assumes 1
const DEFAULT_TIMEOUT: i32 = 1;
const DEFAULT_FAILURE_THRESHOLD: i32 = 3;
const DEFAULT_STARTUP_SECONDS: i32 = 60;
const DEFAULT_DRAIN_SECONDS: i32 = 5;
/// Kubernetes' default terminationGracePeriodSeconds, and Berth's floor for it.
const MIN_GRACE_SECONDS: i64 = 30;
/// Time left after the drain for the offline command and the app's own shutdown.
const GRACE_AFTER_DRAIN: i64 = 15;

/// How the app's health is checked, resolved from `health` and the ports.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Check {
    Http { path: String, port: i32 },
    Exec(Vec<String>),
    Tcp(i32),
}

impl Check {
    /// `health` resolved against the app's first port: an HTTP GET on `path`, else `command`,
    /// else a TCP connect. `None` without `health`.
    pub fn from_health(
        health: Option<&HealthCheck>,
        first_port: Option<i32>,
    ) -> Result<Option<Check>, RenderError> {
        let Some(health) = health else {
            return Ok(None);
        };
        let port = || {
            health.port.or(first_port).ok_or_else(|| {
                RenderError::invalid(
                    "health.port",
                    "no port to check: set health.port, a port, or health.command",
                )
            })
        };
        Ok(Some(if let Some(path) = &health.path {
            let path = if path.starts_with('/') {
                path.clone()
            } else {
                format!("/{path}")
            };
            Check::Http {
                path,
                port: port()?,
            }
        } else if let Some(command) = &health.command {
            Check::Exec(command.clone())
        } else {
            Check::Tcp(port()?)
        }))
    }

    fn apply(&self, probe: &mut Probe) {
        match self {
            Check::Http { path, port } => {
                probe.http_get = Some(HTTPGetAction {
                    path: Some(path.clone()),
                    port: IntOrString::Int(*port),
                    ..Default::default()
                })
            }
            Check::Exec(command) => {
                probe.exec = Some(ExecAction {
                    command: Some(command.clone()),
                })
            }
            Check::Tcp(port) => {
                probe.tcp_socket = Some(TCPSocketAction {
                    port: IntOrString::Int(*port),
                    ..Default::default()
                })
            }
        }
    }
}

/// The container's probes.
#[derive(Default)]
pub(crate) struct Probes {
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    pub startup: Option<Probe>,
}

/// With a health check: readiness (every 5s), liveness (every 10s) and a startup probe (every
/// second, for up to `startupSeconds`) that holds the other two back while the app starts, so a slow
/// start is not killed by liveness. Without one, a TCP readiness probe on the first port keeps
/// traffic away from a pod that does not listen yet; no liveness, since nothing says what
/// "alive" means for this app. No ports and no health: no probes.
pub(crate) fn probes(
    health: Option<&HealthCheck>,
    check: Option<&Check>,
    first_port: Option<i32>,
) -> Result<Probes, RenderError> {
    let (Some(health), Some(check)) = (health, check) else {
        return Ok(Probes {
            readiness: first_port.map(|port| {
                let mut probe = Probe {
                    period_seconds: Some(READINESS_PERIOD),
                    timeout_seconds: Some(DEFAULT_TIMEOUT),
                    failure_threshold: Some(DEFAULT_FAILURE_THRESHOLD),
                    ..Default::default()
                };
                Check::Tcp(port).apply(&mut probe);
                probe
            }),
            ..Default::default()
        });
    };
    let timeout = health.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT);
    let failure_threshold = health
        .failure_threshold
        .unwrap_or(DEFAULT_FAILURE_THRESHOLD);
    let startup_seconds = startup_seconds(Some(health))?;
    let probe = |period: i32, failure_threshold: i32, initial_delay: Option<i32>| {
        let mut probe = Probe {
            initial_delay_seconds: initial_delay,
            period_seconds: Some(period),
            timeout_seconds: Some(timeout),
            failure_threshold: Some(failure_threshold),
            ..Default::default()
        };
        check.apply(&mut probe);
        probe
    };
    Ok(Probes {
        readiness: Some(probe(
            health.period_seconds.unwrap_or(READINESS_PERIOD),
            failure_threshold,
            Some(health.initial_delay_seconds.unwrap_or(0)),
        )),
        liveness: Some(probe(LIVENESS_PERIOD, failure_threshold, None)),
        startup: Some(probe(
            STARTUP_PERIOD,
            // One attempt per second of the budget.
            startup_seconds,
            None,
        )),
    })
}

/// `health.startupSeconds` (default 60): the startup probe's budget and how long the online
/// hook waits for the app.
fn startup_seconds(health: Option<&HealthCheck>) -> Result<i32, RenderError> {
    let seconds = health
        .and_then(|h| h.startup_seconds)
        .unwrap_or(DEFAULT_STARTUP_SECONDS);
    if seconds < 1 {
        return Err(RenderError::invalid(
            "health.startupSeconds",
            format!("{seconds} must be at least 1"),
        ));
    }
    Ok(seconds)
}

/// The container's lifecycle hooks and the pod's terminationGracePeriodSeconds.
pub(crate) struct Hooks {
    pub lifecycle: Option<PodLifecycle>,
    pub termination_grace_period_seconds: Option<i64>,
}

/// preStop: `offline` then a sleep of `drainSeconds` (default 5), while endpoints and load
/// balancers stop sending traffic (removal from endpoints races with SIGTERM otherwise, and
/// requests in flight get connection resets: the seeds' lesson). An app with ports gets the
/// drain sleep even without `offline`; that one is a `sleep` action rather than `sh -c sleep`
/// so it also works in images without a shell (the go runtime's distroless image). The grace
/// period grows with the drain so the kubelet does not kill the pod in the middle of it.
///
/// postStart: `online` must run once the app is healthy, but Kubernetes starts postStart
/// together with the container. So the hook first polls the app the way the health check
/// does, once a second for up to `startupSeconds`, then runs `online` (also when the wait runs
/// out: the startup probe decides the pod's fate, not the hook). The HTTP poll tries curl, then
/// wget (slim images have one or the other); a TCP check tries bash's `/dev/tcp`, then `nc -z`.
/// An image with none of these tools makes the hook wait its full budget before `online`.
pub(crate) fn hooks(
    lifecycle: Option<&Lifecycle>,
    health: Option<&HealthCheck>,
    check: Option<&Check>,
    first_port: Option<i32>,
) -> Result<Hooks, RenderError> {
    let drain = lifecycle
        .and_then(|l| l.drain_seconds)
        .unwrap_or(DEFAULT_DRAIN_SECONDS);
    if drain < 0 {
        return Err(RenderError::invalid(
            "lifecycle.drainSeconds",
            format!("{drain} must not be negative"),
        ));
    }
    let offline = lifecycle.and_then(|l| l.offline.as_deref());
    let online = lifecycle.and_then(|l| l.online.as_deref());
    let drain_explicit = lifecycle.is_some_and(|l| l.drain_seconds.is_some());

    let pre_stop = match offline {
        Some(offline) => {
            let script = if drain > 0 {
                format!("{offline}; sleep {drain}")
            } else {
                offline.to_string()
            };
            Some(shell_hook(script))
        }
        None if drain > 0 && (first_port.is_some() || drain_explicit) => Some(LifecycleHandler {
            sleep: Some(SleepAction {
                seconds: i64::from(drain),
            }),
            ..Default::default()
        }),
        None => None,
    };
    let post_start = match online {
        Some(online) => {
            // A check without health (ports only) is the readiness probe's TCP check.
            let check = check.cloned().or(first_port.map(Check::Tcp));
            let script = match check {
                Some(check) => {
                    let tries = startup_seconds(health)?;
                    format!("{}; {online}", wait_loop(&check, tries))
                }
                None => online.to_string(),
            };
            Some(shell_hook(script))
        }
        None => None,
    };
    let termination_grace_period_seconds = pre_stop
        .is_some()
        .then(|| MIN_GRACE_SECONDS.max(i64::from(drain) + GRACE_AFTER_DRAIN));
    let lifecycle = (pre_stop.is_some() || post_start.is_some()).then(|| PodLifecycle {
        post_start,
        pre_stop,
        ..Default::default()
    });
    Ok(Hooks {
        lifecycle,
        termination_grace_period_seconds,
    })
}

fn shell_hook(script: String) -> LifecycleHandler {
    LifecycleHandler {
        exec: Some(ExecAction {
            command: Some(vec!["sh".to_string(), "-c".to_string(), script]),
        }),
        ..Default::default()
    }
}

/// A shell loop that ends when `check` passes or after `tries` one-second attempts.
fn wait_loop(check: &Check, tries: i32) -> String {
    let attempt = match check {
        Check::Http { path, port } => {
            let url = format!("http://127.0.0.1:{port}{path}");
            format!(
                "(curl -fsS -o /dev/null {url} || wget -q -O /dev/null {url}) 2>/dev/null",
                url = shell_quote(&url)
            )
        }
        // POSIX sh has no TCP connect: bash's /dev/tcp (Debian-based images), else nc
        // (busybox/Alpine images).
        Check::Tcp(port) => format!(
            "(bash -c 'echo > /dev/tcp/127.0.0.1/{port}' || nc -z 127.0.0.1 {port}) 2>/dev/null"
        ),
        Check::Exec(command) => {
            let words: Vec<String> = command.iter().map(|w| shell_quote(w)).collect();
            format!("{} >/dev/null 2>&1", words.join(" "))
        }
    };
    format!("for i in $(seq 1 {tries}); do {attempt} && break; sleep 1; done")
}

/// `word` as one shell word: unchanged when it has no special characters, else single-quoted.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ',' | '@' | '+')
        });
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting() {
        assert_eq!(
            shell_quote("http://127.0.0.1:8080/healthz"),
            "http://127.0.0.1:8080/healthz"
        );
        assert_eq!(shell_quote("/health?full=1"), "'/health?full=1'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn health_resolution() {
        let health = HealthCheck {
            path: Some("healthz".into()),
            ..Default::default()
        };
        assert_eq!(
            Check::from_health(Some(&health), Some(8080)).expect("http"),
            Some(Check::Http {
                path: "/healthz".into(),
                port: 8080
            })
        );
        assert!(Check::from_health(Some(&health), None).is_err());
        let exec = HealthCheck {
            command: Some(vec!["true".into()]),
            ..Default::default()
        };
        assert_eq!(
            Check::from_health(Some(&exec), None).expect("exec"),
            Some(Check::Exec(vec!["true".into()]))
        );
        assert_eq!(
            Check::from_health(Some(&HealthCheck::default()), Some(9000)).expect("tcp"),
            Some(Check::Tcp(9000))
        );
    }

    #[test]
    fn startup_budget_covers_startup_seconds() {
        let health = HealthCheck {
            startup_seconds: Some(61),
            ..Default::default()
        };
        let check = Check::Tcp(1);
        let p = probes(Some(&health), Some(&check), Some(1)).expect("probes");
        let startup = p.startup.expect("startup probe");
        let (period, threshold) = (
            startup.period_seconds.unwrap_or(0),
            startup.failure_threshold.unwrap_or(0),
        );
        assert!(period * threshold >= 61, "{period}s x {threshold}");
        assert!(period * (threshold - 1) < 61, "{period}s x {threshold}");
    }

    #[test]
    fn drain_without_offline_sleeps_only_with_ports() {
        let hooks_for = |port| hooks(None, None, None, port).expect("hooks");
        let with_port = hooks_for(Some(80));
        let pre_stop = with_port
            .lifecycle
            .and_then(|l| l.pre_stop)
            .and_then(|p| p.sleep);
        assert_eq!(pre_stop.map(|s| s.seconds), Some(5));
        assert_eq!(with_port.termination_grace_period_seconds, Some(30));
        let without = hooks_for(None);
        assert!(without.lifecycle.is_none());
        assert!(without.termination_grace_period_seconds.is_none());
    }
}
