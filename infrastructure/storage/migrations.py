"""The ordered, append-only list of schema migrations; never edit a released step, add one."""

from __future__ import annotations

from infrastructure.storage import tables
from infrastructure.storage.schema import Migration

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "catalogue", create=(
        tables.releases, tables.release_names, tables.groups, tables.group_locator, tables.group_names,
        tables.tests, tables.test_locator, tables.test_build_ids,
    )),
    Migration(2, "users and api tokens", create=(
        tables.users, tables.usernames, tables.api_tokens, tables.user_tokens,
    )),
    Migration(3, "runs and test summaries", create=(tables.runs, tables.run_locator, tables.test_summaries)),
)
