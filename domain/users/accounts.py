"""Changes to existing accounts: what administrators may do to any account, and people to their own.

Administrative rules protect the service from locking itself out: nobody acts on their own admin
role, standing or existence, and the last enabled administrator can be neither demoted nor
disabled. Changes that weaken an account's credentials (disable, password reset) end its browser
sessions; every administrative change leaves an audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from uuid import UUID

import msgspec

from domain.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from domain.users.entities import Role, User
from domain.users.ports import AccountRepository, AuditTrail, PasswordHasher, SessionRevoker, UserRepository
from domain.users.service import MAX_USERS_LISTED, UserService, check_password, check_username

# Deliberately loose: the only reliable check of an address is mail reaching it; this catches typos.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
MAX_EMAIL_LENGTH = 254
MAX_FULL_NAME_LENGTH = 200


def check_email(email: str) -> None:
    """An address of the form ``local@domain.tld``, at most 254 characters (the SMTP limit)."""
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_RE.fullmatch(email):
        raise InvalidInput("E-mail address must look like name@example.com", email)


class AccountService:
    """Role, standing, credential and profile changes of existing accounts."""

    def __init__(self, users: UserService, repository: UserRepository, accounts: AccountRepository,
                 hasher: PasswordHasher, sessions: SessionRevoker, audit: AuditTrail) -> None:
        self._users = users
        self._repository = repository
        self._accounts = accounts
        self._hasher = hasher
        self._sessions = sessions
        self._audit = audit

    # -- administration -------------------------------------------------------------------------

    async def create(self, actor: User, username: str, *, password: str | None = None,
                     roles: list[Role] | None = None, full_name: str = "", email: str = "") -> User:
        """A new account made by an administrator; the password is optional (token-only accounts)."""
        if email:
            check_email(email)
        _check_full_name(full_name, allow_empty=True)
        user = await self._users.create_user(username, roles=roles, password=password, full_name=full_name.strip(),
                                             email=email)
        await self._record(actor, "user.create", user, username=user.username, roles=",".join(user.roles))
        return user

    async def set_roles(self, actor: User, user_id: UUID, roles: list[Role]) -> User:
        """Replace the account's roles; you keep your own admin role, and one enabled admin always remains."""
        if not roles:
            raise InvalidInput("An account needs at least one role")
        target = await self._users.get_user(user_id)
        if target.id == actor.id and target.has_role(Role.ADMIN) and Role.ADMIN not in roles:
            raise PermissionDenied("You cannot remove your own admin role")
        return await self._change_roles(actor, target, sorted(set(roles)))

    async def toggle_admin(self, actor: User, user_id: UUID) -> User:
        """Grant or withdraw the admin role, as the admin panel's toggle does; never on yourself."""
        target = await self._users.get_user(user_id)
        if target.id == actor.id:
            raise PermissionDenied("You cannot change your own admin role")
        if target.has_role(Role.ADMIN):
            roles = [r for r in target.roles if r is not Role.ADMIN] or [Role.USER]
        else:
            roles = sorted({*target.roles, Role.ADMIN})
        return await self._change_roles(actor, target, roles)

    async def set_disabled(self, actor: User, user_id: UUID, disabled: bool) -> User:
        """Disable or re-enable an account; disabling ends its sessions (its tokens stop working too)."""
        target = await self._users.get_user(user_id)
        if disabled and target.id == actor.id:
            raise PermissionDenied("You cannot disable your own account")
        if disabled and target.has_role(Role.ADMIN) and not target.disabled:
            await self._ensure_another_admin(target)
        updated = await self._update(target, {"disabled": disabled})
        if disabled:
            await self._sessions.revoke_all(target.id)
        await self._record(actor, "user.disable" if disabled else "user.enable", target)
        return updated

    async def reset_password(self, actor: User, user_id: UUID, new_password: str) -> None:
        """Set a password for someone (a forgotten one); their sessions end, so a thief's session does too."""
        check_password(new_password)
        target = await self._users.get_user(user_id)
        await self._update(target, {"password_hash": await self._hasher.hash(new_password)})
        await self._sessions.revoke_all(target.id)
        await self._record(actor, "user.password.set", target)

    async def set_email(self, actor: User, user_id: UUID, email: str) -> User:
        """Change someone's e-mail address."""
        check_email(email)
        target = await self._users.get_user(user_id)
        updated = await self._update(target, {"email": email})
        await self._record(actor, "user.email.set", target, previous=target.email, email=email)
        return updated

    async def delete(self, actor: User, user_id: UUID) -> None:
        """Delete an account with its tokens and picture; never yourself, never an administrator."""
        target = await self._users.get_user(user_id)
        if target.id == actor.id:
            raise PermissionDenied("You cannot delete your own account")
        if target.has_role(Role.ADMIN):
            raise PermissionDenied("Administrators cannot be deleted; withdraw the admin role first")
        await self._accounts.remove(target)
        await self._sessions.revoke_all(target.id)
        await self._record(actor, "user.delete", target, username=target.username)

    # -- one's own profile ----------------------------------------------------------------------

    async def change_full_name(self, user: User, full_name: str) -> User:
        """The name other people see next to comments and assignments."""
        full_name = full_name.strip()
        _check_full_name(full_name, allow_empty=False)
        return await self._update(user, {"full_name": full_name})

    async def change_username(self, user: User, new_username: str) -> User:
        """Move to a free username; of two people racing for one name, exactly one gets it."""
        check_username(new_username)
        if new_username == user.username:
            return user
        if not await self._accounts.rename(user, new_username):
            raise AlreadyExists(f"Username {new_username} is taken", new_username)
        await self._record(user, "user.username.set", user, previous=user.username, username=new_username)
        return msgspec.structs.replace(user, username=new_username)

    async def change_own_email(self, user: User, email: str, *, impersonated: bool) -> User:
        """Only administrators, or an administrator acting as a service account, change an address."""
        if not (user.has_role(Role.ADMIN) or impersonated):
            raise PermissionDenied("Only administrators can change an e-mail address")
        check_email(email)
        updated = await self._update(user, {"email": email})
        await self._record(user, "user.email.set", user, previous=user.email, email=email)
        return updated

    async def change_own_password(self, user: User, current_password: str, new_password: str, *,
                                  keep_session: UUID | None) -> None:
        """Proving the current password first; every other session of the account ends."""
        if user.password_hash is None:
            raise PermissionDenied("This account has no password; an administrator can set one")
        if not await self._hasher.verify(user.password_hash, current_password):
            raise PermissionDenied("Current password is incorrect")
        check_password(new_password)
        await self._update(user, {"password_hash": await self._hasher.hash(new_password)})
        await self._sessions.revoke_all(user.id, keep=keep_session)
        await self._record(user, "user.password.change", user)

    # -- shared steps ---------------------------------------------------------------------------

    async def _change_roles(self, actor: User, target: User, roles: list[Role]) -> User:
        if target.has_role(Role.ADMIN) and Role.ADMIN not in roles and not target.disabled:
            await self._ensure_another_admin(target)
        updated = await self._update(target, {"roles": roles})
        await self._record(actor, "user.roles.set", target, previous=",".join(target.roles), roles=",".join(roles))
        return updated

    async def _ensure_another_admin(self, target: User) -> None:
        """The accounts table is small (hundreds of rows), so counting admins reads all of it."""
        others = [u for u in await self._repository.list_all(MAX_USERS_LISTED)
                  if u.id != target.id and u.has_role(Role.ADMIN) and not u.disabled]
        if not others:
            raise PermissionDenied(f"{target.username} is the last enabled administrator")

    async def _update(self, user: User, changes: Mapping[str, object]) -> User:
        if not await self._accounts.update(user, changes):
            raise NotFound(f"User {user.id} not found", str(user.id))
        return msgspec.structs.replace(user, **changes)

    async def _record(self, actor: User, action: str, target: User, **details: str) -> None:
        await self._audit.record(actor.id, action, str(target.id), details)


def _check_full_name(full_name: str, *, allow_empty: bool) -> None:
    if (not full_name.strip() and not allow_empty) or len(full_name) > MAX_FULL_NAME_LENGTH:
        raise InvalidInput(f"Full name must be 1 to {MAX_FULL_NAME_LENGTH} characters")
