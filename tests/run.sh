#!/usr/bin/env bash
# Ferry's test runner: the cmocka unit tests, then the end-to-end suite.
#
#   tests/run.sh [--unit-only | --e2e-only] BUILD_DIR [E2E_ARGS...]
#
# BUILD_DIR is build/ or build-san/ (the AddressSanitizer/UBSan build): unit
# test binaries are BUILD_DIR/tests/test_*, the daemon BUILD_DIR/ferry.
# Extra arguments go to tests/e2e/run_e2e.py (e.g. -k Lifecycle).
# The last line is "N passed, N failed[, N skipped]" over unit test cases and
# e2e tests; the exit status is non-zero if anything failed or nothing ran.
set -euo pipefail

usage() {
    echo "usage: $0 [--unit-only | --e2e-only] BUILD_DIR [E2E_ARGS...]" >&2
    exit 2
}

run_unit=1
run_e2e=1
case "${1:-}" in
--unit-only)
    run_e2e=0
    shift
    ;;
--e2e-only)
    run_unit=0
    shift
    ;;
-h | --help) usage ;;
esac
[[ $# -ge 1 ]] || usage
build_dir=${1%/}
shift

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ -d "$build_dir" ]] || {
    echo "tests/run.sh: no build directory $build_dir (run make first)" >&2
    exit 2
}
build_dir=$(cd "$build_dir" && pwd)

if [[ "$build_dir" == *build-san ]]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export FERRY_E2E_TIMEOUT_SCALE=${FERRY_E2E_TIMEOUT_SCALE:-2}
    label="san"
else
    label="normal"
fi

export CMOCKA_MESSAGE_OUTPUT=stdout
# Unit tests find their golden files under the source tree (tests/unit/golden.h).
FERRY_SRCDIR=$(cd "$here/.." && pwd)
export FERRY_SRCDIR

passed=0
failed=0
skipped=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- unit tests (cmocka) -----------------------------------------------------
if [[ $run_unit -eq 1 ]]; then
    shopt -s nullglob
    bins=("$build_dir"/tests/test_*)
    shopt -u nullglob
    for bin in "${bins[@]}"; do
        [[ -f "$bin" && -x "$bin" ]] || continue
        name=$(basename "$bin")
        echo "== unit ($label): $name"
        out="$tmp/$name.out"
        rc=0
        "$bin" >"$out" 2>&1 </dev/null || rc=$?
        cat "$out"
        # cmocka: "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
        # (one pair per group).
        p=$(sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
        f=$(sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
        s=$(sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
        if [[ $rc -ne 0 && $f -eq 0 ]]; then
            # Crashed (e.g. a sanitizer abort) or failed without a summary.
            echo "tests/run.sh: $name exited with status $rc" >&2
            f=1
        fi
        if grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$out" && [[ $f -eq 0 ]]; then
            echo "tests/run.sh: $name: sanitizer report" >&2
            f=1
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        skipped=$((skipped + s))
    done
    if [[ ${#bins[@]} -eq 0 ]]; then
        echo "tests/run.sh: no unit test binaries in $build_dir/tests" >&2
    fi
fi

# --- end-to-end tests --------------------------------------------------------
if [[ $run_e2e -eq 1 ]]; then
    echo "== e2e ($label): $build_dir/ferry"
    if [[ ! -x "$build_dir/ferry" ]]; then
        echo "tests/run.sh: $build_dir/ferry not built" >&2
        failed=$((failed + 1))
    else
        # Kept for post-mortems (the build dir is not versioned).  One
        # directory per run: concurrent runs must not delete each other's
        # live work directories.
        export FERRY_E2E_LOGDIR="$build_dir/e2e-logs/run-$$"
        rm -rf "$FERRY_E2E_LOGDIR"
        counts="$tmp/e2e.counts"
        rc=0
        /usr/bin/python3 "$here/e2e/run_e2e.py" --bin "$build_dir/ferry" --counts "$counts" "$@" || rc=$?
        if [[ -s "$counts" ]]; then
            read -r p f s <"$counts"
        else
            p=0 f=1 s=0
        fi
        if [[ $rc -ne 0 && $f -eq 0 && $p -gt 0 ]]; then
            f=1
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        skipped=$((skipped + s))
        if [[ $f -ne 0 ]]; then
            echo "tests/run.sh: e2e logs kept in $FERRY_E2E_LOGDIR"
        else
            rm -rf "$FERRY_E2E_LOGDIR"
        fi
    fi
fi

summary="$passed passed, $failed failed"
[[ $skipped -gt 0 ]] && summary="$summary, $skipped skipped"
echo "$summary"
if [[ $failed -ne 0 || $passed -eq 0 ]]; then
    exit 1
fi
exit 0
