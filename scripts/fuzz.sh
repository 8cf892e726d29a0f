#!/usr/bin/env bash
# Run every cargo-fuzz target of ptlab (fuzz/fuzz_targets/: helpers, walk,
# elf, cli) for SECONDS each (default 60), one after the other, and print the
# executions of each.  The bodies live in runner/src/fuzzing.rs, which plain
# `cargo test -p runner --lib fuzzing` also runs on random inputs.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# cargo-fuzz is installed from crates.io when missing.  It wants a nightly
# toolchain for its compiler flags; the machine has only stable, so the
# build runs with RUSTC_BOOTSTRAP=1.  Targets are built with debug assertions
# and overflow checks (-a, so an arithmetic overflow is a crash as in `cargo
# test`) and without a sanitizer (-s none: the code under test is safe Rust,
# and the fuzzer runs about twice as fast).  Override with FUZZ_BUILD_FLAGS.
# The first build compiles Unicorn's C code into fuzz/target (5 to 11 minutes
# on 2 cores); FUZZ_TARGET_DIR=DIR builds in DIR instead.
#
# Seeds: the guest ELFs that arch-sparc and arch-ppc build, a relocatable
# object from the host C compiler, and a few command lines, written into
# fuzz/corpus/TARGET/ (kept between runs, ignored by git).  A crash leaves
# its input in fuzz/artifacts/TARGET/; replay it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run $FUZZ_BUILD_FLAGS TARGET FILE
# (from the repository root) and turn it into a unit test.
#
# Exit status: 0 when every target ran its time without a crash, 1 when one
# crashed or hung (its artifact is named), 2 for a setup failure.
set -uo pipefail

secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(helpers walk elf cli)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
build_flags=${FUZZ_BUILD_FLAGS:--s none -a}
# FUZZ_TARGET_DIR: build somewhere else than fuzz/target (e.g. to time a
# build from scratch).
[ -n "${FUZZ_TARGET_DIR:-}" ] && build_flags="$build_flags --target-dir $FUZZ_TARGET_DIR"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
    cargo install cargo-fuzz --locked >&2 || {
        echo "fuzz: could not install cargo-fuzz; run: cargo install cargo-fuzz --locked" >&2
        exit 2
    }
fi

t0=$(date +%s)
# shellcheck disable=SC2086
if ! cargo fuzz build $build_flags >&2; then
    echo "fuzz: build failed: RUSTC_BOOTSTRAP=1 cargo fuzz build $build_flags" >&2
    exit 2
fi
t_build=$(($(date +%s) - t0))

# ---- seeds
corpus=fuzz/corpus
mkdir -p "$corpus"/{helpers,walk,elf,cli}
seed() { # seed TARGET NAME SELECTOR-BYTE FILE
    [ -f "$4" ] || return 0
    { printf "\\x$(printf %02x "$3")"; cat "$4"; } >"$corpus/$1/$2"
}
dirs=(fuzz/target target ${FUZZ_TARGET_DIR:+"$FUZZ_TARGET_DIR"})
sparc_elf=$(find "${dirs[@]}" -name tsb_refill.elf 2>/dev/null | head -n1)
ppc_elf=$(find "${dirs[@]}" -name walk-ppc32.elf 2>/dev/null | head -n1)
[ -n "$sparc_elf" ] && seed elf sparc-guest 0 "$sparc_elf"
[ -n "$ppc_elf" ] && seed elf ppc-guest 1 "$ppc_elf"
if command -v cc >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    printf 'extern unsigned long g;\nunsigned long oracle_f(unsigned long x) { return x + g; }\nunsigned long h(void) { return oracle_f(1); }\n' >"$tmp/o.c"
    # selector 2: the oracle loader with the x86_64 ABI; 3: i386.
    cc -c -O1 -fno-pic -mcmodel=kernel -o "$tmp/o64.o" "$tmp/o.c" 2>/dev/null && seed elf oracle-x86_64 2 "$tmp/o64.o"
    cc -c -O1 -m32 -fno-pic -o "$tmp/o32.o" "$tmp/o.c" 2>/dev/null && seed elf oracle-i386 3 "$tmp/o32.o"
    rm -rf "$tmp"
fi
argv() { # argv FILE ARG...: the arguments joined by NUL, as the cli target splits them
    local f=$1
    shift
    { printf '%s' "$1"; shift; for a in "$@"; do printf '\0%s' "$a"; done; } >"$f"
}
argv "$corpus/cli/arches" arches --json
argv "$corpus/cli/pte" pte --arch x86_64 decode 0x8000000000000067
argv "$corpus/cli/walk" walk --arch arm-lpae --map 0x1000=0x5:vm:rw --va 0x1000 --no-emulate
argv "$corpus/cli/helper" helper --arch s390x pte_mkyoung 0x400

# ---- runs
status=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "fuzz/artifacts/$t" "$corpus/$t"
    log=$(mktemp)
    ts=$(date +%s)
    # -timeout: an input running 10 s is a hang; -max_len: room for the ELF seeds.
    # shellcheck disable=SC2086
    cargo fuzz run $build_flags "$t" "$corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=16384 \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    te=$(($(date +%s) - ts))
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n1)
    fsecs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n1)
    [ -z "$runs" ] && runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n1 | cut -d' ' -f2)
    units=$(find "$corpus/$t" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        result="ok"
    else
        status=1
        artifact=$(grep -o 'fuzz/artifacts/[^ ]*' "$log" | tail -n1)
        result="FAILED (exit $rc${artifact:+, input $artifact})"
        grep -m5 -E 'panicked at|ERROR: libFuzzer|deadly signal|timeout' "$log" >&2
        tail -n 30 "$log" >&2
    fi
    line=$(printf '%-8s %12s executions in %4ss of fuzzing (%4ss with the build check)  coverage %6s  corpus %5s  %s' \
        "$t" "${runs:-?}" "${fsecs:-?}" "$te" "${cov:-?}" "$units" "$result")
    echo "fuzz: $line" >&2
    summary+=("$line")
    rm -f "$log"
done

echo "cargo fuzz: ${#targets[@]} target(s), ${secs}s each; build ${t_build}s, total $(($(date +%s) - t0))s"
printf '%s\n' "${summary[@]}"
exit $status
