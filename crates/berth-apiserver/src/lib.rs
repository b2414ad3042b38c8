//! Berth's Kubernetes-compatible API server (the kube-apiserver role).
//!
//! Request flow: [`server::serve_tls`] accepts HTTPS connections and hands every request to
//! [`handler::handle`], which authenticates it ([`auth`]), answers health, version and discovery
//! ([`discovery`]), and routes resource requests by verb: reads and lists in [`handler`],
//! watches in [`watch`], patches in [`patch`] (server-side apply in [`apply`]),
//! subresources in [`subresource`]. Responses are shaped as full objects, `PartialObjectMetadata` or
//! `Table`s ([`table`]); [`openapi`] serves the OpenAPI v3 documents kubectl validates against. The generic registry logic (defaulting, validation,
//! admission, optimistic concurrency, graceful deletion, finalizers) is in [`rest`], on top of
//! the [`berth_store::Store`] trait. [`registry`] knows which resources are served, including
//! those of CustomResourceDefinitions, which are installed and removed at run time.

pub mod admission;
pub mod apply;
pub mod auth;
pub mod body;
pub mod debug;
pub mod discovery;
pub mod handler;
pub mod ipalloc;
pub mod metrics;
pub mod object;
pub mod openapi;
pub mod patch;
pub mod pki;
pub mod podexec;
pub mod podlogs;
pub mod registry;
pub mod request;
pub mod rest;
pub mod server;
pub mod subresource;
pub mod table;
#[cfg(feature = "testing")]
pub mod testing;
pub mod watch;

pub use server::{ApiServer, Config, ServerError, serve_tls};
