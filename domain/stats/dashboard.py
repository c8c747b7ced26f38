"""The board computed from per-test summaries: pure, so its rules are testable without storage.

Each summary holds a test's newest runs (``SUMMARY_RUNS``), maintained on every run write, so the
board costs O(tests shown) whatever the history behind them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from domain.catalogue.entities import Group, Release, Test
from domain.runs.entities import InvestigationStatus, RunBrief, TestStatus
from domain.stats.entities import GroupStats, ReleaseStats, StatsFilter, StatusCounts, TestStats

# A tile shows this many recent runs of its test.
TILE_RUNS = 5

# How urgent a status is; reruns of one build collapse to the most urgent, as the existing board does.
_URGENCY: dict[TestStatus, int] = {
    TestStatus.FAILED: 10, TestStatus.TEST_ERROR: 10, TestStatus.ABORTED: 9, TestStatus.RUNNING: 8,
    TestStatus.CREATED: 7, TestStatus.PASSED: 6,
}


def urgency(status: TestStatus) -> int:
    """The status's rank; statuses not listed rank 0."""
    return _URGENCY.get(status, 0)


def tracked_run(runs: Sequence[RunBrief]) -> RunBrief | None:
    """The run that speaks for the test: the most urgent run of its highest build number.

    ``runs`` are newest first, so among equally urgent reruns the newest wins. When no run has a build
    number (a job started outside Jenkins), the newest run is tracked.
    """
    numbers = [r.build_number for r in runs if r.build_number is not None]
    if not numbers:
        return runs[0] if runs else None
    latest = max(numbers)
    return max((r for r in runs if r.build_number == latest), key=lambda r: urgency(r.status))


def tile(test: Test, runs: Sequence[RunBrief], *, limited: bool) -> TestStats:
    """One tile from the test's filtered runs (newest first); no runs means ``not_planned`` (no plans yet)."""
    tracked = tracked_run(runs)
    if tracked is None:
        return TestStats(test=test, status=TestStatus.NOT_PLANNED,
                         investigation_status=InvestigationStatus.NOT_INVESTIGATED, last_runs=[], start_time=None,
                         build_id=test.build_system_id)
    return TestStats(test=test, status=tracked.status, investigation_status=tracked.investigation_status,
                     last_runs=[] if limited else list(runs[:TILE_RUNS]), start_time=tracked.start_time,
                     build_number=tracked.build_number, build_id=test.build_system_id)


def _count(counts: StatusCounts, status: TestStatus, investigation: InvestigationStatus) -> None:
    counts.total += 1
    setattr(counts, status.value, getattr(counts, status.value) + 1)
    matrix: dict[str, int] = getattr(counts, investigation.value)
    matrix[status.value] += 1
    if urgency(status) > urgency(counts.last_status):
        counts.last_status, counts.last_investigation_status = status, investigation


def release_stats(release: Release, tree: Iterable[tuple[Group, Sequence[Test]]],
                  runs_by_test: dict[str, Sequence[RunBrief]], stats_filter: StatsFilter, *,
                  limited: bool) -> ReleaseStats:
    """The board of ``release``: enabled groups, their enabled tests, counts rolled up to the release.

    ``runs_by_test`` maps a test id (as text) to its newest runs, newest first; filters apply here.
    """
    board = ReleaseStats(release=release, disabled=not release.enabled, perpetual=release.perpetual)
    for group, tests in tree:
        if not group.enabled:
            continue
        group_stats = GroupStats(group=group)
        for test in tests:
            if not test.enabled:
                continue
            runs = [r for r in runs_by_test.get(str(test.id), ()) if stats_filter.accepts(r)]
            tile_stats = tile(test, runs, limited=limited)
            group_stats.tests[str(test.id)] = tile_stats
            _count(group_stats, tile_stats.status, tile_stats.investigation_status)
            _count(board, tile_stats.status, tile_stats.investigation_status)
        board.groups[str(group.id)] = group_stats
    return board
