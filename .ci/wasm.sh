#!/usr/bin/env bash
# WebAssembly: builds the browser decoder (bindings/wasm) for wasm32-unknown-unknown with
# Debian's Rust and std built from its sources, strips what the module does not export,
# then checks it decodes the committed fixtures bit for bit as the native build does: under
# Node, and in headless Chromium (the demo page driven by playwright-core). Writes the module
# and its JS into target/web, and prints its size and speed.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/toolchains.sh wasm

export CARGO_TARGET_DIR="${WASM_TARGET_DIR:-target/wasm}"
out=target/web
mkdir -p "$out"
# No wasm32 std ships for Debian's compiler: build it (-Zbuild-std, which needs the nightly
# switch on a stable compiler). getrandom: see bindings/wasm/Cargo.toml.
RUSTC_BOOTSTRAP=1 RUSTFLAGS='--cfg getrandom_backend="wasm_js"' \
  $DEB_CARGO build --locked --release -p encodec-wasm --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort
raw="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/encodec_wasm.wasm"

# Keep our exports only: wasm-bindgen's (pulled in by getrandom's unused Web Crypto backend)
# go, and with them the imports nothing then reaches.
python3 - "$out/graph.json" <<'PY'
import json, re, sys
names = re.findall(r'pub (?:unsafe )?extern "C" fn (encodec_\w+)', open("bindings/wasm/src/abi.rs").read())
graph = [{"name": "root", "root": True, "reaches": names + ["memory"]}]
graph += [{"name": n, "export": n} for n in names] + [{"name": "memory", "export": "memory"}]
json.dump(graph, open(sys.argv[1], "w"))
PY
wasm-metadce "$raw" --graph-file "$out/graph.json" -o "$out/dce.wasm" --detect-features >/dev/null
wasm-opt -O3 --detect-features "$out/dce.wasm" -o "$out/encodec.wasm"
rm "$out/dce.wasm" "$out/graph.json"
cp bindings/wasm/web/*.js bindings/wasm/web/*.html "$out/"
echo "encodec.wasm: $(stat -c %s "$out/encodec.wasm") bytes, $(gzip -9c "$out/encodec.wasm" | wc -c) gzip'd"

# The surface natively, then the native decode the module must equal.
cargo test --locked --quiet -p encodec-wasm
cargo run --locked --quiet -p encodec-wasm --example reference -- . >"$out/native.json"
node bindings/wasm/tests/node.mjs "$out/encodec.wasm" "$out/native.json"
(cd bindings/wasm/tests && npm ci --silent --no-audit --no-fund)
node bindings/wasm/tests/browser.mjs "$out/native.json"
