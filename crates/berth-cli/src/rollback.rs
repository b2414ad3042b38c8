//! `berth rollback`: apply an earlier revision's spec again. The operator sees a spec equal to
//! a recorded revision's and re-applies that revision's objects (the fast path).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use berth_spec::meta::{ANNOTATION_AUTHOR, ANNOTATION_MESSAGE};
use berth_spec::{App, GROUP, VERSION};
use kube::api::{Api, Patch};
use serde_json::json;

use crate::common::{Revision, apply_params, get_app, list_revisions};
use crate::output::{Printer, parse_duration, short_elapsed};
use crate::wait::{Progress, report, wait_for};
use crate::{CliError, ClientArgs, Connection, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct RollbackArgs {
    pub app: String,
    /// Revision to go back to (default: the previous distinct deploy).
    #[arg(long, value_name = "N")]
    pub to_revision: Option<i64>,
    /// Return after patching, without waiting for the rollout.
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait for the app to become available.
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The revision to roll back to: `to` if given (it must exist), else the newest revision older
/// than the current one whose spec differs from it (the previous distinct deploy; rollbacks
/// re-record older specs, so the revision just before may hold the same spec).
pub fn rollback_target(
    revisions: &[Revision],
    current: Option<i64>,
    to: Option<i64>,
) -> Result<&Revision, String> {
    if let Some(n) = to {
        return revisions.iter().find(|r| r.number == n).ok_or_else(|| {
            let known: Vec<String> = revisions.iter().map(|r| r.number.to_string()).collect();
            format!(
                "revision {n} not found (revisions: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )
        });
    }
    let current = match current.and_then(|c| revisions.iter().find(|r| r.number == c)) {
        Some(r) => r,
        None => revisions
            .last()
            .ok_or_else(|| "no revisions recorded yet".to_string())?,
    };
    revisions
        .iter()
        .rev()
        .filter(|r| r.number < current.number)
        .find(|r| r.record.spec_hash != current.record.spec_hash)
        .ok_or_else(|| {
            format!(
                "no earlier revision with a different spec than revision {}",
                current.number
            )
        })
}

pub async fn run(
    args: RollbackArgs,
    conn: &Connection,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    let app = get_app(&conn.client, &namespace, &args.app).await?;
    let revisions = list_revisions(&conn.client, &app).await?;
    let current = app.status.as_ref().and_then(|s| s.revision);
    let target = rollback_target(&revisions, current, args.to_revision)
        .map_err(|e| CliError::Usage(format!("cannot roll back App {:?}: {e}", args.app)))?;

    let mut annotations = serde_json::Map::new();
    annotations.insert(
        ANNOTATION_MESSAGE.into(),
        json!(format!("rollback to revision {}", target.number)),
    );
    if let Some(author) = &conn.author {
        annotations.insert(ANNOTATION_AUTHOR.into(), json!(author));
    }
    let body = json!({
        "apiVersion": format!("{GROUP}/{VERSION}"),
        "kind": "App",
        "metadata": {"name": args.app, "namespace": namespace, "annotations": annotations},
        "spec": target.record.spec,
    });
    let started = Instant::now();
    let api: Api<App> = Api::namespaced(conn.client.clone(), &namespace);
    let patched = api
        .patch(&args.app, &apply_params(), &Patch::Apply(&body))
        .await
        .map_err(|e| CliError::apply("App", &args.app, &namespace, e))?;
    let generation = patched.metadata.generation.unwrap_or(0);
    out.progress(format!(
        "{}: rolling back to revision {} (image {})",
        args.app,
        target.number,
        target.record.image.as_deref().unwrap_or("<none>")
    ));
    if args.no_wait {
        if !out.is_human() {
            out.structured(&patched)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let progress = Progress::new(out);
    let line = progress.line();
    let outcome = wait_for::<App>(
        &conn.client,
        &namespace,
        &args.app,
        generation,
        args.timeout,
        &line,
    )
    .await?;
    line.finish();
    let ok = report(out, "App", &args.app, &outcome, args.timeout);
    if ok {
        out.progress(format!(
            "{}: rolled back to revision {} in {}",
            args.app,
            target.number,
            short_elapsed(started.elapsed())
        ));
    }
    if !out.is_human() {
        match outcome.object() {
            Some(app) => out.structured(app)?,
            None => out.structured(&patched)?,
        }
    }
    Ok(crate::exit(ok))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::RevisionRecord;

    fn rev(n: i64, hash: &str) -> Revision {
        Revision {
            number: n,
            name: format!("app-web-{n}"),
            record: RevisionRecord {
                spec_hash: hash.into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn default_target_is_the_previous_distinct_deploy() {
        // 1:A 2:B 3:A (rollback to 1) 4:A — from 4, the previous distinct spec is 2.
        let revs = [rev(1, "A"), rev(2, "B"), rev(3, "A"), rev(4, "A")];
        assert_eq!(rollback_target(&revs, Some(4), None).expect("t").number, 2);
        assert_eq!(rollback_target(&revs, Some(2), None).expect("t").number, 1);
        // Without a status revision, the newest is current.
        assert_eq!(rollback_target(&revs, None, None).expect("t").number, 2);
        assert!(rollback_target(&revs, Some(1), None).is_err());
        assert!(rollback_target(&[], None, None).is_err());
        assert_eq!(
            rollback_target(&revs, Some(4), Some(3)).expect("t").number,
            3
        );
        let err = rollback_target(&revs, Some(4), Some(9)).expect_err("missing");
        assert!(err.contains("1, 2, 3, 4"), "{err}");
    }
}
