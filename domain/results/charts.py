"""Chart.js configurations of a results table across runs, as the results page renders them as-is.

One scatter chart per visible numeric column; in it one series per row and SUT release (``x.y``
or ``dev``), x the SUT time of the run, y the value. Each point carries its run id (click to open),
cell status (point colour), and the package changes since the previous point of the row (tooltip,
``dep_change`` when something besides the SUT changed). Where the column is tracked for bests, a
"best" line follows the best result in force at each point's date; where it has a validation rule,
an "error threshold" line (and each point's ``limit``) gives the strictest limit in force then.
The y axis is cut to [p25 - 50 %, p75 + 50 %] so one outlier does not flatten the chart; a clipped
point keeps its value in ``ori``. The page owns everything visual, so the shape (keys, palette,
dash patterns) is its contract, not ours to vary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from domain.results.entities import (
    BestResult,
    CellStatus,
    ColumnMeta,
    ResultTableMeta,
    ResultType,
    RuleEntry,
    StoredCell,
)

PALETTE = ("rgba(220, 53, 69, 1.0)", "rgba(40, 167, 69, 1.0)", "rgba(0, 123, 255, 1.0)", "rgba(23, 162, 184, 1.0)",
           "rgba(255, 193, 7, 1.0)", "rgba(255, 133, 27, 1.0)", "rgba(102, 16, 242, 1.0)",
           "rgba(111, 207, 151, 1.0)", "rgba(255, 182, 193, 1.0)", "rgba(32, 201, 151, 1.0)",
           "rgba(134, 83, 78, 1.0)", "rgba(0, 84, 153, 1.0)", "rgba(128, 128, 0, 1.0)", "rgba(255, 159, 80, 1.0)")
ROW_DASHES = ((0, 0), (10, 5), (5, 10), (15, 5, 5, 5), (5, 5, 1, 5), (10, 10, 5, 5), (20, 5), (10, 5, 2, 5), (5, 5))
THRESHOLD_DASH = (5, 5)
BEST_DASH = (2, 2)
# The results table colours of the run page (Bootstrap success / warning / danger / secondary).
STATUS_COLOURS = {CellStatus.PASS: "#198754", CellStatus.WARNING: "#ffc107", CellStatus.ERROR: "#dc3545",
                  CellStatus.UNSET: "#6c757d"}
X_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Chart = dict[str, Any]
E = TypeVar("E", RuleEntry, BestResult)


class RunFacts(msgspec.Struct, kw_only=True, frozen=True):
    """What a chart shows of a run besides its cells: its SUT release and package versions."""

    release: str | None = None  # "x.y" or "dev"; None when the run names no SUT version
    sut_version: str | None = None
    packages: dict[str, str] = msgspec.field(default_factory=dict)  # other packages: name -> "version (date)"


def release_of(version: str) -> str:
    """The SUT major release a version belongs to: ``dev`` for development builds, else ``x.y``."""
    return "dev" if "dev" in version else ".".join(version.split(".")[:2])


def _x(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(X_FORMAT)


def _in_force(history: Sequence[E], moment: datetime, dated: Callable[[E], datetime]) -> E | None:
    """The newest entry dated at or before ``moment``; the oldest when all are later.

    Rules and bests are dated when they were submitted, while points sit at their SUT time, which
    usually lies before; the oldest entry is then the closest statement of intent there is.
    """
    earlier = [entry for entry in history if dated(entry) <= moment]
    return earlier[-1] if earlier else (history[0] if history else None)


def _best_date(best: BestResult) -> datetime:
    return best.result_date


def _rule_date(rule: RuleEntry) -> datetime:
    return rule.valid_from


def _limit(rule: RuleEntry, best: BestResult | None, *, higher_is_better: bool) -> float | None:
    """The strictest limit a value had to beat under ``rule`` and ``best`` (as submission judges cells)."""
    limits = rule.limits(best.value if best else None, higher_is_better=higher_is_better)
    if not limits:
        return None
    return max(limits) if higher_is_better else min(limits)


def _points(cells: Sequence[StoredCell], runs: Mapping[UUID, RunFacts], sut_package: str) -> list[dict[str, Any]]:
    """A row's points oldest first, each with the package changes since the previous one."""
    points: list[dict[str, Any]] = []
    previous: dict[str, str] | None = None
    for cell in cells:
        facts = runs.get(cell.run_id, RunFacts())
        changes = [f"{sut_package}: {facts.sut_version}"] if facts.sut_version else []
        dep_change = False
        if previous is not None:
            for name in sorted(previous.keys() | facts.packages.keys()):
                before, after = previous.get(name), facts.packages.get(name)
                if before != after:
                    changes.append(f"{name}: {before} -> {after}")
                    dep_change = True
        previous = facts.packages
        points.append({"x": _x(cell.sut_timestamp), "y": cell.value, "id": str(cell.run_id),
                       "status": cell.status.value, "changes": changes, "dep_change": dep_change})
    return points


def _line(label: str, colour: str, dash: Sequence[int], data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"label": label, "borderColor": colour, "borderWidth": 2, "borderDash": list(dash), "fill": False,
            "data": data, "showLine": True, "pointRadius": 0, "pointHitRadius": 0}


def _row_datasets(meta: ResultTableMeta, column: ColumnMeta, row: str, row_index: int, cells: list[StoredCell],
                  bests: Sequence[BestResult], runs: Mapping[UUID, RunFacts],
                  releases: list[str], sut_package: str) -> list[dict[str, Any]]:
    points = _points(cells, runs, sut_package)
    colour, dash = PALETTE[row_index % len(PALETTE)], ROW_DASHES[row_index % len(ROW_DASHES)]
    by_release: dict[str | None, list[dict[str, Any]]] = {}
    for cell, point in zip(cells, points, strict=True):
        by_release.setdefault(runs.get(cell.run_id, RunFacts()).release, []).append(point)
    datasets = []
    for release, release_points in by_release.items():
        release_colour = colour if release is None else PALETTE[releases.index(release) % len(PALETTE)]
        datasets.append({"label": row if release is None else f"{release} - {row}", "borderColor": release_colour,
                         "borderWidth": 2, "pointRadius": 3, "showLine": True, "borderDash": list(dash),
                         "pointBackgroundColor": [STATUS_COLOURS[CellStatus(p["status"])] for p in release_points],
                         "data": release_points})
    higher_is_better = column.higher_is_better
    if higher_is_better is None or not points:
        return datasets
    # A best is placed at the SUT time of the run that set it, where that run is charted: its
    # result_date is the wall-clock time of the submission, which would put every best after
    # points of older builds.
    sut_times = {cell.run_id: cell.sut_timestamp for cell in cells}
    row_bests = sorted((msgspec.structs.replace(b, result_date=sut_times.get(b.run_id, b.result_date))
                        for b in bests if b.key == f"{column.name}:{row}"), key=_best_date)
    if row_bests:
        best_line = [{"x": p["x"], "y": best.value} for cell, p in zip(cells, points, strict=True)
                     if (best := _in_force(row_bests, cell.sut_timestamp, _best_date)) is not None]
        datasets.append(_line(f"best - {row}", colour, BEST_DASH, best_line))
    rules = meta.validation_rules.get(column.name, [])
    threshold = []
    for cell, point in zip(cells, points, strict=True):
        rule = _in_force(rules, cell.sut_timestamp, _rule_date)
        limit = None if rule is None else _limit(rule, _in_force(row_bests, cell.sut_timestamp, _best_date),
                                                 higher_is_better=higher_is_better)
        if limit is not None:
            point["limit"] = limit  # the page's tooltip shows it next to the value
            threshold.append({"x": point["x"], "y": limit})
    if threshold:
        datasets.append(_line(f"error threshold - {row}", colour, THRESHOLD_DASH, threshold))
    return datasets


def _axis_range(datasets: list[dict[str, Any]]) -> tuple[float, float]:
    """The y range from the middle half of the values, widened by half of each end's magnitude."""
    values = sorted(p["y"] for d in datasets for p in d["data"])
    low, high = values[int(0.25 * len(values))], values[max(int(0.75 * len(values)) - 1, 0)]
    bottom, top = math.floor(low - abs(low) / 2), math.ceil(high + abs(high) / 2)
    return bottom, top if top > bottom else bottom + 1


def _clip(datasets: list[dict[str, Any]], bottom: float, top: float) -> None:
    for dataset in datasets:
        for point in dataset["data"]:
            if not bottom <= point["y"] <= top:
                point["ori"] = point["y"]
                point["y"] = min(max(point["y"], bottom), top)


def _options(meta: ResultTableMeta, column: ColumnMeta, bottom: float, top: float) -> dict[str, Any]:
    return {
        "scales": {
            "y": {"beginAtZero": True, "title": {"display": True, "text": f"[{column.unit}]" if column.unit else ""},
                  "min": bottom, "max": top},
            "x": {"type": "time", "time": {"unit": "day", "displayFormats": {"day": "yyyy-MM-dd"}},
                  "title": {"display": True, "text": "SUT Date"}},
        },
        "elements": {"line": {"tension": 0.1}},
        "plugins": {"legend": {"position": "top"},
                    "title": {"display": True, "text": f"{meta.name} - {column.name}"},
                    "subtitle": {"display": bool(meta.description), "text": meta.description}},
    }


def table_charts(meta: ResultTableMeta, cells: Sequence[StoredCell], bests: Sequence[BestResult],
                 runs: Mapping[UUID, RunFacts], sut_package: str) -> list[Chart]:
    """The table's charts from the cells and bests of runs that count (the caller drops ignored ones).

    ``sut_package`` names the SUT version in each point's changes.
    """
    releases = sorted({f.release for f in runs.values() if f.release is not None})
    by_cell: dict[tuple[str, str], list[StoredCell]] = {}
    for cell in sorted(cells, key=lambda c: (c.sut_timestamp, c.run_id.int)):
        if cell.value is not None:
            by_cell.setdefault((cell.column, cell.row), []).append(cell)
    rows = list(dict.fromkeys([*meta.rows_meta, *(row for _, row in by_cell)]))
    charts = []
    for column in meta.columns_meta:
        if column.type is ResultType.TEXT or not column.visible:
            continue
        datasets = [dataset for index, row in enumerate(rows) if (column.name, row) in by_cell
                    for dataset in _row_datasets(meta, column, row, index, by_cell[column.name, row], bests, runs,
                                                 releases, sut_package)]
        if datasets:
            bottom, top = _axis_range(datasets)
            _clip(datasets, bottom, top)
            charts.append({"options": _options(meta, column, bottom, top), "data": {"datasets": datasets}})
    return charts


def ticks(charts: Sequence[Chart]) -> dict[str, str]:
    """The first and last day any chart shows, for the page's shared x axis; empty without points."""
    days = [point["x"][:10] for chart in charts for dataset in chart["data"]["datasets"] for point in dataset["data"]]
    return {"min": min(days), "max": max(days)} if days else {}
