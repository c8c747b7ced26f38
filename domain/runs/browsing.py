"""Reading runs the way people browse them: a test's run list, stable build links, stored artifact links.

Every read here is bounded: a test's runs are one slice of its CI job's partition, extra runs and
run lookups by id are capped, and no read walks a run history without a limit.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit
from uuid import UUID

from domain.catalogue.service import CatalogueService
from domain.errors import InvalidInput, NotFound
from domain.runs.entities import Run, TestStatus
from domain.runs.plugins import PluginName
from domain.runs.ports import RunRepository

DEFAULT_RUNS = 10
MAX_RUNS = 1000
MAX_ADDITIONAL_RUNS = 100
MAX_RUN_PAIRS = 500
# A build link names a recent build; older ones are found as long as they are among this many runs.
MAX_BUILD_LINK_SCAN = 5000
UNKNOWN_RUN_TYPE = "unknown-does-not-exist"

# Worst first, as the run list and dashboards order runs of the same build.
_STATUS_RANK = {TestStatus.FAILED: 0, TestStatus.TEST_ERROR: 0, TestStatus.ERROR: 1, TestStatus.ABORTED: 2,
                TestStatus.PASSED: 4, TestStatus.RUNNING: 5, TestStatus.CREATED: 6, TestStatus.NOT_RUN: 10,
                TestStatus.NOT_PLANNED: 20}


@dataclass(frozen=True)
class RunWindow:
    """Which of a test's runs to list: the newest ``limit`` started strictly between the bounds, plus pinned ones."""

    limit: int = DEFAULT_RUNS
    before: float | None = None
    after: float | None = None
    additional: tuple[UUID, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_RUNS:
            raise InvalidInput(f"limit must be between 1 and {MAX_RUNS}", self.limit)
        if len(self.additional) > MAX_ADDITIONAL_RUNS:
            raise InvalidInput(f"at most {MAX_ADDITIONAL_RUNS} additional runs can be requested",
                               len(self.additional))
        for name, value in (("before", self.before), ("after", self.after)):
            if value is not None and not (math.isfinite(value) and 0 <= value < 1e11):
                raise InvalidInput(f"{name} must be a time in epoch seconds", value)


def _bound(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def list_order(run: Run) -> tuple[int, int, float]:
    """Newest build first; within a build the worst status first; then the latest start."""
    return (-(run.build_number if run.build_number is not None else -1), _STATUS_RANK.get(run.status, 999),
            -run.start_time.timestamp())


def _is_web_link(link: str) -> bool:
    parts = urlsplit(link)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class RunBrowser:
    """The read side of runs that the run cards, run pages and the CLI's links use."""

    def __init__(self, runs: RunRepository, catalogue: CatalogueService) -> None:
        self._runs = runs
        self._catalogue = catalogue

    async def runs_of_test(self, test_id: UUID, window: RunWindow) -> list[Run]:
        """A test's runs in list order; unknown tests are ``NotFound``.

        The pinned runs are kept only when they belong to the test, so the list never leaks another
        test's run through a guessed id.
        """
        test = await self._catalogue.get_test(test_id)
        runs = await self._runs.latest_for_build(test.build_system_id, window.limit,
                                                 before=_bound(window.before), after=_bound(window.after))
        seen = {run.id for run in runs}
        missing = [run_id for run_id in dict.fromkeys(window.additional) if run_id not in seen]
        for extra in await asyncio.gather(*(self._runs.get(run_id) for run_id in missing)):
            if extra is not None and extra.build_id == test.build_system_id:
                runs.append(extra)
        return sorted(runs, key=list_order)

    async def run_type(self, run_id: UUID) -> str:
        """The plugin name of a run, or the existing service's marker for an unknown id."""
        run = await self._runs.get(run_id)
        return run.plugin_name.value if run is not None else UNKNOWN_RUN_TYPE

    async def runs_by_id(self, pairs: list[tuple[UUID, UUID]]) -> dict[UUID, Run]:
        """Runs named by (test id, run id) pairs; a run of another test or an unknown id is left out."""
        if len(pairs) > MAX_RUN_PAIRS:
            raise InvalidInput(f"at most {MAX_RUN_PAIRS} runs can be requested at once", len(pairs))
        wanted: dict[UUID, UUID] = {}
        for test_id, run_id in pairs:
            wanted.setdefault(run_id, test_id)
        runs = await asyncio.gather(*(self._runs.get(run_id) for run_id in wanted))
        return {run.id: run for run in runs if run is not None and run.test_id == wanted[run.id]}

    async def run_by_build(self, build_id: str, build_number: int) -> Run:
        """The run a stable ``<build id>/<build number>`` link names, or ``NotFound``."""
        build_id = build_id.strip("/")
        if not build_id:
            raise InvalidInput("build id must not be empty", build_id)
        run = await self._runs.with_build_number(build_id, build_number, MAX_BUILD_LINK_SCAN)
        if run is None:
            raise NotFound(f"No run of {build_id} with build number {build_number}", build_id, build_number)
        return run

    async def log_link(self, run_type: PluginName, run_id: UUID, log_name: str) -> str:
        """Where a run's named log is stored; only web links are handed out for redirects."""
        run = await self._typed_run(run_type, run_id)
        link = next((log.link for log in run.logs if log.name == log_name), None)
        return self._web_link(link, f"Run {run_id} has no log named {log_name}", log_name)

    async def screenshot_link(self, run_type: PluginName, run_id: UUID, image_name: str) -> str:
        """Where a run's screenshot is stored, found by its file name (the last segment of its link)."""
        run = await self._typed_run(run_type, run_id)
        screenshots = run.details.get("screenshots") or []
        link = next((str(s) for s in screenshots
                     if unquote(urlsplit(str(s)).path).rsplit("/", 1)[-1] == image_name), None)
        return self._web_link(link, f"Run {run_id} has no screenshot named {image_name}", image_name)

    async def _typed_run(self, run_type: PluginName, run_id: UUID) -> Run:
        run = await self._runs.get(run_id)
        if run is None or run.plugin_name is not run_type:
            raise NotFound(f"Run {run_id} of type {run_type} not found", str(run_id))
        return run

    @staticmethod
    def _web_link(link: str | None, missing: str, name: str) -> str:
        if link is None:
            raise NotFound(missing, name)
        if not _is_web_link(link):
            # s3:// and file links would need presigning this service is not configured for; a redirect
            # to them would break in the browser, and to javascript: or data: would be unsafe.
            raise NotFound(f"{name} is not stored at a web address", name)
        return link
