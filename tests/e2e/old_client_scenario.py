"""A generic and a driver-matrix run reported by an old ``argus-alm``, printed back as JSON.

Run by ``test_ci_protocol.py`` with the Python of ``.venv-argus-alm-old`` (the oldest 0.16.x client),
so it may only use what that client offers: ``ArgusGenericClient`` there takes no ``run_id``, and its
``check_response`` needs the error envelope's ``response.arguments`` list.

Usage: ``python old_client_scenario.py SPEC.json`` where the spec names the server, the token, the
run ids and build ids; stdout is one JSON object with what the client read back.
"""

from __future__ import annotations

import base64
import json
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from argus.client.base import ArgusClientError
from argus.client.driver_matrix_tests.client import ArgusDriverMatrixClient
from argus.client.generic.client import ArgusGenericClient
from argus.client.generic_result import ColumnMetadata, GenericResultTable, ResultType, Status, ValidationRule


def _generic(spec: dict[str, Any]) -> dict[str, Any]:
    run_id = spec["generic_run_id"]
    client = ArgusGenericClient(auth_token=spec["token"], base_url=spec["base_url"], log_dir=spec["log_dir"])
    client.run_id = run_id  # what submit_results addresses; this client version has no run_id argument
    out: dict[str, Any] = {"statuses": []}
    try:
        client.submit_generic_run(build_id=spec["generic_build_id"], run_id=run_id, started_by="old-client",
                                  build_url="https://jenkins.example/job/old-client/9/", sub_type="perf")
        out["statuses"].append(client.get_status("generic", run_id).value)
        client.heartbeat("generic", run_id)
        client.check_response(client.update_product_version("generic", run_id, "2024.1.5-0.20240520.0123abc"))

        throughput = GenericResultTable(
            name="Old throughput", description="written by the oldest client", sut_timestamp=spec["sut_timestamp"],
            columns=[ColumnMetadata(name="ops", unit="op/s", type=ResultType.FLOAT, higher_is_better=True)],
            validation_rules={"ops": ValidationRule(best_pct=5)})
        throughput.add_result("ops", "write", 1000.0, Status.UNSET)
        client.submit_results(throughput)

        latency = GenericResultTable(
            name="Old latency", description="over its fixed limit", sut_timestamp=spec["sut_timestamp"],
            columns=[ColumnMetadata(name="p99", unit="ms", type=ResultType.FLOAT, higher_is_better=False)],
            validation_rules={"p99": ValidationRule(fixed_limit=1.0)})
        latency.add_result("p99", "write", 2.0, Status.UNSET)
        try:
            client.submit_results(latency)
        except ArgusClientError as error:
            out["validation_error"] = [str(argument) for argument in error.args]

        try:
            client.heartbeat("generic", spec["missing_run_id"])
        except ArgusClientError as error:
            out["missing_run_error"] = [str(argument) for argument in error.args]

        client.finalize_generic_run(run_id=run_id, status="failed")
        out["statuses"].append(client.get_status("generic", run_id).value)
        out["run"] = client.get_run("generic", run_id)
    finally:
        client.close()
    return out


def _driver_matrix(spec: dict[str, Any]) -> dict[str, Any]:
    fixtures = Path(spec["fixtures"])
    client = ArgusDriverMatrixClient(run_id=spec["matrix_run_id"], auth_token=spec["token"],
                                     base_url=spec["base_url"], log_dir=spec["log_dir"])
    out: dict[str, Any] = {"statuses": []}
    try:
        client.submit_driver_matrix_run(job_name=spec["matrix_build_id"],
                                        job_url="https://jenkins.example/job/old-matrix/4/")
        out["statuses"].append(client.get_status().value)
        client.submit_env((fixtures / "Build-00.txt").read_text(encoding="utf-8"))
        client.submit_driver_result("pytest.datastax.v4.3.29.1", "python",
                                    base64.encodebytes((fixtures / "pytest.datastax.v4.3.29.1.xml").read_bytes()))
        out["statuses"].append(client.get_status().value)
        client.submit_driver_failure("TEST-datastax-2.16.2", "cpp", "cmake: libuv not found")
        client.check_response(client.finalize_run(client.test_type, spec["matrix_run_id"], {"status": "failed"}))
        out["statuses"].append(client.get_status().value)
        out["run"] = client.get_run()
    finally:
        client.close()
    return out


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    report = {"client_version": version("argus-alm"), "generic": _generic(spec),
              "driver_matrix": _driver_matrix(spec)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
