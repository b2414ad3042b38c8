//! The official Python `kubernetes` client against the real binary.

mod common;

use common::Berth;
use std::process::Command;

#[test]
fn python_kubernetes_client() {
    let has_client = Command::new("python3")
        .args(["-c", "import kubernetes"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_client {
        // scripts/test.sh installs it; running `cargo test` alone may not have it.
        eprintln!(
            "!!!!!! SKIPPED: the Python `kubernetes` package is not installed (pip install kubernetes) !!!!!!"
        );
        return;
    }
    let berth = Berth::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_smoke.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(berth.kubeconfig())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python client failed:\n{}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        berth.log()
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("python client: ok"));
}
