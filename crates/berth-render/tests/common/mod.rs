//! Golden case files shared by the tests: `golden/<case>.spec.yaml`.

use std::path::{Path, PathBuf};

use berth_render::{RenderContext, render_app, render_cron};
use berth_spec::{AppSpec, CronAppSpec};
use serde::Deserialize;
use serde_json::Value;

/// A case file: which kind, its name, optionally the context, and the spec.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    kind: String,
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    cluster: Option<String>,
    spec: Value,
}

pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

pub fn render_case(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read case");
    let case: Case =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut ctx = RenderContext::default();
    if let Some(ns) = case.namespace {
        ctx.namespace = ns;
    }
    if let Some(cluster) = case.cluster {
        ctx.cluster = cluster;
    }
    match case.kind.as_str() {
        "App" => {
            let spec: AppSpec = serde_json::from_value(case.spec)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            render_app(&case.name, &spec, &ctx)
        }
        "CronApp" => {
            let spec: CronAppSpec = serde_json::from_value(case.spec)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            render_cron(&case.name, &spec, &ctx)
        }
        other => panic!("{}: unknown kind {other}", path.display()),
    }
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".spec.yaml"))
        .collect();
    cases.sort();
    cases
}
