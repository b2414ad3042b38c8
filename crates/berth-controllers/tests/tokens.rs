//! The root CA publisher and the service account token controller against an in-process API
//! server.

mod common;

use std::time::Duration;

use berth_apiserver::testing::TestCluster;
use berth_controllers::rootca::{CA_KEY, DESCRIPTION, DESCRIPTION_ANNOTATION, ROOT_CA_CONFIG_MAP};
use berth_controllers::tokens::{SERVICE_ACCOUNT_UID_ANNOTATION, TOKEN_EXPIRATION_SECONDS};
use berth_controllers::{RootCaPublisher, TokensController};
use common::*;
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use tokio::sync::watch;

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

/// A client of the test server that authenticates with `token` instead of as the admin.
fn client_with_token(cluster: &TestCluster, token: &str) -> kube::Client {
    let value = http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let service = tower::ServiceBuilder::new()
        .map_request(move |mut req: http::Request<kube::client::Body>| {
            req.headers_mut()
                .insert(http::header::AUTHORIZATION, value.clone());
            req
        })
        .service(cluster.server.router());
    kube::Client::new(service, "default")
}

fn published(cm: &ConfigMap) -> bool {
    cm.data
        .as_ref()
        .and_then(|d| d.get(CA_KEY))
        .map(String::as_str)
        == Some(CA)
        && cm.data.as_ref().map(|d| d.len()) == Some(1)
        && cm
            .annotations()
            .get(DESCRIPTION_ANNOTATION)
            .map(String::as_str)
            == Some(DESCRIPTION)
}

#[tokio::test]
async fn root_ca_configmap_is_published_recreated_and_restored() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (_tx, rx) = watch::channel(false);
    tokio::spawn(RootCaPublisher::new(client.clone(), CA.to_string()).run(rx));

    // Existing namespaces and new ones.
    let default: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    eventually("the CA in default", || async {
        let cm = default.get_opt(ROOT_CA_CONFIG_MAP).await.unwrap()?;
        published(&cm).then_some(())
    })
    .await;
    create_namespace(&client, "rootca").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "rootca");
    let first = eventually("the CA in a new namespace", || async {
        let cm = api.get_opt(ROOT_CA_CONFIG_MAP).await.unwrap()?;
        published(&cm).then_some(cm)
    })
    .await;

    // Deleted: created again.
    api.delete(ROOT_CA_CONFIG_MAP, &DeleteParams::default())
        .await
        .unwrap();
    let second = eventually("the CA re-created", || async {
        let cm = api.get_opt(ROOT_CA_CONFIG_MAP).await.unwrap()?;
        (cm.uid() != first.uid() && published(&cm)).then_some(cm)
    })
    .await;

    // Edited: restored, extra keys and the annotation's value included.
    let mut edited = second.clone();
    edited.data = Some(
        [
            ("ca.crt".to_string(), "tampered".to_string()),
            ("x".into(), "y".into()),
        ]
        .into(),
    );
    edited
        .annotations_mut()
        .insert(DESCRIPTION_ANNOTATION.into(), String::new());
    let edited = api
        .replace(ROOT_CA_CONFIG_MAP, &PostParams::default(), &edited)
        .await
        .unwrap();
    eventually("the CA restored", || async {
        let cm = api.get_opt(ROOT_CA_CONFIG_MAP).await.unwrap()?;
        (cm.resource_version() != edited.resource_version() && published(&cm)).then_some(())
    })
    .await;
    assert_eq!(
        api.get(ROOT_CA_CONFIG_MAP).await.unwrap().uid(),
        second.uid()
    );
}

async fn create_service_account(client: &kube::Client, ns: &str, name: &str) -> ServiceAccount {
    let sa: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<ServiceAccount>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &sa)
        .await
        .unwrap()
}

async fn create_token_secret(client: &kube::Client, ns: &str, name: &str, account: &str) -> Secret {
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": name,
            "annotations": {"kubernetes.io/service-account.name": account}},
        "type": "kubernetes.io/service-account-token",
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap()
}

fn data(secret: &Secret, key: &str) -> Option<String> {
    let bytes = secret.data.as_ref()?.get(key)?;
    Some(String::from_utf8(bytes.0.clone()).unwrap())
}

async fn wait_for_token(api: &Api<Secret>, name: &str) -> Secret {
    eventually("the token", || async {
        let s = api.get_opt(name).await.unwrap()?;
        data(&s, "token").filter(|t| !t.is_empty())?;
        Some(s)
    })
    .await
}

#[tokio::test]
async fn token_secret_gets_a_working_token() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (_tx, rx) = watch::channel(false);
    tokio::spawn(TokensController::new(client.clone(), Some(CA.to_string())).run(rx));

    let sa = create_service_account(&client, "default", "builder").await;
    create_token_secret(&client, "default", "builder-token", "builder").await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let secret = wait_for_token(&secrets, "builder-token").await;
    assert_eq!(data(&secret, "ca.crt").as_deref(), Some(CA));
    assert_eq!(data(&secret, "namespace").as_deref(), Some("default"));
    assert_eq!(
        secret.annotations().get(SERVICE_ACCOUNT_UID_ANNOTATION),
        sa.uid().as_ref()
    );

    // The token authenticates as the ServiceAccount.
    let token = data(&secret, "token").unwrap();
    let as_sa = client_with_token(&cluster, &token);
    Api::<ConfigMap>::namespaced(as_sa, "default")
        .list(&ListParams::default())
        .await
        .unwrap();
    // ... and is long-lived, unlike a default TokenRequest.
    let claims = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, TOKEN_EXPIRATION_SECONDS);
    // ... and bound to the Secret, as upstream's `kubernetes.io` claim says.
    assert_eq!(
        claims["kubernetes.io"]["secret"],
        json!({"name": "builder-token", "uid": secret.uid().unwrap()})
    );

    // Whereas a made-up token does not.
    let forged = client_with_token(&cluster, "not-a-token");
    assert_unauthorized(forged).await;

    // Deleting the Secret revokes its token.
    secrets
        .delete("builder-token", &DeleteParams::default())
        .await
        .unwrap();
    assert_unauthorized(client_with_token(&cluster, &token)).await;
}

async fn assert_unauthorized(client: kube::Client) {
    match Api::<ConfigMap>::namespaced(client, "default")
        .list(&ListParams::default())
        .await
    {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 401),
        other => panic!("expected 401 Unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn token_requests_bind_only_to_existing_objects() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    create_service_account(&client, "default", "binder").await;
    let secret = Api::<Secret>::namespaced(client.clone(), "default")
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "anchor"}})).unwrap(),
        )
        .await
        .unwrap();
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    let request = |name: &str, uid: &str| -> TokenRequest {
        serde_json::from_value(json!({"spec": {"audiences": [], "boundObjectRef":
            {"apiVersion": "v1", "kind": "Secret", "name": name, "uid": uid}}}))
        .unwrap()
    };
    let code = |r: Result<TokenRequest, kube::Error>| match r {
        Err(kube::Error::Api(s)) => s.code,
        other => panic!("expected an API error, got {other:?}"),
    };
    let pp = PostParams::default();
    let missing = accounts
        .create_token_request("binder", &pp, &request("nope", ""))
        .await;
    assert_eq!(code(missing), 404);
    let wrong_uid = accounts
        .create_token_request("binder", &pp, &request("anchor", "other"))
        .await;
    assert_eq!(code(wrong_uid), 409);
    let issued = accounts
        .create_token_request("binder", &pp, &request("anchor", ""))
        .await
        .unwrap();
    let token = issued.status.unwrap().token;
    let as_sa = client_with_token(&cluster, &token);
    Api::<ConfigMap>::namespaced(as_sa.clone(), "default")
        .list(&ListParams::default())
        .await
        .unwrap();
    // A new Secret of the same name is another object: the token stays revoked.
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    secrets
        .delete("anchor", &DeleteParams::default())
        .await
        .unwrap();
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "anchor"}})).unwrap(),
        )
        .await
        .unwrap();
    assert_ne!(secrets.get("anchor").await.unwrap().uid(), secret.uid());
    assert_unauthorized(as_sa).await;
}

#[tokio::test]
async fn token_secret_waits_for_its_service_account_and_goes_with_it() {
    let cluster = TestCluster::start().await.unwrap();
    let client = cluster.client.clone();
    let (_tx, rx) = watch::channel(false);
    tokio::spawn(TokensController::new(client.clone(), None).run(rx));

    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    create_token_secret(&client, "default", "late-token", "late").await;
    // Without its account the Secret is kept, without a token.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = secrets.get("late-token").await.unwrap();
    assert_eq!(data(&waiting, "token"), None);

    let sa = create_service_account(&client, "default", "late").await;
    let secret = wait_for_token(&secrets, "late-token").await;
    assert_eq!(data(&secret, "ca.crt"), None, "no CA was given");
    assert_eq!(data(&secret, "namespace").as_deref(), Some("default"));
    assert_eq!(
        secret.annotations().get(SERVICE_ACCOUNT_UID_ANNOTATION),
        sa.uid().as_ref()
    );

    // The account this token was issued for goes: so does the Secret.
    Api::<ServiceAccount>::namespaced(client.clone(), "default")
        .delete("late", &DeleteParams::default())
        .await
        .unwrap();
    eventually("the token secret deleted", || async {
        secrets
            .get_opt("late-token")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}
