//! Golden tests: every `tests/golden/<case>.spec.yaml` renders to exactly `<case>.yaml`.
//! `BERTH_UPDATE_GOLDEN=1 cargo test -p berth-render` rewrites the expected files (read them
//! before accepting them).

mod common;

use std::path::PathBuf;

use berth_render::to_yaml;
use common::{cases, render_case};
use serde_json::Value;

#[test]
fn golden_files_match() {
    let update = std::env::var_os("BERTH_UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "expected the golden cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let objects = render_case(case);
        let yaml = to_yaml(&objects).expect("yaml");
        let expected_path = PathBuf::from(case.to_string_lossy().replace(".spec.yaml", ".yaml"));
        if update {
            std::fs::write(&expected_path, &yaml).expect("write golden");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == yaml => {}
            Ok(expected) => failures.push(format!(
                "{} differs:\n{}",
                expected_path.display(),
                first_difference(&expected, &yaml)
            )),
            Err(e) => failures.push(format!("{}: {e}", expected_path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(BERTH_UPDATE_GOLDEN=1 rewrites the files)",
        failures.join("\n\n")
    );
}

fn first_difference(expected: &str, actual: &str) -> String {
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n  expected: {e}\n  actual:   {a}", i + 1);
        }
    }
    format!(
        "lengths differ: expected {} lines, got {}",
        expected.lines().count(),
        actual.lines().count()
    )
}

/// The same input renders to the same bytes, and the YAML reads back as the same objects (so
/// strings like `"true"` and `"8080"` stay strings).
#[test]
fn rendering_is_deterministic_and_yaml_round_trips() {
    for case in cases() {
        let first = render_case(&case);
        let second = render_case(&case);
        assert_eq!(
            serde_json::to_vec(&first).expect("json"),
            serde_json::to_vec(&second).expect("json"),
            "{}",
            case.display()
        );
        let yaml = to_yaml(&first).expect("yaml");
        let back: Vec<Value> = serde_saphyr::from_multiple(&yaml)
            .unwrap_or_else(|e| panic!("{}: {e}", case.display()));
        assert_eq!(back, first, "{}", case.display());
    }
}
