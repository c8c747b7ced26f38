"""CI ingest benchmark: a real ``argus serve`` driven over HTTP, against a raw-write baseline.

For each storage engine (``sqlite``, ``scylla``) this script, in one run:

1. starts a real ``argus serve`` (embedded worker on, log level WARNING) on a free port with a
   temporary data directory (and, for scylla, a throw-away keyspace ``bench_<hex>``), and
   provisions a token with ``argus create-user bench --role service --token``;
2. probes the storage cost of each call: two generic runs of one new job, sent sequentially, with
   a scrape of ``/metrics`` (``argus_storage_operation_duration_seconds`` counts) between calls;
3. drives N generic runs with K concurrent clients (asyncio + one keep-alive ``httpx.AsyncClient``
   each), every run doing the lifecycle exactly as ``argus-alm`` sends it (the bodies and paths are
   produced by argus-alm's own ``ArgusGenericClient``): submit, heartbeat, update_product_version,
   submit_results (3 numeric columns x 4 rows with validation rules, sut_timestamp set), finalize;
   every request is timed, and every answer must be HTTP 200 with ``"status": "ok"``;
4. verifies a sample of runs through ``GET /api/v1/client/testrun/generic/<id>/get`` (status,
   end time, versions) and ``fetch_results`` (12 cells, all PASS);
5. measures the baseline on the same database: raw single-row writes of a run-shaped row
   (15 columns). scylla: scylla-driver directly, protocol v4, one prepared INSERT, K statements in
   flight through ``execute_async`` bridged to asyncio (plain, then ``IF NOT EXISTS``); sqlite:
   ``sqlite3`` autocommit INSERTs into a WAL table in the same directory, from one thread.

That is ``--mode lifecycle`` (the default). ``--mode events`` (``--mode both`` runs both) measures SCT
event ingest instead: K SCT runs submitted (``ArgusSCTClient.submit_sct_run`` with a longevity-shaped
``sct_config``), then each streams ``--batches`` ``submit_event`` batches of ``--batch-size`` SCT-shaped
events (mixed severities, ~500-byte messages, strictly increasing ts), all K runs at once; it prints
events/s, batches/s, batch latency percentiles, storage statements per event, and the ratio to raw
writes of event-shaped rows (scylla: prepared INSERT and INSERT ... IF NOT EXISTS at K and at K x 64 in
flight; sqlite: sqlite3 autocommit INSERT and INSERT ... ON CONFLICT DO NOTHING), and checks every
run's ``events/counts``.

It prints ratios measured in that one run, never compares with stored numbers, and exits 0 when
every request succeeded and every check passed (1 otherwise). Usage: see ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from argus.client.generic.client import ArgusGenericClient
from argus.client.generic_result import ColumnMetadata, GenericResultTable, ResultType, Status, ValidationRule
from argus.client.replay_log import ReplayLogOnlyResponse
from argus.client.sct.client import ArgusSCTClient

REPO = Path(__file__).resolve().parents[1]
_VENV_ARGUS = REPO / ".venv" / "bin" / "argus"
ARGUS = str(_VENV_ARGUS if _VENV_ARGUS.exists() else Path(sys.executable).with_name("argus"))

ENGINES = ("sqlite", "scylla")
CALLS = ("submit", "heartbeat", "update_product_version", "submit_results", "finalize")
OPERATIONS = ("get", "select", "scan", "insert", "insert_lwt", "update", "update_lwt", "delete")
STORAGE_METRIC = "argus_storage_operation_duration_seconds"
REQUEST_METRIC = "argus_request_duration_seconds"
PRODUCT_VERSION = "2024.2.0-0.20240601.abc123def"
SHORT_VERSION = "2024.2.0"
SUT_TIMESTAMP_BASE = 1717200000  # 2024-06-01T00:00:00Z
NOT_ENDED = "1970-01-01T00:00:00.000Z"
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
HTTP_TIMEOUT_S = 60.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVICE_MAX_CONCURRENCY = 64  # ARGUS_STORAGE_MAX_CONCURRENCY default: statements in flight per batch


class BenchFailure(Exception):
    """Something the benchmark could not do or verify; the run exits 1."""


# --- request plans, built by argus-alm itself ------------------------------------------------------


class _RecordingClient(ArgusGenericClient):
    """argus-alm's generic client, capturing each request instead of sending it."""

    def __init__(self, log_dir: Path) -> None:
        super().__init__(auth_token="unused", base_url="", log_dir=log_dir, replay_log_only=True)
        self.captured: list[tuple[str, dict[str, Any]]] = []

    def post(self, endpoint: str, location_params: dict | None = None, params: dict | None = None,
             body: dict | None = None) -> ReplayLogOnlyResponse:
        self.captured.append((self.get_url_for_endpoint(endpoint, location_params or {}), body or {}))
        return ReplayLogOnlyResponse(endpoint=endpoint)


@dataclass(frozen=True)
class Request:
    call: str
    path: str
    body: bytes


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    build_id: str
    requests: tuple[Request, ...]


def _results_table(index: int, rng: random.Random) -> GenericResultTable:
    """3 numeric columns x 4 rows with rules; values stay well inside every limit, so cells are PASS."""
    table = GenericResultTable(
        name="bench throughput",
        description="ingest benchmark: steady-state numbers of one run",
        columns=[
            ColumnMetadata(name="throughput", unit="op/s", type=ResultType.FLOAT, higher_is_better=True),
            ColumnMetadata(name="latency p99", unit="ms", type=ResultType.FLOAT, higher_is_better=False),
            ColumnMetadata(name="duration", unit="s", type=ResultType.DURATION, higher_is_better=False),
        ],
        validation_rules={
            "throughput": ValidationRule(best_pct=10, fixed_limit=50_000),
            "latency p99": ValidationRule(best_pct=10, fixed_limit=20),
            "duration": ValidationRule(best_abs=600),
        },
        sut_timestamp=SUT_TIMESTAMP_BASE + index,
    )
    for row in ("read", "write", "mixed", "scan"):
        table.add_result("throughput", row, round(100_000 * (1 + rng.uniform(0, 0.02)), 1), Status.UNSET)
        table.add_result("latency p99", row, round(5.0 * (1 + rng.uniform(0, 0.02)), 3), Status.UNSET)
        table.add_result("duration", row, round(3600 * (1 + rng.uniform(0, 0.02))), Status.UNSET)
    return table


def build_plans(count: int, jobs: int, tag: str, log_dir: Path, *, first: int = 0,
                build_ids: Sequence[str] | None = None) -> list[RunPlan]:
    """One request list per run, exactly as argus-alm builds them (paths and JSON bodies)."""
    recorder = _RecordingClient(log_dir)
    rng = random.Random(first)
    plans = []
    try:
        for i in range(first, first + count):
            run_id = str(uuid.uuid4())
            job = i % jobs
            build_id = build_ids[i % len(build_ids)] if build_ids else f"bench-{tag}/group-{job % 4}/job-{job:02d}"
            recorder.run_id = run_id
            recorder.captured.clear()
            recorder.submit_generic_run(build_id=build_id, run_id=run_id, started_by="bench",
                                        build_url=f"https://jenkins.example/job/{build_id}/{i + 1}/", sub_type="bench")
            recorder.heartbeat(run_type="generic", run_id=run_id)
            recorder.update_product_version(run_type="generic", run_id=run_id, product_version=PRODUCT_VERSION)
            recorder.submit_results(_results_table(i, rng))
            recorder.finalize_generic_run(run_id=run_id, status="passed")
            assert len(recorder.captured) == len(CALLS), recorder.captured
            requests = tuple(Request(call, path, json.dumps(body).encode())
                             for call, (path, body) in zip(CALLS, recorder.captured, strict=True))
            plans.append(RunPlan(run_id, build_id, requests))
    finally:
        recorder.close()
    return plans


# --- the server process ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This environment without inherited ``ARGUS_*`` settings, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGUS_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(ARGUS_STORAGE_DATA_DIR=str(data_dir), ARGUS_LOG_LEVEL="WARNING", ARGUS_LOG_FORMAT="json",
               ARGUS_QUEUE_EMBEDDED_WORKER="true", **settings)
    return env


_STARTED: list[subprocess.Popen[bytes]] = []


def _kill_leftovers() -> None:
    for process in _STARTED:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


atexit.register(_kill_leftovers)


class Server:
    """One ``argus serve`` process in its own process group."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.env = env
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = data_dir / "serve.stderr"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.data_dir / "serve.stdout").open("ab") as out, self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen([ARGUS, "serve", "--port", str(self.port)], env=self.env, stdout=out,
                                            stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
                                            cwd=self.data_dir)
        _STARTED.append(self.process)
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "no attempt"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchFailure(f"argus serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise BenchFailure(f"argus serve did not answer /healthz within {START_TIMEOUT_S:g} s ({last}):\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def cpu_seconds(self) -> float:
        """User + system CPU time of every live process of the server's process group."""
        assert self.process is not None
        return sum(_proc_cpu(pid) for pid in _group_members(self.process.pid))

    def log_tail(self) -> str:
        text = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return text[-4000:]

    def create_token(self) -> str:
        done = subprocess.run([ARGUS, "create-user", "bench", "--role", "service", "--token"], env=self.env,
                              capture_output=True, text=True, timeout=120, cwd=self.data_dir, check=False)
        if done.returncode != 0 or not done.stdout.strip():
            raise BenchFailure(f"argus create-user failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout.strip().splitlines()[-1]


def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def _machine_busy_seconds() -> float:
    """CPU seconds every CPU of the machine spent busy (not idle or waiting for I/O) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLK_TCK  # user..steal minus idle and iowait


def _group_members(pgid: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


def _cassandra_pid() -> int | None:
    """The local test node started by tools/test-services.sh, if that is what runs here."""
    run_dir = Path(os.environ.get("CASSANDRA_RUN", "/tmp/argus-cassandra"))
    try:
        pid = int((run_dir / "cassandra.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"CassandraDaemon" in cmdline else None


# --- /metrics --------------------------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass
class Scrape:
    """Storage operation counts/seconds by operation, and request counts/seconds by route template."""

    ops: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    op_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    op_errors: float = 0.0
    requests: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    request_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def minus(self, before: Scrape) -> Scrape:
        delta = Scrape()
        for mine, theirs, out in ((self.ops, before.ops, delta.ops),
                                  (self.op_seconds, before.op_seconds, delta.op_seconds),
                                  (self.requests, before.requests, delta.requests),
                                  (self.request_seconds, before.request_seconds, delta.request_seconds)):
            for key in set(mine) | set(theirs):
                out[key] = mine.get(key, 0.0) - theirs.get(key, 0.0)
        delta.op_errors = self.op_errors - before.op_errors
        return delta

    @property
    def total_ops(self) -> float:
        return sum(v for k, v in self.ops.items() if k != "ping")


async def scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics")
    response.raise_for_status()
    result = Scrape()
    for line in response.text.splitlines():
        match = _SAMPLE.match(line)
        if not match:
            continue
        name, raw_labels, value = match.groups()
        labels = dict(_LABEL.findall(raw_labels or ""))
        if name == f"{STORAGE_METRIC}_count":
            if labels.get("outcome") == "ok":
                result.ops[labels.get("operation", "?")] += float(value)
            else:
                result.op_errors += float(value)
        elif name == f"{STORAGE_METRIC}_sum":
            result.op_seconds[labels.get("operation", "?")] += float(value)
        elif name in (f"{REQUEST_METRIC}_count", f"{REQUEST_METRIC}_sum") and "/client/" in labels.get("path", ""):
            target = result.requests if name.endswith("_count") else result.request_seconds
            target[labels["path"]] += float(value)
    return result


# --- driving the service -------------------------------------------------------------------------------


@dataclass
class LoadResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    run_walls: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0
    wall: float = 0.0

    def fail(self, message: str) -> None:
        self.failure_count += 1
        if len(self.failures) < 10:
            self.failures.append(message)


def _headers(token: str) -> dict[str, str]:
    # What argus-alm's session sends (its tunnel and Jenkins attribution headers aside).
    return {"Authorization": f"token {token}", "Accept": "application/json", "Content-Type": "application/json",
            "X-Argus-Client-Version": metadata.version("argus-alm")}


async def _send(client: httpx.AsyncClient, request: Request, result: LoadResult, run_id: str) -> bool:
    started = time.perf_counter()
    try:
        response = await client.post(request.path, content=request.body)
        elapsed = time.perf_counter() - started
    except httpx.HTTPError as exc:
        result.fail(f"{request.call} {run_id}: {exc!r}")
        return False
    result.latencies[request.call].append(elapsed)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if response.status_code != 200 or not isinstance(payload, dict) or payload.get("status") != "ok":
        result.fail(f"{request.call} {run_id}: HTTP {response.status_code} {response.text[:300]}")
        return False
    return True


async def drive(url: str, token: str, plans: list[tuple[str, Sequence[Request]]], clients: int) -> LoadResult:
    """K clients, each sending whole runs' requests (``(run_id, requests)``) one run after another over one
    keep-alive connection; a failed request ends that run, as argus-alm raising would end the job's reporting."""
    result = LoadResult()
    queue = iter(plans)

    async def client_loop() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=url, headers=_headers(token), timeout=HTTP_TIMEOUT_S,
                                     limits=limits) as client:
            for run_id, requests in queue:
                started = time.perf_counter()
                for request in requests:
                    if not await _send(client, request, result, run_id):
                        break
                else:
                    result.run_walls.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    result.wall = time.perf_counter() - started
    return result


async def probe(url: str, token: str, plans: list[RunPlan]) -> list[dict[str, Scrape]]:
    """Storage operations of each call, one call at a time (two runs of one new job)."""
    tables = []
    async with httpx.AsyncClient(base_url=url, headers=_headers(token), timeout=HTTP_TIMEOUT_S) as client:
        for plan in plans:
            per_call: dict[str, Scrape] = {}
            for request in plan.requests:
                before = await scrape(client)
                scratch = LoadResult()
                if not await _send(client, request, scratch, plan.run_id):
                    raise BenchFailure(f"probe request failed: {scratch.failures}")
                per_call[request.call] = (await scrape(client)).minus(before)
            tables.append(per_call)
    return tables


async def verify(url: str, token: str, plans: list[RunPlan], sample: int) -> list[str]:
    """Problems found in a sample of runs (first, last and random ones); empty when all is well."""
    chosen = {0, len(plans) - 1, *random.Random(7).sample(range(len(plans)), min(sample, len(plans)))}
    problems = []
    async with httpx.AsyncClient(base_url=url, headers=_headers(token), timeout=HTTP_TIMEOUT_S) as client:
        for index in sorted(chosen):
            plan = plans[index]
            answer = (await client.get(f"/api/v1/client/testrun/generic/{plan.run_id}/get")).json()
            run = answer.get("response") if answer.get("status") == "ok" else None
            if not isinstance(run, dict):
                problems.append(f"run {plan.run_id}: GET answered {answer}")
                continue
            expected = {"status": "passed", "build_id": plan.build_id, "scylla_version": SHORT_VERSION,
                        "product_version": PRODUCT_VERSION, "started_by": "bench"}
            wrong = {k: run.get(k) for k, v in expected.items() if run.get(k) != v}
            if run.get("end_time") in (None, NOT_ENDED):
                wrong["end_time"] = run.get("end_time")
            if not run.get("heartbeat") or not run.get("test_id"):
                wrong.update(heartbeat=run.get("heartbeat"), test_id=run.get("test_id"))
            if wrong:
                problems.append(f"run {plan.run_id}: unexpected {wrong}")
                continue
            fetched = (await client.get(f"/api/v1/run/{run['test_id']}/{plan.run_id}/fetch_results")).json()
            tables = fetched.get("tables") or []
            if len(tables) != 1:
                problems.append(f"run {plan.run_id}: {len(tables)} results tables")
                continue
            (table,) = tables[0].values()
            cells = [c for row in table["table_data"].values() for c in row.values()]
            statuses = {c.get("status") for c in cells}
            if len(cells) != 12 or statuses != {"PASS"} or table.get("table_status") != "PASS":
                problems.append(f"run {plan.run_id}: {len(cells)} cells, statuses {statuses}, "
                                f"table_status {table.get('table_status')}")
    if not problems:
        print(f"  verify: {len(chosen)} runs sampled: status passed, end_time set, versions set, "
              "12 cells PASS in one table")
    return problems


# --- baselines ---------------------------------------------------------------------------------------

RAW_COLUMNS = (  # the run row's shape: key (build_id, start_time, id) and 12 more columns
    ("build_id", "text"), ("start_time", "timestamp"), ("id", "uuid"), ("plugin_name", "text"),
    ("release_id", "uuid"), ("group_id", "uuid"), ("test_id", "uuid"), ("status", "text"),
    ("heartbeat", "bigint"), ("end_time", "timestamp"), ("build_job_url", "text"), ("build_number", "int"),
    ("product_version", "text"), ("scylla_version", "text"), ("details", "text"),
)


def raw_rows(count: int, jobs: int) -> Iterable[tuple[Any, ...]]:
    now = datetime.now(UTC)
    release, groups, tests = uuid.uuid4(), [uuid.uuid4() for _ in range(4)], [uuid.uuid4() for _ in range(jobs)]
    for i in range(count):
        job = i % jobs
        build_id = f"bench/group-{job % 4}/job-{job:02d}"
        yield (build_id, now + timedelta(microseconds=i * 1000), uuid.uuid4(), "generic", release, groups[job % 4],
               tests[job], "running", int(now.timestamp()), datetime(1970, 1, 1, tzinfo=UTC),
               f"https://jenkins.example/job/{build_id}/{i + 1}/", i + 1, PRODUCT_VERSION, SHORT_VERSION,
               '{"sub_type": "bench"}')


@dataclass
class RawResult:
    rows: int
    seconds: float
    latencies: list[float]
    bench_cpu: float = 0.0  # CPU seconds of this process (the driver's threads included) while measuring
    db_cpu: float | None = None  # CPU seconds of the local Cassandra node while measuring, when known

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def sqlite_baseline(path: Path, count: int, jobs: int) -> RawResult:
    """Autocommit single-row INSERTs into a WAL table, from one thread, with the service's pragmas."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        types = {"text": "TEXT", "timestamp": "INTEGER", "uuid": "TEXT", "bigint": "INTEGER", "int": "INTEGER"}
        columns = ", ".join(f'"{n}" {types[t]}' for n, t in RAW_COLUMNS)
        connection.execute(f"CREATE TABLE raw_runs ({columns}, PRIMARY KEY (build_id, start_time DESC, id)) "
                           "WITHOUT ROWID")
        sql = f"INSERT INTO raw_runs VALUES ({', '.join('?' for _ in RAW_COLUMNS)})"

        def to_sql(row: tuple[Any, ...]) -> list[Any]:  # the conversions the service's engine does
            return [str(v) if isinstance(v, uuid.UUID) else int(v.timestamp() * 1000) if isinstance(v, datetime)
                    else v for v in row]

        rows = [to_sql(r) for r in raw_rows(count, jobs)]
        latencies = []
        started, cpu = time.perf_counter(), time.process_time()
        for row in rows:
            t0 = time.perf_counter()
            connection.execute(sql, row)
            latencies.append(time.perf_counter() - t0)
        return RawResult(count, time.perf_counter() - started, latencies, bench_cpu=time.process_time() - cpu)
    finally:
        connection.close()


class RawCql:
    """scylla-driver used directly, configured as the service configures it."""

    def __init__(self, hosts: list[str], port: int, local_dc: str) -> None:
        from cassandra import ConsistencyLevel
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy

        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=local_dc)),
            request_timeout=10.0, consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL)
        self.cluster = Cluster(hosts, port=port, protocol_version=4, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                               connect_timeout=10.0, control_connection_timeout=10.0)
        self.session = self.cluster.connect()
        self.release = self.session.execute("SELECT release_version FROM system.local").one().release_version

    @property
    def product(self) -> str:
        # ScyllaDB reports the Cassandra version it emulates (3.x); Cassandra 5 reports 5.x.
        return f"ScyllaDB (reports {self.release})" if self.release.startswith("3.") else f"Cassandra {self.release}"

    def close(self) -> None:
        self.cluster.shutdown()

    async def execute(self, statement: Any) -> Any:
        """``execute_async`` bridged to asyncio the way the service bridges it."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def done(value: Any) -> None:
            if not future.done():
                future.set_result(value)

        def failed(exc: BaseException) -> None:
            if not future.done():
                future.set_exception(exc)

        response = self.session.execute_async(statement)
        response.add_callbacks(lambda rows: loop.call_soon_threadsafe(done, rows),
                               lambda exc: loop.call_soon_threadsafe(failed, exc))
        return await future

    async def baseline(self, keyspace: str, count: int, jobs: int, clients: int, *, lwt: bool,
                       db_pid: int | None) -> RawResult:
        table = f"{keyspace}.raw_runs_lwt" if lwt else f"{keyspace}.raw_runs"
        columns = ", ".join(f"{n} {t}" for n, t in RAW_COLUMNS)
        await asyncio.to_thread(self.session.execute,
                                f"CREATE TABLE IF NOT EXISTS {table} ({columns}, "
                                "PRIMARY KEY ((build_id), start_time, id))"
                                " WITH CLUSTERING ORDER BY (start_time DESC, id ASC)", timeout=120)
        cql = (f"INSERT INTO {table} ({', '.join(n for n, _ in RAW_COLUMNS)}) "
               f"VALUES ({', '.join('?' for _ in RAW_COLUMNS)})" + (" IF NOT EXISTS" if lwt else ""))
        prepared = await asyncio.to_thread(self.session.prepare, cql)
        warm = min(500, count // 5)
        await self.drive(prepared, list(raw_rows(warm, jobs)), clients)
        rows = list(raw_rows(count, jobs))
        db_cpu = _proc_cpu(db_pid) if db_pid else 0.0
        started, cpu = time.perf_counter(), time.process_time()
        latencies = await self.drive(prepared, rows, clients)
        return RawResult(count, time.perf_counter() - started, latencies, bench_cpu=time.process_time() - cpu,
                         db_cpu=_proc_cpu(db_pid) - db_cpu if db_pid else None)

    async def baseline_unbridged(self, keyspace: str, count: int, jobs: int, clients: int,
                                 db_pid: int | None) -> RawResult:
        """The same INSERT through ``execute_concurrent_with_args``: no asyncio bridge, no per-row timing."""
        from cassandra.concurrent import execute_concurrent_with_args

        prepared = await asyncio.to_thread(self.session.prepare, (
            f"INSERT INTO {keyspace}.raw_runs ({', '.join(n for n, _ in RAW_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in RAW_COLUMNS)})"))
        rows = list(raw_rows(count, jobs))
        db_cpu = _proc_cpu(db_pid) if db_pid else 0.0
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.to_thread(execute_concurrent_with_args, self.session, prepared, rows, concurrency=clients,
                                raise_on_first_error=True)
        return RawResult(count, time.perf_counter() - started, [], bench_cpu=time.process_time() - cpu,
                         db_cpu=_proc_cpu(db_pid) - db_cpu if db_pid else None)

    async def drive(self, prepared: Any, rows: list[tuple[Any, ...]], clients: int) -> list[float]:
        latencies: list[float] = []
        pending = iter(rows)

        async def worker() -> None:
            for row in pending:
                t0 = time.perf_counter()
                result = await self.execute(prepared.bind(row))
                latencies.append(time.perf_counter() - t0)
                # The callback receives the rows; a conditional write's first column is [applied].
                if prepared.query_string.endswith("IF NOT EXISTS") and not (result and result[0][0]):
                    raise BenchFailure("raw LWT insert was not applied")

        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies

    def drop_keyspace(self, keyspace: str) -> None:
        self.session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=120)


# --- one engine ----------------------------------------------------------------------------------------


@dataclass
class EngineReport:
    engine: str
    runs: int
    clients: int
    load: LoadResult
    ops: Scrape
    server_cpu: float
    bench_cpu: float
    db_cpu: float | None
    machine_cpu: float
    raw: RawResult
    raw_lwt: RawResult | None
    raw_unbridged: RawResult | None
    problems: list[str]

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.load.latencies.values())

    @property
    def runs_per_s(self) -> float:
        return len(self.load.run_walls) / self.load.wall

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.load.wall

    @property
    def ok(self) -> bool:
        return not self.load.failure_count and not self.problems and len(self.load.run_walls) == self.runs


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)] if ordered else float("nan")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f}"


def _ops_line(scrape: Scrape) -> str:
    return " ".join(f"{int(scrape.ops.get(op, 0)):>7}" for op in OPERATIONS) + f" {int(scrape.total_ops):>7}"


async def connect_cql(args: argparse.Namespace, keyspace: str, settings: dict[str, str]) -> tuple[RawCql, str]:
    """The raw driver session for the baselines; adds the server's scylla settings to ``settings``."""
    hosts = [h.strip() for h in os.environ.get("SCYLLA_HOSTS", "").split(",") if h.strip()] or ["127.0.0.1"]
    port = int(os.environ.get("SCYLLA_PORT") or os.environ.get("CASSANDRA_PORT") or 9042)
    try:
        raw_cql = await asyncio.to_thread(RawCql, hosts, port, args.local_dc)
    except Exception as exc:
        raise BenchFailure(f"no CQL node answers at {hosts} port {port} ({exc}); "
                           "start one with tools/test-services.sh up or set SCYLLA_HOSTS") from exc
    settings.update(ARGUS_STORAGE_SCYLLA_HOSTS=",".join(hosts), ARGUS_STORAGE_SCYLLA_PORT=str(port),
                    ARGUS_STORAGE_SCYLLA_KEYSPACE=keyspace, ARGUS_STORAGE_SCYLLA_LOCAL_DC=args.local_dc)
    return raw_cql, f"{raw_cql.product} at {','.join(hosts)}:{port}, keyspace {keyspace}"


@dataclass
class Workspace:
    """One engine run's scratch space: data directory, keyspace, raw driver session and server."""

    engine: str
    tag: str
    data_dir: Path
    keyspace: str
    settings: dict[str, str]
    where: str
    raw_cql: RawCql | None = None
    server: Server | None = None

    def start_server(self) -> tuple[Server, str]:
        """Start ``argus serve`` on this workspace and provision a token; both are reported."""
        self.server = Server(server_env(self.data_dir, **self.settings), self.data_dir)
        t0 = time.perf_counter()
        self.server.start()
        token = self.server.create_token()
        print(f"  argus serve up on {self.server.url} "
              f"(start + migrations + create-user: {time.perf_counter() - t0:.1f} s)")
        return self.server, token


@contextlib.asynccontextmanager
async def workspace(engine: str, args: argparse.Namespace, prefix: str) -> AsyncIterator[Workspace]:
    """A workspace for one engine, torn down whatever happens (server stopped, keyspace dropped)."""
    tag = uuid.uuid4().hex[:10]
    data_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}{engine}-"))
    space = Workspace(engine, tag, data_dir, f"bench_{tag}", {"ARGUS_STORAGE_ENGINE": engine},
                      f"SQLite WAL in {data_dir}")
    try:
        if engine == "scylla":
            space.raw_cql, space.where = await connect_cql(args, space.keyspace, space.settings)
        yield space
    finally:
        if space.server is not None:
            space.server.stop()
        if space.raw_cql is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(space.raw_cql.drop_keyspace, space.keyspace)
            await asyncio.to_thread(space.raw_cql.close)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            print(f"  kept {data_dir}" + (f" (keyspace {space.keyspace} dropped)" if engine == "scylla" else ""))


async def run_engine(engine: str, args: argparse.Namespace) -> EngineReport:
    async with workspace(engine, args, "argus-bench-") as space:
        tag, data_dir, keyspace, raw_cql = space.tag, space.data_dir, space.keyspace, space.raw_cql
        print(f"\n== {engine}: {space.where}; runs={args.runs} clients={args.clients} jobs={args.jobs}", flush=True)

        plans = build_plans(args.runs, args.jobs, tag, data_dir / "replay")
        probe_plans = build_plans(2, 1, f"{tag}-probe", data_dir / "replay", first=args.runs,
                                  build_ids=[f"bench-{tag}-probe/probe/job"])
        server, token = space.start_server()

        per_call = await probe(server.url, token, probe_plans)
        print("  storage operations per call (sequential probe; first run of a new job / next run of that job):")
        print(f"    {'call':<36}" + " ".join(f"{op:>7}" for op in OPERATIONS) + f" {'total':>7}")
        for label, table in zip(("new job", "same job"), per_call, strict=True):
            for call in CALLS:
                print(f"    {f'{call} ({label})':<36}{_ops_line(table[call])}")

        db_pid = _cassandra_pid() if engine == "scylla" else None
        async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT_S) as metrics_client:
            before = await scrape(metrics_client)
            cpu = (server.cpu_seconds(), time.process_time(), _proc_cpu(db_pid) if db_pid else 0.0,
                   _machine_busy_seconds())
            load = await drive(server.url, token, [(p.run_id, p.requests) for p in plans], args.clients)
            cpu_after = (server.cpu_seconds(), time.process_time(), _proc_cpu(db_pid) if db_pid else 0.0,
                         _machine_busy_seconds())
            ops = (await scrape(metrics_client)).minus(before)
        problems = [] if load.failure_count else await verify(server.url, token, plans, args.verify)
        server.stop()

        if raw_cql is not None:
            raw = await raw_cql.baseline(keyspace, args.raw_rows, args.jobs, args.clients, lwt=False, db_pid=db_pid)
            raw_lwt = await raw_cql.baseline(keyspace, args.raw_lwt_rows, args.jobs, args.clients, lwt=True,
                                             db_pid=db_pid)
            raw_unbridged = await raw_cql.baseline_unbridged(keyspace, args.raw_rows, args.jobs, args.clients,
                                                             db_pid=db_pid)
        else:
            raw = await asyncio.to_thread(sqlite_baseline, data_dir / "raw.db", args.raw_sqlite_rows, args.jobs)
            raw_lwt = raw_unbridged = None
        used = [after - before for after, before in zip(cpu_after, cpu, strict=True)]
        return EngineReport(engine, args.runs, args.clients, load, ops, used[0], used[1], used[2] if db_pid else None,
                            used[3], raw, raw_lwt, raw_unbridged, problems)


def _raw_line(raw: RawResult) -> str:
    line = f"{raw.rows} rows in {raw.seconds:.2f} s = {raw.rate:.0f} rows/s"
    if raw.latencies:
        line += (f", p50 {percentile(raw.latencies, 50) * 1000:.2f} ms, "
                 f"p99 {percentile(raw.latencies, 99) * 1000:.2f} ms")
    line += f"; CPU per row: bench process {raw.bench_cpu / raw.rows * 1000:.3f} ms"
    if raw.db_cpu is not None:
        line += f", Cassandra {raw.db_cpu / raw.rows * 1000:.3f} ms ({raw.db_cpu / raw.seconds * 100:.0f}% of one core)"
    return line


def print_report(report: EngineReport) -> None:
    load, ops = report.load, report.ops
    requests = report.requests
    print(f"  load: {len(load.run_walls)}/{report.runs} runs, {requests} requests in {load.wall:.2f} s; "
          f"run wall p50 {percentile(load.run_walls, 50) * 1000:.0f} ms, p95 "
          f"{percentile(load.run_walls, 95) * 1000:.0f} ms")
    print(f"    {'latency ms':<36}{'n':>6}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'mean':>8}")
    everything = [v for values in load.latencies.values() for v in values]
    for call, values in [*((c, load.latencies.get(c, [])) for c in CALLS), ("all", everything)]:
        if values:
            print(f"    {call:<36}{len(values):>6}{_ms(percentile(values, 50)):>8}{_ms(percentile(values, 95)):>8}"
                  f"{_ms(percentile(values, 99)):>8}{_ms(max(values)):>8}{_ms(sum(values) / len(values)):>8}")
    server_seconds = sum(ops.request_seconds.values())
    server_requests = sum(ops.requests.values()) or 1
    breakdown = ", ".join(f"{op} {int(ops.ops[op])}" for op in OPERATIONS if ops.ops.get(op))
    runs = len(load.run_walls) or 1
    print(f"  storage operations during load: {int(ops.total_ops)} = {ops.total_ops / runs:.1f}/run, "
          f"{ops.total_ops / max(requests, 1):.1f}/request ({breakdown}); errors {int(ops.op_errors)}")
    lwt_ops = ops.ops.get("insert_lwt", 0) + ops.ops.get("update_lwt", 0)
    storage_seconds = sum(v for k, v in ops.op_seconds.items() if k != "ping")
    print(f"    LWT {lwt_ops / runs:.1f}/run; storage time (sum over operations) "
          f"{storage_seconds / max(requests, 1) * 1000:.2f} ms/request (overlapping operations each counted); "
          f"mean per operation: " + ", ".join(
              f"{op} {ops.op_seconds[op] / ops.ops[op] * 1000:.2f} ms" for op in OPERATIONS if ops.ops.get(op)))
    print(f"    server-side mean request time {server_seconds / server_requests * 1000:.1f} ms vs client-observed "
          f"{sum(everything) / max(len(everything), 1) * 1000:.1f} ms; storage statements/s during load "
          f"{ops.total_ops / load.wall:.0f}")
    cpu = (f"  CPU during load ({os.cpu_count()} CPUs): argus serve {report.server_cpu:.1f} s "
           f"({report.server_cpu / load.wall * 100:.0f}% of one core, {report.server_cpu / max(requests, 1) * 1000:.2f}"
           f" ms/request); bench client {report.bench_cpu:.1f} s ({report.bench_cpu / load.wall * 100:.0f}%)")
    if report.db_cpu is not None:
        cpu += (f"; Cassandra {report.db_cpu:.1f} s ({report.db_cpu / load.wall * 100:.0f}%, "
                f"{report.db_cpu / max(ops.total_ops, 1) * 1000:.2f} ms/statement)")
    other = report.machine_cpu - report.server_cpu - report.bench_cpu - (report.db_cpu or 0.0)
    print(cpu + f"; whole machine {report.machine_cpu / load.wall * 100:.0f}%, of which other processes "
          f"{max(other, 0.0) / load.wall * 100:.0f}%")
    raw = report.raw
    how = (f"scylla-driver, prepared INSERT, {report.clients} in flight" if report.engine == "scylla"
           else "sqlite3 autocommit INSERT, WAL, one thread")
    print(f"  raw baseline ({how}): {_raw_line(raw)}")
    if report.raw_lwt is not None:
        print(f"  raw baseline, INSERT ... IF NOT EXISTS: {_raw_line(report.raw_lwt)}")
    if report.raw_unbridged is not None:
        print(f"  raw baseline, execute_concurrent_with_args (no asyncio bridge): {_raw_line(report.raw_unbridged)}")
    print(f"{report.engine}: {report.runs_per_s:.1f} runs/s ({report.requests_per_s:.1f} requests/s); "
          f"raw {'driver' if report.engine == 'scylla' else 'sqlite3'}: {raw.rate:.0f} rows/s; "
          f"ratio requests/raw = {report.requests_per_s / raw.rate:.4f}; "
          f"each run = {ops.total_ops / runs:.1f} statements "
          f"({ops.total_ops / max(requests, 1):.1f} per request); statements/s during load / raw rows/s = "
          f"{ops.total_ops / load.wall / raw.rate:.3f}")


def print_summary(reports: list[EngineReport]) -> None:
    print("\nsummary")
    header = (f"{'engine':<7}{'runs':>6}{'K':>4}{'runs/s':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
              f"{'stmt/run':>9}{'stmt/req':>9}{'lwt/run':>8}{'raw rows/s':>11}{'req/raw':>9}{'stmt/s÷raw':>11}"
              f"{'ok':>4}")
    print(header)
    for r in reports:
        everything = [v for values in r.load.latencies.values() for v in values]
        runs = len(r.load.run_walls) or 1
        lwt = r.ops.ops.get("insert_lwt", 0) + r.ops.ops.get("update_lwt", 0)
        print(f"{r.engine:<7}{r.runs:>6}{r.clients:>4}{r.runs_per_s:>8.1f}{r.requests_per_s:>8.1f}"
              f"{percentile(everything, 50) * 1000:>8.1f}{percentile(everything, 95) * 1000:>8.1f}"
              f"{percentile(everything, 99) * 1000:>8.1f}{r.ops.total_ops / runs:>9.1f}"
              f"{r.ops.total_ops / max(r.requests, 1):>9.1f}{lwt / runs:>8.1f}{r.raw.rate:>11.0f}"
              f"{r.requests_per_s / r.raw.rate:>9.4f}{r.ops.total_ops / r.load.wall / r.raw.rate:>11.3f}"
              f"{'yes' if r.ok else 'NO':>4}")


# --- event-stream mode ---------------------------------------------------------------------------------

EVENT_CALLS = ("submit", "event_batch")
# Roughly what an SCT longevity run reports: mostly NORMAL/DEBUG/WARNING, a few ERROR, rare CRITICAL.
SEVERITY_WEIGHTS = {"NORMAL": 45, "DEBUG": 25, "WARNING": 20, "ERROR": 8, "CRITICAL": 2}
EVENT_TYPES = {
    "NORMAL": ("InfoEvent", "DisruptionEvent", "ClusterHealthValidatorEvent", "CassandraStressLogEvent"),
    "DEBUG": ("DatabaseLogEvent", "PrometheusAlertManagerEvent", "ThreadsInfoEvent"),
    "WARNING": ("DatabaseLogEvent", "ReactorStalledMixin", "CassandraStressLogEvent", "ScyllaHelpErrorEvent"),
    "ERROR": ("DatabaseLogEvent", "DisruptionEvent", "CassandraStressEvent"),
    "CRITICAL": ("TestFrameworkEvent", "CoreDumpAbsentEvent", "TestStepEvent"),
}
EVENT_LINES = (
    "reader_concurrency_semaphore - (rate limiting dropped 12 similar messages) Semaphore _read_concurrency_sem "
    "with 100/100 count and 14563210/149883289 memory resources: timed out, dumping permit diagnostics",
    "compaction - [Compact keyspace1.standard1 3f6a0c10-2df1-11ef-8a1c-1c8b0e2d7e30] Compacted 4 sstables to "
    "[/var/lib/scylla/data/keyspace1/standard1-ab12/me-3gfk_0xyz_2kd1c2ab-big-Data.db:level=0]. 1GB to 980MB",
    "storage_proxy - Exception when communicating with 10.0.1.23, to read from keyspace1.standard1: "
    "seastar::rpc::closed_error (connection is closed)",
    "Stalled for 28 ms on shard 3. Backtrace: 0x5a1b3c2 0x5a1b9e1 0x5a1c2f0 0x31e7a41 0x31e8b02 0x2f4c6d7 "
    "0x2f4d0aa 0x5a3e112 0x5a3f9c0 0x5a7b7d2 kernel callstack: 0xffffffffffffff80",
    "disrupt_rolling_restart_cluster: node longevity-10gb-3h-db-node-3 restarted, waiting for CQL to be up; "
    "nodetool status shows UN for 5/6 nodes, retrying in 30 s",
)


class _RecordingSCTClient(ArgusSCTClient):
    """argus-alm's SCT client, capturing each request instead of sending it."""

    def __init__(self, log_dir: Path) -> None:
        super().__init__(run_id=uuid.uuid4(), auth_token="unused", base_url="", log_dir=log_dir, replay_log_only=True)
        self.captured: list[tuple[str, dict[str, Any]]] = []

    def post(self, endpoint: str, location_params: dict | None = None, params: dict | None = None,
             body: dict | None = None) -> ReplayLogOnlyResponse:
        self.captured.append((self.get_url_for_endpoint(endpoint, location_params or {}), body or {}))
        return ReplayLogOnlyResponse(endpoint=endpoint)


@dataclass(frozen=True)
class EventRunPlan:
    run_id: str
    submit: Request
    batches: tuple[Request, ...]
    expected: dict[str, int]  # events per severity


def sct_config(tag: str) -> dict[str, Any]:
    """A longevity run's config, with the keys the service derives run fields from."""
    return {
        "cluster_backend": "aws", "region_name": "eu-west-1 us-east-1", "n_db_nodes": "3 3", "n_loaders": 2,
        "n_monitor_nodes": 1, "ami_id_db_scylla": "ami-0a1b2c3d4e5f60718", "instance_type_db": "i4i.2xlarge",
        "ami_id_loader": "ami-0b2c3d4e5f6071829", "instance_type_loader": "c6i.2xlarge",
        "ami_id_monitor": "ami-0c3d4e5f607182930", "instance_type_monitor": "t3.large",
        "post_behavior_db_nodes": "destroy", "post_behavior_loader_nodes": "destroy",
        "post_behavior_monitor_nodes": "keep-on-failure", "stress_duration": 180,
        "config_files": ["test-cases/longevity/longevity-10gb-3h.yaml", "configurations/network_config/ipv6.yaml"],
        "test_method": "longevity_test.LongevityTest.test_custom_time", "user_prefix": f"bench-{tag}",
        "nemesis_class_name": "SisyphusMonkey", "nemesis_interval": 5, "nemesis_seed": 42,
        "stress_cmd": ["cassandra-stress write cl=QUORUM duration=180m -schema 'replication(factor=3)' "
                       "-mode cql3 native -rate threads=1000 -pop seq=1..10000000"],
    }


def make_events(rng: random.Random, run_id: str, count: int, ts: float) -> tuple[list[dict[str, Any]], float]:
    """``count`` SCT-shaped events with strictly increasing ``ts`` (>= 2 ms apart); the next ``ts``."""
    severities = rng.choices(list(SEVERITY_WEIGHTS), weights=list(SEVERITY_WEIGHTS.values()), k=count)
    events = []
    for severity in severities:
        ts = round(ts + rng.uniform(0.002, 0.4), 3)
        event_type = rng.choice(EVENT_TYPES[severity])
        node = f"longevity-10gb-3h-db-node-{rng.randint(1, 6)}"
        stamp = datetime.fromtimestamp(ts, UTC)
        message = (f"({event_type} Severity.{severity}) period_type=one-time event_id={uuid.uuid4()} "
                   f"during_nemesis=disrupt_rolling_restart_cluster node={node} line_number={rng.randint(1, 10**6)} "
                   f"line={stamp:%Y-%m-%dT%H:%M:%S}+00:00 {node} !{severity} | scylla[6543]: "
                   f"[shard {rng.randint(0, 7)}:strm] {rng.choice(EVENT_LINES)}")
        events.append({"run_id": run_id, "severity": severity, "ts": ts, "message": message, "event_type": event_type,
                       "received_timestamp": (stamp + timedelta(milliseconds=rng.randint(5, 900))).isoformat(
                           timespec="milliseconds").removesuffix("+00:00"),
                       "nemesis_name": "disrupt_rolling_restart_cluster" if rng.random() < 0.3 else None,
                       "duration": None, "node": node, "target_node": None, "known_issue": None,
                       "nemesis_status": None})
    return events, ts


def build_event_plans(count: int, batches: int, batch_size: int, tag: str, log_dir: Path) -> list[EventRunPlan]:
    """One SCT run each: its submit and its event batches, as argus-alm's ``ArgusSCTClient`` builds them."""
    recorder = _RecordingSCTClient(log_dir)
    rng = random.Random(11)
    plans = []
    try:
        for i in range(count):
            run_id = str(uuid.uuid4())
            recorder.run_id = run_id
            recorder.captured.clear()
            job = f"bench-{tag}/longevity/longevity-10gb-3h-{i % 4}"
            recorder.submit_sct_run(job_name=job, job_url=f"https://jenkins.example/job/{job}/{i + 1}/",
                                    started_by="bench", commit_id="f00dcafe",
                                    origin_url="https://github.com/scylladb/scylla-cluster-tests.git",
                                    branch_name="master", sct_config=sct_config(tag))
            expected: dict[str, int] = defaultdict(int)
            ts = SUT_TIMESTAMP_BASE + i * 86400.0
            for _ in range(batches):
                events, ts = make_events(rng, run_id, batch_size, ts)
                for event in events:
                    expected[event["severity"]] += 1
                recorder.submit_event(events)
            (submit, *sent) = [Request(call, path, json.dumps(body).encode()) for call, (path, body) in
                               zip(("submit", *["event_batch"] * batches), recorder.captured, strict=True)]
            plans.append(EventRunPlan(run_id, submit, tuple(sent), dict(expected)))
    finally:
        recorder.close()
    return plans


async def submit_runs(url: str, token: str, plans: list[EventRunPlan], clients: int) -> LoadResult:
    result = LoadResult()
    semaphore = asyncio.Semaphore(clients)
    async with httpx.AsyncClient(base_url=url, headers=_headers(token), timeout=HTTP_TIMEOUT_S) as client:

        async def one(plan: EventRunPlan) -> None:
            async with semaphore:
                await _send(client, plan.submit, result, plan.run_id)

        await asyncio.gather(*(one(plan) for plan in plans))
    return result


async def verify_counts(url: str, token: str, plans: list[EventRunPlan], per_run: int) -> list[str]:
    """Every run's ``events/counts`` must equal what was sent, per severity and in total."""
    problems = []
    async with httpx.AsyncClient(base_url=url, headers=_headers(token), timeout=HTTP_TIMEOUT_S) as client:
        for plan in plans:
            answer = (await client.get(f"/api/v1/client/sct/{plan.run_id}/events/counts")).json()
            counts = answer.get("response") if answer.get("status") == "ok" else None
            if not isinstance(counts, dict):
                problems.append(f"run {plan.run_id}: events/counts answered {answer}")
                continue
            expected = {s: plan.expected.get(s, 0) for s in SEVERITY_WEIGHTS}
            got = {s: counts.get(s) for s in SEVERITY_WEIGHTS}
            if got != expected or sum(counts.values()) != per_run:
                problems.append(f"run {plan.run_id}: counts {counts}, expected {expected} (total {per_run})")
    if not problems:
        print(f"  verify: events/counts of all {len(plans)} runs = {per_run} events each, per severity as sent")
    return problems


EVENT_COLUMNS = (  # the sct_events row: key (run_id, severity), ts DESC
    ("run_id", "uuid"), ("severity", "text"), ("ts", "timestamp"), ("event_id", "uuid"), ("event_type", "text"),
    ("message", "text"), ("node", "text"), ("received_timestamp", "timestamp"), ("nemesis_name", "text"),
    ("duration", "double"), ("target_node", "text"), ("nemesis_status", "text"), ("known_issue", "text"),
)


def raw_event_rows(count: int, runs: int) -> list[tuple[Any, ...]]:
    """Event-shaped rows (same generator, same sizes), spread over ``runs`` runs."""
    rng = random.Random(5)
    run_ids = [uuid.uuid4() for _ in range(runs)]
    per_run = math.ceil(count / runs)
    rows = []
    for index, run_id in enumerate(run_ids):
        events, _ = make_events(rng, str(run_id), per_run, time.time() + index)
        for e in events:
            received = datetime.fromisoformat(e["received_timestamp"]).replace(tzinfo=UTC)
            rows.append((run_id, e["severity"], datetime.fromtimestamp(e["ts"], UTC), uuid.uuid4(), e["event_type"],
                         e["message"], e["node"], received, e["nemesis_name"], e["duration"], e["target_node"],
                         e["nemesis_status"], e["known_issue"]))
    rng.shuffle(rows)  # interleave the runs, as K concurrent streams do
    return rows[:count]


def sqlite_event_baseline(path: Path, count: int, runs: int, *, lwt: bool) -> RawResult:
    """Autocommit single-row INSERTs of event rows (``ON CONFLICT DO NOTHING`` with ``lwt``), one thread."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        types = {"text": "TEXT", "timestamp": "INTEGER", "uuid": "TEXT", "double": "REAL"}
        table = "raw_events_lwt" if lwt else "raw_events"
        columns = ", ".join(f'"{n}" {types[t]}' for n, t in EVENT_COLUMNS)
        connection.execute(f"CREATE TABLE {table} ({columns}, PRIMARY KEY (run_id, severity, ts DESC)) WITHOUT ROWID")
        sql = (f"INSERT INTO {table} VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
               + (" ON CONFLICT DO NOTHING" if lwt else ""))
        rows = [[str(v) if isinstance(v, uuid.UUID) else int(v.timestamp() * 1000) if isinstance(v, datetime) else v
                 for v in row] for row in raw_event_rows(count, runs)]
        latencies = []
        started, cpu = time.perf_counter(), time.process_time()
        for row in rows:
            t0 = time.perf_counter()
            connection.execute(sql, row)
            latencies.append(time.perf_counter() - t0)
        return RawResult(count, time.perf_counter() - started, latencies, bench_cpu=time.process_time() - cpu)
    finally:
        connection.close()


async def cql_event_baseline(raw_cql: RawCql, keyspace: str, count: int, runs: int, in_flight: int, *, lwt: bool,
                             db_pid: int | None) -> RawResult:
    """Prepared single-row INSERTs (``IF NOT EXISTS`` with ``lwt``) of event rows, ``in_flight`` at a time."""
    table = f"{keyspace}.raw_events_lwt_{in_flight}" if lwt else f"{keyspace}.raw_events_{in_flight}"
    columns = ", ".join(f"{n} {t}" for n, t in EVENT_COLUMNS)
    await asyncio.to_thread(raw_cql.session.execute,
                            f"CREATE TABLE IF NOT EXISTS {table} ({columns}, PRIMARY KEY ((run_id, severity), ts))"
                            " WITH CLUSTERING ORDER BY (ts DESC)", timeout=120)
    prepared = await asyncio.to_thread(raw_cql.session.prepare, (
        f"INSERT INTO {table} ({', '.join(n for n, _ in EVENT_COLUMNS)}) "
        f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})" + (" IF NOT EXISTS" if lwt else "")))
    rows = raw_event_rows(count + min(500, count // 5), runs)
    await raw_cql.drive(prepared, rows[count:], in_flight)  # warm-up on other keys
    db_cpu = _proc_cpu(db_pid) if db_pid else 0.0
    started, cpu = time.perf_counter(), time.process_time()
    latencies = await raw_cql.drive(prepared, rows[:count], in_flight)
    return RawResult(count, time.perf_counter() - started, latencies, bench_cpu=time.process_time() - cpu,
                     db_cpu=_proc_cpu(db_pid) - db_cpu if db_pid else None)


@dataclass
class EventReport:
    engine: str
    runs: int
    batches: int
    batch_size: int
    submits: LoadResult
    load: LoadResult
    ops: Scrape
    server_cpu: float
    db_cpu: float | None
    raw: list[tuple[str, RawResult]]  # label, result; the first is the reference of the ratio
    problems: list[str]

    @property
    def sent_batches(self) -> int:
        return len(self.load.latencies["event_batch"])

    @property
    def events(self) -> int:
        return self.sent_batches * self.batch_size

    @property
    def events_per_s(self) -> float:
        return self.events / self.load.wall

    @property
    def ok(self) -> bool:
        return (not self.load.failure_count and not self.submits.failure_count and not self.problems
                and len(self.load.run_walls) == self.runs)


async def run_events_engine(engine: str, args: argparse.Namespace) -> EventReport:
    runs, per_run = args.clients, args.batches * args.batch_size
    async with workspace(engine, args, "argus-bench-events-") as space:
        tag, data_dir, keyspace, raw_cql = space.tag, space.data_dir, space.keyspace, space.raw_cql
        print(f"\n== events, {engine}: {space.where}; {runs} concurrent SCT runs x {args.batches} batches x "
              f"{args.batch_size} events", flush=True)
        plans = build_event_plans(runs, args.batches, args.batch_size, tag, data_dir / "replay")
        sizes = [len(b.body) for p in plans for b in p.batches]
        print(f"  batch body {sum(sizes) / len(sizes) / 1024:.1f} KiB mean "
              f"({sum(sizes) / len(sizes) / args.batch_size:.0f} bytes/event)")
        server, token = space.start_server()
        submits = await submit_runs(server.url, token, plans, args.clients)
        if submits.failure_count:
            raise BenchFailure(f"SCT run submit failed: {submits.failures}")
        db_pid = _cassandra_pid() if engine == "scylla" else None
        async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT_S) as metrics_client:
            before = await scrape(metrics_client)
            cpu = (server.cpu_seconds(), _proc_cpu(db_pid) if db_pid else 0.0)
            load = await drive(server.url, token, [(p.run_id, p.batches) for p in plans], args.clients)
            cpu_after = (server.cpu_seconds(), _proc_cpu(db_pid) if db_pid else 0.0)
            ops = (await scrape(metrics_client)).minus(before)
        problems = [] if load.failure_count else await verify_counts(server.url, token, plans, per_run)
        server.stop()

        raw: list[tuple[str, RawResult]] = []
        if raw_cql is not None:
            service_in_flight = args.clients * min(args.batch_size, SERVICE_MAX_CONCURRENCY)
            for lwt, count in ((False, args.raw_rows), (True, args.raw_lwt_rows)):
                for in_flight in (args.clients, service_in_flight):
                    result = await cql_event_baseline(raw_cql, keyspace, count, runs, in_flight, lwt=lwt,
                                                      db_pid=db_pid)
                    raw.append((f"prepared INSERT{' IF NOT EXISTS' if lwt else ''}, {in_flight} in flight", result))
        else:
            for lwt in (False, True):
                result = await asyncio.to_thread(sqlite_event_baseline, data_dir / "raw.db", args.raw_sqlite_rows,
                                                 runs, lwt=lwt)
                raw.append((f"sqlite3 autocommit INSERT{' ON CONFLICT DO NOTHING' if lwt else ''}, one thread",
                            result))
        return EventReport(engine, runs, args.batches, args.batch_size, submits, load, ops, cpu_after[0] - cpu[0],
                           cpu_after[1] - cpu[1] if db_pid else None, raw, problems)


def print_event_report(report: EventReport) -> None:
    load, ops = report.load, report.ops
    lat = load.latencies["event_batch"]
    print(f"  load: {len(load.run_walls)}/{report.runs} runs, {report.sent_batches} batches, {report.events} events "
          f"in {load.wall:.2f} s = {report.events_per_s:.0f} events/s, {report.sent_batches / load.wall:.1f} batches/s")
    if lat:
        print(f"    batch latency ms: p50 {_ms(percentile(lat, 50)).strip()}, p95 {_ms(percentile(lat, 95)).strip()}, "
              f"p99 {_ms(percentile(lat, 99)).strip()}, max {_ms(max(lat)).strip()}, "
              f"mean {_ms(sum(lat) / len(lat)).strip()} (SCT run submit p50 "
              f"{_ms(percentile(report.submits.latencies['submit'], 50)).strip()} ms, before the load)")
    events = max(report.events, 1)
    batches = max(report.sent_batches, 1)
    breakdown = ", ".join(f"{op} {int(ops.ops[op])}" for op in OPERATIONS if ops.ops.get(op))
    print(f"  storage operations during load: {int(ops.total_ops)} = {ops.total_ops / events:.3f}/event, "
          f"{ops.total_ops / batches:.1f}/batch ({breakdown}); errors {int(ops.op_errors)}")
    print("    per batch: " + ", ".join(f"{op} {ops.ops[op] / batches:.2f}" for op in OPERATIONS if ops.ops.get(op)))
    storage_seconds = sum(v for k, v in ops.op_seconds.items() if k != "ping")
    server_seconds = sum(ops.request_seconds.values())
    print("    storage time by operation (sum, overlapping operations each counted): " + ", ".join(
        f"{op} {ops.op_seconds[op]:.1f} s ({ops.op_seconds[op] / storage_seconds * 100:.0f}%, "
        f"{ops.op_seconds[op] / ops.ops[op] * 1000:.2f} ms each)" for op in OPERATIONS if ops.ops.get(op)))
    print(f"    server-side mean batch time {server_seconds / max(sum(ops.requests.values()), 1) * 1000:.1f} ms; "
          f"storage statements/s during load {ops.total_ops / load.wall:.0f}")
    cpu = (f"  CPU during load: argus serve {report.server_cpu:.1f} s ({report.server_cpu / load.wall * 100:.0f}% of "
           f"one core, {report.server_cpu / events * 1e6:.0f} µs/event)")
    if report.db_cpu is not None:
        cpu += (f"; Cassandra {report.db_cpu:.1f} s ({report.db_cpu / load.wall * 100:.0f}%, "
                f"{report.db_cpu / events * 1e6:.0f} µs/event)")
    print(cpu)
    for label, raw in report.raw:
        print(f"  raw event rows ({label}): {_raw_line(raw)}")
    reference = report.raw[0][1]
    ratios = "; ".join(f"events/raw ({label}) = {report.events_per_s / raw.rate:.3f}" for label, raw in report.raw)
    print(f"{report.engine} events: {report.events_per_s:.0f} events/s "
          f"({report.sent_batches / load.wall:.1f} batches/s); "
          f"raw {'driver' if report.engine == 'scylla' else 'sqlite3'}: {reference.rate:.0f} rows/s; {ratios}; "
          f"each event = {ops.total_ops / events:.3f} statements")


def print_event_summary(reports: list[EventReport]) -> None:
    print("\nsummary (events)")
    print(f"{'engine':<7}{'runs':>5}{'events':>8}{'events/s':>9}{'batch/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
          f"{'p99 ms':>8}{'stmt/ev':>8}{'lwt/ev':>7}{'raw/s':>8}{'ev/raw':>7}{'raw lwt/s':>10}{'ev/lwt':>7}{'ok':>4}")
    for r in reports:
        lat = r.load.latencies["event_batch"]
        events = max(r.events, 1)
        lwt = r.ops.ops.get("insert_lwt", 0) + r.ops.ops.get("update_lwt", 0)
        plain = r.raw[0][1]
        conditional = next(raw for label, raw in r.raw if "IF NOT EXISTS" in label or "ON CONFLICT" in label)
        print(f"{r.engine:<7}{r.runs:>5}{r.events:>8}{r.events_per_s:>9.0f}{r.sent_batches / r.load.wall:>8.1f}"
              f"{percentile(lat, 50) * 1000:>8.1f}{percentile(lat, 95) * 1000:>8.1f}{percentile(lat, 99) * 1000:>8.1f}"
              f"{r.ops.total_ops / events:>8.3f}{lwt / events:>7.3f}{plain.rate:>8.0f}"
              f"{r.events_per_s / plain.rate:>7.3f}"
              f"{conditional.rate:>10.0f}{r.events_per_s / conditional.rate:>7.3f}{'yes' if r.ok else 'NO':>4}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--engine", choices=[*ENGINES, "both"], default="both", help="storage engine(s) to measure")
    parser.add_argument("--runs", type=int, default=200, help="generic runs (5 requests each)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (and raw statements in flight)")
    parser.add_argument("--jobs", type=int, default=20, help="distinct build ids (catalogue tests) of the runs")
    parser.add_argument("--raw-rows", type=int, default=5000, help="rows of the raw scylla-driver baseline")
    parser.add_argument("--raw-lwt-rows", type=int, default=2000, help="rows of the raw IF NOT EXISTS baseline")
    parser.add_argument("--raw-sqlite-rows", type=int, default=20000, help="rows of the raw sqlite3 baseline")
    parser.add_argument("--verify", type=int, default=5, help="random runs to read back (plus first and last)")
    parser.add_argument("--local-dc", default="datacenter1", help="data centre for DC-aware load balancing (scylla)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directories")
    parser.add_argument("--mode", choices=["lifecycle", "events", "both"], default="lifecycle",
                        help="generic-run lifecycles, SCT event streams (K concurrent runs), or both")
    parser.add_argument("--batches", type=int, default=20, help="events mode: event batches per SCT run")
    parser.add_argument("--batch-size", type=int, default=100, help="events mode: events per batch")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.clients < 1 or args.jobs < 1 or args.batches < 1 or args.batch_size < 1:
        parser.error("--runs, --clients, --jobs, --batches and --batch-size must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    engines = ENGINES if args.engine == "both" else (args.engine,)
    failed = False
    if args.mode in ("lifecycle", "both"):
        failed |= lifecycle_mode(engines, args)
    if args.mode in ("events", "both"):
        failed |= events_mode(engines, args)
    return 1 if failed else 0


def lifecycle_mode(engines: Sequence[str], args: argparse.Namespace) -> bool:
    """Generic-run lifecycles per engine; True when something failed."""
    return _run_mode(engines, lambda engine: run_engine(engine, args), print_report, print_summary,
                     label="", unit="requests")


def events_mode(engines: Sequence[str], args: argparse.Namespace) -> bool:
    """SCT event streams per engine; True when something failed."""
    return _run_mode(engines, lambda engine: run_events_engine(engine, args), print_event_report,
                     print_event_summary, label="events, ", unit="batches")


def _run_mode(engines: Sequence[str], run: Callable[[str], Coroutine[Any, Any, Any]], print_one: Callable[[Any], None],
              print_all: Callable[[list[Any]], None], *, label: str, unit: str) -> bool:
    """Run one mode on every engine, print each report and the summary; True when something failed."""
    reports: list[Any] = []
    failed = False
    for engine in engines:
        try:
            report = asyncio.run(run(engine))
        except BenchFailure as exc:
            print(f"\nFAILED ({label}{engine}): {exc}", file=sys.stderr)
            failed = True
            continue
        print_one(report)
        reports.append(report)
        if not report.ok:
            failed = True
            print(f"\nFAILED ({label}{engine}): {report.load.failure_count} {unit} not ok, "
                  f"{report.runs - len(report.load.run_walls)} runs incomplete, {len(report.problems)} checks failed",
                  file=sys.stderr)
            for line in [*report.load.failures, *report.problems]:
                print(f"  {line}", file=sys.stderr)
    if reports:
        print_all(reports)
    return failed


if __name__ == "__main__":
    sys.exit(main())
