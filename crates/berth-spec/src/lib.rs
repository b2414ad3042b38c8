//! Berth's app and cron specs.
//!
//! - [`types`]: the spec structs, which are also the `berth.dev/v1alpha1` App and CronApp custom
//!   resources (`kube::CustomResource`), with a JSON Schema from `schemars`.
//! - [`meta`]: labels, annotations and the revision record shared by renderer, operator and CLI.

pub mod environment;
pub mod meta;
pub mod runtime;
pub mod types;

pub use environment::{UnknownEnvironment, resolve_app, resolve_cron};
pub use meta::{RevisionRecord, spec_hash};
pub use types::*;
