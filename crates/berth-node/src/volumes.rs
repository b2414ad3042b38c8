//! Pod volumes as directories under `<pod dir>/.volumes/<name>` (a name no container can have):
//! emptyDir (tmpfs for medium Memory), configMap, secret, downwardAPI and projected (with
//! service account tokens from the TokenRequest API). Re-synced every minute so ConfigMap and
//! Secret changes reach running pods, as kubelet does. Containers see them through bind mounts
//! in a private mount namespace (see `spawner`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, ServiceAccount, Volume,
};
use kube::api::{Api, PostParams};

use crate::agent::AgentContext;
use crate::env::{self, PodFacts};
use crate::spawner::BindMount;

const VOLUMES_DIR: &str = ".volumes";
const DEFAULT_MODE: u32 = 0o644;
/// Token lifetime of `kube-api-access-*` volumes (upstream's 3607 s).
const DEFAULT_TOKEN_SECONDS: i64 = 3607;

/// The token already in the volume while it is younger than 80% of its lifetime (kubelet
/// refreshes projected tokens then), so a resync does not request a new one every time.
fn fresh_token(path: &Path, expiration_seconds: i64) -> Option<Vec<u8>> {
    let age = std::fs::metadata(path)
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()?;
    let refresh_after = std::time::Duration::from_secs((expiration_seconds.max(0) as u64) * 8 / 10);
    if age >= refresh_after {
        return None;
    }
    std::fs::read(path).ok().filter(|t| !t.is_empty())
}

fn volume_dir(pod_dir: &Path, name: &str) -> PathBuf {
    pod_dir.join(VOLUMES_DIR).join(name)
}

/// One file of a volume: relative path, content, mode.
type Files = Vec<(String, Vec<u8>, u32)>;

fn select_keys(
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&Vec<KeyToPath>>,
    default_mode: u32,
    what: &str,
) -> Result<Files, String> {
    match items {
        None => Ok(data
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), default_mode))
            .collect()),
        Some(items) => items
            .iter()
            .map(|i| {
                data.get(&i.key)
                    .map(|v| {
                        (
                            i.path.clone(),
                            v.clone(),
                            i.mode.map(|m| m as u32).unwrap_or(default_mode),
                        )
                    })
                    .ok_or_else(|| {
                        format!("configmap references non-existent config key: {}", i.key)
                    })
                    .map_err(|e| {
                        if what == "secret" {
                            e.replace("configmap", "secret")
                        } else {
                            e
                        }
                    })
            })
            .collect(),
    }
}

async fn config_map_data(
    ctx: &AgentContext,
    ns: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let cm = Api::<ConfigMap>::namespaced(ctx.client.clone(), ns)
        .get_opt(name)
        .await
        .map_err(|e| e.to_string())?;
    Ok(cm.map(|cm| {
        let mut out: BTreeMap<String, Vec<u8>> = cm
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes()))
            .collect();
        for (k, v) in cm.binary_data.unwrap_or_default() {
            out.insert(k, v.0);
        }
        out
    }))
}

async fn secret_data(
    ctx: &AgentContext,
    ns: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Vec<u8>>>, String> {
    let s = Api::<Secret>::namespaced(ctx.client.clone(), ns)
        .get_opt(name)
        .await
        .map_err(|e| e.to_string())?;
    Ok(s.map(|s| {
        let mut out: BTreeMap<String, Vec<u8>> = s
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        for (k, v) in s.string_data.unwrap_or_default() {
            out.insert(k, v.into_bytes());
        }
        out
    }))
}

fn downward_files(
    pod: &Pod,
    facts: &PodFacts,
    items: &[DownwardAPIVolumeFile],
    default_mode: u32,
) -> Result<Files, String> {
    items
        .iter()
        .map(|item| {
            let value = if let Some(f) = &item.field_ref {
                env::field_value(pod, facts, &f.field_path).map_err(|e| e.0)?
            } else if let Some(r) = &item.resource_field_ref {
                let name = r.container_name.clone().unwrap_or_default();
                let container = pod
                    .spec
                    .iter()
                    .flat_map(|s| s.containers.iter())
                    .find(|c| c.name == name)
                    .ok_or_else(|| format!("container {name} not found"))?;
                env::resource_value(
                    container,
                    facts,
                    &r.resource,
                    r.divisor.as_ref().map(|d| d.0.as_str()),
                )
                .map_err(|e| e.0)?
            } else {
                String::new()
            };
            Ok((
                item.path.clone(),
                value.into_bytes(),
                item.mode.map(|m| m as u32).unwrap_or(default_mode),
            ))
        })
        .collect()
}

async fn service_account_token(
    ctx: &AgentContext,
    pod: &Pod,
    audience: Option<String>,
    expiration: i64,
) -> Result<Vec<u8>, String> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let sa = pod
        .spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .unwrap_or_else(|| "default".into());
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: audience.into_iter().filter(|a| !a.is_empty()).collect(),
            expiration_seconds: Some(expiration),
            bound_object_ref: Some(k8s_openapi::api::authentication::v1::BoundObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
            }),
        },
        ..Default::default()
    };
    let api: Api<ServiceAccount> = Api::namespaced(ctx.client.clone(), &ns);
    let resp: TokenRequest = api
        .create_subresource("token", &sa, &PostParams::default(), &request)
        .await
        .map_err(|e| format!("failed to fetch token: {e}"))?;
    Ok(resp
        .status
        .map(|s| s.token.into_bytes())
        .unwrap_or_default())
}

/// The files a volume should contain; `None` for emptyDir (left alone) and unsupported kinds.
async fn volume_files(
    ctx: &AgentContext,
    pod: &Pod,
    facts: &PodFacts,
    v: &Volume,
    dir: &Path,
) -> Result<Option<Files>, String> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    if let Some(c) = &v.config_map {
        let mode = c.default_mode.map(|m| m as u32).unwrap_or(DEFAULT_MODE);
        return match config_map_data(ctx, &ns, &c.name).await? {
            Some(data) => select_keys(&data, c.items.as_ref(), mode, "configmap").map(Some),
            None if c.optional.unwrap_or(false) => Ok(Some(Vec::new())),
            None => Err(format!("configmap \"{}\" not found", c.name)),
        };
    }
    if let Some(s) = &v.secret {
        let mode = s.default_mode.map(|m| m as u32).unwrap_or(DEFAULT_MODE);
        let name = s.secret_name.clone().unwrap_or_default();
        return match secret_data(ctx, &ns, &name).await? {
            Some(data) => select_keys(&data, s.items.as_ref(), mode, "secret").map(Some),
            None if s.optional.unwrap_or(false) => Ok(Some(Vec::new())),
            None => Err(format!("secret \"{name}\" not found")),
        };
    }
    if let Some(d) = &v.downward_api {
        let mode = d.default_mode.map(|m| m as u32).unwrap_or(DEFAULT_MODE);
        return downward_files(pod, facts, d.items.as_deref().unwrap_or_default(), mode).map(Some);
    }
    if let Some(p) = &v.projected {
        let mode = p.default_mode.map(|m| m as u32).unwrap_or(DEFAULT_MODE);
        let mut files = Files::new();
        for source in p.sources.iter().flatten() {
            if let Some(c) = &source.config_map {
                // The `kube-api-access-*` volume needs `kube-root-ca.crt`; while no controller
                // publishes it, the token and namespace are still worth having.
                let tolerated =
                    v.name.starts_with("kube-api-access-") && c.name == "kube-root-ca.crt";
                match config_map_data(ctx, &ns, &c.name).await? {
                    Some(data) => {
                        files.extend(select_keys(&data, c.items.as_ref(), mode, "configmap")?)
                    }
                    None if c.optional.unwrap_or(false) || tolerated => {}
                    None => return Err(format!("configmap \"{}\" not found", c.name)),
                }
            }
            if let Some(s) = &source.secret {
                match secret_data(ctx, &ns, &s.name).await? {
                    Some(data) => {
                        files.extend(select_keys(&data, s.items.as_ref(), mode, "secret")?)
                    }
                    None if s.optional.unwrap_or(false) => {}
                    None => return Err(format!("secret \"{}\" not found", s.name)),
                }
            }
            if let Some(d) = &source.downward_api {
                files.extend(downward_files(
                    pod,
                    facts,
                    d.items.as_deref().unwrap_or_default(),
                    mode,
                )?);
            }
            if let Some(t) = &source.service_account_token {
                let expiration = t.expiration_seconds.unwrap_or(DEFAULT_TOKEN_SECONDS);
                let token = match fresh_token(&dir.join(&t.path), expiration) {
                    Some(token) => token,
                    None => service_account_token(ctx, pod, t.audience.clone(), expiration).await?,
                };
                files.push((t.path.clone(), token, mode));
            }
        }
        return Ok(Some(files));
    }
    Ok(None)
}

fn write_files(dir: &Path, files: &Files) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (rel, content, mode) in files {
        if rel.split('/').any(|part| part == "..") || rel.starts_with('/') {
            return Err(format!("invalid volume file path {rel:?}"));
        }
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        if std::fs::read(&path).ok().as_deref() != Some(content.as_slice()) {
            // Write then rename so a reader never sees half a file.
            let tmp = path.with_extension("berth-tmp");
            std::fs::write(&tmp, content).map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, &path).map_err(|e| e.to_string())?;
        }
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(*mode & 0o777));
    }
    Ok(())
}

/// Creates or refreshes the pod's volumes.
pub async fn sync(
    ctx: &AgentContext,
    pod_dir: &Path,
    pod: &Pod,
    facts: &PodFacts,
) -> Result<(), String> {
    for v in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
        let dir = volume_dir(pod_dir, &v.name);
        if let Some(e) = &v.empty_dir {
            if !dir.exists() {
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                if e.medium.as_deref() == Some("Memory") {
                    mount_tmpfs(
                        &dir,
                        e.size_limit
                            .as_ref()
                            .and_then(|q| crate::quantity::whole(&q.0)),
                    );
                }
            }
            continue;
        }
        if v.host_path.is_some() {
            continue;
        }
        match volume_files(ctx, pod, facts, v, &dir).await? {
            Some(files) => write_files(&dir, &files)?,
            None => {
                // Unsupported volume types get an empty directory so the pod still starts.
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

fn mount_tmpfs(dir: &Path, size: Option<u64>) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(target) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return;
    };
    let options = size.map(|s| format!("size={s}")).unwrap_or_default();
    let Ok(options) = std::ffi::CString::new(options) else {
        return;
    };
    // SAFETY: all pointers are valid NUL-terminated strings for the call's duration.
    let rc = unsafe {
        libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            options.as_ptr().cast(),
        )
    };
    if rc != 0 {
        tracing::warn!(dir = %dir.display(), error = %std::io::Error::last_os_error(), "cannot mount tmpfs for emptyDir; using a directory");
    }
}

/// Unmounts tmpfs volumes and removes the volume directories (logs stay).
pub fn teardown(pod_dir: &Path) {
    let root = pod_dir.join(VOLUMES_DIR);
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            use std::os::unix::ffi::OsStrExt;
            if let Ok(c) = std::ffi::CString::new(e.path().as_os_str().as_bytes()) {
                // SAFETY: valid path; fails harmlessly when nothing is mounted there.
                unsafe {
                    libc::umount2(c.as_ptr(), libc::MNT_DETACH);
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(root);
}

/// The bind mounts of a container's `volumeMounts`. Missing mount points are created as empty
/// directories (or files, for a file subPath) on the host: Berth has no container root
/// filesystem to create them in.
pub fn mounts_for(
    pod_dir: &Path,
    pod: &Pod,
    container: &Container,
) -> Result<Vec<BindMount>, String> {
    let volumes: Vec<&Volume> = pod
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .collect();
    let mut mounts = Vec::new();
    for m in container.volume_mounts.iter().flatten() {
        let Some(volume) = volumes.iter().find(|v| v.name == m.name) else {
            return Err(format!("volume \"{}\" not found in pod", m.name));
        };
        let mut source = match &volume.host_path {
            Some(h) => PathBuf::from(&h.path),
            None => volume_dir(pod_dir, &m.name),
        };
        if let Some(sub) = m.sub_path.as_deref().filter(|s| !s.is_empty()) {
            if sub.split('/').any(|p| p == "..") || sub.starts_with('/') {
                return Err(format!("invalid subPath {sub:?}"));
            }
            source = source.join(sub);
            if !source.exists() {
                std::fs::create_dir_all(&source).map_err(|e| e.to_string())?;
            }
        }
        let target = PathBuf::from(&m.mount_path);
        if !target.exists() {
            if source.is_file() {
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        format!("cannot create mount point {}: {e}", target.display())
                    })?;
                }
                std::fs::write(&target, b"")
                    .map_err(|e| format!("cannot create mount point {}: {e}", target.display()))?;
            } else {
                std::fs::create_dir_all(&target)
                    .map_err(|e| format!("cannot create mount point {}: {e}", target.display()))?;
            }
        }
        mounts.push(BindMount {
            source,
            target,
            // Kubelet always mounts these kinds read-only.
            read_only: m.read_only.unwrap_or(false)
                || volume.config_map.is_some()
                || volume.secret.is_some()
                || volume.downward_api.is_some()
                || volume.projected.is_some(),
        });
    }
    Ok(mounts)
}
