"""The ``argus`` command: serve, run the worker, migrate, provision accounts.

Every command loads the same settings and opens the same composition root as the web app, so a
setting means the same thing everywhere. Settings errors end the command with exit status 2 and
a message naming the setting.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Coroutine
from typing import Any

import click
import structlog
import uvicorn

from domain.errors import DomainError
from domain.users.entities import Role
from infrastructure.composition import migrate, open_services
from infrastructure.observability.logging import configure_logging
from infrastructure.queue.broker import build_worker
from infrastructure.settings import Settings, SettingsError, load_settings, unknown_env_settings
from infrastructure.storage.store import StorageUnavailable

log = structlog.get_logger("argus.cli")


class SettingsProblem(click.ClickException):
    """A setting the command cannot run with; exit status 2 tells scripts it is a configuration error."""

    exit_code = 2


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise SettingsProblem(str(exc)) from exc
    configure_logging(settings.log)
    unknown = unknown_env_settings(os.environ)
    if unknown:
        log.warning("environment variables that name no setting", names=unknown)
    return settings


def _run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    try:
        asyncio.run(main())
    except (DomainError, StorageUnavailable, ValueError) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from exc


@click.group()
def main() -> None:
    """Argus: test tracking for long-running automated pipelines."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (default: server.host).")
@click.option("--port", type=int, default=None, help="Port to bind (default: server.port).")
@click.option("--workers", type=int, default=None, help="uvicorn worker processes (default: server.workers).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the web app and the API with uvicorn."""
    settings = _settings()
    # Migrate once here rather than in N racing workers, and fail with one clear line when the
    # database cannot be reached instead of a traceback from inside uvicorn's lifespan.
    _run(lambda: _report_migrations(settings))
    workers = workers or settings.server.workers
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker process writes its metrics here and /metrics merges them.
        directory = tempfile.mkdtemp(prefix="argus-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    try:
        uvicorn.run("app.factory:create_app", factory=True, host=host or settings.server.host,
                    port=port or settings.server.port, workers=workers, log_config=None,
                    proxy_headers=True, server_header=False)
    finally:
        if workers > 1 and os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").startswith(tempfile.gettempdir()):
            shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


@main.command()
def worker() -> None:
    """Run background and periodic jobs (when the web process does not embed the worker)."""
    settings = _settings()

    async def run() -> None:
        async with open_services(settings) as services:
            job_worker = build_worker(services.queue, concurrency=settings.queue.worker_concurrency,
                                      context={"services": services}, embedded=False)
            log.info("worker starting", queue=settings.queue_url.split(":", 1)[0])
            await job_worker.start()  # returns after SIGINT/SIGTERM, once running jobs are drained

    _run(run)


@main.command(name="migrate")
def migrate_command() -> None:
    """Apply pending schema migrations (start-up does it too; this is for deploy pipelines)."""
    settings = _settings()

    _run(lambda: _report_migrations(settings, echo=True))


async def _report_migrations(settings: Settings, *, echo: bool = False) -> None:
    applied = await migrate(settings)
    message = f"applied migrations: {', '.join(map(str, applied))}" if applied else "schema is up to date"
    if echo:
        click.echo(message)
    else:
        log.info(message)


@main.command(name="create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]),
              help="Role to grant (repeatable; default: user).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--token", "with_token", is_flag=True,
              help="Print a new API token for the user on stdout, and nothing else.")
@click.option("--full-name", default="", help="Display name (default: the username).")
@click.option("--email", default="", help="E-mail address.")
def create_user(username: str, roles: tuple[str, ...], password_stdin: bool, with_token: bool, full_name: str,
                email: str) -> None:
    """Create an account; with --token, provision a CI account in one step."""
    settings = _settings()
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None

    async def run() -> None:
        async with open_services(settings) as services:
            user = await services.users.create_user(username, roles=[Role(r) for r in roles] or None,
                                                    password=password, full_name=full_name, email=email)
            if with_token:
                _, secret = await services.users.issue_token(user.id, "cli")
                click.echo(secret)
            else:
                click.echo(f"created user {user.username} ({user.id}) with roles {', '.join(user.roles)}", err=True)

    _run(run)
