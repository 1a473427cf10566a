#!/usr/bin/env bash
# Real-browser end-to-end test of the portal pages (Tests/Browser/README.md).
#
# Installs what is missing (Debian's chromium + chromium-driver; selenium and PyYAML in a venv under
# .venv-browser/), builds edgeproxy unless EDGEPROXY_BIN names a prebuilt one, starts
# `edgeproxy serve` offline (stand-in Recraft) on a free loopback port with a fresh temporary data
# directory, waits for /healthz, runs Tests/Browser/portal_browser_test.py, and always stops the
# server (by its PID) and removes the data directory. Exits non-zero when anything fails.
#
# Usage: scripts/browser-test.sh [test options, e.g. --update-docs-screenshots]
# Environment:
#   EDGEPROXY_BIN           prebuilt edgeproxy binary (skips the build)
#   BROWSER_TEST_TIMEOUT    seconds for server start + the browser test (default 600)
#   BROWSER_BUILD_TIMEOUT   seconds for building edgeproxy when needed (default 3600)
#   BROWSER_TEST_VENV       Python venv to use/create (default .venv-browser)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

TEST_TIMEOUT="${BROWSER_TEST_TIMEOUT:-600}"
BUILD_TIMEOUT="${BROWSER_BUILD_TIMEOUT:-3600}"
VENV="${BROWSER_TEST_VENV:-$ROOT/.venv-browser}"
CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

log() { printf '== browser-test: %s\n' "$*"; }
die() { printf 'browser-test: %s\n' "$*" >&2; exit 1; }

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
apt_updated=""
apt_install_missing() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ -z "$apt_updated" ]; then
    timeout 600 $sudo_cmd apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive timeout 900 $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- 1. The browser and its driver: Debian's, never a downloaded build.
apt_install_missing chromium chromium-driver curl ca-certificates
[ -x "$CHROMIUM" ] || die "$CHROMIUM is missing"
[ -x "$CHROMEDRIVER" ] || die "$CHROMEDRIVER is missing"

# --- 2. Python with selenium and PyYAML in a venv (gitignored).
PYTHON="${PYTHON:-python3}"
if ! "$VENV/bin/python" -c 'import selenium, yaml' >/dev/null 2>&1; then
  log "preparing the Python venv in $VENV"
  if ! { "$PYTHON" -m venv --clear "$VENV" >/dev/null 2>&1 && [ -x "$VENV/bin/pip" ]; }; then
    # Debian's python3 needs python3-venv for ensurepip.
    apt_install_missing python3 python3-venv
    PYTHON=/usr/bin/python3
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  timeout 600 "$VENV/bin/pip" install -q --disable-pip-version-check 'selenium>=4.20,<5' 'PyYAML>=6,<7'
fi

# --- 3. The edgeproxy binary.
if [ -n "${EDGEPROXY_BIN:-}" ]; then
  BIN="$EDGEPROXY_BIN"
  [ -x "$BIN" ] || die "EDGEPROXY_BIN=$BIN is not an executable"
else
  scripts/install-deps.sh
  log "building edgeproxy (debug, .build-browser)"
  timeout "$BUILD_TIMEOUT" swift build --product edgeproxy --scratch-path .build-browser
  BIN="$(swift build --product edgeproxy --scratch-path .build-browser --show-bin-path)/edgeproxy"
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
log "using $BIN"

# --- 4. Start the edge offline on a free port with a fresh data directory; always clean up.
DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/edge-browser-test.XXXXXX")"
SERVER_LOG="$DATA_DIR/server.log"
SERVER_PID=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "browser-test: the server did not stop in 30 s; killing it" >&2
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$SERVER_LOG" ]; then
    echo "---- server log (last 40 lines) ----" >&2
    tail -n 40 "$SERVER_LOG" >&2 || true
  fi
  rm -rf "$DATA_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STARTED=$(date +%s)
DEADLINE=$((STARTED + TEST_TIMEOUT))
# Offline: no Recraft credentials or app URL, so the stand-in answers; no demo account (the test
# makes its own users); port 0 lets the kernel pick a free port, read back from the server's output.
env -u RECRAFT_API_TOKEN -u RECRAFT_API_URL -u NEXT_PUBLIC_APP_URL -u NEXTAUTH_URL -u EDGE_CONFIG \
    -u EDGE_TLS_CERT -u EDGE_TLS_KEY \
    EDGE_DATA_DIR="$DATA_DIR" EDGE_LISTEN=127.0.0.1:0 EDGE_ADMIN_LISTEN=off EDGE_ACCESS_LOG=off EDGE_DEMO=off \
    "$BIN" serve --config "$ROOT/policies/default.yaml" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
log "server PID $SERVER_PID, data dir $DATA_DIR"

PORT=""
while :; do
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited during start-up"
  if [ -z "$PORT" ]; then
    PORT="$(sed -n 's|.*listening on https://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' "$SERVER_LOG" | head -n 1)"
  fi
  if [ -n "$PORT" ] && [ "$(curl -sk -o /dev/null -m 5 -w '%{http_code}' "https://127.0.0.1:$PORT/healthz" || true)" = 200 ]; then
    break
  fi
  [ "$(date +%s)" -lt $((STARTED + 90)) ] || die "the server was not ready within 90 s"
  sleep 0.3
done
BASE_URL="https://127.0.0.1:$PORT"
log "server ready at $BASE_URL after $(( $(date +%s) - STARTED )) s"

# --- 5. The browser test, bounded by what is left of the overall timeout.
LEFT=$((DEADLINE - $(date +%s)))
[ "$LEFT" -gt 10 ] || LEFT=10
set +e
EDGE_DATA_DIR="$DATA_DIR" timeout --kill-after=15 "$LEFT" "$VENV/bin/python" -u Tests/Browser/portal_browser_test.py \
  --base-url "$BASE_URL" --edgeproxy "$BIN" --data-dir "$DATA_DIR" --policy "$ROOT/policies/default.yaml" \
  --chromium "$CHROMIUM" --chromedriver "$CHROMEDRIVER" --profile-root "$DATA_DIR" "$@"
rc=$?
set -e
[ "$rc" -eq 124 ] && echo "browser-test: timed out after $LEFT s" >&2
log "finished in $(( $(date +%s) - STARTED )) s (exit $rc)"
exit "$rc"
