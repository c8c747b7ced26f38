#!/usr/bin/env bash
# Run the whole test suite: installs what is missing, starts a real Cassandra 5.0 node and a real
# Redis (unless SCYLLA_HOSTS names an external ScyllaDB), runs pytest, stops what it started.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --test
tools/test-services.sh up
trap 'tools/test-services.sh down' EXIT
export SCYLLA_HOSTS=${SCYLLA_HOSTS:-127.0.0.1}
export ARGUS_TEST_REDIS_URL=${ARGUS_TEST_REDIS_URL:-redis://127.0.0.1:6390/0}
.venv/bin/python -m pytest "$@"
