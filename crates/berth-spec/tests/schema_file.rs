//! The published JSON Schema (`schema/berth-spec.schema.json`, what editors point at) is the one
//! the code generates. Regenerate with `berth schema > schema/berth-spec.schema.json`.

#[test]
fn published_schema_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../schema/berth-spec.schema.json");
    let published: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read the published schema"))
            .expect("published schema is JSON");
    assert!(
        published == berth_spec::schema::spec_file_schema(),
        "{} is out of date: run `berth schema > schema/berth-spec.schema.json`",
        path.display()
    );
}
