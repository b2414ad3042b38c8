//! The service account token controller (upstream `pkg/controller/serviceaccount`
//! `TokensController`, the legacy part v1.33 still runs): a Secret of type
//! `kubernetes.io/service-account-token` naming a ServiceAccount in the
//! `kubernetes.io/service-account.name` annotation gets a token for that account in
//! `data.token`, with `data.ca.crt` and `data.namespace`.
//!
//! Tokens come from the TokenRequest API, bound to the Secret (so they stop working when the
//! Secret goes) and with a very long lifetime, since legacy tokens do not expire. A token Secret
//! whose ServiceAccount (by uid) is gone is deleted.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams, Preconditions};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::runtime::{
    Backoff, Change, Informer, ObjectKey, WorkQueue, key_of, run_workers, wait_for_shutdown,
};

/// `v1.SecretTypeServiceAccountToken`.
pub const SERVICE_ACCOUNT_TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
/// `v1.ServiceAccountNameKey`.
pub const SERVICE_ACCOUNT_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";
/// `v1.ServiceAccountUIDKey`.
pub const SERVICE_ACCOUNT_UID_ANNOTATION: &str = "kubernetes.io/service-account.uid";
/// `v1.ServiceAccountTokenKey`, `v1.ServiceAccountRootCAKey`, `v1.ServiceAccountNamespaceKey`.
pub const TOKEN_KEY: &str = "token";
pub const CA_KEY: &str = "ca.crt";
pub const NAMESPACE_KEY: &str = "namespace";
/// Ten years: legacy tokens have no expiry, and TokenRequest needs one.
pub const TOKEN_EXPIRATION_SECONDS: i64 = 10 * 365 * 24 * 60 * 60;
/// kube-controller-manager's --concurrent-serviceaccount-token-syncs.
const WORKERS: usize = 5;
/// Writes retried on conflict before giving up (the key is then retried with backoff).
const CONFLICT_RETRIES: usize = 5;
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(500),
    max: Duration::from_secs(60),
};

/// The token controller. Build with [`TokensController::new`], then [`TokensController::run`].
pub struct TokensController {
    client: Client,
    ca_pem: Option<String>,
}

struct Shared {
    client: Client,
    ca_pem: Option<String>,
    secrets: Store<Secret>,
}

impl TokensController {
    /// `ca_pem`, when known, is written to each token Secret's `ca.crt`.
    pub fn new(client: Client, ca_pem: Option<String>) -> Self {
        TokensController { client, ca_pem }
    }

    /// Runs until `shutdown` turns true (or its sender is dropped).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        tracing::info!("starting service account token controller");
        let queue: Arc<WorkQueue<ObjectKey>> = WorkQueue::new(BACKOFF);
        let q = queue.clone();
        let secrets = Informer::start(
            Api::<Secret>::all(self.client.clone()),
            watcher::Config::default().fields(&format!("type={SERVICE_ACCOUNT_TOKEN_TYPE}")),
            move |change, store: &Store<Secret>| match change {
                Change::Applied(s) => q.add(key_of(s)),
                Change::Deleted(_) => {}
                Change::Resynced => {
                    for s in store.state() {
                        q.add(key_of(s.as_ref()));
                    }
                }
            },
        );
        // A ServiceAccount appearing or going re-syncs the token Secrets that name it.
        let q = queue.clone();
        let secret_store = secrets.store.clone();
        let accounts = Informer::start(
            Api::<ServiceAccount>::all(self.client.clone()),
            watcher::Config::default(),
            move |change, _: &Store<ServiceAccount>| match change {
                Change::Applied(sa) | Change::Deleted(sa) => {
                    let (ns, name) = key_of(sa);
                    for s in secret_store.state() {
                        if s.namespace().as_deref() == Some(ns.as_str())
                            && account_name(&s) == Some(name.as_str())
                        {
                            q.add(key_of(s.as_ref()));
                        }
                    }
                }
                Change::Resynced => {}
            },
        );
        tokio::select! {
            _ = async { secrets.ready().await; accounts.ready().await } => {}
            _ = wait_for_shutdown(shutdown.clone()) => return,
        }
        let shared = Arc::new(Shared {
            client: self.client,
            ca_pem: self.ca_pem,
            secrets: secrets.store.clone(),
        });
        run_workers(
            "serviceaccount-token",
            queue,
            WORKERS,
            shutdown,
            move |key| {
                let shared = shared.clone();
                async move { shared.sync(&key).await }
            },
        )
        .await;
        tracing::info!("stopped service account token controller");
    }
}

fn account_name(secret: &Secret) -> Option<&str> {
    secret
        .annotations()
        .get(SERVICE_ACCOUNT_NAME_ANNOTATION)
        .map(String::as_str)
        .filter(|n| !n.is_empty())
}

fn account_uid(secret: &Secret) -> Option<&str> {
    secret
        .annotations()
        .get(SERVICE_ACCOUNT_UID_ANNOTATION)
        .map(String::as_str)
        .filter(|u| !u.is_empty())
}

/// What a token Secret lacks.
#[derive(Debug, PartialEq, Eq)]
struct Missing {
    token: bool,
    ca: bool,
    namespace: bool,
}

impl Missing {
    fn of(secret: &Secret, ca_pem: Option<&str>) -> Missing {
        let value = |key: &str| secret.data.as_ref().and_then(|d| d.get(key));
        let namespace = secret.namespace().unwrap_or_default();
        Missing {
            token: value(TOKEN_KEY).is_none_or(|t| t.0.is_empty()),
            ca: ca_pem.is_some_and(|ca| value(CA_KEY).is_none_or(|v| v.0 != ca.as_bytes())),
            namespace: value(NAMESPACE_KEY).is_none_or(|v| v.0 != namespace.as_bytes()),
        }
    }

    fn any(&self) -> bool {
        self.token || self.ca || self.namespace
    }
}

impl Shared {
    async fn sync(&self, key: &ObjectKey) -> Result<()> {
        let (namespace, name) = key;
        let Some(cached) = self
            .secrets
            .get(&kube::runtime::reflector::ObjectRef::new(name).within(namespace))
        else {
            return Ok(());
        };
        if cached.type_.as_deref() != Some(SERVICE_ACCOUNT_TOKEN_TYPE)
            || cached.metadata.deletion_timestamp.is_some()
        {
            return Ok(());
        }
        let Some(account) = account_name(&cached) else {
            return Ok(());
        };
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client.clone(), namespace);
        let sa = accounts.get_opt(account).await?;
        let sa_uid = sa.as_ref().and_then(|sa| sa.uid());
        match (account_uid(&cached), sa_uid.as_deref()) {
            // The account this Secret was issued for is gone: so goes its token.
            (Some(wanted), found) if found != Some(wanted) => {
                return self.delete_secret(&cached).await;
            }
            // Not created yet: wait for it (upstream would delete the Secret).
            (None, None) => {
                return Err(Error::ServiceAccountMissing {
                    namespace: namespace.clone(),
                    name: account.to_string(),
                });
            }
            _ => {}
        }
        let Some(sa_uid) = sa_uid else {
            return Ok(());
        };
        if !Missing::of(&cached, self.ca_pem.as_deref()).any() {
            return Ok(());
        }
        self.fill_secret(namespace, name, account, &sa_uid).await
    }

    /// Writes what the Secret lacks in one update, re-reading it on conflict.
    async fn fill_secret(
        &self,
        namespace: &str,
        name: &str,
        account: &str,
        sa_uid: &str,
    ) -> Result<()> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let mut token: Option<String> = None;
        for _ in 0..CONFLICT_RETRIES {
            let Some(mut secret) = api.get_opt(name).await? else {
                return Ok(());
            };
            // Re-check the live object still asks for this account.
            if secret.metadata.deletion_timestamp.is_some()
                || account_name(&secret) != Some(account)
                || account_uid(&secret).is_some_and(|u| u != sa_uid)
            {
                return Ok(());
            }
            let missing = Missing::of(&secret, self.ca_pem.as_deref());
            if !missing.any() {
                return Ok(());
            }
            if missing.token {
                let issued = match &token {
                    Some(t) => t.clone(),
                    None => {
                        let t = self.request_token(&secret, account).await?;
                        token = Some(t.clone());
                        t
                    }
                };
                secret
                    .data
                    .get_or_insert_with(Default::default)
                    .insert(TOKEN_KEY.to_string(), ByteString(issued.into_bytes()));
                secret.annotations_mut().insert(
                    SERVICE_ACCOUNT_UID_ANNOTATION.to_string(),
                    sa_uid.to_string(),
                );
            }
            let data = secret.data.get_or_insert_with(Default::default);
            if let Some(ca) = &self.ca_pem {
                data.insert(CA_KEY.to_string(), ByteString(ca.clone().into_bytes()));
            }
            data.insert(
                NAMESPACE_KEY.to_string(),
                ByteString(namespace.as_bytes().to_vec()),
            );
            // The object read carries its resourceVersion: a concurrent writer makes this a
            // conflict, and the next round starts from the newer Secret.
            match api
                .replace(name, &PostParams::default(), &secret)
                .await
                .map_err(Error::from)
            {
                Ok(_) => {
                    tracing::info!(namespace, secret = name, "populated service account token");
                    return Ok(());
                }
                Err(e) if e.is_conflict() => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::ConflictRetriesExhausted(format!(
            "updating token secret {namespace}/{name}"
        )))
    }

    /// A long-lived token for `account`, bound to the Secret.
    async fn request_token(&self, secret: &Secret, account: &str) -> Result<String> {
        let namespace = secret.namespace().unwrap_or_default();
        let accounts: Api<ServiceAccount> = Api::namespaced(self.client.clone(), &namespace);
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: Vec::new(),
                bound_object_ref: Some(BoundObjectReference {
                    api_version: Some("v1".into()),
                    kind: Some("Secret".into()),
                    name: Some(secret.name_any()),
                    uid: secret.uid(),
                }),
                expiration_seconds: Some(TOKEN_EXPIRATION_SECONDS),
            },
            ..TokenRequest::default()
        };
        let issued = accounts
            .create_token_request(account, &PostParams::default(), &request)
            .await?;
        issued
            .status
            .map(|s| s.token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::NoTokenIssued(format!("{namespace}/{account}")))
    }

    /// Deletes a token Secret (only this incarnation of it: uid precondition).
    async fn delete_secret(&self, secret: &Secret) -> Result<()> {
        let namespace = secret.namespace().unwrap_or_default();
        let api: Api<Secret> = Api::namespaced(self.client.clone(), &namespace);
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: secret.uid(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api
            .delete(&secret.name_any(), &params)
            .await
            .map_err(Error::from)
        {
            Ok(_) => {
                tracing::info!(
                    namespace,
                    secret = secret.name_any(),
                    "deleted token secret of a deleted service account"
                );
                Ok(())
            }
            // Already gone, or replaced by a new Secret of the same name.
            Err(e) if e.is_not_found() || e.is_conflict() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn secret(data: &[(&str, &str)]) -> Secret {
        Secret {
            metadata: kube::api::ObjectMeta {
                namespace: Some("ns".into()),
                ..Default::default()
            },
            data: Some(
                data.iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect::<BTreeMap<_, _>>(),
            ),
            ..Secret::default()
        }
    }

    #[test]
    fn missing_fields() {
        let full = secret(&[("token", "t"), ("ca.crt", "CA"), ("namespace", "ns")]);
        assert!(!Missing::of(&full, Some("CA")).any());
        assert!(!Missing::of(&secret(&[("token", "t"), ("namespace", "ns")]), None).any());
        assert_eq!(
            Missing::of(
                &secret(&[("ca.crt", "OLD"), ("namespace", "x")]),
                Some("CA")
            ),
            Missing {
                token: true,
                ca: true,
                namespace: true
            }
        );
        assert!(Missing::of(&secret(&[("token", "")]), None).token);
    }
}
