#!/usr/bin/env bash
# aarch64: cross-builds the library, the CLI and the whole test suite for
# aarch64-unknown-linux-gnu with Debian's Rust, and runs every test under qemu-aarch64
# (user-mode emulation executes the real NEON instructions; its speed means nothing), with the
# NEON path forced (the tests that compare paths run portable beside it), then
# tests/cross_arch.rs on the portable path too: the .ecdc, .lyra, Opus and level files and
# decoded samples against what the x86-64 build wrote into tests/fixtures/cross-arch.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/toolchains.sh aarch64

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
# Not `-L /usr/aarch64-linux-gnu`: that loader meets the multiarch libc the arm64 std links
# against and every binary spins in pthread_create. Plain qemu-aarch64 finds the multiarch one.
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64
# Tests that run the CLI run it through qemu too (an emulated process cannot exec a foreign
# binary itself, and binfmt_misc is not there to do it).
export ENCODEC_TEST_RUNNER=qemu-aarch64
# libopus (cmake) and FDK AAC (cc) for the target.
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc CXX_aarch64_unknown_linux_gnu=aarch64-linux-gnu-g++
# GCC contracts a * b + c into one fused instruction on aarch64 by default (-ffp-contract=fast)
# and not on x86-64 (no FMA in the baseline): libopus's float code would then round
# differently. Off, the C code computes what it computes on x86.
export CFLAGS_aarch64_unknown_linux_gnu="-ffp-contract=off" CXXFLAGS_aarch64_unknown_linux_gnu="-ffp-contract=off"
export CARGO_TARGET_DIR="${AARCH64_TARGET_DIR:-target/aarch64}"
# No debug info in the cross-built tests: a third less to compile and link on 2 cores.
export CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0
target=aarch64-unknown-linux-gnu

# Under emulation the whole suite takes ~36 minutes, more than CI can spend beside the rest.
# CI runs the test files whose results depend on the architecture: the kernels (the library's
# own tests), the models against their references, streaming, threads, the codecs and their C
# libraries, the containers; plus tests/cross_arch.rs below, once per path. The others (the
# CLI, the cache, conversion, the Hub, seek, quality, precision: logic above the kernels that
# these already run) pass too: AARCH64_ALL=1 runs every test file (README "On ARM").
arch_tests=" golden lyra stream threads opus codecs ecdc live any_bytes player "
tests=()
for file in tests/*.rs; do
  name=$(basename "$file" .rs)
  if [[ "$name" != cross_arch && ( "$arch_tests" == *" $name "* || -n "${AARCH64_ALL:-}" ) ]]; then
    tests+=(--test "$name")
  fi
done
$DEB_CARGO test --locked --target $target --no-run --lib --bins "${tests[@]}" --test cross_arch
echo "== aarch64, NEON forced: the library's, the CLI's and $((${#tests[@]} / 2)) test files' tests"
ENCODEC_KERNELS=neon $DEB_CARGO test --locked --target $target --lib --bins "${tests[@]}"
# The tests that compare kernel paths (golden, lyra, stream, threads, the kernels' own) ran
# every path the CPU has above, neon and portable; the cross-architecture comparison runs once
# per path (--nocapture: its summary line, which cases are bit-exact, goes to the log).
for kernels in neon portable; do
  ENCODEC_KERNELS=$kernels $DEB_CARGO test --locked --target $target --test cross_arch -- --nocapture
done
