#!/usr/bin/env bash
# Make sure the system packages the build needs are present: cmake (unicorn's
# C build), libclang (bindgen, which generates unicorn's Rust bindings), and
# the cross compilers that build the guest-code page-table walkers (sparc64's
# TSB refill path, powerpc's Linux-table walker).  Without the cross
# compilers the workspace still builds, but those emulated walks report
# themselves unsupported and their tests check only that.
# As root with apt-get, install what is missing; otherwise stop and print the
# exact command to run.
set -euo pipefail

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
have_libclang() {
    [ -n "${LIBCLANG_PATH:-}" ] && ls "$LIBCLANG_PATH"/libclang*.so* >/dev/null 2>&1 && return 0
    ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1
}
have_libclang || missing+=(libclang-dev)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v sparc64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-sparc64-linux-gnu)
command -v powerpc64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-powerpc64-linux-gnu)

[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get update && apt-get install -y ${missing[*]}"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ptlab: installing missing system packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 && apt-get install -y -qq "${missing[@]}" >&2
    exit 0
fi
echo "ptlab: missing system packages: ${missing[*]}" >&2
echo "ptlab: run this, then try again:  sudo sh -c '$cmd'" >&2
exit 1
