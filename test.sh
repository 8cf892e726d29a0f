#!/usr/bin/env bash
# Run every test of the workspace: ./test.sh
set -euo pipefail
cd "$(dirname "$0")"
scripts/ensure-deps.sh
exec cargo test --workspace "$@"
