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
    Migration(4, "results tables", create=(
        tables.result_tables, tables.result_cells, tables.result_table_runs, tables.result_run_tables,
        tables.result_best,
    )),
    Migration(5, "driver-matrix collections, sirenada cases, pytest results", create=(
        tables.driver_collections, tables.sirenada_cases, tables.pytest_results, tables.pytest_results_by_run,
    )),
    Migration(6, "sct run data", create=(
        tables.sct_resources, tables.sct_stress_commands, tables.sct_junit_reports, tables.run_configurations,
        tables.run_config_params,
    )),
    Migration(7, "sct events and nemeses", create=(tables.sct_events, tables.sct_event_counts, tables.sct_nemeses)),
    Migration(8, "sessions, login throttling, audit log", create=(
        tables.sessions, tables.owner_sessions, tables.login_failures, tables.audit_log, tables.audit_buckets,
    )),
    Migration(9, "external identity links", create=(tables.identity_links,)),
    Migration(10, "profile pictures", create=(tables.user_pictures,)),
    Migration(11, "release versions and images", create=(tables.release_versions, tables.release_images)),
    Migration(12, "catalogue version token for search caches", create=(tables.catalogue_version,)),
    Migration(13, "results graph views", create=(tables.result_graph_views,)),
    Migration(14, "results cells by SUT time", create=(tables.result_cells_by_time,)),
)
