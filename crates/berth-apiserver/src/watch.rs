//! WATCH: newline-delimited JSON events from the store's change feed, with Kubernetes'
//! resourceVersion semantics, selectors, bookmarks and initial events.

use crate::handler::{Filters, Query, Shape, render_object};
use crate::object;
use crate::registry::Served;
use crate::rest;
use crate::server::ApiServer;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use berth_apimachinery::status::ApiError;
use berth_store::{Event, WatchItem};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn event_line(kind: &str, obj: &Value) -> Bytes {
    let mut v = serde_json::to_vec(&json!({"type": kind, "object": obj})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn bookmark(served: &Served, shape: Shape, rev: i64, initial_end: bool) -> Value {
    let (kind, api_version) = match shape {
        Shape::Full | Shape::Table(_) => (served.info.kind.clone(), served.info.api_version()),
        Shape::PartialMetadata => ("PartialObjectMetadata".into(), "meta.k8s.io/v1".into()),
    };
    let mut meta = json!({"resourceVersion": rev.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": kind, "apiVersion": api_version, "metadata": meta})
}

/// The ERROR event Kubernetes sends (inside a 200 stream) when the start revision is gone.
fn too_old(requested: i64, compacted: i64) -> Value {
    ApiError::gone(format!(
        "too old resource version: {requested} ({compacted})"
    ))
    .to_status()
}

pub async fn serve(
    s: Arc<ApiServer>,
    served: Arc<Served>,
    ns: Option<String>,
    q: &Query,
    shape: Shape,
) -> Result<Response, ApiError> {
    let filters = Filters::parse(&served, q)?;
    let bookmarks = q.bool("allowWatchBookmarks")?.unwrap_or(false);
    let send_initial = q.bool("sendInitialEvents")?;
    let rv_param = q.get("resourceVersion");
    let rv_match = q.get("resourceVersionMatch");
    if send_initial.is_some() {
        if rv_match != Some("NotOlderThan") {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "ListOptions",
                "",
                &[berth_apimachinery::status::FieldError::forbidden(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                )],
            ));
        }
        if !bookmarks && send_initial == Some(true) {
            return Err(ApiError::invalid(
                "meta.k8s.io",
                "ListOptions",
                "",
                &[berth_apimachinery::status::FieldError::forbidden(
                    "allowWatchBookmarks",
                    "sendInitialEvents requires setting allowWatchBookmarks to true",
                )],
            ));
        }
    } else if rv_match.is_some() {
        return Err(ApiError::invalid(
            "meta.k8s.io",
            "ListOptions",
            "",
            &[berth_apimachinery::status::FieldError::forbidden(
                "resourceVersionMatch",
                "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            )],
        ));
    }
    let timeout = match q.int("timeoutSeconds")? {
        Some(t) if t > 0 => Duration::from_secs(t as u64),
        // Kubernetes picks a random timeout between the min request timeout and twice it.
        _ => Duration::from_secs(1800 + rand::random::<u64>() % 1800),
    };
    let requested: i64 = match rv_param {
        None => 0,
        Some(v) => v.parse().map_err(|_| {
            ApiError::invalid(
                "meta.k8s.io",
                "ListOptions",
                "",
                &[berth_apimachinery::status::FieldError::invalid(
                    "resourceVersion",
                    json!(v),
                    "must be a valid integer",
                )],
            )
        })?,
    };
    let prefix = served.list_prefix(ns.as_deref());
    // Initial state: for resourceVersion "" or "0" (and sendInitialEvents=true), current objects
    // are sent as ADDED events before changes.
    let initial = send_initial == Some(true) || (send_initial.is_none() && requested == 0);
    let mut head: Vec<Bytes> = Vec::new();
    let start_rev;
    if initial {
        let mut start_after = None;
        let mut rev = 0;
        loop {
            let page = s
                .store
                .list(berth_store::ListRequest {
                    prefix: prefix.clone(),
                    start_after: start_after.clone(),
                    limit: 1000,
                    revision: rev,
                })
                .await
                .map_err(|e| rest::map_store_error(&served, "", e))?;
            rev = page.revision;
            for kv in &page.items {
                let obj = rest::from_storage(&served, kv)?;
                if filters.matches(&served, &obj) {
                    head.push(event_line("ADDED", &render_object(&served, obj, shape)));
                }
            }
            if !page.more {
                break;
            }
            start_after = page.items.last().map(|kv| kv.key.clone());
        }
        start_rev = rev;
        if send_initial == Some(true) {
            head.push(event_line(
                "BOOKMARK",
                &bookmark(&served, shape, start_rev, true),
            ));
        }
    } else {
        start_rev = requested;
    }

    let mut resp_head = Response::builder()
        .status(StatusCode::OK)
        .header(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )
        .header(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        );
    resp_head = resp_head.header("X-Content-Type-Options", "nosniff");

    let store_stream = match s.store.watch(&prefix, start_rev).await {
        Ok(st) => st,
        Err(berth_store::StoreError::Compacted {
            requested,
            compacted,
        }) => {
            let line = event_line("ERROR", &too_old(requested, compacted));
            return resp_head
                .body(Body::from(line))
                .map_err(|e| ApiError::internal(e.to_string()));
        }
        Err(e) => return Err(rest::map_store_error(&served, "", e)),
    };

    let mut shutdown = s.shutdown.clone();
    let served2 = served.clone();
    let events = store_stream.filter_map(move |item| {
        let served = served2.clone();
        let out = match item {
            WatchItem::Progress(rev) => {
                if bookmarks {
                    Some(event_line(
                        "BOOKMARK",
                        &bookmark(&served, shape, rev, false),
                    ))
                } else {
                    None
                }
            }
            WatchItem::Event(ev) => translate(&served, &filters, shape, ev),
        };
        futures::future::ready(out)
    });
    let stream = futures::stream::iter(head)
        .chain(events)
        .map(Ok::<Bytes, std::convert::Infallible>);
    // End the stream at the timeout or when the server shuts down.
    let deadline = tokio::time::sleep(timeout);
    let ended = async move {
        tokio::select! {
            _ = deadline => {},
            _ = crate::server::shutdown_requested(&mut shutdown) => {},
        }
    };
    let stream = stream.take_until(Box::pin(ended));
    resp_head
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// One store event as a watch event, honouring selectors: an object that stops matching is
/// DELETED for this watcher, one that starts matching is ADDED.
fn translate(served: &Served, filters: &Filters, shape: Shape, ev: Event) -> Option<Bytes> {
    // Without selectors every watcher of this resource sends the same line: render it once.
    if filters.is_empty() && shape == Shape::Full {
        let (revision, key) = (ev.revision(), ev.key().to_string());
        if let Some(line) = served.rendered.get(revision, &key) {
            return Some(line);
        }
        let line = match ev {
            Event::Put { kv, prev } => {
                let obj = rest::from_storage(served, &kv).ok()?;
                let kind = if prev.is_some() { "MODIFIED" } else { "ADDED" };
                event_line(kind, &obj)
            }
            Event::Delete { prev, revision } => {
                let mut obj = rest::from_storage(served, &prev).ok()?;
                object::set_resource_version(&mut obj, revision);
                event_line("DELETED", &obj)
            }
        };
        served.rendered.put(revision, &key, line.clone());
        return Some(line);
    }
    match ev {
        Event::Put { kv, prev } => {
            let obj = rest::from_storage(served, &kv).ok()?;
            let now = filters.matches(served, &obj);
            let before = match &prev {
                Some(p) => rest::from_storage(served, p)
                    .ok()
                    .is_some_and(|o| filters.matches(served, &o)),
                None => false,
            };
            match (prev.is_some(), before, now) {
                (false, _, true) => Some(event_line("ADDED", &render_object(served, obj, shape))),
                (true, true, true) => {
                    Some(event_line("MODIFIED", &render_object(served, obj, shape)))
                }
                (true, false, true) => {
                    Some(event_line("ADDED", &render_object(served, obj, shape)))
                }
                (true, true, false) => {
                    Some(event_line("DELETED", &render_object(served, obj, shape)))
                }
                _ => None,
            }
        }
        Event::Delete { prev, revision } => {
            let mut obj = rest::from_storage(served, &prev).ok()?;
            if !filters.matches(served, &obj) {
                return None;
            }
            object::set_resource_version(&mut obj, revision);
            Some(event_line("DELETED", &render_object(served, obj, shape)))
        }
    }
}
