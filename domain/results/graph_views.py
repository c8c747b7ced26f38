"""Graph views: named subsets of a test's results charts that people save to look at together.

A view addresses a chart by its title, ``"<table> - <column>"``, and keeps an opaque per-chart
string the page owns (the existing page stores ``"{}"``, meant for sizes and the like). Views are
small, so every bound here is generous for people and tight for abuse.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from domain.errors import InvalidInput

MAX_VIEW_NAME_LENGTH = 200
MAX_VIEW_DESCRIPTION_LENGTH = 2000
MAX_VIEW_GRAPHS = 500  # charts in one view
MAX_GRAPH_TITLE_LENGTH = 500  # table name (≤ 200) + " - " + column name (≤ 200), with room
MAX_GRAPH_PROPERTIES_LENGTH = 2000
MAX_VIEWS_PER_TEST = 100


class GraphView(msgspec.Struct, kw_only=True, frozen=True):
    """A saved view of a test's charts; ``graphs`` maps a chart title to the page's properties for it."""

    test_id: UUID
    id: UUID
    name: str
    description: str = ""
    graphs: dict[str, str] = msgspec.field(default_factory=dict)


def check_view_fields(name: str, description: str, graphs: dict[str, str]) -> None:
    """Reject what would make a view unusable on the page or oversized in storage."""
    if not name.strip():
        raise InvalidInput("Graph view name must not be empty")
    if len(name) > MAX_VIEW_NAME_LENGTH:
        raise InvalidInput(f"Graph view name must be at most {MAX_VIEW_NAME_LENGTH} characters")
    if len(description) > MAX_VIEW_DESCRIPTION_LENGTH:
        raise InvalidInput(f"Graph view description must be at most {MAX_VIEW_DESCRIPTION_LENGTH} characters")
    if len(graphs) > MAX_VIEW_GRAPHS:
        raise InvalidInput(f"A graph view holds at most {MAX_VIEW_GRAPHS} graphs, got {len(graphs)}")
    for title, properties in graphs.items():
        if not title.strip() or len(title) > MAX_GRAPH_TITLE_LENGTH:
            raise InvalidInput(f"Graph titles must be 1 to {MAX_GRAPH_TITLE_LENGTH} characters: {title[:50]!r}")
        if len(properties) > MAX_GRAPH_PROPERTIES_LENGTH:
            raise InvalidInput(f"Properties of graph {title[:50]!r} must be at most "
                               f"{MAX_GRAPH_PROPERTIES_LENGTH} characters")
