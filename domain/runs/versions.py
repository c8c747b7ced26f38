"""Reading product versions and build numbers the way CI reports them."""

from __future__ import annotations

import re

# <short>-[0.]YYYYMMDD.<commit>... as Scylla packages name their builds (2024.2.0~rc1-0.20240601.abcdef1).
FULL_VERSION = re.compile(r"(?P<short>[\w.\-~]+)-(?P<build>(0\.)?(?P<date>[0-9]{8})\.(?P<commit>\w+).*)")
BUILD_NUMBER = re.compile(r"/(\d+)/?$")


def split_version(version: str) -> tuple[str, str]:
    """(short version, full version) of a product version string.

    The existing service silently dropped versions that lack the build part (a bare ``6.1.0``);
    here such a version is kept as both short and full form, because it is still the version.
    """
    version = version.strip()
    match = FULL_VERSION.fullmatch(version)
    return (match.group("short"), version) if match else (version, version)


def build_number_from_url(url: str) -> int | None:
    """The Jenkins build number, the last path segment of a build URL, if it is a number."""
    match = BUILD_NUMBER.search(url.strip())
    return int(match.group(1)) if match else None
