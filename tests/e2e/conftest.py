"""End-to-end fixtures: real ``argus`` processes on free ports, talked to over HTTP.

* ``ArgusServer`` runs ``argus serve --port P`` in its own process group, stdout and stderr
  captured to files so tests can assert on the logs; ``start`` waits for ``/healthz`` (30 s, fails
  with the output if the process dies), ``stop`` sends SIGTERM and SIGKILLs the whole group
  (uvicorn workers included) after 10 s.
* ``argus_server`` (per test) and ``module_pool`` (shared by a module) start servers; their
  teardown sends SIGTERM at once, even when the test failed, and the wait for the exit runs in
  the background. The session waits for those stops at its end, and an ``atexit`` hook kills
  anything still alive, so no server outlives the run.
* ``run_argus`` runs the other commands (``migrate``, ``create-user``) to completion.
* ``redis_url`` is the suite's Redis (ARGUS_TEST_REDIS_URL); ``private_redis`` is a throw-away
  ``redis-server`` a test may kill. Cassandra comes from ``tests/conftest.py`` (``cassandra_node``).
  Unreachable services fail the test, never skip it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
_VENV_ARGUS = REPO / ".venv" / "bin" / "argus"
ARGUS = str(_VENV_ARGUS if _VENV_ARGUS.exists() else Path(sys.executable).with_name("argus"))

START_TIMEOUT_SECONDS = 30.0
STOP_GRACE_SECONDS = 10.0
REDIS_URL = os.environ.get("ARGUS_TEST_REDIS_URL") or "redis://127.0.0.1:6390/0"


def free_port() -> int:
    """A TCP port nobody listens on right now (bind to port 0, read it back, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without any ``ARGUS_*`` or Prometheus variable, plus ``settings``.

    Removing inherited ``ARGUS_*`` variables keeps a developer's shell settings out of the test;
    ``ARGUS_STORAGE_DATA_DIR`` is always set so nothing is written under the repository.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ARGUS_") and k.upper() != "PROMETHEUS_MULTIPROC_DIR"}
    env["ARGUS_STORAGE_DATA_DIR"] = str(data_dir)
    env.update(settings)
    return env


def run_argus(*args: str, env: Mapping[str, str], stdin: str | None = None, timeout: float = 60.0,
              ) -> subprocess.CompletedProcess[str]:
    """Run one ``argus`` command to completion, capturing its output."""
    return subprocess.run([ARGUS, *args], env=dict(env), input=stdin, capture_output=True, text=True,
                          timeout=timeout, cwd=env.get("ARGUS_STORAGE_DATA_DIR"), check=False)


def create_token(env: Mapping[str, str], username: str = "ci-bot") -> str:
    """Provision a service account and return its API token (the only line ``--token`` prints)."""
    done = run_argus("create-user", username, "--role", "service", "--token", env=env)
    assert done.returncode == 0, f"create-user failed ({done.returncode}): {done.stderr}"
    return done.stdout.strip()


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            members.append(int(stat.parent.name))
    return members


@dataclass(frozen=True)
class StopResult:
    """How a server ended: on SIGTERM within the grace period, or only on SIGKILL."""

    returncode: int | None
    killed: bool
    seconds: float
    leftover_processes: bool


_LIVE: set[ArgusServer] = set()
_LIVE_LOCK = threading.Lock()


class ArgusServer:
    """One ``argus serve`` process (a uvicorn supervisor and its workers with ``--workers``)."""

    def __init__(self, env: Mapping[str, str], *, log_dir: Path, port: int | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.env = dict(env)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = extra_args
        tag = f"argus-{self.port}-{uuid.uuid4().hex[:6]}"
        self.stdout_path = log_dir / f"{tag}.stdout"
        self.stderr_path = log_dir / f"{tag}.stderr"
        self.process: subprocess.Popen[bytes] | None = None
        self.stop_result: StopResult | None = None
        self._stop_lock = threading.Lock()

    # --- life cycle -------------------------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> ArgusServer:
        """Start the process and wait until ``/healthz`` answers 200; fail with its output if it dies."""
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.process = subprocess.Popen(
                [ARGUS, "serve", "--port", str(self.port), *self.extra_args], env=self.env,
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
                cwd=self.env.get("ARGUS_STORAGE_DATA_DIR"))
        with _LIVE_LOCK:
            _LIVE.add(self)
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.kill_group()
                pytest.fail(f"argus serve exited with {self.process.returncode} before /healthz answered\n"
                            f"{self.output()}")
            try:
                response = httpx.get(f"{self.url}/healthz", timeout=2.0)
                if response.status_code == 200:
                    return self
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last_error = repr(exc)
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"argus serve did not answer /healthz within {timeout:g} s (last: {last_error})\n"
                    f"{self.output()}")

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> StopResult:
        """SIGTERM the server, SIGKILL its process group if it has not exited after ``grace`` seconds."""
        with self._stop_lock:
            if self.stop_result is not None:
                return self.stop_result
            assert self.process is not None, "server was never started"
            started = time.monotonic()
            killed = False
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    killed = True
                    self.kill_group()
                    self.process.wait(timeout=10)
            # Workers may still be finishing their exit for a moment after the supervisor returned.
            deadline = time.monotonic() + 5
            while (leftovers := self._group_alive()) and time.monotonic() < deadline:
                time.sleep(0.1)
            if leftovers:
                self.kill_group()
            self.stop_result = StopResult(returncode=self.process.returncode, killed=killed,
                                          seconds=time.monotonic() - started, leftover_processes=leftovers)
            with _LIVE_LOCK:
                _LIVE.discard(self)
            return self.stop_result

    def kill_group(self) -> None:
        """SIGKILL every process of the server's own process group (uvicorn workers included)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def _group_alive(self) -> bool:
        """Whether a process of the server's group still runs (zombies awaiting a reaper do not count)."""
        assert self.process is not None
        return bool(group_members(self.process.pid))

    # --- talking to it ----------------------------------------------------------------------
    def client(self, **kwargs: object) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=10.0, **kwargs)  # type: ignore[arg-type]

    def stdout(self) -> str:
        """Everything the process wrote on stdout so far."""
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self) -> str:
        """Everything the process wrote on stderr so far (the log lines)."""
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def output(self) -> str:
        """Both streams, labelled, for failure messages."""
        return f"--- stdout ---\n{self.stdout()}\n--- stderr ---\n{self.stderr()[-20000:]}"


def _kill_everything_left() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        server.kill_group()


atexit.register(_kill_everything_left)


class ServerPool:
    """The servers one fixture started, so its teardown can stop every one of them."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.servers: list[ArgusServer] = []

    def start(self, env: Mapping[str, str], *extra_args: str, port: int | None = None) -> ArgusServer:
        """Start ``argus serve`` with ``env`` and wait for /healthz."""
        server = ArgusServer(env, log_dir=self.log_dir, port=port, extra_args=tuple(extra_args))
        self.servers.append(server)
        return server.start()


_BACKGROUND_STOPS: list[threading.Thread] = []


def stop_later(servers: list[ArgusServer]) -> None:
    """Stop servers in a background thread; the session waits for those threads at its end."""
    for server in servers:
        if server.process is not None and server.stop_result is None:
            thread = threading.Thread(target=server.stop, daemon=True, name=f"stop-{server.port}")
            thread.start()
            _BACKGROUND_STOPS.append(thread)


@pytest.fixture(scope="session", autouse=True)
def _reap_servers() -> Iterator[None]:
    """At the end of the session, wait for background stops and kill anything still alive."""
    yield
    for thread in _BACKGROUND_STOPS:
        thread.join(STOP_GRACE_SECONDS + 15)
    _kill_everything_left()


StartServer = Callable[..., ArgusServer]


@pytest.fixture
def argus_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start servers for one test: ``argus_server(env, "--workers", "2")``.

    SIGTERM reaches them as soon as the test ends; the wait for their exit (and SIGKILL after
    the grace period) runs in the background so the next test does not wait.
    """
    log_dir = tmp_path / "logs"
    log_dir.mkdir(exist_ok=True)
    pool = ServerPool(log_dir)
    yield pool.start
    stop_later(pool.servers)


@pytest.fixture(scope="module")
def module_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    """A pool for servers several tests of a module share; all stop together at module end."""
    pool = ServerPool(tmp_path_factory.mktemp("module-logs"))
    yield pool
    stop_later(pool.servers)


# --- real services the e2e tests need ----------------------------------------------------------
def _reachable(host: str, port: int, timeout: float = 3.0) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return str(exc)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """ARGUS_TEST_REDIS_URL (default redis://127.0.0.1:6390/0); fails, never skips, when unreachable."""
    parsed = urlparse(REDIS_URL)
    problem = _reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379)
    if problem:
        pytest.fail(f"Redis at {REDIS_URL} is unreachable ({problem}); start it with tools/test-services.sh up")
    return REDIS_URL


class PrivateRedis:
    """A throw-away ``redis-server`` only one test uses, so it can be killed without harming others."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start it and wait until it accepts connections."""
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        try:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.workdir)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        except FileNotFoundError:
            pytest.fail("redis-server is not installed (tools/redis/redis-test.sh install)")
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited with {self.process.returncode}")
            if _reachable("127.0.0.1", self.port, 0.5) is None:
                return
            time.sleep(0.05)
        pytest.fail(f"redis-server did not listen on {self.port} within {timeout:g} s")

    def kill(self) -> None:
        """SIGKILL it (an outage, not a clean shutdown)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private redis-server on a free port, killed at the end of the test."""
    workdir = tmp_path / "redis"
    workdir.mkdir()
    redis = PrivateRedis(workdir)
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()
