"""Domain and job metrics for Prometheus.

prometheus_client keeps metrics in a process-global registry, so they are declared once here
at import. In multiprocess mode (several uvicorn workers) each process writes its own files and
``/metrics`` aggregates them; the ``multiprocess_mode`` of each gauge says how.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "argus"

worker_heartbeat = Gauge(f"{PREFIX}_worker_heartbeat_timestamp",
                         "Unix time of the last periodic heartbeat job the SAQ worker ran",
                         multiprocess_mode="max")

storage_operation_seconds = Histogram(
    f"{PREFIX}_storage_operation_duration_seconds",
    "Time of one table-layer operation (a statement, or the few pages of one read)",
    ["engine", "operation", "outcome"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

jobs_total = Counter(f"{PREFIX}_jobs", "Background jobs finished, by job function and final status",
                     ["job", "status"])

unmatched_requests = Counter(f"{PREFIX}_unmatched_requests", "Requests that matched no route (scanners, typos)",
                             ["method", "status_code"])
