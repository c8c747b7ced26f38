"""Generated requests against every documented route of a real server: none may answer 5xx.

Schemathesis reads the service's own OpenAPI document and sends both schema-valid and deliberately
broken requests (wrong types, missing fields, odd strings) to each operation, then follows links
between operations. Bad input must get a clear 4xx, never a server error. The seed is fixed, so a
failure replays with the command printed in the assertion message.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import StartServer, base_env, run_argus

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
# Routes that would lock the fuzzing administrator out (revoking its own token, disabling or
# deleting itself, logging out) make every later request a 401; they have their own API tests.
LOCKOUT_ROUTES = "revoke|/disable|/delete|/auth/"


@pytest.mark.timeout(600)  # about a minute here; the suite-wide 300 s would be too tight on a slow CI box
def test_no_generated_request_gets_a_server_error(argus_server: StartServer, tmp_path: Path) -> None:
    env = base_env(tmp_path)
    provisioned = run_argus("create-user", "fuzz-admin", "--role", "admin", "--token", env=env)
    assert provisioned.returncode == 0, provisioned.stderr
    server = argus_server(env)
    command = [SCHEMATHESIS, "run", f"{server.url}/docs/openapi.json",
               "-H", f"Authorization: token {provisioned.stdout.strip()}", "--checks", "not_a_server_error",
               "--max-examples", "15", "--seed", "20261127", "--request-timeout", "20",
               "--exclude-path-regex", LOCKOUT_ROUTES, "--no-color"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=540, check=False, cwd=tmp_path)
    report = done.stdout + done.stderr
    replay = " ".join([*command[:4], "-H", "'Authorization: token <admin token>'", *command[6:]])
    assert done.returncode == 0, f"{report[-6000:]}\nreplay: {replay}"
    tested = re.search(r"Tested:\s+(\d+)", report)
    assert tested and int(tested.group(1)) > 80, report[-3000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", report)
    assert generated and generated.group(1) == generated.group(2) and int(generated.group(1)) > 1000, report[-3000:]
    # Every operation was reached with working credentials, so the run was not vacuous.
    assert "Authentication failed" not in report, report[-3000:]
    assert "unhandled exception" not in server.stdout() + server.stderr()
