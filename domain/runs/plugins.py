"""Run types: each CI framework reports a different kind of run, stored in its own table."""

from __future__ import annotations

import enum


class PluginName(enum.StrEnum):
    """The run types a test can have, with the exact strings the ``argus-alm`` client sends."""

    SCT = "scylla-cluster-tests"
    GENERIC = "generic"
    DRIVER_MATRIX = "driver-matrix-tests"
    SIRENADA = "sirenada"
