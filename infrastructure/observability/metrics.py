"""Domain and job metrics for Prometheus.

prometheus_client keeps metrics in a process-global registry, so they are declared once here
at import. In multiprocess mode (several uvicorn workers) each process writes its own files and
``/metrics`` aggregates them; the ``multiprocess_mode`` of each gauge says how.
"""

from __future__ import annotations

from prometheus_client import Gauge

PREFIX = "argus"

worker_heartbeat = Gauge(f"{PREFIX}_worker_heartbeat_timestamp",
                         "Unix time of the last periodic heartbeat job the SAQ worker ran",
                         multiprocess_mode="max")
