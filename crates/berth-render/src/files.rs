//! Config files: one ConfigMap `<name>-files`, each file mounted at its path by `subPath`.

use std::collections::{BTreeMap, BTreeSet};

use berth_spec::ConfigFile;
use k8s_openapi::api::core::v1::{ConfigMap, ConfigMapVolumeSource, Volume, VolumeMount};

use crate::RenderError;
use crate::labels::Owner;

/// Pod template annotation holding a hash of the config files. subPath mounts of a ConfigMap
/// never update in place, so a changed file has to roll the pods: a new hash changes the pod
/// template, and the Deployment rolls.
pub const FILES_HASH_ANNOTATION: &str = "berth.dev/files-hash";

/// Name of the volume the files are mounted from.
const VOLUME_NAME: &str = "files";

/// ConfigMap keys may be at most this long (a DNS-1123 subdomain's length).
const MAX_KEY_LEN: usize = 253;

/// The rendered config files of one spec.
pub(crate) struct Files {
    pub config_map: ConfigMap,
    pub volume: Volume,
    /// One per file, in the spec's order.
    pub mounts: Vec<VolumeMount>,
    /// Value of [`FILES_HASH_ANNOTATION`].
    pub hash: String,
}

/// Name of the ConfigMap holding `name`'s config files.
pub(crate) fn config_map_name(name: &str) -> String {
    format!("{name}-files")
}

/// `None` when the spec has no config files.
pub(crate) fn render_files(
    owner: &Owner<'_>,
    files: &[ConfigFile],
) -> Result<Option<Files>, RenderError> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut paths = BTreeSet::new();
    for file in files {
        check_path(&file.path)?;
        if !paths.insert(file.path.as_str()) {
            return Err(RenderError::InvalidConfigFile {
                path: file.path.clone(),
                reason: "listed twice".to_string(),
            });
        }
    }
    let keys = unique_keys(files);
    let data: BTreeMap<String, String> = keys
        .iter()
        .zip(files)
        .map(|(key, file)| (key.clone(), file.content.clone()))
        .collect();
    let hash = berth_spec::spec_hash(&data);
    let name = config_map_name(owner.name);
    let mounts = keys
        .iter()
        .zip(files)
        .map(|(key, file)| VolumeMount {
            name: VOLUME_NAME.to_string(),
            mount_path: file.path.clone(),
            sub_path: Some(key.clone()),
            read_only: Some(true),
            ..Default::default()
        })
        .collect();
    Ok(Some(Files {
        config_map: ConfigMap {
            metadata: owner.object_meta(&name),
            data: Some(data),
            ..Default::default()
        },
        volume: Volume {
            name: VOLUME_NAME.to_string(),
            config_map: Some(ConfigMapVolumeSource {
                name: name.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        mounts,
        hash,
    }))
}

/// A file's path must be absolute, name a file (not `/` or a directory) and stay clear of `..`.
fn check_path(path: &str) -> Result<(), RenderError> {
    let reason = if !path.starts_with('/') {
        Some("must be an absolute path")
    } else if path.ends_with('/') {
        Some("must name a file, not a directory")
    } else if path.split('/').any(|s| s == "..") {
        Some("must not contain '..'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(RenderError::InvalidConfigFile {
            path: path.to_string(),
            reason: reason.to_string(),
        }),
        None => Ok(()),
    }
}

/// The ConfigMap key of a file path, readable and valid (`[-._a-zA-Z0-9]+`): the path without
/// its leading `/`, `/` turned into `-`, other characters into `_` (`/app/app.py` ->
/// `app-app.py`). Different paths can map to the same key; [`unique_keys`] settles that.
pub fn config_file_key(path: &str) -> String {
    let key: String = path
        .trim_start_matches('/')
        .chars()
        .map(|c| match c {
            '/' => '-',
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') => c,
            _ => '_',
        })
        .collect();
    let key = if key.is_empty() || key == "." || key == ".." {
        "file".to_string()
    } else {
        key
    };
    if key.len() > MAX_KEY_LEN {
        with_hash(&key[..MAX_KEY_LEN - 17], path)
    } else {
        key
    }
}

/// Keys of `files`, in order: [`config_file_key`], and where two paths give the same key, each
/// of them suffixed with a hash of its own path (not a counter, so the keys do not depend on
/// the order of the files).
fn unique_keys(files: &[ConfigFile]) -> Vec<String> {
    let keys: Vec<String> = files.iter().map(|f| config_file_key(&f.path)).collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for key in &keys {
        *count.entry(key.as_str()).or_default() += 1;
    }
    keys.iter()
        .zip(files)
        .map(|(key, file)| {
            if count.get(key.as_str()).copied().unwrap_or(0) > 1 {
                let base = &key[..key.len().min(MAX_KEY_LEN - 17)];
                with_hash(base, &file.path)
            } else {
                key.clone()
            }
        })
        .collect()
}

/// `<base>-<16 hex digits of the hash of path>`.
fn with_hash(base: &str, path: &str) -> String {
    format!("{base}-{}", berth_spec::spec_hash(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> ConfigFile {
        ConfigFile {
            path: path.to_string(),
            content: String::new(),
        }
    }

    #[test]
    fn keys_are_readable_valid_and_unique() {
        assert_eq!(config_file_key("/app/app.py"), "app-app.py");
        assert_eq!(config_file_key("/etc/my app/conf:1"), "etc-my_app-conf_1");
        assert_eq!(config_file_key("/.."), "file");
        let long = format!("/{}", "a".repeat(400));
        assert_eq!(config_file_key(&long).len(), MAX_KEY_LEN);

        let keys = unique_keys(&[file("/a/b-c"), file("/a-b/c"), file("/x")]);
        assert_eq!(keys[2], "x");
        assert_ne!(keys[0], keys[1]);
        assert!(keys[0].starts_with("a-b-c-") && keys[1].starts_with("a-b-c-"));
        for key in &keys {
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')),
                "{key}"
            );
        }
        // Same input, same keys.
        assert_eq!(
            keys,
            unique_keys(&[file("/a/b-c"), file("/a-b/c"), file("/x")])
        );
    }

    #[test]
    fn paths_are_checked() {
        assert!(check_path("/etc/app.conf").is_ok());
        for bad in ["etc/app.conf", "/etc/", "/etc/../passwd", "/"] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
    }
}
