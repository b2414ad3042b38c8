//! `/debug/berth/<component>/<path>`: read-only JSON views that in-process components (the
//! scheduler's recent decisions, for one) publish, so a user can see why something happened.
//! Like kube-apiserver's `/debug/` paths, they are not part of the resource API.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::http::{Method, StatusCode};
use axum::response::Response;
use berth_apimachinery::status::ApiError;
use serde_json::Value;

use crate::handler::{error_response, json_response};
use crate::server::ApiServer;

pub const PREFIX: &str = "/debug/berth/";

/// Answers GETs under one component's prefix; `None` means 404.
pub trait DebugSource: Send + Sync {
    fn get(&self, path: &str) -> Option<Value>;
}

#[derive(Default)]
pub(crate) struct DebugEndpoints {
    sources: RwLock<BTreeMap<String, Arc<dyn DebugSource>>>,
}

impl DebugEndpoints {
    pub(crate) fn add(&self, component: &str, source: Arc<dyn DebugSource>) {
        self.sources
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(component.to_string(), source);
    }
}

pub(crate) fn serve(server: &ApiServer, method: &Method, rest: &str) -> Response {
    if method != Method::GET {
        return error_response(&ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let (component, path) = rest.split_once('/').unwrap_or((rest, ""));
    let source = server
        .debug
        .sources
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(component)
        .cloned();
    match source.and_then(|s| s.get(path)) {
        Some(v) => json_response(StatusCode::OK, &v, &[]),
        None => error_response(&ApiError::new(
            404,
            "NotFound",
            format!("nothing is known at {PREFIX}{rest}"),
        )),
    }
}
