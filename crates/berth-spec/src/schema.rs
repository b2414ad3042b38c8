//! The CustomResourceDefinitions of App and CronApp, and the JSON Schema of spec files that
//! editors use (`# yaml-language-server: $schema=berth-spec.schema.json`).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use schemars::JsonSchema;
use serde_json::Value;

use crate::load::{ShortApp, ShortCron};
use crate::runtime::known_runtimes;
use crate::types::{App, AppSpec, CronApp, CronAppSpec};

pub fn app_crd() -> CustomResourceDefinition {
    App::crd()
}

pub fn cron_app_crd() -> CustomResourceDefinition {
    CronApp::crd()
}

/// Every CRD of Berth's platform layer.
pub fn crds() -> Vec<CustomResourceDefinition> {
    vec![app_crd(), cron_app_crd()]
}

/// One document of a spec file: a short App or CronApp, or a full custom resource.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)] // only its schema is used
enum SpecFileDocument {
    App(ShortApp),
    CronApp(ShortCron),
    AppResource(App),
    CronAppResource(CronApp),
}

/// JSON Schema (draft 2020-12) of one document of a spec file.
pub fn spec_file_schema() -> Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(SpecFileDocument)).unwrap_or(Value::Null);
    if let Some(root) = schema.as_object_mut() {
        root.insert(
            "title".into(),
            Value::String("Berth spec file document".into()),
        );
        root.insert(
            "description".into(),
            Value::String(
                "A short App or CronApp (kind, name, namespace and the spec's fields at the \
                 top; configFiles may read a local file with `from`), or a full \
                 berth.dev/v1alpha1 App/CronApp resource."
                    .into(),
            ),
        );
    }
    // The short forms mirror the spec structs; give their fields the specs' descriptions.
    let described = [
        (
            "AppFile",
            serde_json::to_value(schemars::schema_for!(AppSpec)),
        ),
        (
            "CronAppFile",
            serde_json::to_value(schemars::schema_for!(CronAppSpec)),
        ),
    ];
    let runtimes: Vec<Value> = known_runtimes().into_iter().map(Value::String).collect();
    for (def, spec_schema) in described {
        let Ok(spec_schema) = spec_schema else {
            continue;
        };
        let Some(properties) = schema
            .pointer_mut(&format!("/$defs/{def}/properties"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for (name, property) in properties.iter_mut() {
            let Some(property) = property.as_object_mut() else {
                continue;
            };
            if !property.contains_key("description")
                && let Some(description) = spec_schema
                    .pointer(&format!("/properties/{name}/description"))
                    .cloned()
            {
                property.insert("description".into(), description);
            }
            if name == "runtime" {
                // Known names as suggestions; lint refuses others with the list.
                property.insert("examples".into(), Value::Array(runtimes.clone()));
            }
        }
    }
    accept_yaml_scalars(&mut schema);
    schema
}

/// The loader reads plain YAML scalars as strings where the spec wants strings (`cpu: 1`,
/// `PORT: 8000`), so the schema must not flag them: quantities and env values also take numbers
/// (and env values booleans).
fn accept_yaml_scalars(schema: &mut Value) {
    for def in ["Resources", "ResourceLimits"] {
        for key in ["cpu", "memory"] {
            if let Some(types) = schema
                .pointer_mut(&format!("/$defs/{def}/properties/{key}/type"))
                .and_then(Value::as_array_mut)
            {
                types.push(Value::String("number".into()));
            }
        }
    }
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(env) = map
                    .get_mut("properties")
                    .and_then(|p| p.get_mut("env"))
                    .and_then(|e| e.get_mut("additionalProperties"))
                    && env["type"] == "string"
                {
                    env["type"] = serde_json::json!(["string", "number", "boolean"]);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(schema);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_key(value: &Value, key: &str, path: &mut Vec<String>) -> Option<String> {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == key {
                        return Some(path.join("."));
                    }
                    path.push(k.clone());
                    let found = find_key(v, key, path);
                    path.pop();
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            Value::Array(items) => items.iter().find_map(|v| find_key(v, key, path)),
            _ => None,
        }
    }

    #[test]
    fn crds_are_structural() {
        for crd in crds() {
            let json = serde_json::to_value(&crd).expect("crd json");
            assert_eq!(find_key(&json, "$ref", &mut Vec::new()), None, "{json}");
            let versions = json["spec"]["versions"].as_array().expect("versions");
            assert_eq!(versions.len(), 1);
            let schema = &versions[0]["schema"]["openAPIV3Schema"];
            assert_eq!(schema["type"], "object");
            assert_eq!(schema["properties"]["spec"]["type"], "object");
            // A structural schema gives every node a type, except under x-kubernetes-int-or-string
            // or x-kubernetes-preserve-unknown-fields.
            fn typed(v: &Value, at: &str) {
                let Some(map) = v.as_object() else { return };
                if let Some(props) = map.get("properties").and_then(Value::as_object) {
                    for (k, p) in props {
                        let p_map = p.as_object().expect("property schema");
                        assert!(
                            p_map.contains_key("type")
                                || p_map.contains_key("x-kubernetes-int-or-string")
                                || p_map.contains_key("x-kubernetes-preserve-unknown-fields"),
                            "{at}.{k} has no type: {p}"
                        );
                        typed(p, &format!("{at}.{k}"));
                    }
                }
                if let Some(items) = map.get("items") {
                    typed(items, &format!("{at}[]"));
                }
                if let Some(extra) = map.get("additionalProperties") {
                    typed(extra, &format!("{at}{{}}"));
                }
            }
            typed(schema, "");
        }
        let app = app_crd();
        assert_eq!(app.metadata.name.as_deref(), Some("apps.berth.dev"));
        assert_eq!(
            cron_app_crd().metadata.name.as_deref(),
            Some("cronapps.berth.dev")
        );
    }

    #[test]
    fn spec_file_schema_describes_short_documents() {
        let schema = spec_file_schema();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let branches = schema["anyOf"].as_array().expect("anyOf");
        assert_eq!(branches.len(), 4);
        let app = &schema["$defs"]["AppFile"];
        assert_eq!(app["additionalProperties"], false);
        assert!(
            app["required"]
                .as_array()
                .expect("required")
                .contains(&"name".into())
        );
        assert!(
            app["properties"]["replicas"]["description"]
                .as_str()
                .expect("description copied from AppSpec")
                .contains("pods")
        );
        assert!(
            app["properties"]["runtime"]["examples"]
                .as_array()
                .expect("examples")
                .contains(&"python-3.11".into())
        );
        let cron = &schema["$defs"]["CronAppFile"];
        let required = cron["required"].as_array().expect("required");
        assert!(required.contains(&"kind".into()) && required.contains(&"schedule".into()));
        let file = &schema["$defs"]["ShortConfigFile"];
        assert!(file["properties"]["from"].is_object());
        assert_eq!(file["oneOf"].as_array().map(Vec::len), Some(2));
    }
}
