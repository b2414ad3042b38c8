//! Waiting for the operator: watch an App (or CronApp) until it has observed the generation we
//! wrote and reached a terminal phase, showing a line per change (and a spinner on a terminal).

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use berth_spec::{App, AppPhase, CronApp};
use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;

use crate::output::Printer;

/// Live progress of several waits: a spinner per object on a terminal, else plain lines.
pub struct Progress {
    multi: Option<MultiProgress>,
    out: Printer,
}

/// One object's progress line.
pub struct ProgressLine {
    bar: Option<ProgressBar>,
    out: Printer,
    last: Mutex<String>,
}

impl Progress {
    pub fn new(out: &Printer) -> Progress {
        let multi = out
            .interactive()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stdout()));
        Progress {
            multi,
            out: out.clone(),
        }
    }

    pub fn line(&self) -> ProgressLine {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new_spinner());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ProgressLine {
            bar,
            out: self.out.clone(),
            last: Mutex::new(String::new()),
        }
    }
}

impl ProgressLine {
    /// Prints `text` when it differs from the last line.
    pub fn update(&self, text: String) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if *last == text {
            return;
        }
        match &self.bar {
            Some(bar) => {
                bar.println(&text);
                bar.set_message(text.clone());
            }
            None => self.out.progress(&text),
        }
        *last = text;
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// How a wait ended.
#[derive(Debug)]
pub enum WaitOutcome<K> {
    /// Observed and Available.
    Ready(K),
    /// Observed and RolledBack/Failed/Invalid.
    Failed(K),
    /// Not there in time; the last object seen.
    TimedOut(Option<K>),
}

impl<K> WaitOutcome<K> {
    pub fn object(&self) -> Option<&K> {
        match self {
            WaitOutcome::Ready(k) | WaitOutcome::Failed(k) => Some(k),
            WaitOutcome::TimedOut(k) => k.as_ref(),
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self, WaitOutcome::Ready(_))
    }
}

/// What a wait needs to know of an App or a CronApp.
pub trait Tracked:
    kube::Resource + Clone + Debug + DeserializeOwned + Send + Sync + 'static
{
    fn observed_generation(&self) -> Option<i64>;
    fn phase(&self) -> Option<AppPhase>;
    fn message(&self) -> Option<&str>;
    /// The progress line (without the name).
    fn describe(&self) -> String;
}

impl Tracked for App {
    fn observed_generation(&self) -> Option<i64> {
        self.status.as_ref()?.observed_generation
    }
    fn phase(&self) -> Option<AppPhase> {
        self.status.as_ref()?.phase
    }
    fn message(&self) -> Option<&str> {
        self.status.as_ref()?.message.as_deref()
    }
    fn describe(&self) -> String {
        describe_app(self)
    }
}

impl Tracked for CronApp {
    fn observed_generation(&self) -> Option<i64> {
        self.status.as_ref()?.observed_generation
    }
    fn phase(&self) -> Option<AppPhase> {
        self.status.as_ref()?.phase
    }
    fn message(&self) -> Option<&str> {
        self.status.as_ref()?.message.as_deref()
    }
    fn describe(&self) -> String {
        let status = self.status.clone().unwrap_or_default();
        let revision = status
            .revision
            .map(|r| format!("revision {r} "))
            .unwrap_or_default();
        match status.phase {
            None => "waiting for the operator".to_string(),
            Some(AppPhase::Available) => format!("{revision}scheduled ({})", self.spec.schedule),
            Some(phase) => with_message(
                format!("{revision}{}", phase.as_str().to_lowercase()),
                status.message.as_deref(),
            ),
        }
    }
}

fn with_message(text: String, message: Option<&str>) -> String {
    match message {
        Some(m) if !m.is_empty() => format!("{text}: {m}"),
        _ => text,
    }
}

/// `revision 3 rolling out 1/2 ready` and the like.
pub fn describe_app(app: &App) -> String {
    let Some(status) = app.status.clone() else {
        return "waiting for the operator".to_string();
    };
    let ready = status.ready.clone().unwrap_or_else(|| {
        format!(
            "{}/{}",
            status.ready_replicas.unwrap_or(0),
            status.replicas.unwrap_or(0)
        )
    });
    let revision = status
        .revision
        .map(|r| format!("revision {r} "))
        .unwrap_or_default();
    match status.phase {
        None | Some(AppPhase::Pending) => "pending".to_string(),
        Some(AppPhase::Progressing) => format!("{revision}rolling out {ready} ready"),
        Some(AppPhase::Available) => format!("{revision}available {ready} ready"),
        Some(AppPhase::RolledBack) => with_message(
            format!(
                "rolled back to revision {}",
                status
                    .last_good_revision
                    .or(status.revision)
                    .map_or("?".to_string(), |r| r.to_string())
            ),
            status.message.as_deref(),
        ),
        Some(AppPhase::Failed) => {
            with_message(format!("{revision}failed"), status.message.as_deref())
        }
        Some(AppPhase::Invalid) => with_message("invalid".to_string(), status.message.as_deref()),
    }
}

/// Where an object stands relative to the generation we wrote.
fn settled<K: Tracked>(obj: &K, generation: i64) -> Option<bool> {
    if obj.observed_generation().unwrap_or(0) < generation {
        return None;
    }
    match obj.phase()? {
        AppPhase::Available => Some(true),
        AppPhase::RolledBack | AppPhase::Failed | AppPhase::Invalid => Some(false),
        AppPhase::Pending | AppPhase::Progressing => None,
    }
}

/// Watches `name` until it has observed `generation` and settled, or `timeout` passes.
pub async fn wait_for<K>(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    generation: i64,
    timeout: Duration,
    line: &ProgressLine,
) -> Result<WaitOutcome<K>, crate::CliError>
where
    K: Tracked + kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default + Clone + Eq + std::hash::Hash + Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last: Option<K> = None;
    // The current state first: the object may have settled before the watch starts.
    if let Some(obj) = api.get_opt(name).await? {
        line.update(format!("{name}: {}", obj.describe()));
        match settled(&obj, generation) {
            Some(true) => return Ok(WaitOutcome::Ready(obj)),
            Some(false) => return Ok(WaitOutcome::Failed(obj)),
            None => last = Some(obj),
        }
    }
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut stream = watcher(api, config)
        .default_backoff()
        .applied_objects()
        .boxed();
    loop {
        let next = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return Ok(WaitOutcome::TimedOut(last)),
            Ok(None) => return Ok(WaitOutcome::TimedOut(last)),
            Ok(Some(next)) => next,
        };
        let obj = match next {
            Ok(obj) => obj,
            Err(error) => {
                // The watcher backs off and retries by itself.
                tracing::debug!(%error, "watch error while waiting");
                continue;
            }
        };
        line.update(format!("{name}: {}", obj.describe()));
        match settled(&obj, generation) {
            Some(true) => return Ok(WaitOutcome::Ready(obj)),
            Some(false) => return Ok(WaitOutcome::Failed(obj)),
            None => last = Some(obj),
        }
    }
}

/// Prints the end of a wait; returns whether it succeeded.
pub fn report<K: Tracked>(
    out: &Printer,
    kind: &str,
    name: &str,
    outcome: &WaitOutcome<K>,
    timeout: Duration,
) -> bool {
    match outcome {
        WaitOutcome::Ready(obj) => {
            out.progress(format!("{name}: {}", obj.describe()));
            true
        }
        WaitOutcome::Failed(obj) => {
            let phase = obj.phase().map_or("Failed", AppPhase::as_str);
            out.progress(format!(
                "{name}: {phase}: {}",
                obj.message().unwrap_or("(no message)")
            ));
            false
        }
        WaitOutcome::TimedOut(obj) => {
            let last = obj
                .as_ref()
                .map_or("never seen".to_string(), |o| o.describe());
            out.progress(format!(
                "{name}: timed out after {} waiting for the {kind} to become available; last status: {last}",
                crate::output::human_duration(timeout)
            ));
            false
        }
    }
}

/// Waits until a Deployment's rollout is complete, as `kubectl rollout status` decides it:
/// the controller observed the generation, every replica is updated and available, no old
/// replica is left.
pub async fn wait_deployment(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
    line: &ProgressLine,
) -> Result<bool, crate::CliError> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let started = Instant::now();
    loop {
        let d = api.get(name).await?;
        let (done, text) = deployment_rollout(&d);
        line.update(format!("{name}: {text}"));
        if done {
            return Ok(true);
        }
        if started.elapsed() >= timeout {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Whether a Deployment's rollout is complete, and a line saying where it is.
pub fn deployment_rollout(d: &Deployment) -> (bool, String) {
    let generation = d.metadata.generation.unwrap_or(0);
    let status = d.status.clone().unwrap_or_default();
    if status.observed_generation.unwrap_or(0) < generation {
        return (false, "waiting for the deployment controller".to_string());
    }
    let desired = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < desired {
        (
            false,
            format!("{updated} of {desired} updated replicas are available... rolling out"),
        )
    } else if replicas > updated {
        (
            false,
            format!(
                "{} old replicas are pending termination",
                replicas - updated
            ),
        )
    } else if available < updated {
        (
            false,
            format!("{available} of {updated} updated replicas are available"),
        )
    } else {
        (true, format!("restarted, {available}/{desired} available"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::{AppSpec, AppStatus};

    fn app(status: AppStatus) -> App {
        let mut app = App::new("web", AppSpec::default());
        app.status = Some(status);
        app
    }

    #[test]
    fn progress_lines_say_where_the_rollout_is() {
        let a = app(AppStatus {
            observed_generation: Some(2),
            phase: Some(AppPhase::Progressing),
            revision: Some(3),
            ready: Some("1/2".into()),
            ..Default::default()
        });
        assert_eq!(a.describe(), "revision 3 rolling out 1/2 ready");
        assert_eq!(settled(&a, 2), None);
        let a = app(AppStatus {
            observed_generation: Some(2),
            phase: Some(AppPhase::RolledBack),
            revision: Some(4),
            last_good_revision: Some(2),
            message: Some("revision 3 failed: crash".into()),
            ..Default::default()
        });
        assert_eq!(
            a.describe(),
            "rolled back to revision 2: revision 3 failed: crash"
        );
        assert_eq!(settled(&a, 2), Some(false));
        // An Available status of an older generation is not the answer.
        let a = app(AppStatus {
            observed_generation: Some(1),
            phase: Some(AppPhase::Available),
            ..Default::default()
        });
        assert_eq!(settled(&a, 2), None);
        assert_eq!(settled(&a, 1), Some(true));
    }
}
