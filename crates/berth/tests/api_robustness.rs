//! Durability under kill -9, bad input, the data-dir lock and authentication.

mod common;

use common::Berth;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

#[tokio::test]
async fn acknowledged_writes_survive_kill_9_and_watchers_resume() {
    let mut berth = Berth::start();
    let client = berth.client().await;
    // 1,000 creates from 8 concurrent clients.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
        tasks.push(tokio::spawn(async move {
            let mut acked = BTreeMap::new();
            for i in 0..125 {
                let name = format!("w{w}-{i}");
                let cm: ConfigMap = serde_json::from_value(json!({
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                    "data": {"i": i.to_string()}
                }))
                .expect("cm");
                let created = cms
                    .create(&PostParams::default(), &cm)
                    .await
                    .expect("create");
                acked.insert(name, created.metadata.resource_version.expect("rv"));
            }
            acked
        }));
    }
    let mut acked = BTreeMap::new();
    for t in tasks {
        acked.extend(t.await.expect("task"));
    }
    assert_eq!(acked.len(), 1000);
    let last_rv = acked
        .values()
        .filter_map(|v| v.parse::<i64>().ok())
        .max()
        .expect("max rv");

    berth.kill9();
    berth.restart();
    let client = berth.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let list = cms
        .list(&ListParams::default())
        .await
        .expect("list after crash");
    let found: BTreeMap<String, String> = list
        .items
        .into_iter()
        .filter_map(|c| Some((c.metadata.name?, c.metadata.resource_version?)))
        .filter(|(n, _)| n.starts_with('w'))
        .collect();
    assert_eq!(found.len(), 1000, "every acknowledged object survives");
    for (name, rv) in &acked {
        assert_eq!(
            found.get(name),
            Some(rv),
            "{name} keeps its resourceVersion"
        );
    }

    // A watch resumes from the last revision seen before the crash.
    let mut stream = cms
        .watch(&WatchParams::default().timeout(20), &last_rv.to_string())
        .await
        .expect("watch")
        .boxed();
    let cm: ConfigMap = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "post-crash"}}),
    )
    .expect("cm");
    cms.create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let ev = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("event in time");
    match ev {
        Some(Ok(WatchEvent::Added(c))) => {
            assert_eq!(c.metadata.name.as_deref(), Some("post-crash"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn bad_input_gets_kubernetes_errors_and_no_partial_write() {
    let berth = Berth::start();
    let http = berth.http();
    let url = berth.server_url();
    let token = berth.token();
    let post = |path: &str, ct: &str, body: Vec<u8>| {
        http.post(format!("{url}{path}"))
            .bearer_auth(&token)
            .header("Content-Type", ct)
            .body(body)
            .send()
    };
    async fn status(r: reqwest::Response) -> (u16, serde_json::Value) {
        let code = r.status().as_u16();
        let v = r
            .json::<serde_json::Value>()
            .await
            .expect("Status body is JSON");
        assert_eq!(v["kind"], "Status", "{v}");
        assert_eq!(v["code"], code, "{v}");
        (code, v)
    }
    let cms = "/api/v1/namespaces/default/configmaps";

    let (code, v) = status(
        post(
            cms,
            "application/json",
            b"{\"apiVersion\": \"v1\", \"kind\":".to_vec(),
        )
        .await
        .expect("send"),
    )
    .await;
    assert_eq!((code, v["reason"].as_str()), (400, Some("BadRequest")));

    let (code, _) = status(
        post(
            cms,
            "application/yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed".to_vec(),
        )
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(code, 400);

    let (code, v) = status(
        post(
            cms,
            "application/json",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}})
                .to_string()
                .into_bytes(),
        )
        .await
        .expect("send"),
    )
    .await;
    assert_eq!(code, 400, "{v}");

    let (code, v) = status(
        post(
            cms,
            "application/json",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_Valid"}})
                .to_string()
                .into_bytes(),
        )
        .await
        .expect("send"),
    )
    .await;
    assert_eq!((code, v["reason"].as_str()), (422, Some("Invalid")));
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("metadata.name"),
        "{v}"
    );

    let (code, v) = status(post(&format!("{cms}?fieldValidation=Strict"), "application/json", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "strict"}, "dataa": {}}).to_string().into_bytes()).await.expect("send")).await;
    assert_eq!(code, 400, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field \"dataa\""),
        "{v}"
    );

    // 3 MiB limit.
    let big = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"x\":\"{}\"}}}}",
        "a".repeat(3 * 1024 * 1024 + 10)
    );
    let (code, v) = status(
        post(cms, "application/json", big.into_bytes())
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(
        (code, v["reason"].as_str()),
        (413, Some("RequestEntityTooLarge"))
    );

    // Unknown media type.
    let (code, _) = status(post(cms, "text/csv", b"a,b".to_vec()).await.expect("send")).await;
    assert_eq!(code, 415);

    // Nothing above was written.
    let client = berth.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let names: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert!(names.iter().all(|n| n == "kube-root-ca.crt"), "{names:?}");

    // Unknown resource and unauthenticated requests.
    let r = http
        .get(format!("{url}/api/v1/namespaces/default/nothings"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("send");
    let (code, _) = status(r).await;
    assert_eq!(code, 404);
    let r = http
        .get(format!("{url}/api/v1/namespaces"))
        .send()
        .await
        .expect("send");
    let (code, _) = status(r).await;
    assert_eq!(code, 401);
    // Health and version need no credentials.
    for p in ["/healthz", "/livez", "/readyz"] {
        let r = http.get(format!("{url}{p}")).send().await.expect("send");
        assert_eq!(r.status(), 200, "{p}");
        assert_eq!(r.text().await.expect("body"), "ok");
    }
    let r = http
        .get(format!("{url}/version"))
        .send()
        .await
        .expect("send");
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["gitVersion"].as_str().unwrap_or("").starts_with("v1.33."));
}

#[test]
fn one_berth_per_data_dir_and_state_reused() {
    let mut berth = Berth::start();
    let token_before = berth.token();
    let second = berth.second_instance();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("already running"), "{err}");
    assert_eq!(berth.stop().code(), Some(0));
    berth.restart();
    assert_eq!(berth.token(), token_before, "credentials are reused");
}
