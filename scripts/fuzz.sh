#!/usr/bin/env bash
# Fuzzes the strict HTTP/1.1 codec with libFuzzer for SECONDS (default 60): usage `scripts/fuzz.sh [SECONDS]`.
#
# Builds Tests/Fuzz/HTTP1Fuzzer into its own scratch path (.build-fuzz) with -sanitize=fuzzer, runs it
# on a temporary copy of the seed corpus (Tests/Fuzz/corpus/, the unit-test inputs), and exits
# non-zero — printing the crashing input in hex — when libFuzzer finds a crash, a hang or a broken
# invariant. CI runs `bash scripts/fuzz.sh 60`.
#
# Environment: FUZZ_SCRATCH_PATH (default .build-fuzz), FUZZ_MAX_LEN (default 4096),
# FUZZ_ARGS (extra libFuzzer flags, e.g. "-seed=1 -jobs=2").
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac

cd "$(dirname "$0")/.."
scratch="${FUZZ_SCRATCH_PATH:-.build-fuzz}"
flags=(--scratch-path "$scratch" --product HTTP1Fuzzer -Xswiftc -sanitize=fuzzer -Xswiftc -DHTTP1_LIBFUZZER)

echo "==> building HTTP1Fuzzer (libFuzzer) in $scratch"
swift build "${flags[@]}"
binary="$(swift build "${flags[@]}" --show-bin-path)/HTTP1Fuzzer"

work="$(mktemp -d "${TMPDIR:-/tmp}/http1-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
cp Tests/Fuzz/corpus/* "$work/corpus/"

echo "==> fuzzing for ${seconds}s on $(ls "$work/corpus" | wc -l) seeds"
# Swift's own crash backtracer would catch the trap first and exit before libFuzzer saves the input.
export SWIFT_BACKTRACE=enable=no
set +e
# shellcheck disable=SC2086
"$binary" -max_total_time="$seconds" -max_len="${FUZZ_MAX_LEN:-4096}" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} "$work/corpus" 2>&1 | tee "$work/log" \
    | grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^INFO: .*(Seed|files found)|^Done|^stat::'
status=${PIPESTATUS[0]}
set -e
echo "==> libFuzzer exit status $status"

shopt -s nullglob
artifacts=("$work"/artifacts/*)
if [ "$status" -ne 0 ] || [ "${#artifacts[@]}" -gt 0 ]; then
    echo "==> FAILED: libFuzzer found ${#artifacts[@]} crashing input(s)" >&2
    grep -E 'invariant broken|Fatal error|ERROR: libFuzzer|SUMMARY' "$work/log" | head -20 >&2 || true
    for artifact in "${artifacts[@]}"; do
        echo "--- $(basename "$artifact") ($(wc -c < "$artifact") bytes), hex:" >&2
        od -An -v -tx1 "$artifact" | tr -s ' ' | sed 's/^ //' >&2
    done
    echo "Reproduce: $binary <file> (write the hex back with: xxd -r -p)" >&2
    exit 1
fi
echo "==> OK: no crash in ${seconds}s"
