//! TLS: certificates chosen by SNI from the `kubernetes.io/tls` Secrets that served Ingresses
//! name in `spec.tls`, and ingress-nginx's self-signed fallback certificate for everything
//! else.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;
use k8s_openapi::api::core::v1::Secret;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

use crate::table::TlsHost;

/// The fallback certificate's subject, as ingress-nginx names its own.
const FALLBACK_CN: &str = "Kubernetes Ingress Controller Fake Certificate";

#[derive(Default)]
struct CertTable {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// Keyed by what follows `*.`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    /// For the debug snapshot: host -> `namespace/secret`.
    sources: Vec<(String, String)>,
}

/// Picks the certificate for a TLS handshake by its server name.
pub(crate) struct CertResolver {
    table: ArcSwap<CertTable>,
    fallback: Arc<CertifiedKey>,
    /// Parsed Secrets by `namespace/name`, reused while their resourceVersion stays.
    cache: std::sync::Mutex<HashMap<String, (String, Arc<CertifiedKey>)>>,
}

impl fmt::Debug for CertResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertResolver").finish_non_exhaustive()
    }
}

impl CertResolver {
    pub(crate) fn new() -> Result<CertResolver, crate::Error> {
        let mut params = rcgen::CertificateParams::new(vec!["ingress.local".to_string()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, FALLBACK_CN);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Acme Co");
        let key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let key_der = PrivateKeyDer::try_from(key.serialize_der())
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        let signing = rustls::crypto::ring::sign::any_supported_type(&key_der)?;
        Ok(CertResolver {
            table: ArcSwap::from_pointee(CertTable::default()),
            fallback: Arc::new(CertifiedKey::new(vec![cert.der().clone()], signing)),
            cache: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Replaces the certificates with those of `hosts`, read from `secrets`.
    pub(crate) fn update(&self, hosts: &[TlsHost], secrets: &[Arc<Secret>]) {
        let by_key: HashMap<(&str, &str), &Secret> = secrets
            .iter()
            .filter_map(|s| {
                Some((
                    (
                        s.metadata.namespace.as_deref()?,
                        s.metadata.name.as_deref()?,
                    ),
                    s.as_ref(),
                ))
            })
            .collect();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let mut used: HashMap<String, (String, Arc<CertifiedKey>)> = HashMap::new();
        let mut table = CertTable::default();
        for h in hosts {
            let key = format!("{}/{}", h.secret_namespace, h.secret_name);
            let Some(secret) = by_key.get(&(h.secret_namespace.as_str(), h.secret_name.as_str()))
            else {
                tracing::warn!(
                    host = h.host,
                    secret = key,
                    "TLS secret not found; using the fallback certificate"
                );
                continue;
            };
            let version = secret.metadata.resource_version.clone().unwrap_or_default();
            let cert = match used.get(&key).or_else(|| cache.get(&key)) {
                Some((v, cert)) if *v == version => cert.clone(),
                _ => match certified_key(secret) {
                    Ok(cert) => Arc::new(cert),
                    Err(e) => {
                        tracing::warn!(host = h.host, secret = key, error = %e, "unusable TLS secret; using the fallback certificate");
                        continue;
                    }
                },
            };
            used.insert(key.clone(), (version, cert.clone()));
            table.sources.push((h.host.clone(), key));
            match h.host.strip_prefix("*.") {
                Some(parent) => table.wildcard.insert(parent.to_string(), cert),
                None => table.exact.insert(h.host.clone(), cert),
            };
        }
        *cache = used;
        self.table.store(Arc::new(table));
    }

    pub(crate) fn to_json(&self) -> Value {
        let t = self.table.load();
        let hosts: serde_json::Map<String, Value> = t
            .sources
            .iter()
            .map(|(h, s)| (h.clone(), json!(s)))
            .collect();
        Value::Object(hosts)
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = hello.server_name() else {
            return Some(self.fallback.clone());
        };
        let name = name.to_ascii_lowercase();
        let table = self.table.load();
        let found = table.exact.get(&name).or_else(|| {
            let (_, parent) = name.split_once('.')?;
            table.wildcard.get(parent)
        });
        Some(found.unwrap_or(&self.fallback).clone())
    }
}

#[derive(Debug, thiserror::Error)]
enum SecretError {
    #[error("missing data key {0}")]
    Missing(&'static str),
    #[error("tls.crt has no certificate")]
    NoCertificate,
    #[error("bad PEM: {0}")]
    Pem(#[from] rustls_pki_types::pem::Error),
    #[error(transparent)]
    Tls(#[from] rustls::Error),
}

fn certified_key(secret: &Secret) -> Result<CertifiedKey, SecretError> {
    let data = secret.data.as_ref();
    let get = |k: &'static str| {
        data.and_then(|d| d.get(k))
            .map(|b| b.0.as_slice())
            .ok_or(SecretError::Missing(k))
    };
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(get("tls.crt")?).collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err(SecretError::NoCertificate);
    }
    let key = PrivateKeyDer::from_pem_slice(get("tls.key")?)?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)?;
    let cert = CertifiedKey::new(certs, signing);
    // Refuses a key that does not belong to the certificate.
    cert.keys_match()?;
    Ok(cert)
}

/// The server configuration of the HTTPS listener (HTTP/2 and HTTP/1.1 by ALPN).
pub(crate) fn server_config(resolver: Arc<CertResolver>) -> Result<ServerConfig, crate::Error> {
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
