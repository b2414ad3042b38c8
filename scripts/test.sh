#!/usr/bin/env bash
# Runs every test of Berth: unit tests, and end-to-end tests that start the real binary and drive
# it with kubectl, kube-rs and the Python `kubernetes` client.
set -euo pipefail
cd "$(dirname "$0")/.."

# Prerequisites. kubectl is preinstalled on these machines; the Python client comes from PyPI.
if ! command -v kubectl >/dev/null; then
  echo "!!!!!! kubectl not found: the kubectl end-to-end tests will be SKIPPED !!!!!!" >&2
fi
if ! python3 -c 'import kubernetes' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check 'kubernetes>=31' \
    || echo "!!!!!! could not install the Python kubernetes client: its test will be SKIPPED !!!!!!" >&2
fi

# Two cores: keep the test binaries from starting too many servers at once.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-2}"
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast
