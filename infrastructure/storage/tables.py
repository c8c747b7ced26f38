"""Every table of the service, modelled by query as Cassandra wants.

Entity tables are partitioned by their parent so a listing is one partition read; a locator
table maps an id to its partition; a claim table keyed by a unique name or build id is written
with ``IF NOT EXISTS`` so uniqueness never depends on read-then-write.
"""

from __future__ import annotations

from infrastructure.storage.schema import ColumnType as T
from infrastructure.storage.schema import Order, table

releases = table("releases", {
    "id": T.UUID, "name": T.TEXT, "pretty_name": T.TEXT, "description": T.TEXT, "github_repo_url": T.TEXT,
    "valid_version_regex": T.TEXT, "assignee": T.LIST_UUID, "picture_id": T.UUID, "enabled": T.BOOLEAN,
    "perpetual": T.BOOLEAN, "dormant": T.BOOLEAN,
}, partition_key=["id"], comment="releases; listed by a scan, there are few")

release_names = table("release_names", {"name": T.TEXT, "release_id": T.UUID},
                      partition_key=["name"], comment="claim: release names are unique")

groups = table("groups", {
    "release_id": T.UUID, "id": T.UUID, "name": T.TEXT, "pretty_name": T.TEXT, "description": T.TEXT,
    "assignee": T.LIST_UUID, "build_system_id": T.TEXT, "enabled": T.BOOLEAN,
}, partition_key=["release_id"], clustering=[("id", Order.ASC)], comment="groups of a release")

group_locator = table("group_locator", {"id": T.UUID, "release_id": T.UUID}, partition_key=["id"])

group_names = table("group_names", {"release_id": T.UUID, "name": T.TEXT, "group_id": T.UUID},
                    partition_key=["release_id", "name"], comment="claim: group names are unique per release")

tests = table("tests", {
    "group_id": T.UUID, "id": T.UUID, "release_id": T.UUID, "name": T.TEXT, "pretty_name": T.TEXT,
    "description": T.TEXT, "assignee": T.LIST_UUID, "build_system_id": T.TEXT, "enabled": T.BOOLEAN,
    "build_system_url": T.TEXT, "plugin_name": T.TEXT, "plugin_subtype": T.TEXT,
}, partition_key=["group_id"], clustering=[("id", Order.ASC)], comment="tests of a group")

test_locator = table("test_locator", {"id": T.UUID, "group_id": T.UUID}, partition_key=["id"])

test_build_ids = table("test_build_ids", {"build_id": T.TEXT, "test_id": T.UUID, "group_id": T.UUID},
                       partition_key=["build_id"], comment="claim: one test per build id")

catalogue_version = table("catalogue_version", {"name": T.TEXT, "version": T.UUID}, partition_key=["name"],
                          comment="a token rewritten on every catalogue write; caches of the catalogue compare it")

users = table("users", {
    "id": T.UUID, "username": T.TEXT, "full_name": T.TEXT, "email": T.TEXT, "roles": T.SET_TEXT,
    "registration_date": T.TIMESTAMP, "picture_id": T.UUID, "password_hash": T.TEXT, "disabled": T.BOOLEAN,
}, partition_key=["id"])

usernames = table("usernames", {"username": T.TEXT, "user_id": T.UUID},
                  partition_key=["username"], comment="claim: usernames are unique")

api_tokens = table("api_tokens", {
    "token_hash": T.TEXT, "id": T.UUID, "user_id": T.UUID, "name": T.TEXT, "created_at": T.TIMESTAMP,
    "last_used_at": T.TIMESTAMP, "revoked": T.BOOLEAN,
}, partition_key=["token_hash"], comment="API tokens by SHA-256 of the secret")

user_tokens = table("user_tokens", {"user_id": T.UUID, "id": T.UUID, "token_hash": T.TEXT},
                    partition_key=["user_id"], clustering=[("id", Order.ASC)], comment="tokens of a user")

identity_links = table("identity_links", {
    "provider": T.TEXT, "subject": T.TEXT, "user_id": T.UUID, "login": T.TEXT, "email": T.TEXT,
    "avatar_url": T.TEXT, "linked_at": T.TIMESTAMP,
}, partition_key=["provider", "subject"],
    comment="claim: an external identity (github user id, cloudflare sub) logs in to one account")

user_pictures = table("user_pictures", {
    "id": T.UUID, "user_id": T.UUID, "content_type": T.TEXT, "data": T.BLOB, "created_at": T.TIMESTAMP,
}, partition_key=["id"], comment="profile pictures; a new upload gets a new id, so a picture never changes")

# -- identity: browser sessions, login throttling, audit log -------------------------------------
# Session and throttling rows are written with a TTL, so expired ones vanish on both engines.

sessions = table("sessions", {
    "secret_hash": T.TEXT, "id": T.UUID, "user_id": T.UUID, "created_at": T.TIMESTAMP,
    "last_seen_at": T.TIMESTAMP, "expires_at": T.TIMESTAMP, "user_agent": T.TEXT, "address": T.TEXT,
    "original_user_id": T.UUID,
}, partition_key=["secret_hash"], comment="browser sessions by SHA-256 of the cookie secret")

owner_sessions = table("owner_sessions", {"owner_id": T.UUID, "id": T.UUID, "secret_hash": T.TEXT},
                       partition_key=["owner_id"], clustering=[("id", Order.ASC)],
                       comment="sessions of an account (the administrator owns an impersonation)")

login_failures = table("login_failures", {"subject": T.TEXT, "id": T.UUID},
                       partition_key=["subject"], clustering=[("id", Order.ASC)],
                       comment="recent failed logins per username or address, one row per failure")

audit_log = table("audit_log", {
    "bucket": T.TEXT, "at": T.TIMESTAMP, "id": T.UUID, "actor_id": T.UUID, "action": T.TEXT, "target": T.TEXT,
    "details": T.MAP_TEXT_TEXT,
}, partition_key=["bucket"], clustering=[("at", Order.DESC), ("id", Order.DESC)],
    comment="privileged actions, one partition per month, newest first")

audit_buckets = table("audit_buckets", {"log": T.TEXT, "bucket": T.TEXT},
                      partition_key=["log"], clustering=[("bucket", Order.DESC)],
                      comment="months that have audit entries, newest first")

# -- runs ---------------------------------------------------------------------------------------

runs = table("runs", {
    "build_id": T.TEXT, "start_time": T.TIMESTAMP, "id": T.UUID, "plugin_name": T.TEXT, "release_id": T.UUID,
    "group_id": T.UUID, "test_id": T.UUID, "assignee": T.UUID, "status": T.TEXT, "investigation_status": T.TEXT,
    "heartbeat": T.BIGINT, "end_time": T.TIMESTAMP, "build_job_url": T.TEXT, "build_number": T.INT,
    "product_version": T.TEXT, "scylla_version": T.TEXT, "started_by": T.TEXT, "logs": T.TEXT, "details": T.TEXT,
}, partition_key=["build_id"], clustering=[("start_time", Order.DESC), ("id", Order.ASC)],
    comment="runs of a CI job, newest first; logs and details are JSON")

run_locator = table("run_locator", {
    "id": T.UUID, "build_id": T.TEXT, "start_time": T.TIMESTAMP, "plugin_name": T.TEXT,
}, partition_key=["id"], comment="claim and lookup: run id to its partition in runs")

test_summaries = table("test_summaries", {
    "release_id": T.UUID, "test_id": T.UUID, "group_id": T.UUID, "build_id": T.TEXT, "plugin_name": T.TEXT,
    "last_runs": T.TEXT, "updated_at": T.TIMESTAMP,
}, partition_key=["release_id"], clustering=[("test_id", Order.ASC)],
    comment="latest runs per test, rewritten on every run write; one partition per release dashboard")

release_versions = table("release_versions", {"release_id": T.UUID, "version": T.TEXT},
                         partition_key=["release_id"], clustering=[("version", Order.ASC)],
                         comment="distinct product versions of a release's runs, added when a summary names one")

release_images = table("release_images", {"release_id": T.UUID, "image_id": T.TEXT},
                       partition_key=["release_id"], clustering=[("image_id", Order.ASC)],
                       comment="distinct DB-node image ids of a release's runs, added when a summary names one")

# -- per-type run data --------------------------------------------------------------------------

driver_collections = table("driver_collections", {
    "run_id": T.UUID, "name": T.TEXT, "driver_type": T.TEXT, "data": T.TEXT,
}, partition_key=["run_id"], clustering=[("name", Order.ASC)], comment="driver-matrix results per driver, JSON")

sirenada_cases = table("sirenada_cases", {
    "run_id": T.UUID, "case_key": T.TEXT, "data": T.TEXT,
}, partition_key=["run_id"], clustering=[("case_key", Order.ASC)], comment="sirenada cases of a run, JSON")

pytest_results = table("pytest_results", {
    "name": T.TEXT, "id": T.TIMESTAMP, "status": T.TEXT, "run_id": T.UUID, "data": T.TEXT,
}, partition_key=["name"], clustering=[("id", Order.DESC), ("status", Order.ASC)],
    comment="pytest reports by test name, newest first, JSON")

pytest_results_by_run = table("pytest_results_by_run", {
    "run_id": T.UUID, "name": T.TEXT, "id": T.TIMESTAMP, "status": T.TEXT, "data": T.TEXT,
}, partition_key=["run_id"], clustering=[("name", Order.ASC), ("id", Order.DESC), ("status", Order.ASC)],
    comment="pytest reports of a run, JSON")

# -- results ------------------------------------------------------------------------------------
#
# A results table belongs to a test and is named; its cells belong to runs and are upserted by
# (run, column, row), each keeping the SUT time (epoch seconds) of the submission that wrote it.
# Two index partitions serve the reads without scans: the tables of a run (the run page) and the
# runs of a table by SUT time (a history bounded to its newest runs).

result_tables = table("result_tables", {
    "test_id": T.UUID, "name": T.TEXT, "description": T.TEXT, "columns_meta": T.TEXT, "rows_meta": T.LIST_TEXT,
    "validation_rules": T.TEXT, "sut_package_name": T.TEXT, "revision": T.INT,
}, partition_key=["test_id"], clustering=[("name", Order.ASC)],
    comment="results table metadata of a test; columns_meta and validation_rules are JSON; written with LWT")

result_cells = table("result_cells", {
    "test_id": T.UUID, "table_name": T.TEXT, "run_id": T.UUID, "column_name": T.TEXT, "row_name": T.TEXT,
    "sut_timestamp": T.DOUBLE, "value": T.DOUBLE, "value_text": T.TEXT, "status": T.TEXT,
}, partition_key=["test_id", "table_name"],
    clustering=[("run_id", Order.ASC), ("column_name", Order.ASC), ("row_name", Order.ASC)],
    comment="cells of a results table; a run's cells are one slice")

result_run_tables = table("result_run_tables", {
    "test_id": T.UUID, "run_id": T.UUID, "table_name": T.TEXT, "sut_timestamp": T.DOUBLE,
    "first_submitted_at": T.TIMESTAMP,
}, partition_key=["test_id", "run_id"], clustering=[("table_name", Order.ASC)],
    comment="results tables of a run with its latest SUT time in each")

result_table_runs = table("result_table_runs", {
    "test_id": T.UUID, "table_name": T.TEXT, "sut_timestamp": T.DOUBLE, "run_id": T.UUID,
}, partition_key=["test_id", "table_name"], clustering=[("sut_timestamp", Order.DESC), ("run_id", Order.ASC)],
    comment="runs of a results table at their latest SUT time, newest first")

# The same cells again, ordered as a graph reads them: a table's newest runs are one partition slice
# instead of a read per run. A run's cells sit at the run's latest SUT time (``run_sut``, as in
# result_table_runs) and are moved when it changes; the row with empty column and row names marks
# the run's copy as complete (column names are never empty). Runs without it are read from result_cells.
result_cells_by_time = table("result_cells_by_time", {
    "test_id": T.UUID, "table_name": T.TEXT, "run_sut": T.DOUBLE, "run_id": T.UUID, "column_name": T.TEXT,
    "row_name": T.TEXT, "sut_timestamp": T.DOUBLE, "value": T.DOUBLE, "value_text": T.TEXT, "status": T.TEXT,
}, partition_key=["test_id", "table_name"], clustering=[("run_sut", Order.DESC), ("run_id", Order.ASC),
                                                        ("column_name", Order.ASC), ("row_name", Order.ASC)],
    comment="cells of a results table by their run's latest SUT time, newest first; a copy of result_cells")

result_best = table("result_best", {
    "test_id": T.UUID, "table_name": T.TEXT, "key": T.TEXT, "result_date": T.TIMESTAMP, "value": T.DOUBLE,
    "run_id": T.UUID,
}, partition_key=["test_id", "table_name"], clustering=[("key", Order.ASC), ("result_date", Order.DESC)],
    comment="append-only best-result history per column:row key, newest first")

result_graph_views = table("result_graph_views", {
    "test_id": T.UUID, "id": T.UUID, "name": T.TEXT, "description": T.TEXT, "graphs": T.MAP_TEXT_TEXT,
    "created_at": T.TIMESTAMP,
}, partition_key=["test_id"], clustering=[("id", Order.ASC)],
    comment="saved graph views of a test; graphs maps a chart title to the page's properties for it")

# -- SCT events and nemeses ---------------------------------------------------------------------
#
# Events are the hottest write path: one partition per (run, severity), newest first, so the run
# page reads the head of at most five partitions. Counts per severity live in their own small
# partition, bumped only for keys that were new (see sct_events_repository.py).

sct_events = table("sct_events", {
    "run_id": T.UUID, "severity": T.TEXT, "ts": T.TIMESTAMP, "event_id": T.UUID, "event_type": T.TEXT,
    "message": T.TEXT, "node": T.TEXT, "received_timestamp": T.TIMESTAMP, "nemesis_name": T.TEXT,
    "duration": T.DOUBLE, "target_node": T.TEXT, "nemesis_status": T.TEXT, "known_issue": T.TEXT,
}, partition_key=["run_id", "severity"], clustering=[("ts", Order.DESC)],
    comment="SCT events of a run per severity, newest first; the same ts overwrites")

sct_event_counts = table("sct_event_counts", {"run_id": T.UUID, "severity": T.TEXT, "total": T.BIGINT},
                         partition_key=["run_id"], clustering=[("severity", Order.ASC)],
                         comment="events per severity of a run, updated by compare-and-set")

sct_nemeses = table("sct_nemeses", {
    "run_id": T.UUID, "start_time": T.BIGINT, "name": T.TEXT, "class_name": T.TEXT, "target_name": T.TEXT,
    "target_ip": T.TEXT, "target_shards": T.INT, "status": T.TEXT, "end_time": T.BIGINT, "duration": T.BIGINT,
    "stack_trace": T.TEXT,
}, partition_key=["run_id"], clustering=[("start_time", Order.ASC)],
    comment="nemeses of an SCT run by start time (epoch seconds)")

# -- SCT run data -------------------------------------------------------------------------------

sct_resources = table("sct_resources", {
    "run_id": T.UUID, "name": T.TEXT, "state": T.TEXT, "resource_type": T.TEXT, "instance_info": T.TEXT,
}, partition_key=["run_id"], clustering=[("name", Order.ASC)],
    comment="machines an SCT run allocated; instance_info is JSON")

sct_stress_commands = table("sct_stress_commands", {
    "run_id": T.UUID, "ts": T.TIMESTAMP, "cmd": T.TEXT, "log_name": T.TEXT, "node_name": T.TEXT,
}, partition_key=["run_id"], clustering=[("ts", Order.DESC)], comment="stress commands of an SCT run, newest first")

sct_junit_reports = table("sct_junit_reports", {
    "run_id": T.UUID, "file_name": T.TEXT, "report": T.TEXT,
}, partition_key=["run_id"], clustering=[("file_name", Order.ASC)], comment="JUnit XML reports of an SCT run")

run_configurations = table("run_configurations", {
    "run_id": T.UUID, "name": T.TEXT, "content": T.TEXT,
}, partition_key=["run_id"], clustering=[("name", Order.ASC)], comment="configuration files uploaded for a run")

run_config_params = table("run_config_params", {
    "name": T.TEXT, "value": T.TEXT, "run_id": T.UUID,
}, partition_key=["name", "value"], clustering=[("run_id", Order.ASC)],
    comment="runs by a flattened configuration value (config_name.key.path = value)")
