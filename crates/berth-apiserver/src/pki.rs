//! Credentials kept in the data directory: a CA, the serving certificate, the admin token and
//! the ServiceAccount signing key, created on first start and reused afterwards; and the
//! kubeconfig written for clients.

use std::fs;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("TLS configuration failed: {0}")]
    Tls(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a file atomically with mode 0600 (secrets).
pub fn write_private(path: &Path, data: &[u8]) -> Result<(), PkiError> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io(&tmp))?;
        f.write_all(data).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))
}

/// The credentials of one data directory.
pub struct Credentials {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub admin_token: String,
    pub sa_signing_key: Vec<u8>,
}

/// Loads the credentials in `dir/pki`, creating what is missing. The serving certificate is
/// re-issued when it does not cover `addr`'s IP.
/// `service_ip` is the `kubernetes` Service's ClusterIP (the first address of the service
/// CIDR), which pods use to reach the API server.
pub fn load_or_create(
    dir: &Path,
    addr: SocketAddr,
    service_ip: IpAddr,
) -> Result<Credentials, PkiError> {
    let pki = dir.join("pki");
    fs::create_dir_all(&pki).map_err(io(&pki))?;
    let ca_crt = pki.join("ca.crt");
    let ca_key = pki.join("ca.key");
    let (ca_pem, ca_key_pem) = if ca_crt.exists() && ca_key.exists() {
        (
            fs::read_to_string(&ca_crt).map_err(io(&ca_crt))?,
            fs::read_to_string(&ca_key).map_err(io(&ca_key))?,
        )
    } else {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "berth-ca");
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2124, 1, 1);
        let cert = params.self_signed(&key)?;
        let pem = cert.pem();
        let key_pem = key.serialize_pem();
        write_private(&ca_key, key_pem.as_bytes())?;
        fs::write(&ca_crt, &pem).map_err(io(&ca_crt))?;
        (pem, key_pem)
    };

    let srv_crt = pki.join("apiserver.crt");
    let srv_key = pki.join("apiserver.key");
    let sans_file = pki.join("apiserver.sans");
    let mut sans: Vec<String> = vec![
        "localhost".into(),
        "kubernetes".into(),
        "kubernetes.default".into(),
        "kubernetes.default.svc".into(),
        "kubernetes.default.svc.cluster.local".into(),
        "127.0.0.1".into(),
        "::1".into(),
        service_ip.to_string(),
    ];
    let ip = addr.ip();
    if !ip.is_unspecified() && !sans.contains(&ip.to_string()) {
        sans.push(ip.to_string());
    }
    let sans_text = sans.join("\n");
    let reuse = srv_crt.exists()
        && srv_key.exists()
        && fs::read_to_string(&sans_file).ok().as_deref() == Some(sans_text.as_str());
    let (cert_pem, key_pem) = if reuse {
        (
            fs::read_to_string(&srv_crt).map_err(io(&srv_crt))?,
            fs::read_to_string(&srv_key).map_err(io(&srv_key))?,
        )
    } else {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "kube-apiserver");
        for s in &sans {
            match s.parse::<IpAddr>() {
                Ok(ip) => params.subject_alt_names.push(rcgen::SanType::IpAddress(ip)),
                Err(_) => params
                    .subject_alt_names
                    .push(rcgen::SanType::DnsName(s.clone().try_into()?)),
            }
        }
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2124, 1, 1);
        let ca_keypair = rcgen::KeyPair::from_pem(&ca_key_pem)?;
        let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_pem, ca_keypair)?;
        let cert = params.signed_by(&key, &issuer)?;
        let pem = cert.pem();
        write_private(&srv_key, key.serialize_pem().as_bytes())?;
        fs::write(&srv_crt, &pem).map_err(io(&srv_crt))?;
        fs::write(&sans_file, &sans_text).map_err(io(&sans_file))?;
        (pem, key.serialize_pem())
    };

    let token_path = dir.join("admin.token");
    let admin_token = match fs::read_to_string(&token_path) {
        Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            let t = crate::auth::random_token();
            write_private(&token_path, t.as_bytes())?;
            t
        }
    };
    let sa_path = pki.join("sa.key");
    let sa_signing_key = match fs::read(&sa_path) {
        Ok(k) if k.len() >= 32 => k,
        _ => {
            let k: [u8; 64] = rand::random();
            write_private(&sa_path, &k)?;
            k.to_vec()
        }
    };
    Ok(Credentials {
        ca_pem,
        cert_pem,
        key_pem,
        admin_token,
        sa_signing_key,
    })
}

/// A rustls server configuration for the serving certificate, offering HTTP/2 and HTTP/1.1.
pub fn server_config(c: &Credentials) -> Result<rustls::ServerConfig, PkiError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(c.cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_slice(c.key_pem.as_bytes())
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PkiError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// The kubeconfig for the admin: cluster "berth", user "berth-admin", context "berth".
pub fn kubeconfig(server_url: &str, ca_pem: &str, token: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: berth
  cluster:
    server: {server_url}
    certificate-authority-data: {ca}
users:
- name: berth-admin
  user:
    token: {token}
contexts:
- name: berth
  context:
    cluster: berth
    user: berth-admin
    namespace: default
current-context: berth
preferences: {{}}
"
    )
}
