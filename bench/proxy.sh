#!/usr/bin/env bash
# bench/proxy.sh — Recraftor Edge forwarding benchmark, side by side in one run:
#   direct   wrk → upstream (the physical limit)
#   nginx    wrk → nginx plain TLS reverse proxy (1 worker) → upstream
#   haproxy  wrk → HAProxy (1 thread) → upstream
#   edge     wrk → edgeproxy serve (1 event loop, bench/policy.yaml: forwarding only) → upstream
#   edgefull wrk → edgeproxy serve (1 event loop, policies/default.yaml: API key, price, hold/charge
#            on a durable LMDB ledger with 64 seeded users) → upstream
# Everything on loopback over TLS with keep-alive (client side and proxy→upstream side).
# Then a streaming upload (512 MiB by default) through each. Prints markdown tables.
#
#   bash bench/proxy.sh [--duration S] [--connections N] [--rounds N] [--warmup S] [--rate R]
#                       [--skip-upload] [--skip-load] [--upload-mib N]
#                       [--only direct,nginx,haproxy,edge,edgefull]
#                       [--out FILE] [--no-build] [--keep]
#
# --rate R paces wrk to R req/s in all (below saturation: latency added per hop); 0 = flat out.
# Stops by itself; only ever signals processes it started (by PID). Exit status is 0 even when
# a proxy column fails (the row says FAIL and why); non-zero only for a broken setup.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

DURATION=10
CONNECTIONS=64
ROUNDS=1
WARMUP=2
SKIP_UPLOAD=0
SKIP_LOAD=0
UPLOAD_MIB=512
ONLY="direct,nginx,haproxy,edge,edgefull"
OUT=""
BUILD=1
KEEP=0
EDGE_BIN=${EDGE_BIN:-$ROOT/.build-bench/release/edgeproxy}
EDGE_NOTE=""
RATE=0
CMDLINE="bash bench/proxy.sh${*:+ $*}"

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "proxy.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration)    DURATION=${2:?}; shift 2 ;;
    --connections) CONNECTIONS=${2:?}; shift 2 ;;
    --rate)        RATE=${2:?}; shift 2 ;;
    --rounds)      ROUNDS=${2:?}; shift 2 ;;
    --warmup)      WARMUP=${2:?}; shift 2 ;;
    --skip-upload) SKIP_UPLOAD=1; shift ;;
    --skip-load)   SKIP_LOAD=1; shift ;;
    --upload-mib)  UPLOAD_MIB=${2:?}; shift 2 ;;
    --only)        ONLY=${2:?}; shift 2 ;;
    --out)         OUT=${2:?}; shift 2 ;;
    --no-build)    BUILD=0; shift ;;
    --keep)        KEEP=1; shift ;;
    -h|--help)     usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ $RATE =~ ^[0-9]+$ ]] || die "--rate must be a whole number of requests per second (0: as fast as possible)"
export BENCH_RATE=$RATE BENCH_CONNECTIONS=$CONNECTIONS BENCH_WRK_DIR="$HERE/wrk"
for v in DURATION CONNECTIONS ROUNDS WARMUP UPLOAD_MIB; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "--${v,,} must be a positive integer"
done

ALL_TARGETS=(direct nginx haproxy edge edgefull)
TARGETS=()
for t in "${ALL_TARGETS[@]}"; do
  [[ ",$ONLY," == *",$t,"* ]] && TARGETS+=("$t")
done
for t in ${ONLY//,/ }; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "--only: unknown target '$t' (known: ${ALL_TARGETS[*]})"
done
[ ${#TARGETS[@]} -gt 0 ] || die "--only selects no target"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
has() { [[ " ${TARGETS[*]} " == *" $1 "* ]]; }

declare -A STATUS=()    # target → "ok" or "FAIL: why" / "SKIP: why"
declare -A PID=()       # target → PID of the process we started (nginx: its master)
declare -A PORT=()
declare -A LABEL=([direct]="direct (no proxy)" [nginx]="nginx 1 worker" [haproxy]="HAProxy 1 thread" [edge]="edge 1 event loop" [edgefull]="edge full path (key+price+hold/charge, 64 users)")
STARTED=()              # every PID this script started, for cleanup
SAMPLER=""

# ---------------------------------------------------------------------------------------------
# 0. Work directory and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/edge-proxy-bench.XXXXXX") || die "mktemp failed"
cleanup() {
  local p i
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for i in $(seq 50); do
    local alive=0
    for p in "${STARTED[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$KEEP" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# 1. Tools
SUDO=""
[ "$(id -u)" = 0 ] || { command -v sudo >/dev/null && SUDO="sudo -n"; }
APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || return 1
  if [ $APT_UPDATED = 0 ]; then
    log "apt-get update"; $SUDO apt-get update -qq >/dev/null 2>&1 || true; APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}
need() { # command package...
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  local pkg
  for pkg in "$@"; do apt_install "$pkg" && command -v "$cmd" >/dev/null 2>&1 && return 0; done
  return 1
}
export PATH="$PATH:/usr/sbin:/sbin"
need curl curl       || die "curl is missing and could not be installed"
need openssl openssl || die "openssl is missing and could not be installed"
need pgrep procps    || die "pgrep (procps) is missing and could not be installed"
need nginx nginx-light nginx || die "nginx is missing and could not be installed"
if has direct || has nginx || has haproxy || has edge; then
  need wrk wrk || die "wrk is missing and could not be installed"
fi
if has haproxy && ! need haproxy haproxy; then STATUS[haproxy]="SKIP: haproxy not installable"; fi
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------------------------------------
# 2. The edge binary (release, own scratch path; rebuilt only when sources are newer)
edge_sources_newer() {
  [ -n "$(find "$ROOT/Sources" "$ROOT/Package.swift" "$ROOT/Package.resolved" -newer "$EDGE_BIN" \
           -type f -print -quit 2>/dev/null)" ]
}
if has edge || has edgefull; then
  if [ ! -x "$EDGE_BIN" ] || edge_sources_newer; then
    if [ $BUILD = 1 ] && command -v swift >/dev/null; then
      log "building edgeproxy (release, --scratch-path .build-bench) …"
      if (cd "$ROOT" && swift build -c release --scratch-path .build-bench --product edgeproxy) \
           >"$WORK/edge-build.log" 2>&1; then
        log "build done"
      else
        tail -n 15 "$WORK/edge-build.log" >&2
        if [ -x "$EDGE_BIN" ]; then
          EDGE_NOTE="rebuild FAILED, measuring the previous (stale) binary"; log "edge: $EDGE_NOTE"
        else
          STATUS[edge]="FAIL: release build failed"
        fi
      fi
    elif [ ! -x "$EDGE_BIN" ]; then
      STATUS[edge]="FAIL: no $EDGE_BIN (and no build: --no-build or no swift)"
    else
      EDGE_NOTE="binary older than the working tree's sources (not rebuilt)"; log "edge: $EDGE_NOTE"
    fi
  fi
  if [ -z "${STATUS[edge]:-}" ] && ! "$EDGE_BIN" serve --help >/dev/null 2>&1; then
    STATUS[edge]="FAIL: this edgeproxy has no 'serve' command yet"
  fi
  # bench/policy.yaml must stay a copy of policies/default.yaml except the bench settings.
  # (routes there carry no operation/filters: the edge column measures forwarding, see policy.yaml)
  norm_policy() { sed -e 's/#.*$//' -e 's/[[:space:]]*$//' \
                      -e '/^  - { id:/{s/,[[:space:]]*filters: \[[^]]*\]//;s/,[[:space:]]*operation: [a-z_]*//}' "$1" | grep -v '^$' \
                  | grep -Ev '^[[:space:]]*(event_loops|shutdown_grace_seconds|access_log[a-z_]*|log_level):' ; }
  if ! diff <(norm_policy "$ROOT/policies/default.yaml") <(norm_policy "$HERE/policy.yaml") >/dev/null; then
    log "warning: bench/policy.yaml differs from policies/default.yaml beyond the bench settings"
  fi
  # the binary's problems (no build, no serve) fail both edge columns
  [ -n "${STATUS[edge]:-}" ] && has edgefull && STATUS[edgefull]=${STATUS[edge]}
fi

# ---------------------------------------------------------------------------------------------
# 3. Throwaway test CA and leaf certificate (ECDSA P-256) for 127.0.0.1 / localhost
log "work directory $WORK"
mkdir -p "$WORK/empty" "$WORK/nginx-tmp" "$WORK/edge-data"
(
  cd "$WORK" || exit 1
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key &&
  openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=Recraftor Edge bench CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out ca.pem &&
  openssl ecparam -name prime256v1 -genkey -noout -out leaf.key &&
  openssl req -new -key leaf.key -subj "/CN=localhost" -out leaf.csr &&
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" > leaf.ext &&
  openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
    -extfile leaf.ext -out leaf.pem &&
  cat leaf.pem leaf.key > leaf-bundle.pem &&
  openssl verify -CAfile ca.pem leaf.pem
) >"$WORK/certs.log" 2>&1 || { cat "$WORK/certs.log" >&2; die "certificate generation failed"; }
chmod 600 "$WORK"/*.key "$WORK/leaf-bundle.pem"

# ---------------------------------------------------------------------------------------------
# 4. Ports (loopback only) and process helpers
port_free() { ! grep -qi "$(printf ':%04X ' "$1")" /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
NEXT_PORT=$((20000 + RANDOM % 30000))
alloc_port() { # sets GOT_PORT (no subshell: NEXT_PORT must advance)
  while ! port_free $NEXT_PORT; do NEXT_PORT=$((NEXT_PORT + 1)); done
  GOT_PORT=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1))
}
alloc_port; UP_PORT=$GOT_PORT; PORT[direct]=$UP_PORT
alloc_port; PORT[nginx]=$GOT_PORT
alloc_port; PORT[haproxy]=$GOT_PORT
alloc_port; PORT[edge]=$GOT_PORT
alloc_port; EDGE_ADMIN_PORT=$GOT_PORT
alloc_port; PORT[edgefull]=$GOT_PORT
alloc_port; EDGEFULL_ADMIN_PORT=$GOT_PORT

proc_tree() { # PID and all its descendants
  local p=$1 c
  [ -d "/proc/$p" ] || return 0
  echo "$p"
  for c in $(pgrep -P "$p" 2>/dev/null); do proc_tree "$c"; done
}
TICKS=0
cpu_ticks() { # sets TICKS = utime+stime (all threads) summed over the given PIDs
  local p s; TICKS=0
  for p in "$@"; do
    read -r s <"/proc/$p/stat" 2>/dev/null || continue
    s=${s##*) }; set -- $s
    TICKS=$((TICKS + ${12} + ${13}))
  done
}
BOX_BUSY=0; BOX_ALL=0; BOX_STEAL=0
box_ticks() { # whole machine, from /proc/stat: busy (incl. steal), all, steal
  local _c u n sy id io irq sirq st _rest
  read -r _c u n sy id io irq sirq st _rest </proc/stat
  BOX_BUSY=$((u + n + sy + irq + sirq + st)); BOX_ALL=$((BOX_BUSY + id + io)); BOX_STEAL=$st
}
CHILD_TICKS=0
child_ticks() { # CPU of this shell's reaped children (wrk, timeout, samplers), from `times`
  local _l u s
  times >"$WORK/times.txt"   # no pipe/subshell: a forked subshell would report its own (empty) children
  { read -r _l; read -r u s; } <"$WORK/times.txt"
  CHILD_TICKS=$(awk -v u="$u" -v s="$s" -v hz="$CLK_TCK" 'function sec(x, m) { m = x; sub(/m.*/, "", m); sub(/^[0-9]+m/, "", x); sub(/s$/, "", x); return m * 60 + x }
                BEGIN { printf "%d", (sec(u) + sec(s)) * hz }')
}
RSS=0; HWM=0
mem_kib() { # sets RSS = sum VmRSS, HWM = sum VmHWM (KiB) over the given PIDs
  local p k v _; RSS=0; HWM=0
  for p in "$@"; do
    while read -r k v _; do
      case $k in VmHWM:) HWM=$((HWM + v)) ;; VmRSS:) RSS=$((RSS + v)); break ;; esac
    done <"/proc/$p/status" 2>/dev/null
  done
}
start_sampler() { # interval outfile PIDs… — peak of summed VmRSS, in the background
  local iv=$1 out=$2; shift 2
  ( peak=0; echo 0 >"$out"   # append-only: a sampler killed mid-write never leaves an empty file
    while :; do mem_kib "$@"; if [ $RSS -gt $peak ]; then peak=$RSS; echo $peak >>"$out"; fi; sleep "$iv"; done
  ) & SAMPLER=$!
}
sampled_peak() { local v; v=$(tail -n 1 "$1" 2>/dev/null); echo "${v:-0}"; }
stop_sampler() { [ -n "$SAMPLER" ] && { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }; SAMPLER=""; }

render() { # template → file, filling @…@
  sed -e "s|@WORK@|$WORK|g" -e "s|@UP_PORT@|$UP_PORT|g" -e "s|@NGINX_PORT@|${PORT[nginx]}|g" \
      -e "s|@HAPROXY_PORT@|${PORT[haproxy]}|g" "$1" >"$2"
}
CURL=(curl -sS --cacert "$WORK/ca.pem" --connect-timeout 2)
SMOKE_BODY='{"image_url":"https://example.invalid/source.png","response_format":"url"}'
AUTH_HDR=()
[ -n "${BENCH_API_KEY:-}" ] && AUTH_HDR=(-H "Authorization: Bearer $BENCH_API_KEY")
smoke() { # port → prints HTTP status of one small POST
  "${CURL[@]}" --max-time 5 -o "$WORK/smoke.out" -w '%{http_code}' -X POST \
    "https://127.0.0.1:$1/v1/images/vectorize" -H 'Content-Type: application/json' \
    "${AUTH_HDR[@]}" --data "$SMOKE_BODY" 2>>"$WORK/smoke.err"
}
wait_ready() { # target port path secs → 0 when GET/POST answers 200
  local t=$1 port=$2 path=$3 secs=$4 i code
  for i in $(seq $((secs * 5))); do
    kill -0 "${PID[$t]}" 2>/dev/null || return 1
    if [ "$path" = POST ]; then code=$(smoke "$port"); else
      code=$("${CURL[@]}" --max-time 2 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port$path" 2>/dev/null); fi
    if [ "$code" = 200 ]; then sleep 0.3; kill -0 "${PID[$t]}" 2>/dev/null && return 0; return 1; fi
    sleep 0.2
  done
  return 1
}

# ---------------------------------------------------------------------------------------------
# 5. Start the upstream and the proxies
NGINX_USER=""
[ "$(id -u)" = 0 ] && NGINX_USER="user root;"   # workers must read the certs in $WORK
start_nginx() { # name template → PID
  local name=$1 conf="$WORK/$1.conf"
  render "$2" "$conf"
  [ -n "$NGINX_USER" ] && sed -i "1i $NGINX_USER" "$conf"
  if ! nginx -t -q -p "$WORK" -c "$conf" -e "$WORK/$name.error.log" >"$WORK/$name.out" 2>&1; then
    cat "$WORK/$name.out" >&2; return 1
  fi
  nginx -p "$WORK" -c "$conf" -e "$WORK/$name.error.log" >>"$WORK/$name.out" 2>&1 &
  LAST_PID=$!; STARTED+=("$LAST_PID")
}

log "upstream nginx on 127.0.0.1:$UP_PORT"
start_nginx upstream "$HERE/conf/upstream-nginx.conf" || die "upstream nginx config rejected"
UP_PID=$LAST_PID; PID[direct]=$UP_PID
wait_ready direct "$UP_PORT" POST 10 || { cat "$WORK/upstream.error.log" >&2; die "upstream did not come up"; }
STATUS[direct]=ok

if has nginx; then
  log "nginx proxy on 127.0.0.1:${PORT[nginx]}"
  if start_nginx nginx-proxy "$HERE/conf/proxy-nginx.conf"; then
    PID[nginx]=$LAST_PID
    if wait_ready nginx "${PORT[nginx]}" POST 10; then STATUS[nginx]=ok
    else STATUS[nginx]="FAIL: not answering 200 (see nginx-proxy.error.log)"; fi
  else STATUS[nginx]="FAIL: config rejected"; fi
fi

if has haproxy && [ -z "${STATUS[haproxy]:-}" ]; then
  log "haproxy on 127.0.0.1:${PORT[haproxy]}"
  render "$HERE/conf/haproxy.cfg" "$WORK/haproxy.cfg"
  if haproxy -c -q -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1; then
    haproxy -db -f "$WORK/haproxy.cfg" >>"$WORK/haproxy.out" 2>&1 &
    PID[haproxy]=$!; STARTED+=("${PID[haproxy]}")
    if wait_ready haproxy "${PORT[haproxy]}" POST 10; then STATUS[haproxy]=ok
    else STATUS[haproxy]="SKIP: not answering 200 (see haproxy.out)"; fi
  else
    STATUS[haproxy]="SKIP: config rejected by this haproxy ($(head -c 200 "$WORK/haproxy.out" | tr '\n' ' '))"
  fi
fi

if has edge && [ -z "${STATUS[edge]:-}" ]; then
  log "edge on 127.0.0.1:${PORT[edge]} (admin ${EDGE_ADMIN_PORT})"
  # Run from $WORK so that a developer's .env in the repository is not picked up.
  ( cd "$WORK" && exec env EDGE_LISTEN="127.0.0.1:${PORT[edge]}" EDGE_ADMIN_LISTEN="127.0.0.1:$EDGE_ADMIN_PORT" EDGE_ACCESS_LOG=off \
      EDGE_TLS_CERT="$WORK/leaf.pem" EDGE_TLS_KEY="$WORK/leaf.key" EDGE_DATA_DIR="$WORK/edge-data" \
      RECRAFT_API_URL="https://localhost:$UP_PORT" RECRAFT_CA_FILE="$WORK/ca.pem" \
      RECRAFT_API_TOKEN=bench-token "$EDGE_BIN" serve --config "$HERE/policy.yaml" ) \
      >"$WORK/edge.log" 2>&1 &
  PID[edge]=$!; STARTED+=("${PID[edge]}")
  if ! wait_ready edge "${PORT[edge]}" /healthz 60; then
    if kill -0 "${PID[edge]}" 2>/dev/null; then STATUS[edge]="FAIL: /healthz not 200 within 60 s"
    else STATUS[edge]="FAIL: exited at start"; fi
  else
    code=$(smoke "${PORT[edge]}")
    if [ "$code" = 200 ] && grep -q '"created"' "$WORK/smoke.out"; then STATUS[edge]=ok
    else STATUS[edge]="FAIL: POST /v1/images/vectorize → HTTP $code ($(head -c 120 "$WORK/smoke.out" | tr '\n' ' '))"; fi
  fi
  [ "${STATUS[edge]}" = ok ] || { log "edge: ${STATUS[edge]}"; tail -n 20 "$WORK/edge.log" >&2; }
fi
if has edgefull && [ -z "${STATUS[edgefull]:-}" ] && [ -x "$EDGE_BIN" ]; then
  # The full metered path: policies/default.yaml as shipped (authenticate, rate_limit, meter on
  # /v1/images/vectorize, 4 tokens), one event loop, rate limits lifted so wrk's one IP is not
  # throttled, a real durable LMDB ledger with 64 users, each with a key and plenty of tokens.
  log "edge (full path) on 127.0.0.1:${PORT[edgefull]}"
  sed -e 's/^  event_loops: 0 /  event_loops: 1 /' -e 's/rate_per_minute: [0-9]*/rate_per_minute: 1000000/g' \
      -e 's/burst: [0-9]*/burst: 1000000/g' "$ROOT/policies/default.yaml" >"$WORK/policy-full.yaml"
  mkdir -p "$WORK/edgefull-data"; : >"$WORK/keys.txt"
  for i in $(seq 1 64); do
    ( cd "$WORK" && EDGE_DATA_DIR="$WORK/edgefull-data" "$EDGE_BIN" users add "bench$i@bench.invalid" --config "$WORK/policy-full.yaml" \
        && EDGE_DATA_DIR="$WORK/edgefull-data" "$EDGE_BIN" tokens grant "bench$i@bench.invalid" 1000000000000 --config "$WORK/policy-full.yaml" \
        && EDGE_DATA_DIR="$WORK/edgefull-data" "$EDGE_BIN" keys create "bench$i@bench.invalid" --config "$WORK/policy-full.yaml" | tail -n 1 >>"$WORK/keys.txt" ) \
      >>"$WORK/edgefull-seed.log" 2>&1 || { STATUS[edgefull]="FAIL: seeding users (see edgefull-seed.log)"; break; }
  done
  if [ -z "${STATUS[edgefull]:-}" ]; then
    ( cd "$WORK" && exec env EDGE_LISTEN="127.0.0.1:${PORT[edgefull]}" EDGE_ADMIN_LISTEN="127.0.0.1:$EDGEFULL_ADMIN_PORT" EDGE_ACCESS_LOG=off EDGE_DEMO=off \
        EDGE_TLS_CERT="$WORK/leaf.pem" EDGE_TLS_KEY="$WORK/leaf.key" EDGE_DATA_DIR="$WORK/edgefull-data" \
        RECRAFT_API_URL="https://localhost:$UP_PORT" RECRAFT_CA_FILE="$WORK/ca.pem" \
        RECRAFT_API_TOKEN=bench-token "$EDGE_BIN" serve --config "$WORK/policy-full.yaml" ) \
        >"$WORK/edgefull.log" 2>&1 &
    PID[edgefull]=$!; STARTED+=("${PID[edgefull]}")
    if wait_ready edgefull "${PORT[edgefull]}" /healthz 60; then
      code=$("${CURL[@]}" --max-time 5 -o "$WORK/smoke-full.out" -w '%{http_code}' -D "$WORK/smoke-full.head" -X POST \
        "https://127.0.0.1:${PORT[edgefull]}/v1/images/vectorize" -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $(head -n 1 "$WORK/keys.txt")" --data "$SMOKE_BODY" 2>>"$WORK/smoke.err")
      if [ "$code" = 200 ] && grep -qi '^x-tokens-charged: 4' "$WORK/smoke-full.head"; then STATUS[edgefull]=ok
      else STATUS[edgefull]="FAIL: metered POST → HTTP $code ($(head -c 120 "$WORK/smoke-full.out" | tr '\n' ' '))"; fi
    else
      STATUS[edgefull]="FAIL: /healthz not 200 within 60 s (see edgefull.log)"
    fi
  fi
  [ "${STATUS[edgefull]}" = ok ] || { log "edgefull: ${STATUS[edgefull]}"; tail -n 20 "$WORK/edgefull.log" >&2 2>/dev/null; }
fi
for t in "${TARGETS[@]}"; do log "$t: ${STATUS[$t]:-?}"; done

# ---------------------------------------------------------------------------------------------
# 6. Load: wrk -t1 -cN, interleaved per round, rotating the starting target
RESULTS="$WORK/results.tsv"; : >"$RESULTS"
LUA="$HERE/wrk/vectorize.lua"
measure() { # target round
  local t=$1 r=$2 port=${PORT[$1]} url pids upids line ticks0 uticks0 LUA=$LUA
  url="https://127.0.0.1:$port"
  if [ "$t" = edgefull ]; then LUA="$HERE/wrk/fullpath.lua"; export BENCH_KEYS_FILE="$WORK/keys.txt"; fi
  timeout $((WARMUP + 30)) wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LUA" "$url" >"$WORK/wrk-$t-$r-warm.txt" 2>&1
  pids=$(proc_tree "${PID[$t]}"); upids=$(proc_tree "$UP_PID")
  start_sampler 0.1 "$WORK/rss-$t-$r" $pids
  child_ticks; local ch0=$CHILD_TICKS
  box_ticks; local busy0=$BOX_BUSY all0=$BOX_ALL steal0=$BOX_STEAL
  cpu_ticks $pids; ticks0=$TICKS; cpu_ticks $upids; uticks0=$TICKS
  timeout $((DURATION + 30)) wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA" "$url" \
    >"$WORK/wrk-$t-$r.txt" 2>&1
  cpu_ticks $pids; local dt=$((TICKS - ticks0)); cpu_ticks $upids; local udt=$((TICKS - uticks0))
  box_ticks
  stop_sampler; child_ticks
  # CPU used by everything that is not this benchmark (other users' builds…), % of the machine
  local ours=$((dt + (CHILD_TICKS - ch0))); [ "$t" != direct ] && ours=$((ours + udt))
  local other_pct steal_pct
  other_pct=$(awk -v b=$((BOX_BUSY - busy0 - (BOX_STEAL - steal0))) -v o="$ours" -v a=$((BOX_ALL - all0)) 'BEGIN{v = a ? (b - o) * 100 / a : 0; printf "%d", (v < 0 ? 0 : v + 0.5)}')
  steal_pct=$(awk -v st=$((BOX_STEAL - steal0)) -v a=$((BOX_ALL - all0)) 'BEGIN{printf "%d", a ? st * 100 / a + 0.5 : 0}')
  mem_kib $pids
  line=$(grep '^BENCH ' "$WORK/wrk-$t-$r.txt")
  if [ -z "$line" ]; then
    log "$t round $r: wrk produced no result"; tail -n 5 "$WORK/wrk-$t-$r.txt" >&2; return
  fi
  # shellcheck disable=SC2086
  local requests=0 duration_us=0 err_connect=0 err_read=0 err_write=0 err_status=0 err_timeout=0 p50_us=0 p99_us=0
  eval "$(echo "${line#BENCH }" | tr ' ' '\n' | grep -E '^(requests|duration_us|err_[a-z]+|p50_us|p99_us)=[0-9]+$')"
  if [ "$requests" -eq 0 ] || [ "$duration_us" -eq 0 ]; then
    log "$t round $r: no request completed"; tail -n 5 "$WORK/wrk-$t-$r.txt" >&2; return
  fi
  local errs=$((err_connect + err_read + err_write + err_status + err_timeout))
  printf '%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n' "$t" "$r" "$requests" "$duration_us" \
    "$p50_us" "$p99_us" "$errs" "$dt" "$udt" "$(sampled_peak "$WORK/rss-$t-$r")" "$HWM" "$other_pct" "$steal_pct" >>"$RESULTS"
  log "$(printf '%-8s round %d: %s' "$t" "$r" "$(awk -v n="$requests" -v d="$duration_us" -v e="$errs" \
        -v tk="$dt" -v hz="$CLK_TCK" -v o="$other_pct" -v st="$steal_pct" 'BEGIN{printf "%.0f req/s, %d errors, %.1f µs CPU/req; other processes %d%%, steal %d%% of the CPUs", n/(d/1e6), e, (n>0? tk*1e6/hz/n : 0), o, st}')")"
}
RUN_TARGETS=()
for t in "${TARGETS[@]}"; do [ "${STATUS[$t]}" = ok ] && RUN_TARGETS+=("$t"); done
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
[ $SKIP_LOAD = 1 ] && ROUNDS_RUN=0 || ROUNDS_RUN=$ROUNDS
for r in $(seq "$ROUNDS_RUN"); do
  n=${#RUN_TARGETS[@]}
  for i in $(seq 0 $((n - 1))); do
    t=${RUN_TARGETS[$(( (i + r - 1) % n ))]}
    measure "$t" "$r"
  done
done

# ---------------------------------------------------------------------------------------------
# 7. Streaming upload through each
UPLOADS="$WORK/uploads.tsv"; : >"$UPLOADS"
if [ $SKIP_UPLOAD = 0 ] && [ ${#RUN_TARGETS[@]} -gt 0 ]; then
  BLOB="$WORK/upload.bin"
  log "generating ${UPLOAD_MIB} MiB upload file"
  head -c "${UPLOAD_MIB}M" /dev/urandom >"$BLOB" || die "cannot write $BLOB"
  BLOB_BYTES=$(stat -c %s "$BLOB")
  cat "$BLOB" >/dev/null   # page cache
  for t in "${RUN_TARGETS[@]}"; do
    [ "$t" = edgefull ] && continue   # uploads are measured on the forwarding path only
    pids=$(proc_tree "${PID[$t]}")
    # shellcheck disable=SC2086
    mem_kib $pids; before=$RSS; hwm_before=$HWM
    ups_before=$(wc -l <"$WORK/upstream-uploads.log" 2>/dev/null || echo 0)
    start_sampler 0.05 "$WORK/rss-up-$t" $pids
    # Expect: off — curl would otherwise wait up to 1 s for "100 Continue" (measured, not forwarded).
    res=$("${CURL[@]}" -T "$BLOB" -X POST "https://127.0.0.1:${PORT[$t]}/v1/images/vectorize" \
          -H 'Content-Type: application/octet-stream' -H 'Expect:' "${AUTH_HDR[@]}" \
          --max-time 300 --speed-limit 1000000 --speed-time 15 \
          -o "$WORK/upload-$t.out" -w '%{http_code} %{speed_upload} %{size_upload} %{time_total}' \
          2>"$WORK/upload-$t.err")
    stop_sampler; peak=$(sampled_peak "$WORK/rss-up-$t")
    sleep 0.5; mem_kib $pids; after=$RSS; hwm_after=$HWM
    [ "$before" -gt "$peak" ] && peak=$before; [ "$after" -gt "$peak" ] && peak=$after
    read -r code speed sent secs <<<"${res:-000 0 0 0}"
    code=${code:-000}; speed=${speed:-0}; sent=${sent:-0}; secs=${secs:-0}
    got=$(tail -n +$((ups_before + 1)) "$WORK/upstream-uploads.log" 2>/dev/null | awk '{print $1}' | tail -n 1)
    verdict=ok
    if [ "$code" != 200 ]; then verdict="FAIL: HTTP $code $(head -c 100 "$WORK/upload-$t.err" | tr '\n' ' ')"
    elif [ "$sent" != "$BLOB_BYTES" ]; then verdict="FAIL: client sent $sent of $BLOB_BYTES bytes"
    elif [ -z "$got" ] || [ "$got" -lt "$BLOB_BYTES" ]; then verdict="FAIL: upstream received ${got:-0} bytes (incl. head) of $BLOB_BYTES"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$code" "$speed" "$secs" "${got:-0}" "$before" "$peak" "$after" "$hwm_before" "$hwm_after" "$verdict" >>"$UPLOADS"
    log "$(printf '%-8s upload: HTTP %s, %.0f MB/s, RSS %d → peak %d → %d KiB — %s' "$t" "$code" \
          "$(awk -v s="$speed" 'BEGIN{print s/1e6}')" "$before" "$peak" "$after" "$verdict")"
  done
fi

# ---------------------------------------------------------------------------------------------
# 8. Report (markdown)
REPORT="$WORK/report.md"
if [ -z "${EDGE_REV:-}" ]; then   # EDGE_REV=… labels a binary built elsewhere (EDGE_BIN=…)
  EDGE_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
  [ -n "$(git -C "$ROOT" status --porcelain -- Sources Package.swift 2>/dev/null)" ] && EDGE_REV="$EDGE_REV+uncommitted"
fi
{
  echo "#### Proxy benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr), load at start $LOAD_AT_START"
  echo "- versions: $(nginx -v 2>&1 | sed 's/.*version: //'), $(haproxy -v 2>/dev/null | head -1 | awk '{print "HAProxy " $3}'), $(wrk -v 2>&1 | head -1 | awk '{print "wrk " $2}'), $(openssl version | awk '{print $1 " " $2}'), edge ${EDGE_REV}${EDGE_NOTE:+ (**$EDGE_NOTE**)}"
  echo "- command: \`$CMDLINE\`"
  OTHER_MAX=$(awk -F'\t' 'BEGIN{m = 0} $12 > m {m = $12} END{print m}' "$RESULTS")
  STEAL_MAX=$(awk -F'\t' 'BEGIN{m = 0} $13 > m {m = $13} END{print m}' "$RESULTS")
  if [ "$OTHER_MAX" -ge 5 ] || [ "$STEAL_MAX" -ge 5 ]; then
    echo "- **busy machine**: other processes took up to ${OTHER_MAX}% of the CPUs during a measurement (steal up to ${STEAL_MAX}%);"
    echo "  absolute req/s drop and CPU µs/req rise (fewer requests per wake-up) — compare ratios within this run only"
  fi
  echo "- load: wrk -t1 -c$CONNECTIONS -d${DURATION}s (after ${WARMUP}s warm-up), POST /v1/images/vectorize, 200 B JSON, TLS + keep-alive; $ROUNDS round(s), interleaved; medians over rounds"
  [ "$RATE" -gt 0 ] && echo "- **paced**: $RATE req/s offered in all (each connection pauses a jittered $((CONNECTIONS * 1000 / RATE)) ms on average before each request; wrk's latency excludes the pause) — below saturation, so latency shows what each hop adds"
  echo
  if [ $SKIP_LOAD = 0 ]; then
  echo "| target | req/s | p50 ms | p99 ms | errors | proxy CPU µs/req | upstream CPU µs/req | proxy peak RSS MiB | proxy VmHWM MiB | other CPU % | status |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  for t in "${TARGETS[@]}"; do
    st=${STATUS[$t]:-?}
    if [ "$st" = ok ] && grep -q "^$t	" "$RESULTS"; then
      awk -F'\t' -v t="$t" -v hz="$CLK_TCK" -v label="${LABEL[$t]}" '
        function med(a, n,   i, j, x) { for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
                                       return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
        $1 == t { n++; rps[n] = $3 / ($4 / 1e6); p50[n] = $5 / 1000; p99[n] = $6 / 1000; err += $7
                  cpu[n] = $8 * 1e6 / hz / $3; ucpu[n] = $9 * 1e6 / hz / $3; if ($10 > rss) rss = $10; if ($11 > hwm) hwm = $11
                  if ($12 > oth) oth = $12 }
        END { if (t == "direct") { c = "—"; m = "—"; h = "—" } else { c = sprintf("%.1f", med(cpu, n)); m = sprintf("%.1f", rss / 1024); h = sprintf("%.1f", hwm / 1024) }
              printf "| %s | %.0f | %.2f | %.2f | %d | %s | %.1f | %s | %s | %d | %s |\n", label, med(rps, n), med(p50, n), med(p99, n), err, c, med(ucpu, n), m, h, oth, (err > 0 ? "**ok, with errors**" : "ok") }' "$RESULTS"
    else
      [ "$st" = ok ] && st="FAIL: no result"
      echo "| ${LABEL[$t]} | — | — | — | — | — | — | — | — | — | **$st** |"
    fi
  done
  # Ratios
  get() { awk -F'\t' -v t="$1" -v hz="$CLK_TCK" -v what="$2" '
        function med(a, n,   i, j, x) { for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
                                       return (n % 2) ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2 }
        $1 == t { n++; v[n] = (what == "rps") ? $3 / ($4 / 1e6) : (what == "cpu") ? $8 * 1e6 / hz / $3 : (what == "p50") ? $5 / 1000 : (what == "p99") ? $6 / 1000 : $9 * 1e6 / hz / $3 }
        END { if (n) printf "%.4f", med(v, n) }' "$RESULTS"; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'; }
  echo
  echo "| ratio | req/s | CPU µs/req |"
  echo "|---|---:|---:|"
  for pair in "edge nginx" "edge haproxy" "edge direct" "edgefull nginx" "edgefull direct" "haproxy nginx" "nginx direct"; do
    set -- $pair
    has "$1" && has "$2" || continue
    if [ "$2" = direct ]; then b_cpu=$(get direct ucpu); else b_cpu=$(get "$2" cpu); fi
    r1=$(ratio "$(get "$1" rps)" "$(get "$2" rps)"); r2=$(ratio "$(get "$1" cpu)" "$b_cpu")
    [ "$1" = edge ] && [ "${STATUS[edge]}" != ok ] && { r1="— (edge FAIL)"; r2="—"; }
    echo "| $1 / $2 | $r1 | $r2 |"
  done
  if has direct; then
    echo
    echo "| latency added over direct | p50 ms | p99 ms |"
    echo "|---|---:|---:|"
    for t in nginx haproxy edge edgefull; do
      has "$t" && [ -n "$(get "$t" p99)" ] || continue
      awk -v l="${LABEL[$t]}" -v a50="$(get "$t" p50)" -v a99="$(get "$t" p99)" -v d50="$(get direct p50)" -v d99="$(get direct p99)" \
        'BEGIN{ printf "| %s | %+.2f | %+.2f |\n", l, a50 - d50, a99 - d99 }'
    done
  fi
  fi
  if [ -s "$UPLOADS" ]; then
    echo
    echo "Streaming upload, ${UPLOAD_MIB} MiB (curl -T, Content-Length, Expect off), proxy RSS sampled every 50 ms:"
    echo
    echo "| target | HTTP | MB/s | upstream received | RSS before MiB | RSS peak MiB | RSS after MiB | peak − before MiB | VmHWM before → after MiB | result |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    while IFS=$'\t' read -r t code speed secs got before peak after hb ha verdict; do
      if [ "$t" = direct ]; then
        awk -v l="${LABEL[$t]}" -v c="$code" -v s="$speed" -v g="$got" -v v="$verdict" \
          'BEGIN{ printf "| %s | %s | %.0f | %.1f MiB | — | — | — | — | — | %s |\n", l, c, s/1e6, g/1048576, (v=="ok" ? "ok" : "**" v "**") }'
      else
        awk -v l="${LABEL[$t]}" -v c="$code" -v s="$speed" -v g="$got" -v b="$before" -v p="$peak" -v a="$after" -v hb="$hb" -v ha="$ha" -v v="$verdict" \
          'BEGIN{ printf "| %s | %s | %.0f | %.1f MiB | %.1f | %.1f | %.1f | %+.1f | %.1f → %.1f | %s |\n", l, c, s/1e6, g/1048576, b/1024, p/1024, a/1024, (p-b)/1024, hb/1024, ha/1024, (v=="ok" ? "ok" : "**" v "**") }'
      fi
    done <"$UPLOADS"
    for t in "${TARGETS[@]}"; do
      [ "${STATUS[$t]:-}" = ok ] || echo "| ${LABEL[$t]} | — | — | — | — | — | — | — | — | **${STATUS[$t]:-?}** |"
    done
  fi
  echo
  echo "Columns: req/s, p50/p99 from wrk; errors = wrk socket errors + HTTP ≥ 400; proxy CPU µs/req = utime+stime"
  echo "(/proc/PID/stat, all processes of the proxy, e.g. nginx master+worker) over the measured ${DURATION} s ÷"
  echo "requests; upstream CPU µs/req = the same for the upstream nginx (direct row: the only server in the path,"
  echo "so edge/direct CPU compares the edge with one plain TLS endpoint); proxy peak RSS = peak of the summed VmRSS"
  echo "sampled every 100 ms during the measurement; VmHWM = the processes' lifetime peak (summed), read after it;"
  echo "other CPU % = share of all CPUs used by processes outside this benchmark during the measurement (max over rounds)."
} >"$REPORT"

echo
cat "$REPORT"
if [ -n "$OUT" ]; then { echo; cat "$REPORT"; } >>"$OUT"; log "appended to $OUT"; fi
exit 0
