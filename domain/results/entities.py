"""Results tables: a named table belongs to a test; each run fills in cells of it.

The metadata (columns, rows, rule history) is shared by every run of the test, so a chart can line
up the same cell across runs; the cells themselves belong to one run.
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import msgspec


class ResultType(enum.StrEnum):
    """How a column's values read; the wire carries the upper-case names."""

    INTEGER = "INTEGER"
    FLOAT = "FLOAT"
    DURATION = "DURATION"  # seconds; the UI formats them with the column's unit
    TEXT = "TEXT"


class CellStatus(enum.StrEnum):
    """A cell's verdict; ``UNSET`` asks the service to judge it against the column's rule."""

    PASS = "PASS"
    WARNING = "WARNING"
    ERROR = "ERROR"
    UNSET = "UNSET"


class ColumnMeta(msgspec.Struct, kw_only=True, frozen=True):
    """A column; ``higher_is_better`` None means the column is neither tracked for bests nor judged."""

    name: str
    unit: str = ""
    type: ResultType
    higher_is_better: bool | None = None
    visible: bool = True


class ValidationRule(msgspec.Struct, kw_only=True, frozen=True):
    """Limits a cell must beat: a fixed one, and ones relative to the best result (percent, absolute)."""

    best_pct: float | None = None
    best_abs: float | None = None
    fixed_limit: float | None = None


NO_RULE = ValidationRule()  # what a column whose rule was dropped from the payload gets


class RuleEntry(msgspec.Struct, kw_only=True, frozen=True):
    """A rule in force from ``valid_from``; the history lets a chart draw the limit of each date."""

    valid_from: datetime
    best_pct: float | None = None
    best_abs: float | None = None
    fixed_limit: float | None = None

    @classmethod
    def starting(cls, rule: ValidationRule, valid_from: datetime) -> RuleEntry:
        """``rule`` as a history entry from ``valid_from``."""
        return cls(valid_from=valid_from, best_pct=rule.best_pct, best_abs=rule.best_abs,
                   fixed_limit=rule.fixed_limit)

    def limits(self, best_value: float | None, *, higher_is_better: bool) -> list[float]:
        """Every limit a value must strictly beat: the fixed one, and best ∓ pct% / best ∓ abs.

        Submission judges cells against all of them and charts draw the strictest, so both read
        them from here.
        """
        found = [] if self.fixed_limit is None else [self.fixed_limit]
        if best_value is not None:
            sign = 1 if higher_is_better else -1
            if self.best_pct is not None:
                found.append(best_value * (1 - sign * self.best_pct / 100))
            if self.best_abs is not None:
                found.append(best_value - sign * self.best_abs)
        return found

    @property
    def rule(self) -> ValidationRule:
        """The limits without the date, for comparing with a submitted rule."""
        return ValidationRule(best_pct=self.best_pct, best_abs=self.best_abs, fixed_limit=self.fixed_limit)


class Cell(msgspec.Struct, kw_only=True, frozen=True):
    """One submitted value: ``value`` for numeric columns, ``value_text`` for TEXT ones, never both."""

    column: str
    row: str
    value: float | None = None
    value_text: str | None = None
    status: CellStatus = CellStatus.UNSET

    @property
    def key(self) -> str:
        """``column:row``, the key best results are tracked under."""
        return f"{self.column}:{self.row}"


class StoredCell(msgspec.Struct, kw_only=True, frozen=True):
    """A cell as stored for one run, with the SUT time charts use as their x axis."""

    run_id: UUID
    sut_timestamp: datetime
    column: str
    row: str
    value: float | None = None
    value_text: str | None = None
    status: CellStatus = CellStatus.UNSET


class ResultTableMeta(msgspec.Struct, kw_only=True):
    """What every run of a test shares about one named table.

    ``rows_meta`` only grows (first-appearance order), so old runs keep their rows;
    ``validation_rules`` keeps every rule a column ever had, newest last. ``revision`` counts
    changes so two concurrent submissions merging into the same table never lose each other's rows.
    """

    test_id: UUID
    name: str
    description: str = ""
    columns_meta: list[ColumnMeta] = msgspec.field(default_factory=list)
    rows_meta: list[str] = msgspec.field(default_factory=list)
    validation_rules: dict[str, list[RuleEntry]] = msgspec.field(default_factory=dict)
    sut_package_name: str = ""
    revision: int = 0

    def column(self, name: str) -> ColumnMeta | None:
        """The column of this name, if the table has it."""
        return next((c for c in self.columns_meta if c.name == name), None)

    def latest_rule(self, column: str) -> RuleEntry | None:
        """The rule now in force for ``column``, if it ever had one."""
        history = self.validation_rules.get(column)
        return history[-1] if history else None


class BestResult(msgspec.Struct, kw_only=True, frozen=True):
    """An improvement of the best value of ``key`` (``column:row``); the newest one is the current best."""

    key: str
    value: float
    result_date: datetime
    run_id: UUID


class ResultSubmission(msgspec.Struct, kw_only=True, frozen=True):
    """One table submitted by a run, mapped from the ``submit_results`` body.

    Field ↔ wire: ``name``, ``description``, ``columns_meta``, ``rows_meta``, ``validation_rules``
    (``{column: rule}``) and ``sut_package_name`` come from ``meta``; ``sut_timestamp`` is the top-level
    ``sut_timestamp`` once the caller has resolved ``0`` (epoch seconds, must be > 0); ``cells`` is the
    top-level ``results`` list (each ``{column, row, status, value | value_text}``).
    """

    name: str
    description: str = ""
    columns_meta: list[ColumnMeta]
    rows_meta: list[str] = msgspec.field(default_factory=list)
    validation_rules: dict[str, ValidationRule] = msgspec.field(default_factory=dict)
    sut_package_name: str = ""
    sut_timestamp: float
    cells: list[Cell]


class SubmissionOutcome(msgspec.Struct, kw_only=True, frozen=True):
    """What a stored submission came to; ERROR cells are CI's "performance regression" signal."""

    name: str
    stored_cells: int
    new_best_results: int
    error_cells: tuple[str, ...] = ()  # ``column:row`` of every cell whose final status is ERROR

    @property
    def has_errors(self) -> bool:
        """Whether the caller must answer ``DataValidationError`` (after the data was stored)."""
        return bool(self.error_cells)


class CellView(msgspec.Struct, kw_only=True, frozen=True):
    """A cell as the run page shows it; ``type`` is None for a column no longer in the table."""

    value: float | str | None
    status: CellStatus
    type: ResultType | None


class RunResultTable(msgspec.Struct, kw_only=True, frozen=True):
    """One table of one run, ready for the run page (``table_data`` is ``{row: {column: cell}}``)."""

    name: str
    description: str
    columns: list[ColumnMeta]
    rows: list[str]
    table_data: dict[str, dict[str, CellView]]
    table_status: CellStatus


class HistoryPoint(msgspec.Struct, kw_only=True, frozen=True):
    """One numeric cell of one run, a point of a column's chart."""

    sut_timestamp: datetime
    run_id: UUID
    row: str
    value: float
    status: CellStatus


class TableHistory(msgspec.Struct, kw_only=True, frozen=True):
    """A table across runs: per column its points (oldest first), the bests and the rule history.

    Best results and rules are complete histories, so a chart can draw the limit in force at each
    point's date.
    """

    name: str
    description: str
    columns: list[ColumnMeta]
    rows: list[str]
    series: dict[str, list[HistoryPoint]]
    best_results: list[BestResult]
    validation_rules: dict[str, list[RuleEntry]]
