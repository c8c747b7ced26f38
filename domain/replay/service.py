"""Replay ingest: re-sending the calls CI clients recorded while Argus was unreachable."""

from __future__ import annotations

import msgspec

from domain.catalogue.build_id import place_build_id
from domain.catalogue.service import CatalogueService
from domain.errors import InvalidInput
from domain.replay.ports import ClientDispatcher, LogArchiveLister, LogListingFailed
from domain.replay.records import SUBMIT, ReplayRecord, build_id_of, parse_log, plan_replay

# Sirenada runs have no logs, so there is nothing to back-fill for them.
_NO_LOGS = frozenset({"sirenada"})


class ReplayOptions(msgspec.Struct, frozen=True):
    """The caller's choices for one ingest."""

    dry_run: bool = False
    create_missing_tests: bool = False
    backfill_logs: bool = True


class ReplayError(msgspec.Struct):
    """One record that was not (or would not be) replayed successfully."""

    ts: int
    endpoint: str
    error: str


class ReplaySummary(msgspec.Struct):
    """What an ingest did; the shape the Go CLI reads."""

    total: int = 0
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped_no_replay: int = 0
    backfilled_logs: int = 0
    errors: list[ReplayError] = msgspec.field(default_factory=list)


class ReplayService:
    """Orders recorded calls, checks them against the catalogue and sends them through a dispatcher."""

    def __init__(self, catalogue: CatalogueService, log_archives: LogArchiveLister) -> None:
        self._catalogue = catalogue
        self._log_archives = log_archives

    async def ingest(self, logs: list[tuple[str, bytes]], options: ReplayOptions,
                     dispatcher: ClientDispatcher) -> ReplaySummary:
        """Replay every record of the given JSONL files (name, content); a dry run sends nothing."""
        summary = ReplaySummary()
        records: list[ReplayRecord] = []
        for name, content in logs:
            parsed = parse_log(content)
            records.extend(parsed.records)
            if parsed.bad_lines:
                summary.errors.append(ReplayError(0, name, f"{parsed.bad_lines} unreadable line(s) skipped"))
        plan = plan_replay(records)
        summary.total = len(records)
        summary.skipped_no_replay = plan.skipped
        for record in plan.to_send:
            summary.processed += 1
            error = await self._replay_one(record, options, dispatcher)
            if error is None:
                summary.succeeded += 0 if options.dry_run else 1
            else:
                summary.failed += 1
                summary.errors.append(ReplayError(record.ts, record.template, error))
        if options.backfill_logs and not options.dry_run and self._log_archives.enabled:
            runs = sorted({key for record in records if (key := record.run_key) and key[0] not in _NO_LOGS})
            for run_type, run_id in runs:
                summary.backfilled_logs += await self._backfill(run_type, run_id, dispatcher, summary)
        return summary

    async def _replay_one(self, record: ReplayRecord, options: ReplayOptions,
                          dispatcher: ClientDispatcher) -> str | None:
        try:
            path = record.path()
        except ValueError as exc:
            return str(exc)
        if record.template == SUBMIT:
            problem = await self._place_test(record, options)
            if problem is not None:
                return problem
        if options.dry_run:
            return None
        return await dispatcher.post(path, record.params, record.body)

    async def _place_test(self, record: ReplayRecord, options: ReplayOptions) -> str | None:
        """Make sure the submitted run will link to a test, or say which levels are missing."""
        build_id = build_id_of(record.body)
        if build_id is None or await self._catalogue.test_by_build_id(build_id) is not None:
            return None
        if options.create_missing_tests:
            if not options.dry_run:
                url = record.body.get("build_url") or record.body.get("job_url") or ""
                await self._catalogue.ensure_test_for_build_id(build_id, build_url=str(url))
            return None
        try:
            placement = place_build_id(build_id)
        except InvalidInput as exc:
            return exc.message
        missing = [f"test '{placement.test}'"]
        release = next((r for r in await self._catalogue.list_releases(include_disabled=True)
                        if r.name == placement.release), None)
        if release is None:
            missing[:0] = [f"release '{placement.release}'", f"group '{placement.group}'"]
        elif not any(g.name == placement.group
                     for g in await self._catalogue.list_groups(release.id, include_disabled=True)):
            missing.insert(0, f"group '{placement.group}'")
        return (f"No test has build id '{build_id}'; create_missing_tests=true would create "
                f"{', '.join(missing)}")

    async def _backfill(self, run_type: str, run_id: str, dispatcher: ClientDispatcher,
                        summary: ReplaySummary) -> int:
        """Submit the run's uploaded log archives that the run does not list yet."""
        endpoint = f"/testrun/{run_type}/{run_id}/logs/submit"
        try:
            archives = await self._log_archives.list_archives(run_id)
        except LogListingFailed as exc:
            summary.errors.append(ReplayError(0, endpoint, exc.message))
            return 0
        if not archives:
            return 0
        known = await dispatcher.recorded_logs(run_type, run_id)
        if known is None:
            return 0
        new = [a for a in archives if a.link not in known and a.name not in known]
        if not new:
            return 0
        error = await dispatcher.post(endpoint, None,
                                      {"logs": [{"log_name": a.name, "log_link": a.link} for a in new]})
        if error is not None:
            summary.errors.append(ReplayError(0, endpoint, error))
            return 0
        return len(new)
