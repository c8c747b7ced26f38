#!/usr/bin/env bash
# Run Argus on its embedded defaults: SQLite under ./var, embedded job broker, port 8000.
# Extra arguments go to `argus serve` (e.g. --host 0.0.0.0 --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/argus serve "$@"
