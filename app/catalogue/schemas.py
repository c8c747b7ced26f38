"""Request and response shapes of the catalogue routes (entities go out as they are)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from domain.catalogue.entities import Group, Release, Test

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TestInfo(msgspec.Struct):
    """A test with the group and release it belongs to."""

    __test__ = False

    test: Test
    group: Group
    release: Release


class GroupSpec(msgspec.Struct, forbid_unknown_fields=True):
    """One group of a ``release/create`` request and the names of its tests."""

    pretty_name: str = ""
    tests: list[Name] = msgspec.field(default_factory=list)


class ReleaseSpec(msgspec.Struct, forbid_unknown_fields=True):
    """One release of a ``release/create`` request."""

    groups: dict[Name, GroupSpec] = msgspec.field(default_factory=dict)
    pretty_name: str = ""


class GroupCreated(msgspec.Struct):
    """What was created for one group (the existing service's answer shape)."""

    status: str
    tests: dict[str, str]


class ReleaseCreated(msgspec.Struct):
    """What was created for one release."""

    groups: dict[str, GroupCreated]
