//! `berth render` and `berth lint`: offline, no cluster access.

use std::path::PathBuf;
use std::process::ExitCode;

use berth_render::RenderContext;
use berth_spec::lint::{LintReport, Severity};
use berth_spec::load::{LoadedDoc, SpecDoc};
use serde_json::{Value, json};

use crate::output::{Printer, list_of};
use crate::{CliError, OutputArgs};

#[derive(clap::Args, Clone, Debug)]
pub struct RenderArgs {
    /// Spec files or directories.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Environment to render.
    #[arg(long = "env", value_name = "ENV")]
    pub environment: Option<String>,
    /// Namespace of the objects (default: the document's, else "default").
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Cluster name, the `cluster` label.
    #[arg(long, default_value = "berth")]
    pub cluster: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args, Clone, Debug)]
pub struct LintArgs {
    /// Spec files or directories.
    #[arg(value_name = "PATH", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Renders loaded documents as the operator would: `environment` (if given) set on each,
/// objects in `namespace`, else the document's namespace, else "default".
pub fn render_docs(
    docs: &[LoadedDoc],
    environment: Option<&str>,
    namespace: Option<&str>,
    cluster: &str,
) -> Result<Vec<Value>, CliError> {
    let mut objects = Vec::new();
    for loaded in docs {
        let ctx = RenderContext {
            namespace: namespace
                .or(loaded.doc.namespace())
                .unwrap_or("default")
                .to_string(),
            cluster: cluster.to_string(),
        };
        let name = loaded.doc.name();
        let rendered = match &loaded.doc {
            SpecDoc::App(app) => {
                let mut spec = app.spec.clone();
                if let Some(env) = environment {
                    spec.environment = Some(env.to_string());
                }
                berth_render::render_app(name, &spec, &ctx)
            }
            SpecDoc::CronApp(cron) => {
                let mut spec = cron.spec.clone();
                if let Some(env) = environment {
                    spec.environment = Some(env.to_string());
                }
                berth_render::render_cron(name, &spec, &ctx)
            }
        };
        let rendered = rendered.map_err(|e| {
            CliError::Usage(format!(
                "{}:{}: {} {name:?}: {e}",
                loaded.path.display(),
                loaded.line,
                loaded.doc.kind()
            ))
        })?;
        objects.extend(rendered);
    }
    Ok(objects)
}

pub fn render(args: &RenderArgs, out: &Printer) -> Result<ExitCode, CliError> {
    let docs = berth_spec::load::load_paths(&args.paths)?;
    let objects = render_docs(
        &docs,
        args.environment.as_deref(),
        args.namespace.as_deref(),
        &args.cluster,
    )?;
    match out.format {
        crate::OutputFormat::Json => out.structured(&list_of(objects))?,
        _ => out.text(berth_render::to_yaml(&objects)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `3 apps, 1 cron job: 1 error, 2 warnings`.
pub(crate) fn summary(report: &LintReport) -> String {
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = report.findings.len() - errors;
    format!(
        "{}, {}: {}, {}",
        plural(report.apps, "app", "apps"),
        plural(report.crons, "cron job", "cron jobs"),
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
    )
}

pub fn lint(args: &LintArgs, out: &Printer) -> Result<ExitCode, CliError> {
    let report = berth_spec::lint::lint_paths(&args.paths);
    if out.is_human() {
        for finding in &report.findings {
            out.line(finding.to_string());
        }
        out.line(summary(&report));
    } else {
        let findings: Vec<Value> = report
            .findings
            .iter()
            .map(|f| {
                json!({
                    "path": f.path.display().to_string(),
                    "line": f.line,
                    "severity": f.severity.to_string(),
                    "field": f.field,
                    "message": f.message,
                })
            })
            .collect();
        out.structured(&json!({
            "apps": report.apps,
            "crons": report.crons,
            "findings": findings,
        }))?;
    }
    Ok(crate::exit(!report.has_errors()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_spec::lint::Finding;

    #[test]
    fn lint_summary_counts_and_pluralizes() {
        let finding = |severity| Finding {
            severity,
            path: "a.yaml".into(),
            line: 3,
            field: "spec.replicas".into(),
            message: "m".into(),
        };
        let report = LintReport {
            findings: vec![
                finding(Severity::Error),
                finding(Severity::Warning),
                finding(Severity::Warning),
            ],
            apps: 3,
            crons: 1,
        };
        assert_eq!(summary(&report), "3 apps, 1 cron job: 1 error, 2 warnings");
        let empty = LintReport {
            findings: vec![],
            apps: 1,
            crons: 0,
        };
        assert_eq!(summary(&empty), "1 app, 0 cron jobs: 0 errors, 0 warnings");
    }
}
