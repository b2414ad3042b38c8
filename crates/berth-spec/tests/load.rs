//! The loader: short and full documents, several per file, `from:`, directories, and errors
//! that carry file, line and field.

use std::path::{Path, PathBuf};

use berth_spec::{
    LoadedDoc, Severity, SpecDoc, SpecError, lint_paths, load_path, load_paths, load_str,
    to_short_yaml,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn app(doc: &LoadedDoc) -> &berth_spec::App {
    match &doc.doc {
        SpecDoc::App(app) => app,
        SpecDoc::CronApp(_) => panic!("expected an App"),
    }
}

fn err(yaml: &str) -> SpecError {
    load_str(yaml, Path::new("examples/web.yaml")).expect_err("must not load")
}

#[test]
fn loads_a_short_app_with_from() {
    let path = fixtures().join("shop/web.yaml");
    let docs = load_path(&path).expect("loads");
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc.path, path);
    assert_eq!(doc.line, 2, "the document starts after the comment");
    let app = app(doc);
    assert_eq!(app.metadata.name.as_deref(), Some("web"));
    assert_eq!(app.metadata.namespace.as_deref(), Some("shop"));
    let spec = &app.spec;
    assert_eq!(spec.runtime.as_deref(), Some("python-3.11"));
    assert_eq!(spec.ports[0].port, 8000);
    assert_eq!(spec.replicas, Some(2));
    assert_eq!(
        spec.resources.as_ref().and_then(|r| r.memory.as_deref()),
        Some("64Mi")
    );
    assert_eq!(spec.env["GREETING"], "hello");
    assert_eq!(spec.config_files[0].path, "/app/app.py");
    assert_eq!(spec.config_files[0].content, "print(\"hello from web\")\n");
    assert_eq!(spec.config_files[1].content, "x = 1");
    assert_eq!(spec.environments["prod"].replicas, Some(4));
    // Field lines, in custom-resource paths.
    assert_eq!(doc.line_of("metadata.name"), 2);
    assert_eq!(doc.line_of("spec.ports[0].port"), 7);
    assert_eq!(doc.line_of("spec.configFiles[1].content"), 17);
    assert_eq!(doc.line_of("spec.environments.prod.env.GREETING"), 19);
    assert_eq!(
        doc.line_of("spec.lifecycle"),
        2,
        "absent: the document's line"
    );
}

#[test]
fn scalars_become_strings_where_the_spec_wants_strings() {
    let docs = load_str(
        "name: web\nimage: x\nresources: {cpu: 1, memory: 1Gi}\nenv: {PORT: 8000, DEBUG: yes, EMPTY: ''}\n",
        Path::new("w.yaml"),
    )
    .expect("loads");
    let spec = &app(&docs[0]).spec;
    assert_eq!(
        spec.resources.as_ref().and_then(|r| r.cpu.as_deref()),
        Some("1")
    );
    assert_eq!(spec.env["PORT"], "8000");
    assert_eq!(spec.env["DEBUG"], "yes");
    assert_eq!(spec.env["EMPTY"], "");
}

#[test]
fn loads_directories_recursively_sorted_and_multi_document_files() {
    let docs = load_path(&fixtures().join("shop")).expect("loads");
    let names: Vec<_> = docs
        .iter()
        .map(|d| (d.doc.kind(), d.doc.name().to_string(), d.line))
        .collect();
    // jobs/report.yml sorts before web.yaml; notes.txt is not a spec file.
    assert_eq!(
        names,
        [
            ("CronApp", "report".to_string(), 1),
            ("CronApp", "cleanup".to_string(), 12),
            ("App", "web".to_string(), 2),
        ]
    );
    let SpecDoc::CronApp(report) = &docs[0].doc else {
        panic!("cron")
    };
    assert_eq!(report.spec.schedule, "0 6 * * *");
    assert_eq!(report.spec.time_zone.as_deref(), Some("Europe/Paris"));
    assert_eq!(report.spec.config_files[0].content, "echo report\n");
    assert_eq!(docs[1].line_of("spec.schedule"), 15);
    let both = load_paths(&[
        fixtures().join("shop/web.yaml"),
        fixtures().join("shop/jobs"),
    ])
    .expect("loads");
    assert_eq!(both.len(), 3);
    assert_eq!(both[0].doc.name(), "web");
}

#[test]
fn empty_documents_and_comments_are_skipped() {
    let docs = load_str(
        "# nothing\n---\n---\nname: a\nimage: x\n---\n# end\n",
        Path::new("e.yaml"),
    )
    .expect("loads");
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].line, 4);
    assert!(load_str("", Path::new("e.yaml")).expect("empty").is_empty());
}

#[test]
fn wrong_type_names_file_line_and_path() {
    let e = err("name: web\nimage: x\n\n\n\nports:\n  - port: x\n");
    assert_eq!(
        e.to_string(),
        "examples/web.yaml:7: spec.ports[0].port: invalid type: string \"x\", expected i32"
    );
    assert_eq!((e.line(), e.field()), (7, "spec.ports[0].port"));
    let e = err("name: web\nreplicas: 1.5\n");
    assert_eq!(
        e.to_string(),
        "examples/web.yaml:2: spec.replicas: invalid value: 1.5, expected i32"
    );
    let e = err("name: web\nenv: [a, b]\n");
    assert_eq!((e.line(), e.field()), (2, "spec.env"), "{e}");
}

#[test]
fn unknown_fields_are_named_with_their_line() {
    let e = err("name: web\nimage: x\nreplica: 2\n");
    assert_eq!((e.line(), e.field()), (3, "spec.replica"), "{e}");
    assert!(e.message().contains("unknown field `replica`"), "{e}");
    assert!(
        e.message().contains("replicas"),
        "lists the known fields: {e}"
    );
    let e = err("name: web\nports:\n  - port: 80\n    protocol: TCP\n");
    assert_eq!((e.line(), e.field()), (4, "spec.ports[0].protocol"), "{e}");
    let e = err("name: web\nconfigFiles:\n  - path: /a\n    from: x\n    mode: 0644\n");
    assert_eq!(e.field(), "spec.configFiles[0].mode", "{e}");
}

#[test]
fn missing_and_conflicting_fields() {
    let e = err("image: x\n");
    assert!(e.message().contains("missing field `name`"), "{e}");
    let e = err("kind: CronApp\nname: c\nimage: x\n");
    assert!(e.message().contains("missing field `schedule`"), "{e}");
    let e = err("kind: Deployment\nname: c\n");
    assert_eq!(e.field(), "kind");
    assert!(e.message().contains("\"Deployment\""), "{e}");
    let e = err("name: web\nconfigFiles:\n  - path: /a\n    content: x\n    from: ./b\n");
    assert_eq!(
        (e.line(), e.field()),
        (5, "spec.configFiles[0].from"),
        "{e}"
    );
    assert!(e.message().contains("not both"), "{e}");
    let e = err("name: web\nconfigFiles:\n  - path: /a\n");
    assert_eq!((e.line(), e.field()), (3, "spec.configFiles[0]"), "{e}");
    let e = load_str(
        "name: web\nconfigFiles:\n  - path: /a\n    from: ./does-not-exist\n",
        &fixtures().join("x.yaml"),
    )
    .expect_err("missing file");
    assert_eq!(
        (e.line(), e.field()),
        (4, "spec.configFiles[0].from"),
        "{e}"
    );
    assert!(e.message().contains("does-not-exist"), "{e}");
    let e = err("- a\n- b\n");
    assert!(e.message().contains("mapping"), "{e}");
}

#[test]
fn malformed_yaml_has_line_and_column() {
    let e = err("name: web\nports: [{port: 80}\n");
    let SpecError::Syntax { line, column, .. } = &e else {
        panic!("syntax error expected: {e}")
    };
    assert_eq!(*line, 2, "{e}");
    assert!(*column > 0, "{e}");
    assert!(e.to_string().starts_with("examples/web.yaml:2:"), "{e}");
    let e = err("name: web\nname: again\n");
    assert_eq!(e.line(), 2, "{e}");
    assert!(e.message().contains("duplicate"), "{e}");
    let e = err("name: web\n  image: x\n bad\n");
    assert!(e.line() >= 1, "{e}");
}

#[test]
fn full_resources_are_accepted_and_status_ignored() {
    let yaml = "apiVersion: berth.dev/v1alpha1
kind: App
metadata:
  name: web
  namespace: shop
  labels: {team: a}
  resourceVersion: '42'
  uid: 0d9b1c1e-0000-0000-0000-000000000000
  generation: 3
  creationTimestamp: '2024-01-01T00:00:00Z'
  managedFields:
  - manager: berth
    operation: Apply
spec:
  image: nginx
  ports: [{port: 80}]
status:
  phase: Available
  revision: 3
";
    let docs = load_str(yaml, Path::new("get.yaml")).expect("loads");
    let app = app(&docs[0]);
    assert_eq!(app.metadata.name.as_deref(), Some("web"));
    assert_eq!(
        app.metadata.labels.as_ref().map(|l| l["team"].as_str()),
        Some("a")
    );
    assert_eq!(app.metadata.resource_version, None);
    assert_eq!(app.metadata.managed_fields, None);
    assert_eq!(app.metadata.uid, None);
    assert_eq!(app.status, None);
    assert_eq!(app.spec.ports[0].port, 80);
    assert_eq!(docs[0].line_of("spec.ports[0].port"), 16);

    let e = err(
        "apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {name: web}\nspec:\n  replicas: many\n",
    );
    assert_eq!((e.line(), e.field()), (5, "spec.replicas"), "{e}");
    let e = err("apiVersion: apps/v1\nkind: App\nmetadata: {name: web}\nspec: {}\n");
    assert_eq!((e.line(), e.field()), (1, "apiVersion"), "{e}");
    let e = err("apiVersion: berth.dev/v1alpha1\nkind: App\nmetadata: {}\nspec: {}\n");
    assert_eq!(e.field(), "metadata.name", "{e}");
    let e = err("apiVersion: berth.dev/v1alpha1\nmetadata: {name: x}\nspec: {}\n");
    assert_eq!(e.field(), "kind", "{e}");
    let docs = load_str(
        "apiVersion: berth.dev/v1alpha1\nkind: CronApp\nmetadata: {name: c}\nspec: {schedule: '@daily', image: x}\n",
        Path::new("c.yaml"),
    )
    .expect("cron resource");
    assert_eq!(docs[0].doc.kind(), "CronApp");
}

#[test]
fn short_yaml_round_trips() {
    let docs = load_path(&fixtures().join("shop")).expect("loads");
    for doc in &docs {
        let yaml = to_short_yaml(&doc.doc);
        let again = load_str(&yaml, Path::new("again.yaml")).expect(&yaml);
        assert_eq!(again.len(), 1);
        match (&doc.doc, &again[0].doc) {
            (SpecDoc::App(a), SpecDoc::App(b)) => {
                assert_eq!(a.spec, b.spec, "{yaml}");
                assert_eq!(a.metadata, b.metadata);
            }
            (SpecDoc::CronApp(a), SpecDoc::CronApp(b)) => {
                assert_eq!(a.spec, b.spec, "{yaml}");
                assert!(yaml.starts_with("kind: CronApp\n"), "{yaml}");
            }
            _ => panic!("kind changed: {yaml}"),
        }
    }
}

#[test]
fn io_errors_name_the_path() {
    let missing = fixtures().join("no-such-dir");
    let e = load_path(&missing).expect_err("missing");
    assert!(matches!(e, SpecError::Io { .. }));
    assert!(e.to_string().contains("no-such-dir"), "{e}");
}

#[test]
fn lint_paths_reports_every_bad_document() {
    let report = lint_paths(&[fixtures().join("bad"), fixtures().join("nope.yaml")]);
    let lines: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert!(report.has_errors());
    assert_eq!(report.apps, 2, "good and Bad_Name load: {lines:#?}");
    let mixed = fixtures().join("bad/mixed.yaml");
    let at = |line: usize, field: &str| {
        report.findings.iter().any(|f| {
            f.path == mixed && f.line == line && f.field == field && f.severity == Severity::Error
        })
    };
    assert!(at(7, "spec.replica"), "{lines:#?}");
    assert!(at(10, ""), "syntax error in the third document: {lines:#?}");
    assert!(at(12, "metadata.name"), "{lines:#?}");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.path.ends_with("nope.yaml") && f.line == 0),
        "{lines:#?}"
    );
    let clean = lint_paths(&[fixtures().join("shop")]);
    assert_eq!(clean.findings, vec![], "{:#?}", clean.findings);
    assert_eq!((clean.apps, clean.crons), (1, 2));
}

/// Garbage in, an error out: never a panic.
#[test]
fn never_panics() {
    let pieces = [
        "name: ",
        "web",
        "\n",
        "---",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "'",
        "\"",
        "&a ",
        "*a",
        "<<: ",
        "!!int ",
        "ports:",
        "  ",
        "\t",
        "port: ",
        "-1",
        "99999999999999999999",
        "kind: CronApp",
        "apiVersion: berth.dev/v1alpha1",
        "spec:",
        "metadata:",
        "configFiles:",
        "from: ",
        "..",
        "#",
        "%YAML 1.2",
        "|",
        ">",
        "\u{feff}",
        "é",
        "\0",
        "? ",
        ",",
    ];
    let mut state: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..3000 {
        let mut text = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 24) as usize;
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        let docs = berth_spec::load::load_str(&text, Path::new("fuzz.yaml"));
        if let Ok(docs) = docs {
            let _ = berth_spec::lint_docs(&docs);
            for d in &docs {
                let _ = to_short_yaml(&d.doc);
            }
        }
    }
}
