# Sourced by aarch64.sh and wasm.sh: installs Debian's own Rust (rustc-web, which can target
# aarch64 and, with its std sources, wasm32; rustup cannot fetch targets on these machines)
# and what each script needs, if missing, then exports the variables that select it.
# Usage: . .ci/toolchains.sh aarch64|wasm
set -euo pipefail

toolchain_for="$1"
packages="rustc-web cargo-web rust-web-src rust-web-llvm lld-22"
case "$toolchain_for" in
  aarch64) packages="$packages libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user" ;;
  wasm) packages="$packages binaryen chromium" ;;
  *) echo "toolchains.sh: aarch64 or wasm" >&2; exit 2 ;;
esac
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  [ "$toolchain_for" = aarch64 ] && $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# What was tested: Debian bookworm(-security)'s 1.96 (bookworm main's 1.85 is too old).
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
DEB_CARGO=/usr/bin/cargo
case "$($RUSTC --version)" in
  "rustc 1.9"[6-9]*|"rustc 1.1"[0-9][0-9]*) ;;
  *) echo "toolchains.sh: $($RUSTC --version) is older than the 1.96 this was tested with" >&2; exit 1 ;;
esac
dpkg-query -W -f='${Package} ${Version}\n' $packages | sed 's/^/  /'
