"""Account and API-token use cases: provisioning, token issue, and token authentication."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from uuid import UUID, uuid4

from domain.clock import Clock
from domain.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound
from domain.users.entities import ApiToken, Role, User
from domain.users.ports import PasswordHasher, TokenRepository, UserRepository

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
MAX_USERS_LISTED = 10_000
# Unrevoked tokens per account: keeps the account's token list (read whole, bounded) complete, and
# stops a loop calling ``GET /api/v1/user/token`` from piling up live credentials.
MAX_ACTIVE_TOKENS = 100
# Recording every use would turn each CI call into a write; once a minute is precise enough.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def check_username(username: str) -> None:
    """Usernames appear in URLs and build ids, so they are kept to a safe alphabet."""
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput("Username must be 1-64 letters, digits or ._@- and start with a letter or digit",
                           username)


def check_password(password: str) -> None:
    """A minimum length against guessing, a maximum so hashing cannot be made arbitrarily slow."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"Password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")


def hash_token(secret: str) -> str:
    """SHA-256 of an API token; tokens carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


class UserService:
    """Creates accounts and tokens and resolves a presented token to its account."""

    def __init__(self, users: UserRepository, tokens: TokenRepository, hasher: PasswordHasher,
                 clock: Clock) -> None:
        self._users = users
        self._tokens = tokens
        self._hasher = hasher
        self._clock = clock

    async def create_user(self, username: str, *, roles: list[Role] | None = None, password: str | None = None,
                          full_name: str = "", email: str = "") -> User:
        """A new account; ``AlreadyExists`` when the username is taken."""
        check_username(username)
        password_hash = None
        if password is not None:
            check_password(password)
            password_hash = await self._hasher.hash(password)
        user = User(id=uuid4(), username=username, full_name=full_name or username, email=email,
                    roles=sorted(set(roles or [Role.USER])), registration_date=self._clock.now(),
                    password_hash=password_hash)
        if not await self._users.add(user):
            raise AlreadyExists(f"User {username} already exists", username)
        return user

    async def get_user(self, user_id: UUID) -> User:
        """The account, or ``NotFound``."""
        user = await self._users.get(user_id)
        if user is None:
            raise NotFound(f"User {user_id} not found", str(user_id))
        return user

    async def user_by_username(self, username: str) -> User:
        """The account, or ``NotFound``."""
        user = await self._users.by_username(username)
        if user is None:
            raise NotFound(f"User {username} not found", username)
        return user

    async def list_users(self) -> list[User]:
        """Every account, sorted by username."""
        users = await self._users.list_all(MAX_USERS_LISTED)
        return sorted(users, key=lambda u: u.username)

    async def count_users(self, limit: int) -> int:
        """How many accounts exist, counting at most ``limit`` (cheap emptiness check at start-up)."""
        return await self._users.count(limit)

    async def issue_token(self, user_id: UUID, name: str = "default") -> tuple[ApiToken, str]:
        """A new token for the account; the secret is returned once and never stored."""
        user = await self.get_user(user_id)
        name = name.strip()
        if not name or len(name) > 100:
            raise InvalidInput("Token name must be 1-100 characters", name)
        if sum(not t.revoked for t in await self._tokens.for_user(user.id)) >= MAX_ACTIVE_TOKENS:
            raise InvalidInput(f"An account may hold at most {MAX_ACTIVE_TOKENS} unrevoked API tokens; "
                               "revoke unused ones first", str(user.id))
        secret = secrets.token_urlsafe(32)
        token = ApiToken(id=uuid4(), user_id=user.id, name=name, token_hash=hash_token(secret),
                         created_at=self._clock.now())
        await self._tokens.add(token)
        return token, secret

    async def list_tokens(self, user_id: UUID) -> list[ApiToken]:
        """The account's tokens, newest first, without secrets."""
        return await self._tokens.for_user(user_id)

    async def revoke_token(self, user_id: UUID, token_id: UUID) -> None:
        """Revoke one of the account's tokens; ``NotFound`` for someone else's."""
        for token in await self._tokens.for_user(user_id):
            if token.id == token_id:
                await self._tokens.revoke(token)
                return
        raise NotFound(f"Token {token_id} not found", str(token_id))

    async def authenticate_token(self, secret: str) -> User:
        """The enabled account owning an unrevoked token with this secret, else ``NotAuthenticated``."""
        token = await self._tokens.by_hash(hash_token(secret)) if secret else None
        if token is None or token.revoked:
            raise NotAuthenticated("User not found for supplied token")
        user = await self._users.get(token.user_id)
        if user is None or user.disabled:
            raise NotAuthenticated("User not found for supplied token")
        now = self._clock.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USE_RESOLUTION:
            await self._tokens.mark_used(token, now)
        return user
