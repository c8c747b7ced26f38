"""Replay ingest in the domain: parsing replay logs, the replay order, missing tests and log back-fill."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.catalogue.service import CatalogueService
from domain.replay.ports import LogArchive, LogListingFailed
from domain.replay.records import Phase, ReplayRecord, parse_log, plan_replay
from domain.replay.service import ReplayOptions, ReplayService
from tests.unit.fakes import FakeCatalogueRepository

RUN = "11111111-1111-4111-8111-111111111111"
SCT = "scylla-cluster-tests"


def record(endpoint: str, ts: int, body: Any = None, *, success: bool = False, **location: str) -> dict[str, Any]:
    """One line as ``argus.client.replay_log`` writes it."""
    return {"method": "POST", "endpoint": endpoint, "location_params": {"type": SCT, "id": RUN, **location},
            "params": None, "body": body if body is not None else {"schema_version": "v8"}, "test_type": SCT,
            "ts": ts, "success": success}


def jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def submit(ts: int, build_id: str = "rel/grp/tst") -> dict[str, Any]:
    return {"method": "POST", "endpoint": "/testrun/$type/submit", "location_params": {"type": SCT}, "params": None,
            "body": {"run_id": RUN, "job_name": build_id, "job_url": "https://ci/1/", "schema_version": "v8"},
            "test_type": SCT, "ts": ts, "success": False}


def test_bad_lines_are_counted_and_skipped() -> None:
    data = jsonl(submit(1)) + b"{not json\n" + b'{"endpoint": 3}\n' + b"\n" + jsonl(record("/x", 2))[:-10]
    parsed = parse_log(data)
    assert [r.template for r in parsed.records] == ["/testrun/$type/submit"]
    assert parsed.bad_lines == 3


def test_replay_order() -> None:
    records = parse_log(jsonl(
        record("/testrun/$type/$id/finalize", 90),
        record("/testrun/$type/$id/set_status", 10, {"new_status": "running"}),
        record("/testrun/$type/$id/heartbeat", 20),
        record("/testrun/$type/$id/set_status", 80, {"new_status": "failed"}),
        record("/sct/$id//stress_cmd/submit", 30),
        record("/testrun/$type/$id/heartbeat", 70),
        record("/testrun/report/email", 40),
        record("/sct/$id/packages/submit", 50, success=True),
        submit(60),
    )).records
    plan = plan_replay(records)
    assert [(r.phase, r.ts) for r in plan.to_send] == [
        (Phase.SUBMIT, 60), (Phase.DATA, 10), (Phase.DATA, 30), (Phase.HEARTBEAT, 70), (Phase.TERMINAL_STATUS, 80),
        (Phase.FINALIZE, 90)]
    # The earlier heartbeat, the e-mail and the call that already succeeded are not sent.
    assert plan.skipped == 3
    assert plan.to_send[2].path() == f"/sct/{RUN}/stress_cmd/submit"
    assert plan.to_send[-1].body == {"schema_version": "v8", "end_time": 0.09}


def test_unresolvable_placeholder() -> None:
    lonely = ReplayRecord(endpoint="/sct/$id/resource/$name/update", ts=1, location_params={"id": RUN})
    with pytest.raises(ValueError, match=r"\$name"):
        lonely.path()


class RecordingDispatcher:
    """Answers every call with success and remembers it; ``logs`` are what the run already lists."""

    def __init__(self, logs: set[str] | None = None) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.logs = logs

    async def post(self, path: str, params: dict[str, Any] | None, body: Any) -> str | None:
        self.sent.append((path, body))
        return None

    async def recorded_logs(self, run_type: str, run_id: str) -> set[str] | None:
        return self.logs


class FakeLister:
    def __init__(self, archives: list[LogArchive] | None = None, *, fail: bool = False) -> None:
        self.archives = archives or []
        self.fail = fail

    @property
    def enabled(self) -> bool:
        return True

    async def list_archives(self, run_id: str) -> list[LogArchive]:
        if self.fail:
            raise LogListingFailed("store down")
        return self.archives


async def test_missing_test_is_reported_not_sent() -> None:
    catalogue = CatalogueService(FakeCatalogueRepository())
    await catalogue.ensure_release("rel")
    dispatcher = RecordingDispatcher()
    summary = await ReplayService(catalogue, FakeLister()).ingest(
        [("a.jsonl", jsonl(submit(1)))], ReplayOptions(backfill_logs=False), dispatcher)
    assert dispatcher.sent == []
    assert (summary.processed, summary.failed) == (1, 1)
    assert summary.errors[0].error == ("No test has build id 'rel/grp/tst'; create_missing_tests=true would create "
                                       "group 'grp', test 'tst'")


async def test_create_missing_tests_places_the_test_first() -> None:
    catalogue = CatalogueService(FakeCatalogueRepository())
    dispatcher = RecordingDispatcher()
    summary = await ReplayService(catalogue, FakeLister()).ingest(
        [("a.jsonl", jsonl(submit(1)))], ReplayOptions(create_missing_tests=True, backfill_logs=False), dispatcher)
    assert (summary.succeeded, summary.failed) == (1, 0)
    assert await catalogue.test_by_build_id("rel/grp/tst") is not None
    assert dispatcher.sent[0][0] == f"/testrun/{SCT}/submit"


async def test_dry_run_sends_and_creates_nothing() -> None:
    catalogue = CatalogueService(FakeCatalogueRepository())
    dispatcher = RecordingDispatcher()
    summary = await ReplayService(catalogue, FakeLister([LogArchive("x.tar.zst", "https://s3/x.tar.zst")])).ingest(
        [("a.jsonl", jsonl(submit(1), record("/testrun/$type/$id/heartbeat", 2)))],
        ReplayOptions(dry_run=True, create_missing_tests=True), dispatcher)
    assert dispatcher.sent == []
    assert await catalogue.test_by_build_id("rel/grp/tst") is None
    assert (summary.total, summary.processed, summary.succeeded, summary.failed, summary.backfilled_logs) == (
        2, 2, 0, 0, 0)


async def test_backfill_submits_only_unknown_archives() -> None:
    catalogue = CatalogueService(FakeCatalogueRepository())
    archives = [LogArchive("db.tar.zst", "https://s3/db.tar.zst"), LogArchive("sct.tar.zst", "https://s3/sct.tar.zst")]
    dispatcher = RecordingDispatcher(logs={"db.tar.zst", "https://s3/db.tar.zst"})
    summary = await ReplayService(catalogue, FakeLister(archives)).ingest(
        [("a.jsonl", jsonl(record("/testrun/$type/$id/heartbeat", 2)))], ReplayOptions(), dispatcher)
    assert summary.backfilled_logs == 1
    assert dispatcher.sent[-1] == (f"/testrun/{SCT}/{RUN}/logs/submit",
                                   {"logs": [{"log_name": "sct.tar.zst", "log_link": "https://s3/sct.tar.zst"}]})


async def test_backfill_listing_failure_is_an_error_entry() -> None:
    summary = await ReplayService(CatalogueService(FakeCatalogueRepository()), FakeLister(fail=True)).ingest(
        [("a.jsonl", jsonl(record("/testrun/$type/$id/heartbeat", 2)))], ReplayOptions(), RecordingDispatcher())
    assert (summary.succeeded, summary.backfilled_logs) == (1, 0)
    assert summary.errors[0].error == "store down"
