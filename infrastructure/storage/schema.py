"""Table declarations shared by both storage engines.

A table is declared once, Cassandra style (partition key, clustering columns with their order),
and each engine renders its own DDL and statements from it. Keeping the declaration engine-neutral
is what lets every repository be written once.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field


class ColumnType(enum.Enum):
    """Column types both engines can store with the same Python value on the way out."""

    TEXT = "text"
    INT = "int"
    BIGINT = "bigint"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    UUID = "uuid"
    TIMESTAMP = "timestamp"
    BLOB = "blob"
    LIST_TEXT = "list<text>"
    LIST_UUID = "list<uuid>"
    SET_TEXT = "set<text>"
    MAP_TEXT_TEXT = "map<text, text>"
    MAP_TEXT_INT = "map<text, int>"

    @property
    def is_collection(self) -> bool:
        """Collections are JSON in SQLite and native in CQL."""
        return self.value.startswith(("list", "set", "map"))


class Order(enum.Enum):
    """Clustering order of a column."""

    ASC = "ASC"
    DESC = "DESC"

    def reversed(self) -> Order:
        """The opposite direction, for reading a partition backwards."""
        return Order.DESC if self is Order.ASC else Order.ASC


@dataclass(frozen=True)
class Column:
    """A named, typed column."""

    name: str
    type: ColumnType


@dataclass(frozen=True)
class Table:
    """A table with Cassandra's key structure: rows of a partition are sorted by clustering columns."""

    name: str
    columns: tuple[Column, ...]
    partition_key: tuple[str, ...]
    clustering: tuple[tuple[str, Order], ...] = ()
    comment: str = ""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {c.name: c for c in self.columns}
        object.__setattr__(self, "_by_name", by_name)
        missing = [n for n in (*self.partition_key, *self.clustering_names) if n not in by_name]
        if missing or not self.partition_key:
            raise ValueError(f"table {self.name}: key columns {missing or 'partition key'} not declared")

    @property
    def clustering_names(self) -> tuple[str, ...]:
        """Clustering column names in order."""
        return tuple(name for name, _ in self.clustering)

    @property
    def primary_key(self) -> tuple[str, ...]:
        """Partition key followed by clustering columns: what identifies one row."""
        return (*self.partition_key, *self.clustering_names)

    @property
    def column_names(self) -> tuple[str, ...]:
        """Every column name in declaration order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name``; ``KeyError`` names the table when it does not exist."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"table {self.name} has no column {name}") from None

    def check_columns(self, names: Sequence[str]) -> None:
        """Reject unknown column names before a statement is built from them."""
        for name in names:
            self.column(name)


def table(name: str, columns: dict[str, ColumnType], *, partition_key: Sequence[str],
          clustering: Sequence[tuple[str, Order]] = (), comment: str = "") -> Table:
    """Declare a table from a ``{column: type}`` mapping, which reads like the DDL it becomes."""
    return Table(name=name, columns=tuple(Column(n, t) for n, t in columns.items()),
                 partition_key=tuple(partition_key), clustering=tuple(clustering), comment=comment)


@dataclass(frozen=True)
class AddColumn:
    """A schema change: add a nullable column to an existing table."""

    table: str
    column: Column


@dataclass(frozen=True)
class Migration:
    """One numbered, append-only schema step; both engines apply the same steps in order."""

    version: int
    name: str
    create: tuple[Table, ...] = ()
    add_columns: tuple[AddColumn, ...] = ()
