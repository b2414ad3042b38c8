//! Server-side apply (`application/apply-patch+yaml`).

use crate::handler::Query;
use crate::registry::Served;
use crate::rest::{UpdateScope, WriteOptions, Written};
use crate::server::ApiServer;
use axum::http::StatusCode;
use berth_apimachinery::status::ApiError;
use serde_json::Value;
use std::sync::Arc;

#[allow(clippy::too_many_arguments)]
pub async fn server_side_apply(
    _s: &Arc<ApiServer>,
    _served: &Arc<Served>,
    _ns: Option<&str>,
    _name: &str,
    _scope: UpdateScope,
    _obj: &Value,
    _force: bool,
    _opts: &WriteOptions,
) -> Result<(StatusCode, Written), ApiError> {
    let _ = Query::default();
    Err(ApiError::unsupported_media_type(
        "application/apply-patch+yaml",
    ))
}
