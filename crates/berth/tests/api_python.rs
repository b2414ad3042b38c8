//! The official Python `kubernetes` client against the real binary.

mod common;

use common::Berth;
use std::process::Command;

#[test]
fn python_kubernetes_client() {
    if !common::have_python_client() {
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
