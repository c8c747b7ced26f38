"""argon2id password hashing, run in a worker thread because each hash takes tens of milliseconds."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as Argon2
from argon2.exceptions import InvalidHashError, VerificationError

from infrastructure.settings import AuthSettings


class Argon2PasswordHasher:
    """Implements the domain's ``PasswordHasher`` port with argon2-cffi."""

    def __init__(self, settings: AuthSettings) -> None:
        self._argon2 = Argon2(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                              parallelism=settings.argon2_parallelism)

    async def hash(self, password: str) -> str:
        """Hash off the event loop."""
        return await asyncio.to_thread(self._argon2.hash, password)

    async def verify(self, encoded: str, password: str) -> bool:
        """Verify off the event loop; a malformed stored hash simply does not match."""
        try:
            return await asyncio.to_thread(self._argon2.verify, encoded, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, encoded: str) -> bool:
        """True when the stored hash used other cost parameters than the configured ones."""
        try:
            return self._argon2.check_needs_rehash(encoded)
        except InvalidHashError:
            return True
