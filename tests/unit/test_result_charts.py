"""Chart building for results graphs: limits, lines and axis, on hand-made tables."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from domain.results.charts import RunFacts, release_of, table_charts, ticks
from domain.results.entities import (
    BestResult,
    CellStatus,
    ColumnMeta,
    ResultTableMeta,
    ResultType,
    RuleEntry,
    StoredCell,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)
RUN_A, RUN_B = uuid.uuid4(), uuid.uuid4()


def _meta(column: ColumnMeta, rules: list[RuleEntry]) -> ResultTableMeta:
    return ResultTableMeta(test_id=uuid.uuid4(), name="t", columns_meta=[column], rows_meta=["r"],
                           validation_rules={column.name: rules} if rules else {})


def _cell(run: uuid.UUID, day: int, value: float) -> StoredCell:
    return StoredCell(run_id=run, sut_timestamp=T0 + timedelta(days=day), column="lat", row="r", value=value,
                      status=CellStatus.PASS)


def _lines(charts: list[dict]) -> dict[str, list[float]]:
    [chart] = charts
    return {d["label"]: [p["y"] for p in d["data"]] for d in chart["data"]["datasets"]}


def test_release_of_a_version() -> None:
    assert [release_of(v) for v in ("2024.1.3", "6.2.0~rc1", "2025.2.0~dev", "7")] == ["2024.1", "6.2", "dev", "7"]


def test_lower_is_better_takes_the_lowest_limit_and_the_rule_in_force() -> None:
    column = ColumnMeta(name="lat", unit="ms", type=ResultType.FLOAT, higher_is_better=False)
    rules = [RuleEntry(valid_from=T0, best_abs=5, fixed_limit=30),
             RuleEntry(valid_from=T0 + timedelta(days=1, hours=12), fixed_limit=12)]
    bests = [BestResult(key="lat:r", value=10, result_date=T0 + timedelta(days=30), run_id=RUN_A)]
    lines = _lines(table_charts(_meta(column, rules), [_cell(RUN_A, 0, 10), _cell(RUN_B, 2, 11)], bests, {},
                                "scylla-server"))
    # Day 0: min(30, 10 + 5); day 2: the newer rule, fixed 12 only.
    assert lines == {"r": [10.0, 11.0], "best - r": [10.0, 10.0], "error threshold - r": [15.0, 12.0]}


def test_a_dropped_rule_draws_no_threshold_and_untracked_columns_no_lines() -> None:
    tracked = ColumnMeta(name="lat", type=ResultType.FLOAT, higher_is_better=True)
    dropped = [RuleEntry(valid_from=T0 - timedelta(days=9), fixed_limit=1),
               RuleEntry(valid_from=T0 - timedelta(days=1))]
    assert "error threshold - r" not in _lines(table_charts(_meta(tracked, dropped), [_cell(RUN_A, 0, 3)], [], {}, "s"))
    untracked = ColumnMeta(name="lat", type=ResultType.FLOAT)
    assert list(_lines(table_charts(_meta(untracked, []), [_cell(RUN_A, 0, 3)], [], {}, "s"))) == ["r"]


def test_series_split_by_release_and_carry_package_changes() -> None:
    column = ColumnMeta(name="lat", type=ResultType.FLOAT)
    facts = {RUN_A: RunFacts(release="6.1", sut_version="6.1.0", packages={"driver": "1.0"}),
             RUN_B: RunFacts(release="6.2", sut_version="6.2.0", packages={"driver": "1.0"})}
    [chart] = table_charts(_meta(column, []), [_cell(RUN_B, 1, 2), _cell(RUN_A, 0, 1)], [], facts, "scylla")
    first, second = chart["data"]["datasets"]
    assert (first["label"], second["label"]) == ("6.1 - r", "6.2 - r")
    assert second["data"][0]["changes"] == ["scylla: 6.2.0"] and second["data"][0]["dep_change"] is False
    assert ticks([chart]) == {"min": "2025-03-01", "max": "2025-03-02"}
    assert ticks([]) == {}


def test_text_and_hidden_columns_have_no_chart() -> None:
    text = ColumnMeta(name="lat", type=ResultType.TEXT)
    hidden = ColumnMeta(name="lat", type=ResultType.FLOAT, visible=False)
    for column in (text, hidden):
        assert table_charts(_meta(column, []), [_cell(RUN_A, 0, 1)], [], {}, "s") == []
