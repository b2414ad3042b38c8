//! End-to-end checks of the controllers against a running Berth (or any Kubernetes v1.33
//! cluster running these semantics).
//!
//! Skipped unless `BERTH_E2E_KUBECONFIG` names a kubeconfig, e.g.:
//!
//! ```text
//! berth up --data-dir /tmp/b --api-addr 127.0.0.1:0 &
//! BERTH_E2E_KUBECONFIG=/tmp/b/kubeconfig cargo test -p berth-controllers --test e2e
//! ```
//!
//! Every test works in its own namespace with unique names, so tests run in parallel and can
//! be re-run against the same server.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ObjectMeta, Patch, PatchParams, PostParams,
    PropagationPolicy,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config, ResourceExt};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(20);
/// Discovery of a new CRD by the garbage collector takes up to its 30 s resync period.
const CRD_TIMEOUT: Duration = Duration::from_secs(60);

struct Env {
    client: Client,
    ns: String,
}

/// A client and a fresh namespace, or `None` (test skipped) without `BERTH_E2E_KUBECONFIG`.
async fn env(test: &str) -> Option<Env> {
    let Ok(path) = std::env::var("BERTH_E2E_KUBECONFIG") else {
        eprintln!("skipped: set BERTH_E2E_KUBECONFIG to run the end-to-end tests");
        return None;
    };
    let kubeconfig = Kubeconfig::read_from(&path).expect("read kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig");
    let client = Client::try_from(config).expect("client");
    let ns = unique(test);
    create_namespace(&client, &ns).await;
    Some(Env { client, ns })
}

fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("e2e-{prefix}-{:x}{:x}", std::process::id() % 4096, nanos)
}

async fn create_namespace(client: &Client, name: &str) {
    // The `kubernetes` finalizer is what the API server defaults; set explicitly so the test
    // exercises the namespace controller whatever the server defaults.
    let ns: Namespace = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"finalizers": ["kubernetes"]}
    }))
    .expect("namespace");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
}

fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str, block: bool) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: name.into(),
        uid: uid.into(),
        block_owner_deletion: block.then_some(true),
        controller: None,
    }
}

impl Env {
    fn configmaps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    async fn configmap(&self, name: &str, owners: Vec<OwnerReference>) -> ConfigMap {
        self.configmap_with(name, owners, vec![]).await
    }

    async fn configmap_with(
        &self,
        name: &str,
        owners: Vec<OwnerReference>,
        finalizers: Vec<String>,
    ) -> ConfigMap {
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                owner_references: (!owners.is_empty()).then_some(owners),
                finalizers: (!finalizers.is_empty()).then_some(finalizers),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        };
        self.configmaps()
            .create(&PostParams::default(), &cm)
            .await
            .expect("create configmap")
    }

    fn owned_by(cm: &ConfigMap, block: bool) -> OwnerReference {
        owner_ref(
            "v1",
            "ConfigMap",
            &cm.name_any(),
            &cm.uid().unwrap_or_default(),
            block,
        )
    }

    async fn exists(&self, name: &str) -> bool {
        self.configmaps()
            .get_opt(name)
            .await
            .expect("get configmap")
            .is_some()
    }

    async fn delete(&self, name: &str, policy: PropagationPolicy) {
        let dp = DeleteParams {
            propagation_policy: Some(policy),
            ..DeleteParams::default()
        };
        self.configmaps()
            .delete(name, &dp)
            .await
            .expect("delete configmap");
    }

    async fn cleanup(self) {
        let _ = Api::<Namespace>::all(self.client.clone())
            .delete(&self.ns, &DeleteParams::default())
            .await;
    }
}

async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn background_deletion_collects_dependents() {
    let Some(env) = env("bg").await else { return };
    let owner = env.configmap("owner", vec![]).await;
    env.configmap("child", vec![Env::owned_by(&owner, false)])
        .await;
    env.delete("owner", PropagationPolicy::Background).await;
    eventually(TIMEOUT, "child collected", || async {
        !env.exists("child").await
    })
    .await;
    env.cleanup().await;
}

#[tokio::test]
async fn foreground_deletion_removes_dependents_before_the_owner() {
    let Some(env) = env("fg").await else { return };
    let owner = env.configmap("owner", vec![]).await;
    let child = env
        .configmap("child", vec![Env::owned_by(&owner, true)])
        .await;
    env.configmap("grandchild", vec![Env::owned_by(&child, true)])
        .await;
    env.delete("owner", PropagationPolicy::Foreground).await;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let owner_left = env.configmaps().get_opt("owner").await.expect("get owner");
        match owner_left {
            Some(o) => {
                assert!(
                    o.metadata.deletion_timestamp.is_some(),
                    "owner being deleted"
                );
            }
            None => {
                // Blocking dependents go first.
                assert!(
                    !env.exists("child").await,
                    "owner gone before its blocking child"
                );
                assert!(
                    !env.exists("grandchild").await,
                    "child gone before its blocking child"
                );
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "foreground deletion did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    env.cleanup().await;
}

#[tokio::test]
async fn orphan_deletion_keeps_dependents_without_the_reference() {
    let Some(env) = env("orphan").await else {
        return;
    };
    let owner = env.configmap("owner", vec![]).await;
    let other = env.configmap("other", vec![]).await;
    env.configmap(
        "child",
        vec![Env::owned_by(&owner, true), Env::owned_by(&other, false)],
    )
    .await;
    env.delete("owner", PropagationPolicy::Orphan).await;
    eventually(TIMEOUT, "owner deleted", || async {
        !env.exists("owner").await
    })
    .await;
    let child = env.configmaps().get("child").await.expect("child kept");
    let refs: Vec<String> = child
        .owner_references()
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(refs, vec!["other".to_string()]);
    env.cleanup().await;
}

#[tokio::test]
async fn dependent_with_a_live_owner_is_kept() {
    let Some(env) = env("two").await else { return };
    let a = env.configmap("a", vec![]).await;
    let b = env.configmap("b", vec![]).await;
    env.configmap(
        "child",
        vec![Env::owned_by(&a, false), Env::owned_by(&b, false)],
    )
    .await;
    env.delete("a", PropagationPolicy::Background).await;
    eventually(TIMEOUT, "dead reference removed", || async {
        let child = env.configmaps().get("child").await.expect("child kept");
        child
            .owner_references()
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            == ["b"]
    })
    .await;
    env.delete("b", PropagationPolicy::Background).await;
    eventually(TIMEOUT, "child collected after its last owner", || async {
        !env.exists("child").await
    })
    .await;
    env.cleanup().await;
}

#[tokio::test]
async fn dependents_of_owners_that_do_not_exist_are_collected() {
    let Some(env) = env("ghost").await else {
        return;
    };
    // As after an owner was deleted while the controllers were down.
    let ghost = owner_ref(
        "v1",
        "ConfigMap",
        "ghost",
        "11111111-2222-3333-4444-555555555555",
        false,
    );
    env.configmap("child", vec![ghost]).await;
    // Same name, other uid: a re-created owner is not the owner.
    let old = env.configmap("renewed", vec![]).await;
    env.delete("renewed", PropagationPolicy::Background).await;
    eventually(TIMEOUT, "old owner gone", || async {
        !env.exists("renewed").await
    })
    .await;
    env.configmap("renewed", vec![]).await;
    env.configmap("child2", vec![Env::owned_by(&old, false)])
        .await;
    eventually(TIMEOUT, "child of absent owner collected", || async {
        !env.exists("child").await
    })
    .await;
    eventually(TIMEOUT, "child of replaced owner collected", || async {
        !env.exists("child2").await
    })
    .await;
    assert!(
        env.exists("renewed").await,
        "the new object of the same name is untouched"
    );
    env.cleanup().await;
}

#[tokio::test]
async fn namespaced_owner_must_be_in_the_same_namespace() {
    let Some(env) = env("xns").await else { return };
    let other_ns = unique("xns-other");
    create_namespace(&env.client, &other_ns).await;
    let elsewhere: Api<ConfigMap> = Api::namespaced(env.client.clone(), &other_ns);
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "owner"}})).expect("cm");
    let owner = elsewhere
        .create(&PostParams::default(), &cm)
        .await
        .expect("owner");
    env.configmap("child", vec![Env::owned_by(&owner, false)])
        .await;
    eventually(
        TIMEOUT,
        "child with an owner in another namespace collected",
        || async { !env.exists("child").await },
    )
    .await;
    assert!(elsewhere.get_opt("owner").await.expect("get").is_some());
    let _ = Api::<Namespace>::all(env.client.clone())
        .delete(&other_ns, &DeleteParams::default())
        .await;
    env.cleanup().await;
}

#[tokio::test]
async fn cluster_scoped_owner() {
    let Some(env) = env("cluster").await else {
        return;
    };
    let roles: Api<ClusterRole> = Api::all(env.client.clone());
    let role: ClusterRole =
        serde_json::from_value(json!({"metadata": {"name": env.ns.clone()}, "rules": []}))
            .expect("role");
    let role = roles
        .create(&PostParams::default(), &role)
        .await
        .expect("create clusterrole");
    let reference = owner_ref(
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        &role.name_any(),
        &role.uid().unwrap_or_default(),
        false,
    );
    env.configmap("child", vec![reference]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        env.exists("child").await,
        "kept while the cluster-scoped owner lives"
    );
    roles
        .delete(&role.name_any(), &DeleteParams::default())
        .await
        .expect("delete clusterrole");
    eventually(TIMEOUT, "child collected", || async {
        !env.exists("child").await
    })
    .await;
    env.cleanup().await;
}

#[tokio::test]
async fn custom_resources_created_at_run_time_take_part() {
    let Some(env) = env("crd").await else { return };
    let group = format!("{}.example.com", env.ns);
    let crds: Api<CustomResourceDefinition> = Api::all(env.client.clone());
    let crd: CustomResourceDefinition = serde_json::from_value(json!({
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]
        }
    }))
    .expect("crd");
    crds.create(&PostParams::default(), &crd)
        .await
        .expect("create crd");
    let ar = ApiResource {
        group: group.clone(),
        version: "v1".into(),
        api_version: format!("{group}/v1"),
        kind: "Widget".into(),
        plural: "widgets".into(),
    };
    let widgets: Api<DynamicObject> = Api::namespaced_with(env.client.clone(), &env.ns, &ar);
    eventually(TIMEOUT, "CRD served", || async {
        widgets.list(&Default::default()).await.is_ok()
    })
    .await;

    // A custom resource owned by a ConfigMap.
    let owner = env.configmap("owner", vec![]).await;
    let mut widget = DynamicObject::new("child", &ar);
    widget.metadata.owner_references = Some(vec![Env::owned_by(&owner, false)]);
    widgets
        .create(&PostParams::default(), &widget)
        .await
        .expect("create widget");
    env.delete("owner", PropagationPolicy::Background).await;
    eventually(CRD_TIMEOUT, "custom resource collected", || async {
        widgets
            .get_opt("child")
            .await
            .map(|w| w.is_none())
            .unwrap_or(false)
    })
    .await;

    // A custom resource deleted in the foreground with a ConfigMap dependent.
    let parent = widgets
        .create(&PostParams::default(), &DynamicObject::new("parent", &ar))
        .await
        .expect("parent");
    let reference = owner_ref(
        &ar.api_version,
        "Widget",
        "parent",
        &parent.uid().unwrap_or_default(),
        true,
    );
    env.configmap("dependent", vec![reference]).await;
    widgets
        .delete("parent", &DeleteParams::foreground())
        .await
        .expect("delete widget");
    eventually(
        CRD_TIMEOUT,
        "foreground custom resource deleted",
        || async {
            widgets
                .get_opt("parent")
                .await
                .map(|w| w.is_none())
                .unwrap_or(false)
        },
    )
    .await;
    assert!(
        !env.exists("dependent").await,
        "dependent of the custom resource deleted first"
    );
    let _ = crds
        .delete(&format!("widgets.{group}"), &DeleteParams::default())
        .await;
    env.cleanup().await;
}

#[tokio::test]
async fn default_service_account_is_created_and_recreated() {
    let Some(env) = env("sa").await else { return };
    let accounts: Api<ServiceAccount> = Api::namespaced(env.client.clone(), &env.ns);
    eventually(TIMEOUT, "default service account created", || async {
        accounts
            .get_opt("default")
            .await
            .map(|a| a.is_some())
            .unwrap_or(false)
    })
    .await;
    let first = accounts.get("default").await.expect("get").uid();
    accounts
        .delete("default", &DeleteParams::default())
        .await
        .expect("delete");
    eventually(TIMEOUT, "default service account re-created", || async {
        matches!(accounts.get_opt("default").await, Ok(Some(a)) if a.uid() != first)
    })
    .await;
    env.cleanup().await;
}

#[tokio::test]
async fn namespace_deletion_removes_content_then_the_namespace() {
    let Some(env) = env("nsdel").await else {
        return;
    };
    env.configmap("plain", vec![]).await;
    env.configmap_with("held", vec![], vec!["example.com/hold".into()])
        .await;
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    namespaces
        .delete(&env.ns, &DeleteParams::default())
        .await
        .expect("delete namespace");

    // The finalizer holds one ConfigMap: the namespace says so and waits.
    eventually(TIMEOUT, "content-remaining conditions", || async {
        let Ok(ns) = namespaces.get(&env.ns).await else {
            return false;
        };
        let conditions = ns.status.and_then(|s| s.conditions).unwrap_or_default();
        let is_true = |t: &str| {
            conditions
                .iter()
                .any(|c| c.type_ == t && c.status == "True")
        };
        is_true("NamespaceContentRemaining") && is_true("NamespaceFinalizersRemaining")
    })
    .await;
    let ns = namespaces
        .get(&env.ns)
        .await
        .expect("namespace still there");
    assert_eq!(
        ns.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Terminating")
    );
    let conditions = ns.status.and_then(|s| s.conditions).unwrap_or_default();
    let message = conditions
        .iter()
        .find(|c| c.type_ == "NamespaceFinalizersRemaining")
        .and_then(|c| c.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("example.com/hold in 1 resource instances"),
        "{message}"
    );
    assert!(
        !env.exists("plain").await,
        "content without finalizers deleted"
    );

    let release = json!({"metadata": {"finalizers": null}});
    env.configmaps()
        .patch("held", &PatchParams::default(), &Patch::Merge(&release))
        .await
        .expect("remove finalizer");
    eventually(TIMEOUT, "namespace deleted", || async {
        namespaces
            .get_opt(&env.ns)
            .await
            .map(|n| n.is_none())
            .unwrap_or(false)
    })
    .await;
}
