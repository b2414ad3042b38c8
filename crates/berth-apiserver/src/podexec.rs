//! `pods/exec`: the API server checks the request (upstream `ExecLocation`), asks the pod's
//! node to start the process through [`PodExecSource`], then upgrades the connection to a
//! WebSocket speaking the Kubernetes stream protocol and joins the two.
//!
//! Protocols: `v5.channel.k8s.io` (kubectl >= 1.30 by default; adds closing stdin) and
//! `v4.channel.k8s.io` (kube-rs and older clients). Every binary message starts with its
//! channel: 0 stdin, 1 stdout, 2 stderr, 3 the final `Status` (JSON), 4 terminal resize, 255
//! close (v5: `[255, 0]` closes stdin). SPDY, the older transport, is refused with a clear
//! error; kubectl only falls back to it when the WebSocket upgrade itself fails.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use berth_apimachinery::status::ApiError;
use futures::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};

use crate::handler::Query;
use crate::podlogs::PodTarget;

const V5: &str = "v5.channel.k8s.io";
const V4: &str = "v4.channel.k8s.io";
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// What a client asked of `pods/{name}/exec` (upstream `PodExecOptions`), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodExecRequest {
    pub target: PodTarget,
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// A terminal: stdout and stderr are one stream, and resize messages apply.
    pub tty: bool,
}

pub type ExecReader = Pin<Box<dyn AsyncRead + Send>>;
pub type ExecWriter = Pin<Box<dyn AsyncWrite + Send>>;

/// A process started in a container. Dropping it before `exit` resolves ends the process.
pub struct ExecProcess {
    pub stdin: Option<ExecWriter>,
    pub stdout: Option<ExecReader>,
    pub stderr: Option<ExecReader>,
    /// Sets the terminal's width and height (tty only).
    pub resize: Option<Box<dyn Fn(u16, u16) + Send + Sync>>,
    /// The exit code (128 + the signal for a process killed by one, as container runtimes
    /// report it), or why it could not be waited for.
    pub exit: Pin<Box<dyn Future<Output = Result<i32, String>> + Send>>,
}

/// Starts processes in the containers of some nodes (the kubelet's `/exec`).
pub trait PodExecSource: Send + Sync {
    /// Starts `request.command` in the container. Errors are API errors (for example 400
    /// when the container is not running, or the command cannot be started).
    fn exec(
        &self,
        request: PodExecRequest,
    ) -> Pin<Box<dyn Future<Output = Result<ExecProcess, ApiError>> + Send + '_>>;
}

/// Checks the query against the pod (upstream `ExecLocation` and the kubelet's
/// `remotecommand.NewOptions`).
pub fn request_for(pod: &Value, q: &Query) -> Result<PodExecRequest, ApiError> {
    let flag = |key: &str| q.bool(key).map(|v| v.unwrap_or(false));
    let command: Vec<String> = q.get_all("command").map(str::to_string).collect();
    if command.is_empty() {
        return Err(ApiError::bad_request(
            "you must specify at least 1 command".to_string(),
        ));
    }
    let (stdin, stdout, tty) = (flag("stdin")?, flag("stdout")?, flag("tty")?);
    // With a terminal, stderr is part of stdout (kubectl does not ask for it then).
    let stderr = flag("stderr")? && !tty;
    if !stdin && !stdout && !stderr {
        return Err(ApiError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr".to_string(),
        ));
    }
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" {
        return Err(ApiError::bad_request(format!(
            "cannot exec into a container in a completed pod; current phase is {phase}"
        )));
    }
    Ok(PodExecRequest {
        target: PodTarget::resolve(pod, q)?,
        command,
        stdin,
        stdout,
        stderr,
        tty,
    })
}

/// The sub-protocol to speak: v5 when offered, else v4.
fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .collect();
    [V5, V4]
        .into_iter()
        .find(|p| offered.iter().any(|o| o == p))
}

/// Checks that this is a WebSocket upgrade Berth can answer, and returns the accept key and
/// the protocol.
fn check_upgrade(method: &Method, headers: &HeaderMap) -> Result<(String, &'static str), ApiError> {
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !upgrade.eq_ignore_ascii_case("websocket") {
        let what = if upgrade.is_empty() {
            "a plain HTTP request".to_string()
        } else {
            format!("an upgrade to {upgrade:?}")
        };
        return Err(ApiError::bad_request(format!(
            "pods/exec needs a WebSocket upgrade ({V5} or {V4}); this was {what}. \
             Berth does not serve SPDY: use kubectl 1.30 or newer, or a client that speaks WebSocket"
        )));
    }
    if method != Method::GET {
        return Err(ApiError::bad_request(
            "a WebSocket upgrade must be a GET request".to_string(),
        ));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or_else(|| ApiError::bad_request("missing Sec-WebSocket-Key header".to_string()))?;
    let protocol = negotiate(headers).ok_or_else(|| {
        ApiError::bad_request(format!(
            "none of the offered WebSocket sub-protocols is supported; Berth speaks {V5} and {V4}"
        ))
    })?;
    Ok((derive_accept_key(key.as_bytes()), protocol))
}

/// The container must be running (the kubelet's `container not found`, which is what
/// kubectl shows for a container that is waiting or has exited).
fn check_running(pod: &Value, container: &str) -> Result<(), ApiError> {
    let running = [
        "/status/containerStatuses",
        "/status/initContainerStatuses",
        "/status/ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
    .flatten()
    .any(|s| {
        s.get("name").and_then(Value::as_str) == Some(container)
            && s.pointer("/state/running").is_some()
    });
    if running {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "container not found ({container:?})"
        )))
    }
}

/// Serves one exec request: checks, answers 101, starts the process and streams. A process
/// that cannot start is reported on the error channel, as the kubelet does.
pub async fn serve(
    source: Arc<dyn PodExecSource>,
    pod: &Value,
    method: &Method,
    headers: &HeaderMap,
    q: &Query,
    upgrade: Option<OnUpgrade>,
) -> Result<Response, ApiError> {
    let request = request_for(pod, q)?;
    check_running(pod, &request.target.container)?;
    let (accept, protocol) = check_upgrade(method, headers)?;
    let upgrade = upgrade.ok_or_else(|| {
        ApiError::bad_request("this connection cannot be upgraded (HTTP/2?); use HTTP/1.1")
    })?;
    let first_channel = if request.stdout {
        STDOUT
    } else if request.stderr {
        STDERR
    } else {
        ERROR
    };
    tokio::spawn(async move {
        let upgraded = match upgrade.await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "exec: the upgrade did not complete");
                return;
            }
        };
        let mut ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        match source.exec(request).await {
            Ok(process) => stream(ws, process, protocol == V5, first_channel).await,
            Err(e) => {
                let status = json!({
                    "metadata": {},
                    "status": "Failure",
                    "message": format!("Internal error occurred: error executing command in container: {}", e.message),
                    "reason": "InternalError",
                    "code": 500,
                });
                let _ = ws.send(frame(first_channel, &[])).await;
                let _ = ws
                    .send(frame(
                        ERROR,
                        &serde_json::to_vec(&status).unwrap_or_default(),
                    ))
                    .await;
                let _ = ws.close(Some(normal_close())).await;
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, HeaderValue::from_static("Upgrade"))
        .header(header::UPGRADE, HeaderValue::from_static("websocket"))
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .header(header::SEC_WEBSOCKET_PROTOCOL, protocol)
        .body(axum::body::Body::empty())
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// A normal closure: clients read it as the end of every channel (no status code is an
/// error to kubectl).
fn normal_close() -> CloseFrame {
    CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }
}

/// The final message on the error channel (the kubelet's v4 `writeStatus`).
fn exit_status(result: &Result<i32, String>) -> Value {
    match result {
        Ok(0) => json!({"metadata": {}, "status": "Success"}),
        Ok(code) => json!({
            "metadata": {},
            "status": "Failure",
            "message": format!("command terminated with non-zero exit code: exit status {code}"),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        }),
        Err(e) => json!({
            "metadata": {},
            "status": "Failure",
            "message": format!("Internal error occurred: error executing command in container: {e}"),
            "reason": "InternalError",
            "code": 500,
        }),
    }
}

fn frame(channel: u8, data: &[u8]) -> Message {
    let mut bytes = Vec::with_capacity(data.len() + 1);
    bytes.push(channel);
    bytes.extend_from_slice(data);
    Message::Binary(bytes.into())
}

/// Copies a process output into frames of `channel` until it ends.
async fn pump_output(mut reader: ExecReader, channel: u8, out: mpsc::Sender<Message>) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match reader.read(&mut buf).await {
            // A terminal's reader reports EIO once the last process holding it exits.
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if out.send(frame(channel, &buf[..n])).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Joins the WebSocket and the process until the process ends (then the exit status is
/// sent and the socket closed) or the client goes away (then the process is ended).
async fn stream<S>(ws: WebSocketStream<S>, process: ExecProcess, v5: bool, first_channel: u8)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut incoming) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Message>(16);
    let ExecProcess {
        mut stdin,
        stdout,
        stderr,
        resize,
        exit,
    } = process;
    // An empty message on the lowest writable channel tells the client the stream is up.
    let _ = out_tx.send(frame(first_channel, &[])).await;
    let mut outputs = Vec::new();
    for (reader, channel) in [(stdout, STDOUT), (stderr, STDERR)] {
        if let Some(r) = reader {
            outputs.push(tokio::spawn(pump_output(r, channel, out_tx.clone())));
        }
    }
    let writer = tokio::spawn(async move {
        while let Some(m) = out_rx.recv().await {
            if sink.send(m).await.is_err() {
                return None;
            }
        }
        Some(sink)
    });
    let client = async {
        while let Some(message) = incoming.next().await {
            let data = match message {
                Ok(Message::Binary(d)) => d.to_vec(),
                Ok(Message::Text(t)) => t.as_bytes().to_vec(),
                Ok(Message::Close(_)) | Err(_) => return,
                Ok(_) => continue,
            };
            let Some((&channel, payload)) = data.split_first() else {
                continue;
            };
            match channel {
                STDIN => {
                    if let Some(w) = stdin.as_mut()
                        && (w.write_all(payload).await.is_err() || w.flush().await.is_err())
                    {
                        stdin = None;
                    }
                }
                RESIZE => {
                    if let (Some(resize), Ok(size)) =
                        (&resize, serde_json::from_slice::<Value>(payload))
                    {
                        let dim = |k: &str| size.get(k).and_then(Value::as_u64).unwrap_or(0);
                        let (w, h) = (dim("Width"), dim("Height"));
                        if w > 0 && h > 0 {
                            resize(w.min(u16::MAX as u64) as u16, h.min(u16::MAX as u64) as u16);
                        }
                    }
                }
                CLOSE if v5 && payload.first() == Some(&STDIN) => {
                    if let Some(mut w) = stdin.take() {
                        let _ = w.shutdown().await;
                    }
                }
                _ => {}
            }
        }
    };
    // The client leaving first drops `exit`, which ends the process.
    let result = tokio::select! {
        r = exit => Some(r),
        _ = client => None,
    };
    let Some(result) = result else {
        for o in outputs {
            o.abort();
        }
        writer.abort();
        return;
    };
    // Everything the process wrote goes out before the status (background processes that
    // keep the pipes open do not hold the stream for long).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
        for o in outputs {
            let _ = o.await;
        }
    })
    .await;
    let status = serde_json::to_vec(&exit_status(&result)).unwrap_or_default();
    let _ = out_tx.send(frame(ERROR, &status)).await;
    drop(out_tx);
    if let Ok(Some(mut sink)) = writer.await {
        let _ = sink.send(Message::Close(Some(normal_close()))).await;
        let _ = sink.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(phase: &str) -> Value {
        json!({
            "metadata": {"name": "p", "namespace": "default", "uid": "u1"},
            "spec": {"nodeName": "n1", "containers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": phase},
        })
    }

    #[test]
    fn options_are_checked_as_upstream() {
        let q = |s: &str| Query::parse(Some(s));
        let r = request_for(
            &pod("Running"),
            &q("command=sh&command=-c&command=echo%20hi&container=b&stdout=true&stderr=true"),
        )
        .expect("valid");
        assert_eq!(r.command, ["sh", "-c", "echo hi"]);
        assert_eq!(r.target.container, "b");
        assert!(r.stdout && r.stderr && !r.stdin && !r.tty);

        let e = request_for(&pod("Running"), &q("container=a&stdout=true")).unwrap_err();
        assert_eq!(e.message, "you must specify at least 1 command");
        let e = request_for(&pod("Running"), &q("command=ls&container=a")).unwrap_err();
        assert_eq!(
            e.message,
            "you must specify at least 1 of stdin, stdout, stderr"
        );
        let e = request_for(&pod("Running"), &q("command=ls&stdout=true")).unwrap_err();
        assert!(e.message.starts_with("a container name must be specified"));
        let e = request_for(&pod("Succeeded"), &q("command=ls&container=a&stdout=1")).unwrap_err();
        assert!(e.message.contains("completed pod"), "{}", e.message);
        // A terminal has no separate stderr.
        let r = request_for(
            &pod("Running"),
            &q("command=sh&container=a&stdin=true&stdout=true&stderr=true&tty=true"),
        )
        .expect("valid");
        assert!(r.tty && !r.stderr);
    }

    #[test]
    fn negotiates_v5_then_v4_and_refuses_spdy() {
        let mut h = HeaderMap::new();
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(
            header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("v4.channel.k8s.io, v5.channel.k8s.io"),
        );
        let (accept, protocol) = check_upgrade(&Method::GET, &h).expect("upgrade");
        // RFC 6455's example key and answer.
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(protocol, V5);
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("channel.k8s.io"),
        );
        assert!(check_upgrade(&Method::GET, &h).is_err());
        h.insert(header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
        let e = check_upgrade(&Method::POST, &h).unwrap_err();
        assert!(e.message.contains("SPDY"), "{}", e.message);
    }

    #[test]
    fn exit_status_is_the_kubelets() {
        assert_eq!(exit_status(&Ok(0))["status"], "Success");
        let s = exit_status(&Ok(3));
        assert_eq!(s["reason"], "NonZeroExitCode");
        assert_eq!(s["details"]["causes"][0]["message"], "3");
    }
}
