//! The API server through kube-rs, against the real `berth up` binary.

mod common;

use common::Berth;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Secret, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
    PropagationPolicy, WatchEvent, WatchParams,
};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::watcher;
use serde_json::json;
use std::time::Duration;

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": data.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
    }))
    .expect("configmap")
}

fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "python:3.11", "command": ["python3", "-m", "http.server"], "ports": [{"containerPort": 8000}]}]}
            }
        }
    }))
    .expect("deployment")
}

async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..300 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test]
async fn crud_defaults_conflicts_and_status() {
    let berth = Berth::start();
    let client = berth.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");

    // Create, get, list.
    let created = cms
        .create(&PostParams::default(), &cm("one", &[("a", "1")]))
        .await
        .expect("create");
    let meta = &created.metadata;
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    let rv1: i64 = meta
        .resource_version
        .as_deref()
        .expect("rv")
        .parse()
        .expect("numeric rv");
    let got = cms.get("one").await.expect("get");
    assert_eq!(
        got.data
            .as_ref()
            .and_then(|d| d.get("a"))
            .map(String::as_str),
        Some("1")
    );
    assert_eq!(
        got.metadata.resource_version,
        created.metadata.resource_version
    );
    let err = cms
        .create(&PostParams::default(), &cm("one", &[]))
        .await
        .expect_err("duplicate");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{err:?}"
    );

    // generateName.
    let mut gen_cm = cm("", &[]);
    gen_cm.metadata.name = None;
    gen_cm.metadata.generate_name = Some("gen-".into());
    let g = cms
        .create(&PostParams::default(), &gen_cm)
        .await
        .expect("generateName");
    let gname = g.metadata.name.expect("name");
    assert!(gname.starts_with("gen-") && gname.len() == 9, "{gname}");

    // Replace with a stale resourceVersion: 409 Conflict.
    let mut upd = got.clone();
    upd.data = Some([("a".to_string(), "2".to_string())].into());
    let replaced = cms
        .replace("one", &PostParams::default(), &upd)
        .await
        .expect("replace");
    let rv2: i64 = replaced
        .metadata
        .resource_version
        .as_deref()
        .expect("rv")
        .parse()
        .expect("rv");
    assert!(rv2 > rv1);
    let err = cms
        .replace("one", &PostParams::default(), &upd)
        .await
        .expect_err("stale");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"),
        "{err:?}"
    );

    // A no-op update does not bump the resourceVersion.
    let same = cms
        .replace("one", &PostParams::default(), &replaced)
        .await
        .expect("noop");
    assert_eq!(
        same.metadata.resource_version,
        replaced.metadata.resource_version
    );

    // Defaults and generation on a Deployment; status writes ignored on the main resource.
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let mut d = deployment("web");
    d.status = Some(serde_json::from_value(json!({"replicas": 7})).expect("status"));
    let d = deps
        .create(&PostParams::default(), &d)
        .await
        .expect("create deployment");
    let spec = d.spec.as_ref().expect("spec");
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(spec.progress_deadline_seconds, Some(600));
    assert_eq!(
        spec.strategy.as_ref().and_then(|s| s.type_.as_deref()),
        Some("RollingUpdate")
    );
    let pod_spec = spec.template.spec.as_ref().expect("pod spec");
    assert_eq!(pod_spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(pod_spec.dns_policy.as_deref(), Some("ClusterFirst"));
    assert_eq!(pod_spec.termination_grace_period_seconds, Some(30));
    assert_eq!(d.metadata.generation, Some(1));
    assert!(
        d.status.as_ref().and_then(|s| s.replicas).is_none(),
        "status must be dropped on create"
    );

    // Label change: generation stays; spec change: generation bumps.
    let p = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .expect("label patch");
    assert_eq!(p.metadata.generation, Some(1));
    let p = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .expect("spec patch");
    assert_eq!(p.metadata.generation, Some(2));
    assert_eq!(p.spec.as_ref().and_then(|s| s.replicas), Some(3));

    // The status subresource changes status only.
    let st = deps
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 9}, "status": {"replicas": 2, "observedGeneration": 2}})),
        )
        .await
        .expect("status patch");
    assert_eq!(st.status.as_ref().and_then(|s| s.replicas), Some(2));
    assert_eq!(st.spec.as_ref().and_then(|s| s.replicas), Some(3));
    assert_eq!(st.metadata.generation, Some(2));

    // Strategic merge patch merges containers by name (the second container survives).
    let two = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "busybox", "command": ["sleep", "1000"]}]}}}})),
        )
        .await
        .expect("strategic patch adds a container");
    let names: Vec<String> = two
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default();
    assert_eq!(names.len(), 2, "{names:?}");
    let one = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "python:3.12"}]}}}})),
        )
        .await
        .expect("strategic patch updates one container");
    let containers = one
        .spec
        .and_then(|s| s.template.spec)
        .map(|p| p.containers)
        .unwrap_or_default();
    assert_eq!(containers.len(), 2);
    let web = containers
        .iter()
        .find(|c| c.name == "web")
        .expect("web container");
    assert_eq!(web.image.as_deref(), Some("python:3.12"));
    assert_eq!(
        web.ports.as_ref().map(|p| p[0].container_port),
        Some(8000),
        "ports kept"
    );

    // JSON patch.
    let jp: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/data/a", "value": "3"},
        {"op": "add", "path": "/data/b", "value": "4"}
    ]))
    .expect("json patch");
    let after = cms
        .patch("one", &PatchParams::default(), &Patch::Json::<()>(jp))
        .await
        .expect("json patch");
    let data = after.data.expect("data");
    assert_eq!((data["a"].as_str(), data["b"].as_str()), ("3", "4"));

    // Validation errors are 422 with Kubernetes' message.
    let mut bad = deployment("bad");
    if let Some(s) = bad.spec.as_mut() {
        s.replicas = Some(-1);
    }
    let err = deps
        .create(&PostParams::default(), &bad)
        .await
        .expect_err("invalid");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 422);
            assert!(
                s.message.contains("Deployment.apps \"bad\" is invalid"),
                "{}",
                s.message
            );
            assert!(s.message.contains("spec.replicas"), "{}", s.message);
        }
        other => panic!("{other:?}"),
    }

    // Services get a ClusterIP from the service CIDR.
    let svcs: Api<Service> = Api::namespaced(client.clone(), "default");
    let svc: Service = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8000}]}
    }))
    .expect("svc");
    let svc = svcs
        .create(&PostParams::default(), &svc)
        .await
        .expect("create svc");
    let ip = svc
        .spec
        .as_ref()
        .and_then(|s| s.cluster_ip.clone())
        .expect("clusterIP");
    assert!(
        ip.starts_with("10.9") || ip.starts_with("10.10") || ip.starts_with("10.11"),
        "{ip}"
    );
    let k8s_svc = svcs.get("kubernetes").await.expect("kubernetes service");
    assert_eq!(
        k8s_svc.spec.and_then(|s| s.cluster_ip).as_deref(),
        Some("10.96.0.1")
    );

    // dryRun=All writes nothing.
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };
    cms.create(&dry, &cm("dry", &[]))
        .await
        .expect("dry run create");
    assert!(cms.get_opt("dry").await.expect("get").is_none());

    // Secrets and label selectors on lists.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    for (n, tier) in [("s1", "front"), ("s2", "back"), ("s3", "front")] {
        let s: Secret = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": n, "labels": {"tier": tier}},
            "stringData": {"k": "v"}
        }))
        .expect("secret");
        secrets
            .create(&PostParams::default(), &s)
            .await
            .expect("create secret");
    }
    let front = secrets
        .list(&ListParams::default().labels("tier=front"))
        .await
        .expect("list");
    assert_eq!(front.items.len(), 2);
    let notfront = secrets
        .list(&ListParams::default().labels("tier notin (front)"))
        .await
        .expect("list");
    assert_eq!(notfront.items.len(), 1);
    let byname = secrets
        .list(&ListParams::default().fields("metadata.name=s2"))
        .await
        .expect("list");
    assert_eq!(byname.items.len(), 1);
    assert_eq!(byname.items[0].type_.as_deref(), Some("Opaque"));
    let s1 = secrets.get("s1").await.expect("get secret");
    assert!(
        s1.data.as_ref().is_some_and(|d| d.contains_key("k")),
        "stringData folds into data"
    );

    // Paging with limit/continue.
    for i in 0..7 {
        cms.create(&PostParams::default(), &cm(&format!("page-{i}"), &[]))
            .await
            .expect("create");
    }
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(3);
    loop {
        let page = cms.list(&lp).await.expect("page");
        names.extend(page.items.iter().filter_map(|c| c.metadata.name.clone()));
        match page.metadata.continue_ {
            Some(c) if !c.is_empty() => lp = lp.continue_token(&c),
            _ => break,
        }
    }
    let all = cms.list(&ListParams::default()).await.expect("list");
    assert_eq!(names.len(), all.items.len());

    // Delete returns, and a second delete is 404.
    cms.delete("one", &DeleteParams::default())
        .await
        .expect("delete");
    let err = cms
        .delete("one", &DeleteParams::default())
        .await
        .expect_err("gone");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404),
        "{err:?}"
    );
}

#[tokio::test]
async fn watch_semantics_restart_and_compaction() {
    let mut berth = Berth::start_with(&["--compaction-interval", "1s"]);
    let client = berth.client().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let first = cms
        .create(&PostParams::default(), &cm("w0", &[]))
        .await
        .expect("create");
    let rv0 = first.metadata.resource_version.clone().expect("rv");

    // A watch from a resourceVersion sees later changes in order.
    let mut stream = cms
        .watch(&WatchParams::default().timeout(30), &rv0)
        .await
        .expect("watch")
        .boxed();
    cms.create(&PostParams::default(), &cm("w1", &[]))
        .await
        .expect("create");
    cms.patch(
        "w1",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"x": "1"}})),
    )
    .await
    .expect("patch");
    cms.delete("w1", &DeleteParams::default())
        .await
        .expect("delete");
    // Only w1's events count: controllers (the root-CA publisher) may write
    // their own ConfigMaps into the namespace while the watch is open.
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(10), stream.try_next()).await;
        let name = match &event {
            Ok(Ok(Some(
                WatchEvent::Added(c) | WatchEvent::Modified(c) | WatchEvent::Deleted(c),
            ))) => c.metadata.name.clone().unwrap_or_default(),
            _ => String::new(),
        };
        if !name.is_empty() && name != "w1" {
            continue;
        }
        match event {
            Ok(Ok(Some(WatchEvent::Added(c)))) => {
                kinds.push(format!("ADDED {}", c.metadata.name.unwrap_or_default()))
            }
            Ok(Ok(Some(WatchEvent::Modified(c)))) => {
                kinds.push(format!("MODIFIED {}", c.metadata.name.unwrap_or_default()))
            }
            Ok(Ok(Some(WatchEvent::Deleted(c)))) => {
                kinds.push(format!("DELETED {}", c.metadata.name.unwrap_or_default()))
            }
            Ok(Ok(Some(_))) => {}
            other => panic!("watch ended early: {other:?}"),
        }
    }
    assert_eq!(kinds, ["ADDED w1", "MODIFIED w1", "DELETED w1"]);
    drop(stream);

    // The runtime watcher survives a server restart and sees changes made after it.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(
        std::collections::BTreeSet::<String>::new(),
    ));
    let seen2 = seen.clone();
    let w = watcher(cms.clone(), watcher::Config::default());
    let task = tokio::spawn(async move {
        let mut w = w.boxed();
        while let Some(ev) = w.next().await {
            if let Ok(watcher::Event::Apply(c) | watcher::Event::InitApply(c)) = ev
                && let Some(n) = c.metadata.name
            {
                seen2.lock().expect("lock").insert(n);
            }
        }
    });
    eventually("watcher sees w0", || {
        let s = seen.clone();
        async move { s.lock().expect("lock").contains("w0") }
    })
    .await;
    assert_eq!(berth.stop().code(), Some(0), "clean shutdown on SIGTERM");
    berth.restart();
    let client2 = berth.client().await;
    let cms2: Api<ConfigMap> = Api::namespaced(client2, "default");
    cms2.create(&PostParams::default(), &cm("after-restart", &[]))
        .await
        .expect("create after restart");
    eventually("watcher sees an object created after the restart", || {
        let s = seen.clone();
        async move { s.lock().expect("lock").contains("after-restart") }
    })
    .await;
    task.abort();

    // Compaction: after enough writes and two compaction ticks the first revision is gone and
    // a watch from it gets an in-stream 410 ERROR event.
    for i in 0..5 {
        cms2.create(&PostParams::default(), &cm(&format!("c{i}"), &[]))
            .await
            .expect("create");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    for i in 5..8 {
        cms2.create(&PostParams::default(), &cm(&format!("c{i}"), &[]))
            .await
            .expect("create");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let resp = berth
        .http()
        .get(format!("{}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv0}&timeoutSeconds=5", berth.server_url()))
        .bearer_auth(berth.token())
        .send()
        .await
        .expect("watch request");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("body");
    let first_line: serde_json::Value =
        serde_json::from_str(text.lines().next().expect("one event")).expect("json");
    assert_eq!(first_line["type"], "ERROR");
    assert_eq!(first_line["object"]["code"], 410);
    assert_eq!(first_line["object"]["reason"], "Expired");
    assert!(
        first_line["object"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("too old resource version")
    );

    // sendInitialEvents ends with the initial-events-end bookmark.
    let resp = berth
        .http()
        .get(format!("{}/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=2", berth.server_url()))
        .bearer_auth(berth.token())
        .send()
        .await
        .expect("watch request");
    let text = resp.text().await.expect("body");
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let bm = events
        .iter()
        .position(|e| e["type"] == "BOOKMARK")
        .expect("bookmark");
    assert!(events[..bm].iter().all(|e| e["type"] == "ADDED"));
    assert!(bm >= 8);
    assert_eq!(
        events[bm]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

#[tokio::test]
async fn custom_resources_gc_and_namespace_deletion() {
    // A CRD of its own named like the platform's: the platform's operator (which installs the
    // real apps.berth.dev) stays off.
    let berth = Berth::start_with(&["--no-operator"]);
    let client = berth.client().await;
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "apps.berth.dev"},
        "spec": {
            "group": "berth.dev", "scope": "Namespaced",
            "names": {"plural": "apps", "singular": "app", "kind": "App", "shortNames": ["ba"]},
            "versions": [{
                "name": "v1alpha1", "served": true, "storage": true,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["image"], "properties": {
                        "image": {"type": "string"}, "replicas": {"type": "integer", "default": 1}
                    }},
                    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}
                }}}
            }]
        }
    }))
    .expect("crd");
    crds.create(&PostParams::default(), &crd)
        .await
        .expect("create crd");

    let gvk = GroupVersionKind::gvk("berth.dev", "v1alpha1", "App");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "apps");
    let apps: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let app: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "berth.dev/v1alpha1", "kind": "App",
        "metadata": {"name": "shop"},
        "spec": {"image": "shop:1", "unknown": "dropped"}
    }))
    .expect("app");
    // The CRD is served without a restart (allow a moment for nothing: it is synchronous).
    let created = apps
        .create(&PostParams::default(), &app)
        .await
        .expect("create custom resource");
    assert_eq!(
        created.data["spec"]["replicas"], 1,
        "schema default applied"
    );
    assert!(
        created.data["spec"].get("unknown").is_none(),
        "unknown field pruned"
    );
    let bad: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "berth.dev/v1alpha1", "kind": "App", "metadata": {"name": "bad"},
        "spec": {"replicas": "three"}
    }))
    .expect("bad app");
    let err = apps
        .create(&PostParams::default(), &bad)
        .await
        .expect_err("invalid");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 422),
        "{err:?}"
    );
    // Scale subresource.
    let scaled = apps
        .patch_scale(
            "shop",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .expect("scale");
    assert_eq!(scaled.spec.and_then(|s| s.replicas), Some(4));
    assert_eq!(
        apps.get("shop").await.expect("get").data["spec"]["replicas"],
        4
    );
    // Custom resources have no strategic merge patch: 415, as Kubernetes answers.
    let err = apps
        .patch(
            "shop",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"image": "shop:2"}})),
        )
        .await
        .expect_err("415");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 415),
        "{err:?}"
    );
    // Discovery lists it.
    let discovery = kube::discovery::Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    assert!(discovery.groups().any(|g| g.name() == "berth.dev"));
    // Aggregated discovery (one round trip for /api and one for /apis) sees the same.
    let aggregated = kube::discovery::Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    let (ar_found, caps) = aggregated
        .resolve_gvk(&gvk)
        .expect("App via aggregated discovery");
    assert_eq!(ar_found.plural, "apps");
    let subs: Vec<String> = caps
        .subresources
        .iter()
        .map(|s| s.0.plural.clone())
        .collect();
    assert!(subs.iter().any(|s| s.ends_with("scale")), "{subs:?}");
    assert!(aggregated.groups().any(|g| g.name() == "apps"));

    // GC: background deletion of an owner removes its dependents.
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let owner = cms
        .create(&PostParams::default(), &cm("owner", &[]))
        .await
        .expect("owner");
    let owner_ref = json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid.clone().expect("uid")}]);
    for n in ["dep-a", "dep-b"] {
        let mut d = cm(n, &[]);
        d.metadata.owner_references =
            Some(serde_json::from_value(owner_ref.clone()).expect("refs"));
        cms.create(&PostParams::default(), &d)
            .await
            .expect("dependent");
    }
    cms.delete("owner", &DeleteParams::background())
        .await
        .expect("delete owner");
    eventually("dependents garbage-collected", || {
        let cms = cms.clone();
        async move {
            cms.get_opt("dep-a").await.ok().flatten().is_none()
                && cms.get_opt("dep-b").await.ok().flatten().is_none()
        }
    })
    .await;

    // Orphan: dependents stay, without the owner reference.
    let owner = cms
        .create(&PostParams::default(), &cm("owner2", &[]))
        .await
        .expect("owner");
    let mut d = cm("orphan-me", &[]);
    d.metadata.owner_references = Some(serde_json::from_value(json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner2", "uid": owner.metadata.uid.clone().expect("uid")}])).expect("refs"));
    cms.create(&PostParams::default(), &d)
        .await
        .expect("dependent");
    cms.delete("owner2", &DeleteParams::orphan())
        .await
        .expect("delete owner");
    eventually("owner gone, dependent orphaned", || {
        let cms = cms.clone();
        async move {
            cms.get_opt("owner2").await.ok().flatten().is_none()
                && cms
                    .get_opt("orphan-me")
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|c| c.metadata.owner_references.unwrap_or_default().is_empty())
        }
    })
    .await;

    // Foreground: the owner waits for its dependents.
    let owner = cms
        .create(&PostParams::default(), &cm("owner3", &[]))
        .await
        .expect("owner");
    let mut d = cm("fg-dep", &[]);
    d.metadata.owner_references = Some(serde_json::from_value(json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner3", "uid": owner.metadata.uid.clone().expect("uid"), "blockOwnerDeletion": true}])).expect("refs"));
    cms.create(&PostParams::default(), &d)
        .await
        .expect("dependent");
    let dp = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        ..Default::default()
    };
    cms.delete("owner3", &dp).await.expect("delete owner");
    eventually("foreground deletion completes", || {
        let cms = cms.clone();
        async move {
            cms.get_opt("owner3").await.ok().flatten().is_none()
                && cms.get_opt("fg-dep").await.ok().flatten().is_none()
        }
    })
    .await;

    // Namespace deletion: Terminating, contents deleted, then the namespace.
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}}),
    )
    .expect("ns");
    nss.create(&PostParams::default(), &ns)
        .await
        .expect("create ns");
    let in_ns: Api<ConfigMap> = Api::namespaced(client.clone(), "doomed");
    in_ns
        .create(&PostParams::default(), &cm("inside", &[]))
        .await
        .expect("create inside");
    let apps_in: Api<DynamicObject> = Api::namespaced_with(client.clone(), "doomed", &ar);
    let mut app2 = app.clone();
    app2.metadata.namespace = None;
    apps_in
        .create(&PostParams::default(), &app2)
        .await
        .expect("custom resource inside");
    nss.delete("doomed", &DeleteParams::default())
        .await
        .expect("delete ns");
    let after = nss.get_opt("doomed").await.expect("get ns");
    if let Some(n) = after {
        assert_eq!(
            n.status.and_then(|s| s.phase).as_deref(),
            Some("Terminating")
        );
        // New content is refused while terminating.
        let err = in_ns
            .create(&PostParams::default(), &cm("late", &[]))
            .await
            .expect_err("terminating");
        assert!(
            matches!(&err, kube::Error::Api(s) if s.code == 403),
            "{err:?}"
        );
    }
    eventually("namespace deleted with its contents", || {
        let nss = nss.clone();
        async move { nss.get_opt("doomed").await.ok().flatten().is_none() }
    })
    .await;
    let err = nss
        .delete("default", &DeleteParams::default())
        .await
        .expect_err("default is protected");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 403),
        "{err:?}"
    );

    // Deleting the CRD removes its objects and stops serving it.
    crds.delete("apps.berth.dev", &DeleteParams::default())
        .await
        .expect("delete crd");
    eventually("CRD gone", || {
        let crds = crds.clone();
        async move {
            crds.get_opt("apps.berth.dev")
                .await
                .ok()
                .flatten()
                .is_none()
        }
    })
    .await;
    let err = apps
        .list(&ListParams::default())
        .await
        .expect_err("no longer served");
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 404),
        "{err:?}"
    );
}

#[tokio::test]
async fn pods_binding_graceful_delete_and_service_account_tokens() {
    let berth = Berth::start();
    let client = berth.client().await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1", "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "c", "image": "busybox", "command": ["sleep", "1000"]}]}
    }))
    .expect("pod");
    let p = pods
        .create(&PostParams::default(), &pod)
        .await
        .expect("create pod");
    assert_eq!(
        p.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Pending")
    );
    assert_eq!(
        p.status.as_ref().and_then(|s| s.qos_class.as_deref()),
        Some("BestEffort")
    );

    // Bind through pods/binding.
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p1"}, "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}});
    let resp = berth
        .http()
        .post(format!(
            "{}/api/v1/namespaces/default/pods/p1/binding",
            berth.server_url()
        ))
        .bearer_auth(berth.token())
        .json(&binding)
        .send()
        .await
        .expect("bind");
    let code = resp.status();
    assert_eq!(code, 201, "{}", resp.text().await.unwrap_or_default());
    let bound = pods.get("p1").await.expect("get");
    assert_eq!(
        bound.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        Some("node-1")
    );
    let by_node = pods
        .list(&ListParams::default().fields("spec.nodeName=node-1"))
        .await
        .expect("list");
    assert_eq!(by_node.items.len(), 1);
    let again = berth
        .http()
        .post(format!(
            "{}/api/v1/namespaces/default/pods/p1/binding",
            berth.server_url()
        ))
        .bearer_auth(berth.token())
        .json(&binding)
        .send()
        .await
        .expect("bind again");
    assert_eq!(again.status(), 409);

    // A bound pod is deleted gracefully: deletionTimestamp and grace period, object stays.
    pods.delete("p1", &DeleteParams::default())
        .await
        .expect("delete");
    let terminating = pods.get("p1").await.expect("still there");
    assert!(terminating.metadata.deletion_timestamp.is_some());
    assert_eq!(terminating.metadata.deletion_grace_period_seconds, Some(30));
    // Force deletion removes it.
    pods.delete(
        "p1",
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..Default::default()
        },
    )
    .await
    .expect("force");
    assert!(pods.get_opt("p1").await.expect("get").is_none());

    // ServiceAccount tokens authenticate as the ServiceAccount.
    let sas: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client.clone(), "default");
    let sa: k8s_openapi::api::core::v1::ServiceAccount = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}}),
    )
    .expect("sa");
    sas.create(&PostParams::default(), &sa)
        .await
        .expect("create sa");
    let tr = berth
        .http()
        .post(format!(
            "{}/api/v1/namespaces/default/serviceaccounts/robot/token",
            berth.server_url()
        ))
        .bearer_auth(berth.token())
        .json(
            &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}}),
        )
        .send()
        .await
        .expect("token request");
    assert_eq!(tr.status(), 201);
    let body: serde_json::Value = tr.json().await.expect("json");
    let token = body["status"]["token"].as_str().expect("token").to_string();
    let with_sa = berth
        .http()
        .get(format!(
            "{}/api/v1/namespaces/default/configmaps",
            berth.server_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(with_sa.status(), 200);
    let bogus = berth
        .http()
        .get(format!(
            "{}/api/v1/namespaces/default/configmaps",
            berth.server_url()
        ))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("request");
    assert_eq!(bogus.status(), 401);
    let body: serde_json::Value = bogus.json().await.expect("status json");
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Unauthorized");
    // Deleting the ServiceAccount revokes its tokens.
    sas.delete("robot", &DeleteParams::default())
        .await
        .expect("delete sa");
    let revoked = berth
        .http()
        .get(format!(
            "{}/api/v1/namespaces/default/configmaps",
            berth.server_url()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), 401);
}

/// kube-runtime's event Recorder writes events.k8s.io/v1 Events: the first publish creates
/// one, a repeat merge-patches its series; both are visible as core/v1 Events too.
#[tokio::test]
async fn event_recorder_creates_and_updates_series() {
    use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};
    let berth = Berth::start();
    let client = berth.client().await;
    let reporter = Reporter {
        controller: "berth-test".into(),
        instance: None,
    };
    let recorder = Recorder::new(client.clone(), reporter);
    let regarding = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("ConfigMap".into()),
        name: Some("settings".into()),
        namespace: Some("default".into()),
        ..Default::default()
    };
    let event = Event {
        type_: EventType::Warning,
        reason: "Tested".into(),
        note: Some("something to see".into()),
        action: "Testing".into(),
        secondary: None,
    };
    recorder
        .publish(&event, &regarding)
        .await
        .expect("first publish");
    recorder
        .publish(&event, &regarding)
        .await
        .expect("repeat publish");
    let core: Api<CoreEvent> = Api::namespaced(client, "default");
    let list = core.list(&ListParams::default()).await.expect("list");
    let ours: Vec<&CoreEvent> = list
        .items
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Tested"))
        .collect();
    assert_eq!(ours.len(), 1, "one event with a series: {ours:?}");
    let e = ours[0];
    assert_eq!(e.reporting_component.as_deref(), Some("berth-test"));
    assert_eq!(e.message.as_deref(), Some("something to see"));
    assert_eq!(e.series.as_ref().and_then(|s| s.count), Some(2), "{e:?}");
}
