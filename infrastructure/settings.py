"""Typed settings for every part of the service, loaded from a TOML file and ``ARGUS_*`` variables.

Each group is a small msgspec Struct so one place documents what can be configured, and each
group can build the configuration object its library wants. Precedence, lowest first:
built-in defaults, the file named by ``ARGUS_CONFIG_FILE``, then ``ARGUS_<GROUP>_<FIELD>``
environment variables. Defaults give the embedded mode: SQLite, embedded job broker, port 8000.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

ENV_PREFIX = "ARGUS_"
CONFIG_FILE_ENV = "ARGUS_CONFIG_FILE"


class SettingsError(ValueError):
    """A setting has a value the service cannot start with; the message names the setting."""


class ServerSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Where the HTTP server listens and how large a request may be."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # Bodies above this are refused with 413 before they are parsed (replay archives are larger
    # and have their own limit, replay.max_archive_bytes).
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 32 * 1024 * 1024


class StorageSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Which storage engine holds the data and how to reach it."""

    engine: Literal["sqlite", "scylla"] = "sqlite"
    data_dir: str = "./var"
    sqlite_file: str = "argus.db"
    scylla_hosts: list[str] = msgspec.field(default_factory=lambda: ["127.0.0.1"])
    scylla_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 9042
    scylla_keyspace: Annotated[str, msgspec.Meta(pattern=r"^[a-zA-Z][a-zA-Z0-9_]{0,47}$")] = "argus"
    scylla_replication_factor: Annotated[int, msgspec.Meta(ge=1, le=9)] = 1
    scylla_local_dc: str = "datacenter1"
    scylla_username: str = ""
    scylla_password: str = ""
    scylla_request_timeout: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    scylla_connect_timeout: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    # Upper bound of concurrent statements one request fans out to (bounded gather).
    max_concurrency: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 64

    @property
    def sqlite_path(self) -> Path:
        """The SQLite database file; a relative ``sqlite_file`` lives under ``data_dir``."""
        return Path(self.data_dir) / self.sqlite_file


class QueueSettings(msgspec.Struct, forbid_unknown_fields=True):
    """The SAQ job broker: ``redis://...`` in production, the embedded SQLite broker by default."""

    # Empty means the embedded broker in ``<data_dir>/jobs.db``.
    url: str = ""
    name: str = "argus"
    # Run a worker inside the web process; turn off when ``argus worker`` runs separately.
    embedded_worker: bool = True
    worker_concurrency: Annotated[int, msgspec.Meta(ge=1, le=256)] = 4


class LogSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Log level and rendering: JSON lines for machines, coloured console for people."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "console"] = "auto"


class MetricsSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Prometheus exposition."""

    enabled: bool = True


class AuthSettings(msgspec.Struct, forbid_unknown_fields=True):
    """Identity settings the foundation needs; the identity feature adds login methods here."""

    # Cost parameters of the argon2id password hash.
    argon2_time_cost: Annotated[int, msgspec.Meta(ge=1, le=20)] = 3
    argon2_memory_kib: Annotated[int, msgspec.Meta(ge=8192, le=4 * 1024 * 1024)] = 65536
    argon2_parallelism: Annotated[int, msgspec.Meta(ge=1, le=16)] = 2
    # Login methods offered on the login page: any of password, gh (GitHub), cf (Cloudflare Access).
    login_methods: list[str] = msgspec.field(default_factory=lambda: ["password"])
    # Where browser sessions live: the database, or Redis at session_redis_url (several machines).
    session_store: Literal["database", "redis"] = "database"
    session_redis_url: str = ""
    # A session ends after this long without requests, and this long after login in any case.
    session_idle_timeout_seconds: Annotated[int, msgspec.Meta(ge=60)] = 7 * 24 * 3600
    session_max_age_seconds: Annotated[int, msgspec.Meta(ge=60)] = 30 * 24 * 3600
    # "auto": Secure cookies except when the browser talks to localhost over plain HTTP.
    cookie_secure: Literal["auto", "on", "off"] = "auto"
    # Failed password logins allowed per username and per client address within the window.
    login_max_failures: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10
    login_failure_window_seconds: Annotated[int, msgspec.Meta(ge=1, le=86400)] = 60
    # Password of the "admin" account created on an empty database; empty prints a random one once.
    bootstrap_admin_password: str = ""

    # GitHub OAuth app ("gh" login); GitHub login is unavailable while the id or the secret is empty.
    github_client_id: str = ""
    github_client_secret: str = ""
    github_scopes: str = "user:email read:user read:org"
    # When set, only members of at least one of these organisations may log in with GitHub.
    github_required_organizations: list[str] = msgspec.field(default_factory=list)
    # Overridable so tests (or GitHub Enterprise) can point the flow elsewhere.
    github_oauth_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    # Cloudflare Access ("cf" login); unavailable while the team domain or the audience is empty.
    cf_access_team_domain: str = ""
    cf_access_aud: str = ""
    # E-mail domains whose unknown users may create an account by logging in through Access.
    cf_access_allowed_email_domains: list[str] = msgspec.field(default_factory=list)
    # Empty means https://<team domain>/cdn-cgi/access/certs.
    cf_access_certs_url: str = ""
    cf_access_jwks_cache_seconds: Annotated[int, msgspec.Meta(ge=0, le=86400)] = 3600

    def __post_init__(self) -> None:
        unknown = sorted(set(self.login_methods) - {"password", "gh", "cf"})
        if unknown:
            raise ValueError(f"auth.login_methods: unknown method(s) {', '.join(unknown)}; use password, gh, cf")
        if self.session_store == "redis" and not self.session_redis_url.startswith(("redis://", "rediss://")):
            raise ValueError("auth.session_redis_url must be a redis:// URL when auth.session_store is redis")


class CatalogueSettings(msgspec.Struct, forbid_unknown_fields=True):
    """How CI submissions meet the catalogue."""

    # A run whose build id names no test: "all" creates release, group and test from the build id
    # path; "existing_releases" only inside releases that exist; "off" keeps the run unlinked.
    auto_create: Literal["all", "existing_releases", "off"] = "all"


class ReplaySettings(msgspec.Struct, forbid_unknown_fields=True):
    """Replay ingest: bounds on uploaded archives, and where SCT's log archives can be listed."""

    # The whole upload; this route alone may exceed server.max_body_bytes.
    max_archive_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 256 * 1024 * 1024
    max_members: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    max_member_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 256 * 1024 * 1024
    # Everything the archive decompresses to (read members and skipped ones): stops compression bombs.
    max_unpacked_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 1024 * 1024 * 1024
    # S3-compatible endpoint listing s3://<bucket>/<run_id>/ anonymously; empty switches log back-fill off.
    s3_endpoint: str = ""
    s3_bucket: str = "cloudius-jenkins-test"


class MailSettings(msgspec.Struct, forbid_unknown_fields=True):
    """The SMTP server the mail job sends run reports through."""

    # Empty means mail is not configured: report jobs fail with an error naming this setting.
    smtp_host: str = ""
    smtp_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 25
    # Upgrade the connection with STARTTLS before logging in.
    starttls: bool = False
    # Log in only when a username is set.
    username: str = ""
    password: str = ""
    from_address: str = "argus@localhost"
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 30.0


class ProfileSettings(msgspec.Struct, forbid_unknown_fields=True):
    """What people may upload to their own profile."""

    # Pictures are one database cell each; Cassandra/ScyllaDB refuse mutations of half the commit
    # log segment (16 MiB by default), so the ceiling stays well below that.
    max_picture_bytes: Annotated[int, msgspec.Meta(ge=1024, le=8 * 1024 * 1024)] = 2 * 1024 * 1024


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Every setting of the service, grouped the way ``docs/configuration.md`` documents them."""

    server: ServerSettings = msgspec.field(default_factory=ServerSettings)
    storage: StorageSettings = msgspec.field(default_factory=StorageSettings)
    queue: QueueSettings = msgspec.field(default_factory=QueueSettings)
    log: LogSettings = msgspec.field(default_factory=LogSettings)
    metrics: MetricsSettings = msgspec.field(default_factory=MetricsSettings)
    auth: AuthSettings = msgspec.field(default_factory=AuthSettings)
    catalogue: CatalogueSettings = msgspec.field(default_factory=CatalogueSettings)
    mail: MailSettings = msgspec.field(default_factory=MailSettings)
    replay: ReplaySettings = msgspec.field(default_factory=ReplaySettings)
    profile: ProfileSettings = msgspec.field(default_factory=ProfileSettings)

    @property
    def queue_url(self) -> str:
        """The broker URL with the embedded default filled in."""
        if self.queue.url:
            return self.queue.url
        return f"sqlite:///{(Path(self.storage.data_dir) / 'jobs.db').resolve()}"


_GROUPS: dict[str, type[msgspec.Struct]] = {
    field.name: field.type for field in msgspec.structs.fields(Settings)  # type: ignore[misc]
}


def env_name(group: str, field: str) -> str:
    """The environment variable that sets ``group.field``."""
    return f"{ENV_PREFIX}{group.upper()}_{field.upper()}"


def _from_env(environ: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {}
    for group, struct in _GROUPS.items():
        for field in msgspec.structs.fields(struct):
            raw = environ.get(env_name(group, field.name))
            if raw is None:
                continue
            # Lists come as comma-separated values (ARGUS_STORAGE_SCYLLA_HOSTS=a,b,c).
            value: Any = [item.strip() for item in raw.split(",") if item.strip()] if (
                field.type == list[str]
            ) else raw
            values.setdefault(group, {})[field.name] = value
    return values


def unknown_env_settings(environ: Mapping[str, str]) -> list[str]:
    """``ARGUS_*`` variables that name no setting: likely typos, worth a warning at start-up.

    Not an error, because the ``argus-alm`` client reads its own ``ARGUS_*`` variables and CI
    machines often have them set.
    """
    known = {env_name(g, f.name) for g, s in _GROUPS.items() for f in msgspec.structs.fields(s)}
    known.add(CONFIG_FILE_ENV)
    return sorted(name for name in environ if name.startswith(ENV_PREFIX) and name not in known)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_PATH_RE = re.compile(r"at `\$\.(\w+)\.(\w+)")


def _explain(exc: msgspec.ValidationError) -> str:
    match = _PATH_RE.search(str(exc))
    if match is None:
        return f"invalid settings: {exc}"
    group, field = match.groups()
    reason = str(exc).split(" - at ")[0]
    return f"invalid setting {group}.{field} (env {env_name(group, field)}): {reason}"


def load_settings(environ: Mapping[str, str] | None = None, config_file: str | Path | None = None) -> Settings:
    """Build the settings from defaults, an optional TOML file and the environment.

    Raises ``SettingsError`` naming the offending setting, so a wrong value stops start-up
    with a message an operator can act on.
    """
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    path = config_file or environ.get(CONFIG_FILE_ENV)
    if path:
        try:
            data = msgspec.toml.decode(Path(path).read_bytes())
        except FileNotFoundError as exc:
            raise SettingsError(f"config file {path} does not exist") from exc
        except msgspec.DecodeError as exc:
            raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
    data = _merge(data, _from_env(environ))
    try:
        return msgspec.convert(data, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc)) from exc
