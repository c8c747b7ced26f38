"""The catalogue: releases contain groups, groups contain tests, tests own runs by build id."""

from __future__ import annotations

from uuid import UUID

import msgspec

from domain.runs.plugins import PluginName


class Release(msgspec.Struct, kw_only=True):
    """A product line being tested, named after its Jenkins top-level folder (``scylla-master``)."""

    id: UUID
    name: str
    pretty_name: str = ""
    description: str = ""
    github_repo_url: str | None = None
    valid_version_regex: str | None = None
    assignee: list[UUID] = msgspec.field(default_factory=list)
    picture_id: UUID | None = None
    enabled: bool = True
    perpetual: bool = False
    dormant: bool = False


class Group(msgspec.Struct, kw_only=True):
    """A folder of tests inside a release; ``build_system_id`` is its Jenkins folder path."""

    id: UUID
    release_id: UUID
    name: str
    pretty_name: str = ""
    description: str = ""
    assignee: list[UUID] = msgspec.field(default_factory=list)
    build_system_id: str = ""
    enabled: bool = True


class Test(msgspec.Struct, kw_only=True):
    """One CI job; its runs are found through ``build_system_id`` (the Jenkins job path)."""

    __test__ = False  # keeps pytest from collecting the entity as a test class

    id: UUID
    group_id: UUID
    release_id: UUID
    name: str
    build_system_id: str
    pretty_name: str = ""
    description: str = ""
    assignee: list[UUID] = msgspec.field(default_factory=list)
    enabled: bool = True
    build_system_url: str = ""
    plugin_name: PluginName | None = None
    plugin_subtype: str | None = None


class GroupPlan(msgspec.Struct, frozen=True):
    """A group to create, with the names of its tests."""

    name: str
    pretty_name: str = ""
    tests: tuple[str, ...] = ()


class ReleasePlan(msgspec.Struct, frozen=True):
    """A release to create with its groups and tests in one go."""

    name: str
    pretty_name: str = ""
    groups: tuple[GroupPlan, ...] = ()
