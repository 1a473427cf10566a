#!/usr/bin/env bash
# bench/ledger.sh — ledger group-commit benchmark: hold+charge pairs per second through the
# group-commit writer vs one write transaction (and one commit) per mutation, at several numbers of
# concurrent callers, durable (fsync on every commit) by default. Prints a markdown table.
#
#   bash bench/ledger.sh [--callers 1,8,64] [--seconds 3] [--modes group,single] [--no-durable]
#                        [--loops 2] [--dir DIR] [--no-build]
#
# DIR (default: a fresh directory under $TMPDIR) should be on the disk the ledger will live on:
# durable numbers are bounded by that disk's fdatasync latency. The throw-away ledgers are deleted.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
EDGE_BIN=${EDGE_BIN:-$ROOT/.build-bench/release/edgeproxy}
BUILD=1
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done

if [ $BUILD = 1 ]; then
  (cd "$ROOT" && swift build -c release --scratch-path .build-bench --product edgeproxy) >&2
fi
[ -x "$EDGE_BIN" ] || { echo "ledger.sh: $EDGE_BIN not found (build it, or set EDGE_BIN)" >&2; exit 2; }

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -srm), $(nproc) cores; fs: $(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2}')"
echo "# command: bash bench/ledger.sh ${ARGS[*]:-}"
exec "$EDGE_BIN" ledger bench "${ARGS[@]}"
