"""Run browsing and catalogue search rules, against fakes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.catalogue.entities import Group, Release, Test
from domain.catalogue.search import CatalogueSearch, CatalogueSnapshot, HitType, SearchQuery
from domain.catalogue.service import CatalogueService
from domain.errors import InvalidInput, NotFound
from domain.runs.browsing import RunBrowser, RunWindow, list_order
from domain.runs.entities import LogLink, Run, TestStatus
from domain.runs.plugins import PluginName
from tests.unit.fakes import FakeCatalogueRepository, FakeRunRepository

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _run(build_number: int | None, status: TestStatus = TestStatus.PASSED, minutes: int = 0, **fields) -> Run:
    return Run(id=uuid.uuid4(), build_id="rel/grp/job", start_time=T0 + timedelta(minutes=minutes),
               plugin_name=PluginName.SCT, build_number=build_number, status=status, **fields)


def test_list_order_is_newest_build_then_worst_status_then_latest_start() -> None:
    passed, failed, aborted = (_run(7, TestStatus.PASSED), _run(7, TestStatus.FAILED), _run(7, TestStatus.ABORTED))
    newer, unnumbered = _run(8, TestStatus.RUNNING), _run(None, minutes=99)
    rerun = _run(7, TestStatus.FAILED, minutes=5)
    ordered = sorted([unnumbered, passed, aborted, failed, newer, rerun], key=list_order)
    assert ordered == [newer, rerun, failed, aborted, passed, unnumbered]


@pytest.mark.parametrize("window", [{"limit": 0}, {"limit": 1001}, {"before": float("nan")},
                                    {"after": float("inf")}, {"before": -1.0},
                                    {"additional": tuple(uuid.uuid4() for _ in range(101))}])
def test_run_windows_reject_out_of_range_values(window: dict) -> None:
    with pytest.raises(InvalidInput):
        RunWindow(**window)


@pytest.fixture
def repo() -> FakeRunRepository:
    return FakeRunRepository()


@pytest.fixture
def browser(repo: FakeRunRepository) -> RunBrowser:
    return RunBrowser(repo, CatalogueService(FakeCatalogueRepository()))


async def test_runs_by_id_keep_only_runs_of_the_named_test(repo: FakeRunRepository, browser: RunBrowser) -> None:
    test_a, test_b = uuid.uuid4(), uuid.uuid4()
    mine, theirs = _run(1, test_id=test_a), _run(2, test_id=test_b)
    for run in (mine, theirs):
        await repo.claim(run)
    found = await browser.runs_by_id([(test_a, mine.id), (test_a, theirs.id), (test_b, mine.id),
                                      (test_a, uuid.uuid4())])
    assert found == {mine.id: mine}
    with pytest.raises(InvalidInput):
        await browser.runs_by_id([(test_a, mine.id)] * 501)


async def test_artifact_links_are_handed_out_only_for_web_addresses(repo: FakeRunRepository,
                                                                    browser: RunBrowser) -> None:
    run = _run(1, logs=[LogLink("db", "https://logs.example/db.tar.zst"), LogLink("raw", "s3://b/raw"),
                        LogLink("js", "javascript:alert(1)"), LogLink("bare", "https:no-host")],
               details={"screenshots": ["https://grafana.example/a%20b/shot%201.png", "file:///etc/passwd"]})
    await repo.claim(run)
    assert await browser.log_link(PluginName.SCT, run.id, "db") == "https://logs.example/db.tar.zst"
    for name in ("raw", "js", "bare", "missing"):
        with pytest.raises(NotFound):
            await browser.log_link(PluginName.SCT, run.id, name)
    assert (await browser.screenshot_link(PluginName.SCT, run.id, "shot 1.png")
            == "https://grafana.example/a%20b/shot%201.png")
    with pytest.raises(NotFound):
        await browser.screenshot_link(PluginName.SCT, run.id, "passwd")
    with pytest.raises(NotFound):
        await browser.log_link(PluginName.GENERIC, run.id, "db")


def test_query_parsing_separates_facets_from_text() -> None:
    query = SearchQuery.parse("  Release:Master  longevity  GROUP:Perf type:test TYPE:Group 1TB release: ")
    assert query.text == "longevity 1tb"
    assert (query.releases, query.groups) == (("master",), ("perf",))
    assert query.types == {HitType.TEST, HitType.GROUP}
    assert SearchQuery.parse("").types == {HitType.RELEASE, HitType.GROUP, HitType.TEST}
    # A colon in free text that is not a facet key stays text.
    assert SearchQuery.parse("ami:abc").text == "ami:abc"
    for bad in ("type:run", "type:everything", "x" * 501):
        with pytest.raises(InvalidInput):
            SearchQuery.parse(bad)


class _Snapshots:
    def __init__(self, snapshot: CatalogueSnapshot) -> None:
        self.snapshot = snapshot

    async def current(self) -> CatalogueSnapshot:
        return self.snapshot


async def test_exact_names_rank_before_prefixes_before_the_rest(repo: FakeRunRepository) -> None:
    release = Release(id=uuid.uuid4(), name="perf")
    group = Group(id=uuid.uuid4(), release_id=release.id, name="perf-regression")
    tests = [Test(id=uuid.uuid4(), group_id=group.id, release_id=release.id, name=name, build_system_id=name)
             for name in ("nightly-perf", "perf", "perf-latency")]
    search = CatalogueSearch(_Snapshots(CatalogueSnapshot((release,), (group,), tuple(tests))), repo)
    result = await search.search("PERF")
    assert [(h.type, h.entity.name) for h in result.hits] == [
        (HitType.RELEASE, "perf"), (HitType.GROUP, "perf-regression"), (HitType.TEST, "perf"),
        (HitType.TEST, "perf-latency"), (HitType.TEST, "nightly-perf")]
    assert result.hits[2].group == group and result.hits[2].release == release
    # A group facet leaves releases out; a test whose group is unknown never matches one.
    orphan = Test(id=uuid.uuid4(), group_id=uuid.uuid4(), release_id=release.id, name="perf-orphan",
                  build_system_id="o")
    search = CatalogueSearch(_Snapshots(CatalogueSnapshot((release,), (group,), (*tests, orphan))), repo)
    assert [h.entity.name for h in (await search.search("group:regression perf")).hits] == [
        "perf-regression", "perf", "perf-latency", "nightly-perf"]
