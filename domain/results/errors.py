"""The failure CI tooling treats as a performance regression signal."""

from __future__ import annotations

from domain.errors import DomainError


class DataValidationError(DomainError):
    """A results table was stored, but some of its cells are ERROR (sent so, or judged so)."""

    def __init__(self, table: str, error_cells: list[str]) -> None:
        super().__init__(f"Results of table {table!r} failed validation: {', '.join(error_cells)}", table,
                         *error_cells)
        self.table = table
        self.error_cells = error_cells
