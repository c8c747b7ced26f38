"""Results tables submitted for a run: the run decides the test and, when asked, the SUT time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from domain.results.entities import ResultSubmission, SubmissionOutcome
from domain.results.service import ResultsService
from domain.runs.plugins import PluginName
from domain.runs.service import RunService

DEFAULT_SUT_PACKAGE = "scylla-server"


def sut_package_candidates(package_name: str) -> tuple[str, ...]:
    """Names the SUT package may carry, in the order that places an upgrade test at its target version."""
    return (f"{package_name}-upgraded", f"{package_name}-upgrade-target", package_name, f"{package_name}-target")


def sut_timestamp_from_packages(packages: list[dict[str, Any]], package_name: str = DEFAULT_SUT_PACKAGE) -> float:
    """The SUT build time of an SCT run: package build date plus a fraction from its commit id.

    Packages are tried in the order upgraded, upgrade-target, plain, target, as the existing
    service does, so upgrade tests are placed at the version they upgraded to.
    """
    by_name = {p.get("name"): p for p in packages}
    for candidate in sut_package_candidates(package_name):
        package = by_name.get(candidate)
        if package is None:
            continue
        try:
            day = datetime.strptime(str(package["date"]), "%Y%m%d").replace(tzinfo=UTC)
            fraction = (int(str(package["revision_id"]), 16) % 1_000_000) / 1_000_000
        except (KeyError, ValueError) as exc:
            raise InvalidInput(f"package {candidate} has no usable date/revision_id for sut_timestamp",
                               candidate) from exc
        return day.timestamp() + fraction
    raise InvalidInput(f"sut_timestamp is 0 and the run has no {package_name} package to derive it from",
                       package_name)


class RunResults:
    """Stores a results table for a run of any type."""

    def __init__(self, runs: RunService, results: ResultsService) -> None:
        self._runs = runs
        self._results = results

    async def submit(self, run_type: PluginName, run_id: UUID, submission: ResultSubmission) -> SubmissionOutcome:
        """Store the table under the run's test; a zero ``sut_timestamp`` is derived for SCT runs only."""
        run = await self._runs.require(run_type, run_id)
        if run.test_id is None:
            raise InvalidInput(f"run {run.id} is not linked to a test (its build id {run.build_id} is not in the "
                               "catalogue), so its results cannot be stored", str(run.id))
        if not submission.sut_timestamp:
            if run_type is not PluginName.SCT:
                raise InvalidInput(f"sut_timestamp must be given for {run_type} runs (only SCT runs derive it from "
                                   "their packages)")
            submission = msgspec.structs.replace(
                submission, sut_timestamp=sut_timestamp_from_packages(run.details.get("packages", [])))
        return await self._results.submit(test_id=run.test_id, run_id=run.id, submission=submission)
