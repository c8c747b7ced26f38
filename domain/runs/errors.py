"""Failures of the run use cases, named so clients can tell them apart."""

from __future__ import annotations

from domain.errors import InvalidInput, NotFound


class RunNotFound(NotFound):
    """No run has this id (under this run type)."""


class UnsupportedRunType(InvalidInput):
    """The run type in the URL is not one Argus knows."""


class UnsupportedOperation(InvalidInput):
    """The run type does not support this call (sirenada has no finalize or logs)."""
