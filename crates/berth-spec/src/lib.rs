//! Berth's app and cron specs.
//!
//! - [`types`]: the spec structs, which are also the `berth.dev/v1alpha1` App and CronApp custom
//!   resources (`kube::CustomResource`), with a JSON Schema from `schemars`.
//! - [`meta`]: labels, annotations and the revision record shared by renderer, operator and CLI.
//! - [`load`]: spec files (short YAML documents, or full custom resources) into App/CronApp.
//! - [`lint`]: checks of loaded specs, with file, line and field of every finding.
//! - [`schema`]: the CRDs and the JSON Schema of spec files for editors.

pub mod environment;
pub mod lint;
pub mod load;
pub mod meta;
pub mod runtime;
pub mod schema;
pub mod types;

pub use environment::{UnknownEnvironment, resolve_app, resolve_cron};
pub use lint::{Finding, LintReport, Severity, lint_docs, lint_paths, parse_quantity};
pub use load::{
    FieldLines, LoadedDoc, SpecDoc, SpecError, load_path, load_paths, load_str, to_short_yaml,
};
pub use meta::{RevisionRecord, spec_hash};
pub use types::*;
