"""DI providers: each field of the composition root's ``Services`` is injectable by its name.

Handlers declare what they use (``runs: NamedDependency[RunService]``); deriving the providers from
``Services`` keeps one list of services, in the composition root.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar.datastructures import State
from litestar.di import Provide

from infrastructure.composition import Services


def provide_services(state: State) -> Services:
    """The services the lifespan opened."""
    return state.services


def _provider(name: str) -> Provide:
    def provide(state: State) -> Any:
        return getattr(state.services, name)

    provide.__name__ = f"provide_{name}"
    return Provide(provide, sync_to_thread=False)


DEPENDENCIES: dict[str, Any] = {
    "services": Provide(provide_services, sync_to_thread=False),
    **{field.name: _provider(field.name) for field in dataclasses.fields(Services)},
}
