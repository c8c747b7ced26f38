"""Response shape of ``fetch_results``: the existing service puts the tables under ``tables``, not ``response``."""

from __future__ import annotations

from typing import Literal

import msgspec

from domain.results.entities import CellStatus, CellView, ColumnMeta, RunResultTable


class FetchedTable(msgspec.Struct):
    """One table of a run; its name is the key it is listed under."""

    description: str
    table_data: dict[str, dict[str, CellView]]
    columns: list[ColumnMeta]
    rows: list[str]
    table_status: CellStatus

    @classmethod
    def of(cls, table: RunResultTable) -> FetchedTable:
        """The wire form of a domain table."""
        return cls(description=table.description, table_data=table.table_data, columns=table.columns,
                   rows=table.rows, table_status=table.table_status)


class FetchedResults(msgspec.Struct):
    """``{"status": "ok", "tables": [{"<name>": table}, ...]}``, tables in the order the run submitted them."""

    tables: list[dict[str, FetchedTable]]
    status: Literal["ok"] = "ok"
