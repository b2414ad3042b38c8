//! Tests with a realistic CRD: `apps.berth.dev`, kind `App`.

use super::*;
use berth_apimachinery::status::ApiError;
use serde_json::{Value, json};

fn app_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["image", "replicas"],
                "properties": {
                    "image": {"type": "string", "minLength": 1, "maxLength": 64},
                    "replicas": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 100},
                    "tier": {"type": "string", "enum": ["frontend", "backend"], "default": "frontend"},
                    "port": {"x-kubernetes-int-or-string": true},
                    "ports": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {
                                "name": {"type": "string"},
                                "port": {"type": "integer", "format": "int32"},
                                "protocol": {"type": "string", "enum": ["TCP", "UDP"], "default": "TCP"}
                            }
                        }
                    },
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "env": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": {
                                "value": {"type": "string"},
                                "secret": {"type": "boolean", "default": false}
                            }
                        }
                    },
                    "config": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": true,
                        "properties": {"mode": {"type": "string"}}
                    },
                    "schedule": {"type": "string", "pattern": "^[0-9*/ ,-]+$"},
                    "startedAt": {"type": "string", "format": "date-time"},
                    "ratio": {"type": "number", "exclusiveMaximum": true, "maximum": 1.5},
                    "note": {"type": "string", "nullable": true},
                    "template": {
                        "type": "object",
                        "x-kubernetes-embedded-resource": true,
                        "x-kubernetes-preserve-unknown-fields": true
                    },
                    "resources": {
                        "type": "object",
                        "properties": {
                            "limits": {
                                "type": "object",
                                "additionalProperties": {
                                    "x-kubernetes-int-or-string": true,
                                    "anyOf": [{"type": "integer"}, {"type": "string"}]
                                }
                            }
                        }
                    }
                }
            },
            "status": {
                "type": "object",
                "properties": {
                    "replicas": {"type": "integer"},
                    "selector": {"type": "string"},
                    "conditions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string"},
                                "status": {"type": "string"},
                                "lastTransitionTime": {"type": "string", "format": "date-time"}
                            }
                        }
                    }
                }
            }
        }
    })
}

fn app_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "apps.berth.dev"},
        "spec": {
            "group": "berth.dev",
            "scope": "Namespaced",
            "names": {
                "plural": "apps",
                "kind": "App",
                "shortNames": ["ap"],
                "categories": ["all"]
            },
            "versions": [{
                "name": "v1",
                "served": true,
                "storage": true,
                "schema": {"openAPIV3Schema": app_schema()},
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                        "labelSelectorPath": ".status.selector"
                    }
                },
                "additionalPrinterColumns": [
                    {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
                ]
            }]
        }
    })
}

fn schema() -> CompiledSchema {
    match CompiledSchema::new(&app_schema()) {
        Ok(s) => s,
        Err(e) => panic!("schema does not compile: {e}"),
    }
}

fn app(spec: Value) -> Value {
    json!({
        "apiVersion": "berth.dev/v1",
        "kind": "App",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": spec
    })
}

fn messages(errs: &[FieldError]) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// CRD validation.

#[test]
fn valid_crd_has_no_errors() {
    assert_eq!(messages(&validate_crd(&app_crd())), Vec::<String>::new());
}

#[test]
fn crd_name_must_be_plural_dot_group() {
    let mut crd = app_crd();
    crd["metadata"]["name"] = json!("apps.example.com");
    assert_eq!(
        messages(&validate_crd(&crd)),
        vec![
            r#"metadata.name: Invalid value: "apps.example.com": must be spec.names.plural+"."+spec.group"#
        ]
    );
}

#[test]
fn crd_needs_exactly_one_storage_version() {
    let mut crd = app_crd();
    crd["spec"]["versions"][0]["storage"] = json!(false);
    let msgs = messages(&validate_crd(&crd));
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert_eq!(
        msgs[0],
        r#"spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{apiextensions.CustomResourceDefinitionVersion{Name:"v1", Served:true, Storage:false, Deprecated:false, DeprecationWarning:(*string)(nil), Schema:(*apiextensions.CustomResourceValidation)(nil), Subresources:(*apiextensions.CustomResourceSubresources)(nil), AdditionalPrinterColumns:[]apiextensions.CustomResourceColumnDefinition(nil), SelectableFields:[]apiextensions.SelectableField(nil)}}: must have exactly one version marked as storage version"#
    );
    assert_eq!(
        msgs[1],
        "status.storedVersions: Invalid value: []string(nil): must have at least one stored version"
    );
}

#[test]
fn crd_schema_is_required_and_structural() {
    let mut crd = app_crd();
    crd["spec"]["versions"][0]
        .as_object_mut()
        .map(|v| v.remove("schema"));
    assert_eq!(
        messages(&validate_crd(&crd)),
        vec!["spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]
    );

    let mut crd = app_crd();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["extra"] =
        json!({"description": "no type"});
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] =
        json!({"type": "object", "properties": {"labels": {"type": "object"}}});
    assert_eq!(
        messages(&validate_crd(&crd)),
        vec![
            "spec.validation.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified",
            "spec.validation.openAPIV3Schema.properties[spec].properties[extra].type: Required value: must not be empty for specified object fields",
        ]
    );

    // A root that is not an object, and a nested value validation with a type.
    let mut crd = app_crd();
    crd["spec"]["versions"][0]["subresources"] = json!({});
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = json!({
        "type": "array",
        "items": {"type": "string"},
        "anyOf": [{"type": "string", "minLength": 1}]
    });
    assert_eq!(
        messages(&validate_crd(&crd)),
        vec![
            "spec.validation.openAPIV3Schema.anyOf[0].type: Forbidden: must be empty to be structural",
            r#"spec.validation.openAPIV3Schema.type: Invalid value: "array": must be object at the root"#,
        ]
    );
}

#[test]
fn crd_per_version_schemas_keep_version_paths() {
    let mut crd = app_crd();
    let mut v2 = crd["spec"]["versions"][0].clone();
    v2["name"] = json!("v2");
    v2["storage"] = json!(false);
    v2["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["count"] =
        json!({"type": "int"});
    if let Some(vs) = crd["spec"]["versions"].as_array_mut() {
        vs.push(v2);
    }
    assert_eq!(
        messages(&validate_crd(&crd)),
        vec![
            r#"spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[count].type: Unsupported value: "int": supported values: "array", "boolean", "integer", "number", "object", "string""#
        ]
    );
}

#[test]
fn crd_field_rules() {
    let crd = json!({
        "metadata": {"name": "widgets.example"},
        "spec": {
            "group": "example",
            "scope": "Global",
            "names": {"plural": "Widgets", "kind": "Widget", "listKind": "Widget"},
            "versions": [
                {"name": "v1", "served": true, "storage": true,
                 "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                     "spec": {"type": "object", "properties": {
                         "size": {"type": "integer", "default": "big"},
                         "items": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}
                     }}
                 }}},
                 "subresources": {"scale": {"specReplicasPath": "spec.replicas", "statusReplicasPath": ".spec.replicas"}},
                 "additionalPrinterColumns": [{"name": "Size", "type": "int", "jsonPath": "spec.size"}]},
                {"name": "v1", "served": true, "storage": false,
                 "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                     "spec": {"type": "object", "properties": {
                         "size": {"type": "integer", "default": "big"},
                         "items": {"type": "array", "uniqueItems": true, "items": {"type": "string"}}
                     }}
                 }}},
                 "subresources": {"scale": {"specReplicasPath": "spec.replicas", "statusReplicasPath": ".spec.replicas"}},
                 "additionalPrinterColumns": [{"name": "Size", "type": "int", "jsonPath": "spec.size"}]}
            ]
        }
    });
    let msgs = messages(&validate_crd(&crd));
    let expected = [
        r#"metadata.name: Invalid value: "widgets.example": must be spec.names.plural+"."+spec.group"#,
        r#"spec.group: Invalid value: "example": should be a domain with at least one dot"#,
        r#"spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced""#,
        r#"spec.names.plural: Invalid value: "Widgets": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
        r#"spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same"#,
        "spec.validation.openAPIV3Schema.properties[spec].properties[items].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        r#"spec.validation.openAPIV3Schema.properties[spec].properties[size].default: Invalid value: "string":  in body must be of type integer: "string""#,
        r#"spec.subresources.scale.specReplicasPath: Invalid value: "spec.replicas": must be a simple json path starting with ."#,
        r#"spec.subresources.scale.statusReplicasPath: Invalid value: ".spec.replicas": should be a json path under .status"#,
        r#"spec.additionalPrinterColumns[0].type: Invalid value: "int": must be one of boolean,date,integer,number,string"#,
        r#"spec.additionalPrinterColumns[0].JSONPath: Invalid value: "spec.size": must be a simple json path starting with ."#,
    ];
    for e in expected {
        assert!(msgs.iter().any(|m| m == e), "missing {e}\nin {msgs:#?}");
    }
    assert!(
        msgs.iter().any(|m| m.starts_with(
            "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{"
        ) && m.ends_with(": must contain unique version names")),
        "{msgs:#?}"
    );
    assert_eq!(msgs.len(), expected.len() + 1, "{msgs:#?}");
}

#[test]
fn crd_update_rules() {
    let mut old = app_crd();
    default_crd(&mut old);
    prepare_crd_for_create(&mut old);
    old["status"]["conditions"] = json!([{"type": "Established", "status": "True"}]);
    assert!(validate_crd_update(&old, &old).is_empty());

    let mut new = old.clone();
    new["spec"]["scope"] = json!("Cluster");
    new["spec"]["names"]["plural"] = json!("applications");
    new["metadata"]["name"] = json!("applications.berth.dev");
    assert_eq!(
        messages(&validate_crd_update(&new, &old)),
        vec![
            r#"spec.scope: Invalid value: "Cluster": field is immutable"#,
            r#"spec.names.plural: Invalid value: "applications": field is immutable"#,
        ]
    );

    // A new storage version is appended to storedVersions; dropping a stored version from the
    // spec is refused.
    let mut new = old.clone();
    let mut v2 = new["spec"]["versions"][0].clone();
    v2["name"] = json!("v2");
    new["spec"]["versions"] = json!([v2]);
    assert_eq!(
        messages(&validate_crd_update(&new, &old)),
        vec![
            r#"status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions"#
        ]
    );
    let mut prepared = new.clone();
    prepare_crd_for_update(&mut prepared, &old);
    assert_eq!(prepared["status"]["storedVersions"], json!(["v1", "v2"]));
    assert_eq!(prepared["metadata"]["generation"], json!(2));
}

#[test]
fn crd_defaulting() {
    let mut crd = app_crd();
    default_crd(&mut crd);
    assert_eq!(crd["spec"]["names"]["singular"], "app");
    assert_eq!(crd["spec"]["names"]["listKind"], "AppList");
    assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
    assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
}

// ---------------------------------------------------------------------------------------------
// Discovery.

#[test]
fn resource_infos_follow_discovery() {
    let infos = crd_resource_infos(&app_crd());
    assert_eq!(infos.len(), 1);
    let i = &infos[0];
    assert_eq!(i.group, "berth.dev");
    assert_eq!(i.version, "v1");
    assert_eq!(i.resource, "apps");
    assert_eq!(i.singular, "app");
    assert_eq!(i.kind, "App");
    assert!(i.namespaced);
    assert_eq!(
        i.verbs,
        [
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "create",
            "update",
            "watch"
        ]
    );
    assert_eq!(i.short_names, ["ap"]);
    assert_eq!(i.categories, ["all"]);
    assert_eq!(i.subresources.len(), 2);
    let status = &i.subresources[0];
    assert_eq!(
        (status.name.as_str(), status.kind.as_str()),
        ("status", "App")
    );
    assert_eq!(status.verbs, ["get", "patch", "update"]);
    let scale = &i.subresources[1];
    assert_eq!(
        (
            scale.name.as_str(),
            scale.kind.as_str(),
            scale.group.as_str(),
            scale.version.as_str()
        ),
        ("scale", "Scale", "autoscaling", "v1")
    );

    let mut crd = app_crd();
    crd["spec"]["scope"] = json!("Cluster");
    let mut v2 = crd["spec"]["versions"][0].clone();
    v2["name"] = json!("v2");
    v2["served"] = json!(false);
    v2["storage"] = json!(false);
    if let Some(vs) = crd["spec"]["versions"].as_array_mut() {
        vs.push(v2);
    }
    let infos = crd_resource_infos(&crd);
    assert_eq!(infos.len(), 1);
    assert!(!infos[0].namespaced);
}

// ---------------------------------------------------------------------------------------------
// Custom resource validation.

#[test]
fn valid_app_passes() {
    let s = schema();
    let obj = app(json!({
        "image": "nginx",
        "replicas": 3,
        "tier": "backend",
        "port": "http",
        "ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}],
        "tags": ["a", "b"],
        "labels": {"team": "core"},
        "config": {"anything": {"goes": [1, 2]}},
        "schedule": "*/5 * * * *",
        "startedAt": "2024-05-01T10:00:00Z",
        "ratio": 1.25,
        "note": null,
        "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}},
        "resources": {"limits": {"cpu": "500m", "memory": 1024}}
    }));
    assert_eq!(messages(&s.validate(&obj)), Vec::<String>::new());
}

#[test]
fn validation_errors_match_kubernetes() {
    let s = schema();
    let obj = app(json!({
        "image": "",
        "tier": "middle",
        "port": true,
        "ports": [{"name": "http", "port": "string"}, {"name": "http", "port": 8080}],
        "tags": ["a", "b", "a"],
        "labels": {"team": 7},
        "schedule": "bad",
        "startedAt": "yesterday",
        "ratio": 1.5,
        "resources": {"limits": {"cpu": 1.5}}
    }));
    let msgs = messages(&s.validate(&obj));
    let expected = [
        r#"spec.image: Invalid value: "": spec.image in body should be at least 1 chars long"#,
        r#"spec.labels.team: Invalid value: "integer": spec.labels.team in body must be of type string: "integer""#,
        r#"spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean""#,
        r#"spec.ports[0].port: Invalid value: "string": spec.ports[0].port in body must be of type integer: "string""#,
        "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5",
        r#"<nil>: Invalid value: "": "spec.resources.limits.cpu" must validate at least one schema (anyOf)"#,
        r#"spec.resources.limits.cpu: Invalid value: "number": spec.resources.limits.cpu in body must be of type integer,string: "number""#,
        // The best failing anyOf branch is reported too (the first on ties), as upstream does.
        r#"spec.resources.limits.cpu: Invalid value: "number": spec.resources.limits.cpu in body must be of type integer: "number""#,
        r#"spec.schedule: Invalid value: "bad": spec.schedule in body should match '^[0-9*/ ,-]+$'"#,
        r#"spec.startedAt: Invalid value: "yesterday": spec.startedAt in body must be of type date-time: "yesterday""#,
        r#"spec.tier: Unsupported value: "middle": supported values: "frontend", "backend""#,
        "spec.replicas: Required value",
        r#"spec.ports[1]: Duplicate value: map[string]interface {}{"name":"http"}"#,
        r#"spec.tags[2]: Duplicate value: "a""#,
    ];
    for e in expected {
        assert!(msgs.iter().any(|m| m == e), "missing {e}\nin {msgs:#?}");
    }
    assert_eq!(msgs.len(), expected.len(), "{msgs:#?}");
}

#[test]
fn validation_bounds_lengths_and_api_error() {
    let s = schema();
    let obj = app(json!({"image": "x".repeat(65), "replicas": -1}));
    let errs = s.validate(&obj);
    assert_eq!(
        messages(&errs),
        vec![
            "spec.image: Too long: may not be more than 64 bytes",
            "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0",
        ]
    );
    let e = ApiError::invalid("berth.dev", "App", "web", &errs);
    assert_eq!(
        e.message,
        r#"App.berth.dev "web" is invalid: [spec.image: Too long: may not be more than 64 bytes, spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0]"#
    );

    let obj = app(json!({"image": "nginx", "replicas": 101}));
    assert_eq!(
        messages(&s.validate(&obj)),
        vec![
            "spec.replicas: Invalid value: 101: spec.replicas in body should be less than or equal to 100"
        ]
    );
    // Root-level requirement.
    let mut obj = app(json!({}));
    obj.as_object_mut().map(|m| m.remove("spec"));
    let s2 = match CompiledSchema::new(
        &json!({"type": "object", "required": ["spec"], "properties": {"spec": {"type": "object"}}}),
    ) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(messages(&s2.validate(&obj)), vec!["spec: Required value"]);
}

#[test]
fn embedded_resources_are_checked() {
    let s = schema();
    let obj = app(json!({
        "image": "nginx",
        "replicas": 1,
        "template": {"kind": "pod_x", "metadata": {"name": "a/b"}}
    }));
    assert_eq!(
        messages(&s.validate(&obj)),
        vec![
            "spec.template.apiVersion: Required value: must not be empty",
            r#"spec.template.kind: Invalid value: "pod_x": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"#,
            r#"spec.template.metadata.name: Invalid value: "a/b": may not contain '/'"#,
        ]
    );
}

#[test]
fn update_ratchets_unchanged_values() {
    let s = schema();
    let old = app(json!({"image": "nginx", "replicas": 1, "tier": "legacy", "tags": ["a", "a"]}));
    let mut new = old.clone();
    new["spec"]["replicas"] = json!(2);
    assert_eq!(
        messages(&s.validate_update(&new, &old)),
        Vec::<String>::new()
    );
    new["spec"]["tier"] = json!("other");
    assert_eq!(
        messages(&s.validate_update(&new, &old)),
        vec![r#"spec.tier: Unsupported value: "other": supported values: "frontend", "backend""#]
    );
    // On create, both errors show.
    assert_eq!(s.validate(&old).len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Pruning and defaulting.

#[test]
fn pruning_removes_unknown_fields_at_every_depth() {
    let s = schema();
    let mut obj = json!({
        "apiVersion": "berth.dev/v1",
        "kind": "App",
        "metadata": {"name": "web", "namespace": "default", "labels": {"a": "b"}, "bogus": 1},
        "topLevel": true,
        "spec": {
            "image": "nginx",
            "replicas": 1,
            "extra": "x",
            "ports": [{"name": "http", "port": 80, "hostPort": 8080}],
            "env": {"A": {"value": "1", "ref": "x"}},
            "config": {"mode": "fast", "anything": {"deep": [1]}},
            "template": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p", "junk": "x", "labels": {"k": "v"}},
                "spec": {"containers": []}
            },
            "resources": {"limits": {"cpu": 1}, "requests": {"cpu": 1}},
            "tier": null,
            "image2": null
        },
        "status": {"replicas": 1, "phase": "Running", "conditions": [{"type": "Ready", "status": "True", "reason": "x"}]}
    });
    let pruned = s.prune(&mut obj);
    assert_eq!(
        pruned,
        vec![
            "metadata.bogus",
            "spec.env.A.ref",
            "spec.extra",
            "spec.image2",
            "spec.ports[0].hostPort",
            "spec.resources.requests",
            "status.conditions[0].reason",
            "status.phase",
            "topLevel",
            "spec.template.metadata.junk",
        ]
    );
    assert_eq!(
        obj,
        json!({
            "apiVersion": "berth.dev/v1",
            "kind": "App",
            "metadata": {"name": "web", "namespace": "default", "labels": {"a": "b"}},
            "spec": {
                "image": "nginx",
                "replicas": 1,
                "ports": [{"name": "http", "port": 80}],
                "env": {"A": {"value": "1"}},
                "config": {"mode": "fast", "anything": {"deep": [1]}},
                "template": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {"name": "p", "labels": {"k": "v"}},
                    "spec": {"containers": []}
                },
                "resources": {"limits": {"cpu": 1}},
                "tier": null
            },
            "status": {"replicas": 1, "conditions": [{"type": "Ready", "status": "True"}]}
        })
    );
}

#[test]
fn null_without_default_is_dropped_but_nullable_kept() {
    let s = schema();
    let mut obj = app(json!({"image": "nginx", "replicas": 1, "schedule": null, "note": null}));
    assert!(s.prune(&mut obj).is_empty());
    assert_eq!(
        obj["spec"],
        json!({"image": "nginx", "replicas": 1, "note": null})
    );
}

#[test]
fn defaults_are_applied_recursively() {
    let s = schema();
    let mut obj = app(json!({
        "image": "nginx",
        "replicas": 1,
        "ports": [{"name": "http"}, {"name": "dns", "protocol": "UDP"}, null],
        "env": {"A": {"value": "1"}, "B": {"value": "2", "secret": true}},
        "note": null
    }));
    s.apply_defaults(&mut obj);
    assert_eq!(
        obj["spec"],
        json!({
            "image": "nginx",
            "replicas": 1,
            "ports": [{"name": "http", "protocol": "TCP"}, {"name": "dns", "protocol": "UDP"}, null],
            "env": {"A": {"value": "1", "secret": false}, "B": {"value": "2", "secret": true}},
            "note": null,
            "tier": "frontend"
        })
    );
    // A non-nullable null with a default takes the default.
    let mut obj = app(json!({"image": "nginx", "replicas": 1, "tier": null}));
    s.apply_defaults(&mut obj);
    assert_eq!(obj["spec"]["tier"], "frontend");
    assert!(s.validate(&obj).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Scale, printer columns, JSONPath.

#[test]
fn scale_paths_read_and_write() {
    let crd = app_crd();
    let Some(paths) = scale_paths(&crd, "v1") else {
        panic!("no scale subresource");
    };
    assert_eq!(paths.spec_replicas_path, ".spec.replicas");
    assert_eq!(
        paths.label_selector_path.as_deref(),
        Some(".status.selector")
    );
    assert!(scale_paths(&crd, "v9").is_none());

    let mut obj = app(json!({"image": "nginx", "replicas": 3}));
    obj["metadata"]["uid"] = json!("u1");
    obj["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
    obj["status"] = json!({"replicas": 2, "selector": "app=web"});
    let scale = match paths.to_scale(&obj) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        scale,
        json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {"name": "web", "namespace": "default", "uid": "u1", "creationTimestamp": "2024-01-01T00:00:00Z"},
            "spec": {"replicas": 3},
            "status": {"replicas": 2, "selector": "app=web"}
        })
    );
    assert!(paths.set_spec_replicas(&mut obj, 5).is_ok());
    assert_eq!(obj["spec"]["replicas"], 5);
    let mut empty = json!({});
    assert!(set_path(&mut empty, ".spec.deep.replicas", json!(1)).is_ok());
    assert_eq!(empty, json!({"spec": {"deep": {"replicas": 1}}}));
    assert_eq!(get_path(&empty, ".spec.deep.replicas"), Ok(Some(&json!(1))));

    obj["spec"]["replicas"] = json!(-1);
    obj["status"]["replicas"] = json!("two");
    assert_eq!(
        messages(&paths.validate(&obj)),
        vec![
            ".spec.replicas: Invalid value: -1: should be a non-negative integer",
            ".status.replicas: Invalid value: 0: .status.replicas accessor error: two is of the type string, expected int64",
        ]
    );
}

#[test]
fn printer_columns_and_cells() {
    let crd = app_crd();
    let cols = printer_columns(&crd, "v1");
    assert_eq!(
        cols.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Replicas", "Ready", "Age"]
    );
    let mut bare = crd.clone();
    bare["spec"]["versions"][0]
        .as_object_mut()
        .map(|v| v.remove("additionalPrinterColumns"));
    assert_eq!(
        printer_columns(&bare, "v1"),
        vec![PrinterColumn::age_column()]
    );
    assert!(printer_columns(&crd, "v2").is_empty());

    let mut obj = app(json!({"image": "nginx", "replicas": 3}));
    obj["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
    obj["status"] = json!({"conditions": [
        {"type": "Progressing", "status": "False"},
        {"type": "Ready", "status": "True"}
    ]});
    let now: jiff::Timestamp = match "2024-01-03T05:00:00Z".parse() {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    };
    let cells: Vec<Value> = cols.iter().map(|c| c.cell(&obj, now)).collect();
    assert_eq!(cells, vec![json!(3), json!("True"), json!("2d5h")]);
    assert_eq!(PrinterColumn::name_column().cell(&obj, now), json!("web"));
    assert_eq!(
        cols[0].table_column_definition(),
        json!({
            "name": "Replicas",
            "type": "integer",
            "format": "",
            "description": "Custom resource definition column (in JSONPath format): .spec.replicas",
            "priority": 0
        })
    );
}

#[test]
fn json_path_forms() {
    let obj = json!({
        "metadata": {"name": "web", "creationTimestamp": "2024-01-01T00:00:00Z", "labels": {"app.kubernetes.io/name": "web"}},
        "spec": {"replicas": 3, "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}]}
    });
    assert_eq!(eval_json_path(&obj, ".spec.replicas"), Some(json!(3)));
    assert_eq!(eval_json_path(&obj, "{.spec.replicas}"), Some(json!(3)));
    assert_eq!(
        eval_json_path(&obj, ".status.conditions[?(@.type==\"Ready\")].status"),
        Some(json!("True"))
    );
    assert_eq!(
        eval_json_path(&obj, ".status.conditions[?(@.type == 'Synced')].status"),
        Some(json!("False"))
    );
    assert_eq!(
        eval_json_path(&obj, ".metadata.creationTimestamp"),
        Some(json!("2024-01-01T00:00:00Z"))
    );
    assert_eq!(
        eval_json_path(&obj, ".spec.containers[1].image"),
        Some(json!("y"))
    );
    assert_eq!(
        eval_json_path(&obj, ".spec.containers[-1].name"),
        Some(json!("b"))
    );
    assert_eq!(
        eval_json_path(&obj, ".metadata.labels['app.kubernetes.io/name']"),
        Some(json!("web"))
    );
    assert_eq!(
        eval_json_path_all(&obj, ".spec.containers[*].name"),
        Ok(vec![json!("a"), json!("b")])
    );
    assert_eq!(
        eval_json_path_all(&obj, "..image"),
        Ok(vec![json!("x"), json!("y")])
    );
    assert_eq!(eval_json_path(&obj, ".spec.missing"), None);
    assert_eq!(
        eval_json_path(&obj, ".status.conditions[?(@.type==\"Gone\")].status"),
        None
    );
}

#[test]
fn human_durations() {
    let d = |s: i64| human_duration(jiff::SignedDuration::from_secs(s));
    assert_eq!(d(-5), "<invalid>");
    assert_eq!(d(-1), "0s");
    assert_eq!(d(90), "90s");
    assert_eq!(d(125), "2m5s");
    assert_eq!(d(600), "10m");
    assert_eq!(d(3 * 3600 + 600), "3h10m");
    assert_eq!(d(30 * 3600), "30h");
    assert_eq!(d(3 * 86400), "3d");
    assert_eq!(d(400 * 86400), "400d");
    assert_eq!(d(3 * 365 * 86400 + 86400), "3y1d");
}

// ---------------------------------------------------------------------------------------------
// More rules and robustness.

#[test]
fn combinators_report_like_kube_openapi() {
    let s = match CompiledSchema::new(&json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "a": {"type": "string", "oneOf": [{"pattern": "^x"}, {"pattern": "y$"}]},
                    "b": {"type": "integer", "not": {"minimum": 10}},
                    "c": {"type": "integer", "allOf": [{"minimum": 1}, {"maximum": 5}]}
                }
            }
        }
    })) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let obj = json!({"spec": {"a": "xy", "b": 12, "c": 9}});
    assert_eq!(
        messages(&s.validate(&obj)),
        vec![
            r#"<nil>: Invalid value: "": "spec.a" must validate one and only one schema (oneOf). Found 2 valid alternatives"#,
            r#"<nil>: Invalid value: "": "spec.b" must not validate the schema (not)"#,
            "spec.c: Invalid value: 9: spec.c in body should be less than or equal to 5",
            r#"<nil>: Invalid value: "": "spec.c" must validate all the schemas (allOf)"#,
        ]
    );
}

#[test]
fn crd_list_map_keys_and_conversion_rules() {
    let mut crd = app_crd();
    let ports = &mut crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        ["properties"]["ports"];
    ports["items"]["required"] = json!([]);
    ports["x-kubernetes-list-map-keys"] = json!(["name", "missing"]);
    crd["spec"]["conversion"] = json!({
        "strategy": "Webhook",
        "webhook": {"clientConfig": {"url": "http://conv.example.com/x?y=1"}, "conversionReviewVersions": ["v2"]}
    });
    assert_eq!(
        messages(&validate_crd(&crd)),
        vec![
            r#"spec.validation.openAPIV3Schema.properties[spec].properties[ports].x-kubernetes-list-map-keys: Invalid value: []string{"name", "missing"}: entries must all be names of item properties"#,
            "spec.validation.openAPIV3Schema.properties[spec].properties[ports].items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property",
            r#"spec.conversion.webhookClientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]"#,
            r#"spec.conversion.webhookClientConfig.url: Invalid value: "y=1": query parameters are not permitted in the URL"#,
            r#"spec.conversion.conversionReviewVersions: Invalid value: []string{"v2"}: must include at least one of v1, v1beta1"#,
        ]
    );
}

#[test]
fn crd_protected_groups_need_approval() {
    let mut crd = app_crd();
    crd["metadata"]["name"] = json!("apps.x.k8s.io");
    crd["spec"]["group"] = json!("x.k8s.io");
    assert_eq!(
        messages(&validate_crd(&crd)),
        vec![
            r#"metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111"#
        ]
    );
    crd["metadata"]["annotations"] = json!({"api-approved.kubernetes.io": "https://github.com/kubernetes/enhancements/pull/1111"});
    assert!(validate_crd(&crd).is_empty());
}

#[test]
fn status_subresource_restricts_the_root_schema() {
    let mut crd = app_crd();
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["anyOf"] =
        json!([{"required": ["spec"]}]);
    let msgs = messages(&validate_crd(&crd));
    assert_eq!(msgs.len(), 1, "{msgs:#?}");
    assert!(msgs[0].starts_with("spec.validation.openAPIV3Schema: Invalid value: "));
    assert!(msgs[0].ends_with(
        ": only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled"
    ));
}

#[test]
fn garbage_input_never_panics() {
    let samples = [
        json!(null),
        json!(42),
        json!("crd"),
        json!([1, 2]),
        json!({"spec": "x"}),
        json!({"spec": {"versions": "v1", "names": 3, "group": 7}}),
        json!({"spec": {"versions": [null, 1, {"name": 5, "schema": {"openAPIV3Schema": {"type": 5}}}]}}),
        json!({"spec": {"versions": [{"name": "v1", "storage": true, "schema": {"openAPIV3Schema": {"properties": {"a": "b"}}}}]}}),
        json!({"metadata": [], "status": {"storedVersions": "v1"}, "spec": {"conversion": "x"}}),
    ];
    for s in &samples {
        let _ = validate_crd(s);
        let _ = validate_crd_update(s, &app_crd());
        let _ = validate_crd_update(&app_crd(), s);
        let _ = crd_resource_infos(s);
        let _ = printer_columns(s, "v1");
        let _ = scale_paths(s, "v1");
        let mut c = s.clone();
        default_crd(&mut c);
        prepare_crd_for_create(&mut c);
        prepare_crd_for_update(&mut c, s);
        assert!(CompiledSchema::new(s).is_err() || s.is_object());
    }
    let schema = schema();
    for s in &samples {
        let mut o = s.clone();
        let _ = schema.prune(&mut o);
        schema.apply_defaults(&mut o);
        let _ = schema.validate(&o);
        let _ = schema.validate_update(&o, s);
    }
    for p in [
        "",
        ".",
        "..",
        "[",
        "]",
        "[?(",
        "[?(@.a==)]",
        "['é\\é']",
        "{",
        "{.a[",
        ".a[-9]",
        ".a[1:",
        "[?(@.x == 'ü')]",
        ".é.ü",
        "$.a",
        "[*][*]",
        ".a[?(@)]",
    ] {
        let _ = eval_json_path(&json!({"a": [1, {"x": "ü"}]}), p);
        let _ = eval_json_path_all(&json!({"a": [1, {"x": "ü"}]}), p);
    }
}

#[test]
fn crd_selectable_fields() {
    let mut crd = app_crd();
    crd["spec"]["versions"][0]["selectableFields"] = json!([
        {"jsonPath": ".spec.image"},
        {"jsonPath": ".spec.replicas"},
        {"jsonPath": ".spec.ports"},
        {"jsonPath": ".metadata.name"},
        {"jsonPath": ".spec.nope"},
        {"jsonPath": ".spec.labels['team']"},
        {"jsonPath": ".spec.image"},
        {"jsonPath": ""}
    ]);
    assert_eq!(
        messages(&validate_crd(&crd)),
        vec![
            r#"spec.selectableFields[2].jsonPath: Invalid value: ".spec.ports": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed."#,
            r#"spec.selectableFields[3].jsonPath: Invalid value: ".metadata.name": is an invalid path: does not refer to a valid field"#,
            r#"spec.selectableFields[4].jsonPath: Invalid value: ".spec.nope": is an invalid path: does not refer to a valid field"#,
            r#"spec.selectableFields[5].jsonPath: Invalid value: ".spec.labels['team']": is an invalid path: array notation is not allowed"#,
            r#"spec.selectableFields[6].jsonPath: Duplicate value: ".spec.image""#,
            "spec.selectableFields[7].jsonPath: Required value",
        ]
    );
}
