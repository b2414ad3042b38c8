//! `berth history`: an App's revisions.

use std::process::ExitCode;

use berth_spec::App;
use serde_json::json;

use crate::common::{Revision, get_app, list_revisions};
use crate::output::{Printer, table};
use crate::{CliError, ClientArgs, Connection, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct HistoryArgs {
    pub app: String,
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub async fn run(
    args: HistoryArgs,
    conn: &Connection,
    out: &Printer,
) -> Result<ExitCode, CliError> {
    let namespace = conn.namespace(&args.client);
    let app = get_app(&conn.client, &namespace, &args.app).await?;
    let revisions = list_revisions(&conn.client, &app).await?;
    if !out.is_human() {
        let (current, last_good) = marks(&app);
        let items: Vec<serde_json::Value> = revisions
            .iter()
            .map(|r| {
                json!({
                    "revision": r.number,
                    "name": r.name,
                    "current": Some(r.number) == current,
                    "lastGood": Some(r.number) == last_good,
                    "record": r.record,
                })
            })
            .collect();
        out.structured(&items)?;
        return Ok(ExitCode::SUCCESS);
    }
    if revisions.is_empty() {
        out.line(format!(
            "No revisions of App {:?} yet (the operator records one per deploy).",
            args.app
        ));
        return Ok(ExitCode::SUCCESS);
    }
    out.text(history_table(&app, &revisions));
    Ok(ExitCode::SUCCESS)
}

fn marks(app: &App) -> (Option<i64>, Option<i64>) {
    let status = app.status.clone().unwrap_or_default();
    (status.revision, status.last_good_revision)
}

/// REVISION TIME AUTHOR IMAGE MESSAGE NOTE, oldest first; NOTE marks the current and last good
/// revisions and rollbacks.
pub(crate) fn history_table(app: &App, revisions: &[Revision]) -> String {
    let (current, last_good) = marks(app);
    let rows: Vec<Vec<String>> = revisions
        .iter()
        .map(|r| {
            let mut notes = Vec::new();
            if Some(r.number) == current {
                notes.push("current".to_string());
            }
            if Some(r.number) == last_good {
                notes.push("last good".to_string());
            }
            if let Some(of) = r.record.rollback_of {
                notes.push(format!("rollback of {of}"));
            }
            vec![
                r.number.to_string(),
                r.record.time.clone(),
                r.record.author.clone().unwrap_or_else(|| "<none>".into()),
                r.record.image.clone().unwrap_or_else(|| "<none>".into()),
                r.record.message.clone().unwrap_or_default(),
                notes.join(", "),
            ]
        })
        .collect();
    table(
        &["REVISION", "TIME", "AUTHOR", "IMAGE", "MESSAGE", "NOTE"],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::{AppSpec, AppStatus, RevisionRecord};

    #[test]
    fn history_marks_current_last_good_and_rollbacks() {
        let mut app = App::new("web", AppSpec::default());
        app.status = Some(AppStatus {
            revision: Some(3),
            last_good_revision: Some(1),
            ..Default::default()
        });
        let rev = |n: i64, rollback_of: Option<i64>| Revision {
            number: n,
            name: format!("app-web-{n}"),
            record: RevisionRecord {
                time: format!("2026-01-0{n}T00:00:00Z"),
                author: Some("alice".into()),
                image: Some(format!("web:{n}")),
                message: Some("deploy".into()),
                rollback_of,
                ..Default::default()
            },
        };
        let text = history_table(&app, &[rev(1, None), rev(2, None), rev(3, Some(1))]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("REVISION   TIME"), "{text}");
        assert!(lines[1].ends_with("last good"), "{text}");
        assert!(lines[2].ends_with("deploy"), "{text}");
        assert!(lines[3].ends_with("current, rollback of 1"), "{text}");
        assert!(lines[3].contains("web:3"), "{text}");
    }
}
