"""The board's rules on hand-made runs: tracked build, rerun collapse, filters, roll-ups."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.catalogue.entities import Group, Release, Test
from domain.runs.entities import NOT_ENDED, InvestigationStatus, RunBrief, TestStatus
from domain.stats.dashboard import release_stats, tracked_run
from domain.stats.entities import StatsFilter

T0 = datetime(2026, 3, 1, tzinfo=UTC)
S, Inv = TestStatus, InvestigationStatus


def brief(status: TestStatus, build: int | None, *, age: int = 0, version: str | None = "2025.1.2",
          image: str | None = None, investigation: InvestigationStatus = Inv.NOT_INVESTIGATED) -> RunBrief:
    return RunBrief(id=uuid.uuid4(), status=status, investigation_status=investigation,
                    start_time=T0 - timedelta(hours=age), end_time=NOT_ENDED, build_number=build, build_job_url="",
                    assignee=None, scylla_version=version, image_id=image)


def test_the_highest_build_is_tracked_and_its_reruns_collapse_to_the_most_urgent() -> None:
    runs = [brief(S.PASSED, 7, age=0), brief(S.ABORTED, 7, age=1), brief(S.FAILED, 6, age=2)]
    assert tracked_run(runs) is runs[1]
    # failed and test_error rank alike: the newer one wins.
    tie = [brief(S.TEST_ERROR, 3, age=0), brief(S.FAILED, 3, age=1)]
    assert tracked_run(tie) is tie[0]
    # a rerun with a lower build number started later does not count
    assert tracked_run([brief(S.FAILED, 2, age=0), brief(S.PASSED, 9, age=5)]).status is S.PASSED
    unnumbered = [brief(S.RUNNING, None, age=0), brief(S.FAILED, None, age=1)]
    assert tracked_run(unnumbered) is unnumbered[0]
    assert tracked_run([]) is None


@pytest.mark.parametrize(("stats_filter", "kept"), [
    (StatsFilter(), ["2025.1.2", "2025.10.1"]),
    (StatsFilter(include_no_version=True), ["2025.1.2", "2025.10.1", None]),
    (StatsFilter(product_version="2025.1."), ["2025.1.2"]),
    (StatsFilter(product_version="2025.1"), ["2025.1.2", "2025.10.1"]),  # a prefix, as the existing UI means it
    (StatsFilter(product_version="2025.1.", include_no_version=True), ["2025.1.2", None]),
    (StatsFilter(product_version="!noVersion"), [None]),
])
def test_version_filter(stats_filter: StatsFilter, kept: list[str | None]) -> None:
    runs = [brief(S.PASSED, 1, version=v) for v in ("2025.1.2", "2025.10.1", None)]
    assert [r.scylla_version for r in runs if stats_filter.accepts(r)] == kept


def test_image_filter_needs_the_image() -> None:
    assert StatsFilter(image_id="ami-1").accepts(brief(S.PASSED, 1, image="ami-1"))
    assert not StatsFilter(image_id="ami-1").accepts(brief(S.PASSED, 1, image="ami-2"))
    assert not StatsFilter(image_id="ami-1").accepts(brief(S.PASSED, 1))  # summaries from before images were kept


def test_roll_up_skips_disabled_entries_and_ranks_the_last_status() -> None:
    release = Release(id=uuid.uuid4(), name="r", perpetual=True)
    shown, hidden = (Group(id=uuid.uuid4(), release_id=release.id, name=n, enabled=n == "g1") for n in ("g1", "g2"))
    tests = [Test(id=uuid.uuid4(), group_id=shown.id, release_id=release.id, name=f"t{i}", build_system_id=f"r/g1/t{i}",
                  enabled=i != 3) for i in range(4)]
    runs = {str(tests[0].id): [brief(S.PASSED, 4)],
            str(tests[1].id): [brief(S.FAILED, 2, investigation=Inv.IN_PROGRESS)],
            str(tests[3].id): [brief(S.FAILED, 1)]}  # disabled test: not counted
    board = release_stats(release, [(shown, tests), (hidden, [])], runs, StatsFilter(), limited=False)
    assert list(board.groups) == [str(shown.id)]
    group = board.groups[str(shown.id)]
    assert (group.total, group.passed, group.failed, group.not_planned) == (3, 1, 1, 1)
    assert (board.last_status, board.last_investigation_status) == (S.FAILED, Inv.IN_PROGRESS)
    assert board.in_progress["failed"] == 1 and board.not_investigated["not_planned"] == 1
    assert board.perpetual and not board.disabled
    assert group.tests[str(tests[2].id)].last_runs == [] and group.tests[str(tests[2].id)].build_number is None
    limited = release_stats(release, [(shown, tests)], runs, StatsFilter(), limited=True)
    assert all(t.last_runs == [] for t in limited.groups[str(shown.id)].tests.values())
