"""Where a Jenkins job path puts a test in the catalogue when nobody created it beforehand."""

from __future__ import annotations

import msgspec

from domain.errors import InvalidInput

UNTRACKED = "untracked"


class CataloguePlacement(msgspec.Struct, frozen=True):
    """Release, group and test names derived from a build id, plus the group's folder path."""

    release: str
    group: str
    test: str
    group_build_system_id: str


def place_build_id(build_id: str) -> CataloguePlacement:
    """Map ``release/folder.../test`` to catalogue names the way the existing service does.

    ``a/b/c`` is release a, group b, test c; ``a/b`` puts b in group ``a-root``; a bare ``a``
    lands in the ``untracked`` release and group; deeper folders are joined with ``-``.
    """
    parts = [part for part in build_id.strip().split("/") if part]
    if not parts:
        raise InvalidInput("Build id is empty", build_id)
    if len(parts) == 1:
        return CataloguePlacement(UNTRACKED, UNTRACKED, parts[0], "")
    release, *folders, test = parts
    group = "-".join(folders) if folders else f"{release}-root"
    return CataloguePlacement(release, group, test, "/".join(parts[:-1]))
