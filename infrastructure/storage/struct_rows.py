"""Conversion between domain structs and table rows, shared by every repository."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from infrastructure.storage.schema import Table

S = TypeVar("S", bound=msgspec.Struct)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | set | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def to_row(struct: msgspec.Struct, table: Table, **extra: Any) -> dict[str, Any]:
    """The struct's fields that ``table`` stores, with enums as their string values."""
    fields = msgspec.structs.asdict(struct)
    row = {name: _plain(fields[name]) for name in table.column_names if name in fields}
    row.update(extra)
    return row


def from_row(row: Mapping[str, Any], kind: type[S]) -> S:
    """A domain struct from a row; nulls fall back to the field's default, as CQL has no empty text."""
    return msgspec.convert({k: v for k, v in row.items() if v is not None}, kind, strict=False)
