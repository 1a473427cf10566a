#!/usr/bin/env bash
# Quick start: install what is missing, build in release, and run the edge.
# With no RECRAFT_API_TOKEN it runs offline against a local stand-in Recraft/app upstream,
# with a self-signed development certificate in $EDGE_DATA_DIR (default ./.edge-data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product edgeproxy
export EDGE_LISTEN="${EDGE_LISTEN:-127.0.0.1:8443}"
exec .build/release/edgeproxy serve "$@"
