//! The spec-file JSON Schema accepts what the loader accepts and refuses what it refuses.

use std::path::Path;

use serde_json::Value;

fn validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&berth_spec::schema::spec_file_schema()).expect("schema compiles")
}

fn documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(yaml).expect("yaml")
}

#[test]
fn fixtures_and_full_resources_validate() {
    let v = validator();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop");
    for file in ["web.yaml", "jobs/report.yml"] {
        let text = std::fs::read_to_string(dir.join(file)).expect("fixture");
        for doc in documents(&text) {
            let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{file}: {errors:#?}");
        }
    }
    let full = "apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: web}\nspec: {image: x, replicas: 2}\n";
    for doc in documents(full) {
        assert!(v.is_valid(&doc), "{doc}");
    }
    // YAML numbers where the spec wants strings: the loader takes them, so must the schema.
    let numbers =
        "name: web\nimage: x\nresources: {cpu: 1, memory: 0.5}\nenv: {PORT: 8000, DEBUG: true}\n";
    for doc in documents(numbers) {
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn invalid_documents_are_refused() {
    let v = validator();
    for yaml in [
        "name: web\nreplica: 2\n",
        "name: web\nreplicas: many\n",
        "image: x\n",
        "kind: CronApp\nname: c\nimage: x\n",
        "kind: Deployment\nname: c\n",
        "name: web\nconfigFiles: [{path: /a, content: x, from: ./b}]\n",
        "name: web\nconfigFiles: [{path: /a}]\n",
        "name: web\nports: [{port: 80, protocol: TCP}]\n",
        "kind: CronApp\nname: c\nschedule: '@daily'\nconcurrency: Sometimes\n",
    ] {
        for doc in documents(yaml) {
            assert!(!v.is_valid(&doc), "accepted: {yaml}");
        }
    }
}
