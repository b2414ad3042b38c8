//! The `ServiceAccount` admission plugin (plugin/pkg/admission/serviceaccount): a pod without a
//! ServiceAccount runs as `default`, and unless automounting is turned off (on the pod or on its
//! ServiceAccount) every container gets the `kube-api-access-<suffix>` projected volume (a bound
//! token, the cluster CA and the namespace) at `/var/run/secrets/kubernetes.io/serviceaccount`,
//! which in-cluster clients (kube-rs, client-go, the Python client) read.

use rand::Rng;
use serde_json::{Value, json};

/// Where in-cluster clients look for the token, CA and namespace.
pub const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Upstream's token lifetime for the projected volume (an hour plus a jitter margin).
const TOKEN_EXPIRATION_SECONDS: i64 = 3607;

/// Mutates a new pod. `account` is its ServiceAccount object, when it exists.
pub fn admit(pod: &mut Value, account: Option<&Value>) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    let name = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            spec.get("serviceAccount")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("default")
        .to_string();
    spec.insert("serviceAccountName".into(), json!(name));
    spec.insert("serviceAccount".into(), json!(name));

    // The pod's setting wins over the ServiceAccount's; both default to true.
    let automount = spec
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        .or_else(|| {
            account
                .and_then(|a| a.get("automountServiceAccountToken"))
                .and_then(Value::as_bool)
        })
        .unwrap_or(true);
    if !automount {
        return;
    }
    let mounted_by_user = ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|k| spec.get(*k).and_then(Value::as_array))
        .flatten()
        .filter_map(|c| c.get("volumeMounts").and_then(Value::as_array))
        .flatten()
        .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(MOUNT_PATH));
    if mounted_by_user {
        return;
    }
    let volume_name = format!("kube-api-access-{}", random_suffix());
    let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
    if let Some(volumes) = volumes.as_array_mut() {
        volumes.push(json!({
            "name": volume_name,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                ]
            }
        }));
    }
    for key in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(key).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers {
            let Some(c) = c.as_object_mut() else { continue };
            let mounts = c.entry("volumeMounts").or_insert_with(|| json!([]));
            if let Some(mounts) = mounts.as_array_mut() {
                mounts
                    .push(json!({"name": volume_name, "readOnly": true, "mountPath": MOUNT_PATH}));
            }
        }
    }
}

/// `utilrand.String(5)`: lowercase consonants and digits that cannot spell words.
fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        json!({"spec": {"containers": [{"name": "a"}, {"name": "b", "volumeMounts": [{"name": "x", "mountPath": "/x"}]}], "initContainers": [{"name": "i"}]}})
    }

    #[test]
    fn default_account_and_projected_volume() {
        let mut p = pod();
        admit(&mut p, None);
        assert_eq!(p["spec"]["serviceAccountName"], "default");
        let vol = &p["spec"]["volumes"][0];
        let name = vol["name"].as_str().unwrap();
        assert!(
            name.starts_with("kube-api-access-") && name.len() == 21,
            "{name}"
        );
        assert_eq!(
            vol["projected"]["sources"][0]["serviceAccountToken"]["path"],
            "token"
        );
        assert_eq!(
            vol["projected"]["sources"][1]["configMap"]["name"],
            "kube-root-ca.crt"
        );
        for c in ["containers", "initContainers"] {
            for container in p["spec"][c].as_array().unwrap() {
                let m = container["volumeMounts"]
                    .as_array()
                    .unwrap()
                    .last()
                    .unwrap();
                assert_eq!(m["mountPath"], MOUNT_PATH);
                assert_eq!(m["name"], name);
                assert_eq!(m["readOnly"], true);
            }
        }
    }

    #[test]
    fn automount_off_on_the_pod_or_the_account() {
        let mut p = pod();
        p["spec"]["automountServiceAccountToken"] = json!(false);
        admit(&mut p, None);
        assert!(p["spec"].get("volumes").is_none());

        let mut p = pod();
        p["spec"]["serviceAccountName"] = json!("robot");
        admit(
            &mut p,
            Some(&json!({"automountServiceAccountToken": false})),
        );
        assert_eq!(p["spec"]["serviceAccountName"], "robot");
        assert!(p["spec"].get("volumes").is_none());

        // The pod's true overrides the account's false.
        let mut p = pod();
        p["spec"]["automountServiceAccountToken"] = json!(true);
        admit(
            &mut p,
            Some(&json!({"automountServiceAccountToken": false})),
        );
        assert_eq!(p["spec"]["volumes"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn a_user_mount_at_the_path_is_kept() {
        let mut p = json!({"spec": {"containers": [{"name": "a", "volumeMounts": [{"name": "mine", "mountPath": MOUNT_PATH}]}]}});
        admit(&mut p, None);
        assert!(p["spec"].get("volumes").is_none());
    }
}
