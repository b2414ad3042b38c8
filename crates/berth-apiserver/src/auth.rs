//! Authentication: bearer tokens for the admin, in-process components and ServiceAccounts.
//!
//! ServiceAccount tokens are JWTs (HS256) signed with a key kept in the data directory, with the
//! claims Kubernetes puts in bound tokens. A token is accepted while it has not expired, its
//! ServiceAccount still exists with the same uid and, for a token bound to a Secret or Pod
//! (TokenRequest's `boundObjectRef`), that object does too.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Who made a request. RBAC (a later layer) authorizes on this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: HashMap<String, Vec<String>>,
}

impl UserInfo {
    pub fn to_json(&self) -> Value {
        let mut v = json!({"username": self.username, "groups": self.groups});
        if !self.uid.is_empty() {
            v["uid"] = json!(self.uid);
        }
        if !self.extra.is_empty() {
            v["extra"] = json!(self.extra);
        }
        v
    }
}

/// A verified ServiceAccount token, still to be checked against the ServiceAccount object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccountClaims {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// The object the token is bound to, if any.
    pub bound: Option<BoundObject>,
}

/// The object a token is bound to: upstream's `kubernetes.io.secret` / `kubernetes.io.pod` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundObject {
    pub kind: BoundKind,
    pub name: String,
    pub uid: String,
}

/// The kinds a token can be bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundKind {
    Secret,
    Pod,
}

impl BoundKind {
    /// The kind of a `boundObjectRef` (core group only, as upstream).
    pub fn from_ref(api_version: &str, kind: &str) -> Option<BoundKind> {
        match (api_version, kind) {
            ("v1", "Secret") => Some(BoundKind::Secret),
            ("v1", "Pod") => Some(BoundKind::Pod),
            _ => None,
        }
    }

    /// The key of its claim under `kubernetes.io`.
    pub fn claim(self) -> &'static str {
        match self {
            BoundKind::Secret => "secret",
            BoundKind::Pod => "pod",
        }
    }

    /// Its (core group) resource.
    pub fn resource(self) -> &'static str {
        match self {
            BoundKind::Secret => "secrets",
            BoundKind::Pod => "pods",
        }
    }
}

/// How long after its deletion started a bound object still validates its tokens (upstream's
/// validator allows the same 60 seconds, for graceful shutdowns).
const BOUND_OBJECT_DELETION_LEEWAY_SECONDS: i64 = 60;

/// The static tokens and the ServiceAccount signing key.
pub struct Authenticator {
    static_tokens: HashMap<String, UserInfo>,
    key: hmac::Key,
    issuer: String,
}

impl Authenticator {
    pub fn new(signing_secret: &[u8]) -> Self {
        Self {
            static_tokens: HashMap::new(),
            key: hmac::Key::new(hmac::HMAC_SHA256, signing_secret),
            issuer: "https://kubernetes.default.svc.cluster.local".to_string(),
        }
    }

    pub fn add_static_token(&mut self, token: String, user: UserInfo) {
        self.static_tokens.insert(token, user);
    }

    /// A static token's user.
    pub fn static_user(&self, token: &str) -> Option<&UserInfo> {
        // Compare in constant time per candidate: tokens are secrets.
        self.static_tokens
            .iter()
            .find(|(t, _)| constant_time_eq(t.as_bytes(), token.as_bytes()))
            .map(|(_, u)| u)
    }

    /// Issues a ServiceAccount token (TokenRequest).
    pub fn issue_service_account_token(
        &self,
        claims: &ServiceAccountClaims,
        audiences: &[String],
        expiration_seconds: i64,
    ) -> (String, i64) {
        let now = jiff::Timestamp::now().as_second();
        let exp = now + expiration_seconds;
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let mut body = json!({
            "aud": audiences,
            "exp": exp,
            "iat": now,
            "nbf": now,
            "iss": self.issuer,
            "sub": format!("system:serviceaccount:{}:{}", claims.namespace, claims.name),
            "kubernetes.io": {
                "namespace": claims.namespace,
                "serviceaccount": {"name": claims.name, "uid": claims.uid},
            },
        });
        if let Some(b) = &claims.bound {
            body["kubernetes.io"][b.kind.claim()] = json!({"name": b.name, "uid": b.uid});
        }
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(body.to_string())
        );
        let sig = hmac::sign(&self.key, signing_input.as_bytes());
        (
            format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())),
            exp,
        )
    }

    /// Verifies a ServiceAccount token's signature and expiry.
    pub fn verify_service_account_token(&self, token: &str) -> Option<ServiceAccountClaims> {
        let mut parts = token.split('.');
        let (h, b, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
        hmac::verify(&self.key, format!("{h}.{b}").as_bytes(), &sig).ok()?;
        let body: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b).ok()?).ok()?;
        let exp = body.get("exp")?.as_i64()?;
        if exp < jiff::Timestamp::now().as_second() {
            return None;
        }
        let k = body.get("kubernetes.io")?;
        let bound = [BoundKind::Secret, BoundKind::Pod]
            .into_iter()
            .find_map(|kind| {
                let claim = k.get(kind.claim())?;
                Some(BoundObject {
                    kind,
                    name: claim.get("name")?.as_str()?.to_string(),
                    uid: claim.get("uid")?.as_str()?.to_string(),
                })
            });
        Some(ServiceAccountClaims {
            namespace: k.get("namespace")?.as_str()?.to_string(),
            name: k.pointer("/serviceaccount/name")?.as_str()?.to_string(),
            uid: k.pointer("/serviceaccount/uid")?.as_str()?.to_string(),
            bound,
        })
    }
}

impl crate::server::ApiServer {
    /// Whether the object a token is bound to, if any, still exists with the bound uid and is
    /// not past the deletion leeway (upstream's bound-token validation).
    pub(crate) async fn bound_object_valid(&self, claims: &ServiceAccountClaims) -> bool {
        let Some(bound) = &claims.bound else {
            return true;
        };
        let Some(served) = self.registry.get("", "v1", bound.kind.resource()) else {
            return false;
        };
        let Ok((obj, _)) = self
            .get_object(&served, Some(&claims.namespace), &bound.name)
            .await
        else {
            return false;
        };
        if crate::object::uid(&obj) != Some(bound.uid.as_str()) {
            return false;
        }
        match crate::object::deletion_timestamp(&obj) {
            None => true,
            Some(ts) => ts.parse::<jiff::Timestamp>().is_ok_and(|deleting| {
                deleting.as_second() + BOUND_OBJECT_DELETION_LEEWAY_SECONDS
                    > jiff::Timestamp::now().as_second()
            }),
        }
    }
}

/// Equality whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The user a ServiceAccount authenticates as.
pub fn service_account_user(c: &ServiceAccountClaims) -> UserInfo {
    UserInfo {
        username: format!("system:serviceaccount:{}:{}", c.namespace, c.name),
        uid: c.uid.clone(),
        groups: vec![
            "system:serviceaccounts".into(),
            format!("system:serviceaccounts:{}", c.namespace),
            "system:authenticated".into(),
        ],
        extra: HashMap::new(),
    }
}

/// The admin user of the admin token (kubeconfig).
pub fn admin_user() -> UserInfo {
    UserInfo {
        username: "berth-admin".into(),
        uid: String::new(),
        groups: vec!["system:masters".into(), "system:authenticated".into()],
        extra: HashMap::new(),
    }
}

/// A random token of 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_tokens_verify_and_reject_tampering() {
        let a = Authenticator::new(b"secret");
        let c = ServiceAccountClaims {
            namespace: "ns".into(),
            name: "sa".into(),
            uid: "u1".into(),
            bound: None,
        };
        let (t, _) = a.issue_service_account_token(&c, &["api".into()], 3600);
        assert_eq!(a.verify_service_account_token(&t), Some(c.clone()));
        for kind in [BoundKind::Secret, BoundKind::Pod] {
            let bound = ServiceAccountClaims {
                bound: Some(BoundObject {
                    kind,
                    name: "obj".into(),
                    uid: "u2".into(),
                }),
                ..c.clone()
            };
            let (t, _) = a.issue_service_account_token(&bound, &[], 3600);
            assert_eq!(a.verify_service_account_token(&t), Some(bound));
        }
        let mut bad = t.clone();
        bad.push('x');
        assert_eq!(a.verify_service_account_token(&bad), None);
        let other = Authenticator::new(b"other");
        assert_eq!(other.verify_service_account_token(&t), None);
        let (expired, _) = a.issue_service_account_token(&c, &[], -10);
        assert_eq!(a.verify_service_account_token(&expired), None);
    }

    #[test]
    fn static_tokens() {
        let mut a = Authenticator::new(b"k");
        a.add_static_token("abc".into(), admin_user());
        assert_eq!(
            a.static_user("abc").map(|u| u.username.as_str()),
            Some("berth-admin")
        );
        assert!(a.static_user("abd").is_none());
    }
}
