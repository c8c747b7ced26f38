"""The table layer both storage engines implement; repositories are written once against it.

Operations follow Cassandra's model so the ScyllaDB engine maps one to one and SQLite emulates:
writes are upserts of the given columns, conditional writes (``if_not_exists``, ``if_exists``,
``if_equal``) are atomic and report whether they applied, reads address one partition (or scan a
small table) and page with an opaque cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from infrastructure.storage.schema import ColumnType, Migration, Table

Row = dict[str, Any]
Comparison = Literal["<", "<=", ">", ">="]


class StorageError(Exception):
    """The storage engine failed in a way the caller cannot fix (unreachable, timed out)."""


class StorageUnavailable(StorageError):
    """The database cannot be reached right now; callers answer 503 and retry later."""


class InvalidCursor(ValueError):
    """A paging cursor was not produced by this table and query."""


@dataclass(frozen=True)
class Bound:
    """A range condition on a clustering column, e.g. ``start_time < t`` for keyset paging."""

    column: str
    op: Comparison
    value: Any


@dataclass(frozen=True)
class Page:
    """Rows of one read and the cursor of the next page (None at the end)."""

    rows: list[Row]
    cursor: bytes | None


class TableStore(Protocol):
    """A storage engine seen through the table layer."""

    engine: str

    async def insert(self, table: Table, row: Mapping[str, Any], *, if_not_exists: bool = False,
                     ttl: int | None = None) -> bool:
        """Upsert ``row``; with ``if_not_exists`` write only when the key is new, and say so."""
        ...

    async def update(self, table: Table, key: Mapping[str, Any], values: Mapping[str, Any], *,
                     if_exists: bool = False, if_equal: Mapping[str, Any] | None = None) -> bool:
        """Set ``values`` on the row at ``key``; conditional forms report whether they applied."""
        ...

    async def delete(self, table: Table, key: Mapping[str, Any], *, if_equal: Mapping[str, Any] | None = None
                     ) -> bool:
        """Delete the row at ``key`` (or a whole partition when only the partition key is given)."""
        ...

    async def get(self, table: Table, key: Mapping[str, Any], columns: Sequence[str] | None = None) -> Row | None:
        """The row at the full primary key ``key``, if present."""
        ...

    async def select(self, table: Table, partition: Mapping[str, Any], *, bounds: Sequence[Bound] = (),
                     reverse: bool = False, limit: int = 1000, cursor: bytes | None = None,
                     columns: Sequence[str] | None = None) -> Page:
        """Up to ``limit`` rows of one partition in clustering order (or reversed)."""
        ...

    async def scan(self, table: Table, *, limit: int = 1000, cursor: bytes | None = None,
                   columns: Sequence[str] | None = None) -> Page:
        """Up to ``limit`` rows of the whole table, for small tables only (no order guaranteed)."""
        ...

    async def migrate(self, migrations: Sequence[Migration]) -> list[int]:
        """Apply the migrations not yet applied, once, even when several processes start at once."""
        ...

    async def applied_migrations(self) -> list[int]:
        """Versions already applied, ascending."""
        ...

    async def ping(self) -> None:
        """Raise ``StorageUnavailable`` unless the database answers a trivial query."""
        ...

    async def close(self) -> None:
        """Release connections and threads."""
        ...


def check_key(table: Table, key: Mapping[str, Any], *, full: bool) -> None:
    """Reject keys that do not address a partition (or, with ``full``, one row) of ``table``."""
    wanted = table.primary_key if full else table.partition_key
    names = tuple(key)
    if full and set(names) != set(wanted):
        raise ValueError(f"{table.name}: key must be exactly {wanted}, got {names}")
    if not full and not (set(table.partition_key) <= set(names) <= set(table.primary_key)):
        raise ValueError(f"{table.name}: key must contain the partition key {table.partition_key}, got {names}")
    for name, value in key.items():
        if value is None:
            raise ValueError(f"{table.name}: key column {name} is None")


def check_bounds(table: Table, bounds: Sequence[Bound]) -> None:
    """Only clustering columns can bound a partition read."""
    clustering = table.clustering_names
    for bound in bounds:
        if bound.column not in clustering:
            raise ValueError(f"{table.name}: {bound.column} is not a clustering column")
        if bound.op not in ("<", "<=", ">", ">="):
            raise ValueError(f"{table.name}: unsupported comparison {bound.op}")


def selected_columns(table: Table, columns: Sequence[str] | None) -> list[str]:
    """The columns a read returns: the requested ones (checked) or all of them."""
    names = list(columns or table.column_names)
    table.check_columns(names)
    return names


def comparisons(table: Table, values: Mapping[str, Any], convert: Callable[[ColumnType, Any], Any], *,
                quote: Callable[[str], str] = str, op: str = "=") -> tuple[list[str], list[Any]]:
    """``column <op> ?`` fragments for ``values`` and their parameters in the engine's representation."""
    return ([f"{quote(name)} {op} ?" for name in values],
            [convert(table.column(name).type, value) for name, value in values.items()])


def bound_conditions(table: Table, bounds: Sequence[Bound], convert: Callable[[ColumnType, Any], Any], *,
                     quote: Callable[[str], str] = str) -> tuple[list[str], list[Any]]:
    """Range fragments on clustering columns, checked first."""
    check_bounds(table, bounds)
    return ([f"{quote(b.column)} {b.op} ?" for b in bounds],
            [convert(table.column(b.column).type, b.value) for b in bounds])
