"""Password login, throttled per username and per client address, and the first administrator.

A throttled attempt is refused before the password hash is touched, so brute force costs the
service nothing. Unknown usernames still cost one hash verification, so the answer time does not
tell which usernames exist.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import NoReturn

from domain.errors import AlreadyExists, NotAuthenticated, RateLimited
from domain.users.entities import Role, User
from domain.users.ports import AccountRepository, AttemptCounter, PasswordHasher, UserRepository
from domain.users.service import MAX_PASSWORD_LENGTH, UserService

BOOTSTRAP_ADMIN = "admin"
# One message for every failure: the answer must not tell a wrong password from an unknown user.
LOGIN_FAILED = "Invalid username or password"


@dataclass(frozen=True)
class LoginThrottle:
    """At most ``max_failures`` failed logins per ``window_seconds`` for one username or one address."""

    max_failures: int = 10
    window_seconds: int = 60


class PasswordLogin:
    """Checks a username and password; the caller starts a session for the account it returns."""

    def __init__(self, users: UserRepository, accounts: AccountRepository, hasher: PasswordHasher,
                 failures: AttemptCounter, throttle: LoginThrottle) -> None:
        self._users = users
        self._accounts = accounts
        self._hasher = hasher
        self._failures = failures
        self._throttle = throttle
        self._dummy_hash: str | None = None

    async def login(self, username: str, password: str, address: str) -> User:
        """The account, or ``NotAuthenticated`` (any mismatch) / ``RateLimited`` (too many failures)."""
        keys = (f"user:{username.strip().lower()[:64]}", f"addr:{address[:64]}")
        for key in keys:
            seen = await self._failures.count(key, self._throttle.window_seconds, self._throttle.max_failures)
            if seen >= self._throttle.max_failures:
                raise RateLimited("Too many failed logins; try again in a minute")
        user = await self._users.by_username(username) if username and len(password) <= MAX_PASSWORD_LENGTH else None
        if user is None or user.password_hash is None or not _may_use_password(user):
            await self._hasher.verify(await self._dummy(), password)
            await self._refuse(keys)
        elif not await self._hasher.verify(user.password_hash, password):
            await self._refuse(keys)
        elif self._hasher.needs_rehash(user.password_hash):
            # Only the hash column: rewriting the whole row could undo an admin's concurrent disable.
            user.password_hash = await self._hasher.hash(password)
            await self._accounts.update(user, {"password_hash": user.password_hash})
        return user

    async def _refuse(self, keys: tuple[str, ...]) -> NoReturn:
        for key in keys:
            await self._failures.add(key, self._throttle.window_seconds)
        raise NotAuthenticated(LOGIN_FAILED)

    async def _dummy(self) -> str:
        """A real hash with the current parameters, so unknown users cost the same as known ones."""
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash


def _may_use_password(user: User) -> bool:
    """Disabled accounts cannot log in; service accounts are machines that use API tokens only."""
    return not user.disabled and not user.has_role(Role.SERVICE)


async def bootstrap_admin(users: UserService, password: str | None) -> tuple[User, str] | None:
    """On an empty account table create ``admin`` with ``password`` (or a random one) and return both.

    Several workers starting at once all try; the username claim lets exactly one win, the others
    get None, as does any start on a database that already has accounts.
    """
    if await users.count_users(1):
        return None
    password = password or secrets.token_urlsafe(18)
    try:
        admin = await users.create_user(BOOTSTRAP_ADMIN, roles=[Role.ADMIN], password=password,
                                        full_name="Administrator")
    except AlreadyExists:
        return None
    return admin, password
