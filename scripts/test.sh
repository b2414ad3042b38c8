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

# Debian packages the traffic tests drive for real: nginx (upstream sync), dig (cluster DNS),
# curl. Installed when missing and when we may (root); otherwise those tests skip loudly.
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v dig >/dev/null || missing+=(dnsutils)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # The nginx package starts a system nginx on port 80; the tests run private instances.
    (apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }) \
      || echo "!!!!!! could not install ${missing[*]}: tests that need them will be SKIPPED !!!!!!" >&2
  else
    echo "!!!!!! ${missing[*]} missing and not root: tests that need them will be SKIPPED !!!!!!" >&2
  fi
fi

# Two cores: keep the test binaries from starting too many servers at once. The workload tests
# run real pods: they need root for cgroups and network namespaces (CI runs as root), python3,
# sh and curl.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-2}"
# Incremental artifacts only help rebuilds; on a clean clone they double the target size.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
cargo build --workspace --all-targets

# The controllers' end-to-end tests run against a live `berth up` (the other end-to-end tests
# start their own servers).
data_dir=$(mktemp -d)
target/debug/berth up --data-dir "$data_dir" --api-addr 127.0.0.1:0 --no-node-agent 2>"$data_dir/berth.log" &
berth_pid=$!
trap 'kill "$berth_pid" 2>/dev/null; wait "$berth_pid" 2>/dev/null; rm -rf "$data_dir"' EXIT
for _ in $(seq 1 600); do
  [ -f "$data_dir/kubeconfig" ] && break
  kill -0 "$berth_pid" 2>/dev/null || { cat "$data_dir/berth.log" >&2; exit 1; }
  sleep 0.1
done
[ -f "$data_dir/kubeconfig" ] || { echo "berth up did not become ready" >&2; cat "$data_dir/berth.log" >&2; exit 1; }
export BERTH_E2E_KUBECONFIG="$data_dir/kubeconfig"

cargo test --workspace --no-fail-fast
