"""The first administrator: created when the service starts on an empty account table."""

from __future__ import annotations

import structlog

from domain.users.login import bootstrap_admin
from infrastructure.composition import Services

log = structlog.get_logger("argus.auth")


async def ensure_admin(services: Services) -> None:
    """Create ``admin`` on an empty database; a generated password is shown once, here, and never again."""
    configured = services.settings.auth.bootstrap_admin_password or None
    created = await bootstrap_admin(services.users, configured)
    if created is None:
        return
    admin, password = created
    if configured:
        log.warning("created the first administrator with auth.bootstrap_admin_password", username=admin.username)
    else:
        # Logged on purpose, once: the operator has no other way to learn it. It is not under a
        # secret-looking key because those are redacted; the account should change it at once.
        log.warning("created the first administrator with a one-time password; it is not shown again, change it",
                    username=admin.username, one_time_password=password)
