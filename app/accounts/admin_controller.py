"""Administration of accounts under ``/admin/api/v1``, with the existing service's paths and answers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.accounts.schemas import AccountView, ApiVersion, EmailSet, PasswordSet, RolesSet, UserCreate
from app.envelope import Ok, ok
from app.security import ADMIN, admin_required, current_user
from domain.users.accounts import AccountService
from domain.users.service import UserService

AnyRequest = Request[Any, Any, Any]


class AdminUsersController(Controller):
    """Create, list, re-role, disable, reset and delete accounts; every change is audited by the service."""

    path = "/admin/api/v1"
    tags = ["admin"]
    guards = [admin_required]
    opt = ADMIN

    @get("/", operation_id="adminApiVersion")
    async def version(self) -> ApiVersion:
        """The admin API's version, bare (no envelope)."""
        return ApiVersion()

    @get("/users", operation_id="adminListUsers")
    async def list_users(self, users: NamedDependency[UserService]) -> Ok[dict[str, AccountView]]:
        """Every account by id, with roles and standing; never hashes or tokens."""
        return ok({str(u.id): AccountView.of(u) for u in await users.list_users()})

    @post("/user/create", operation_id="adminCreateUser", status_code=200)
    async def create_user(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                          data: JSONBody[UserCreate]) -> Ok[AccountView]:
        """A new account (optionally with a password)."""
        user = await accounts.create(current_user(request), data.username, password=data.password, roles=data.roles,
                                     full_name=data.full_name, email=data.email)
        return ok(AccountView.of(user))

    @post("/user/{user_id:uuid}/email/set", operation_id="adminSetUserEmail", status_code=200)
    async def set_email(self, request: AnyRequest, accounts: NamedDependency[AccountService], user_id: FromPath[UUID],
                        data: JSONBody[EmailSet]) -> Ok[bool]:
        """Change someone's e-mail address."""
        await accounts.set_email(current_user(request), user_id, data.new_email)
        return ok(True)

    @post("/user/{user_id:uuid}/password/set", operation_id="adminSetUserPassword", status_code=200)
    async def set_password(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                           user_id: FromPath[UUID], data: JSONBody[PasswordSet]) -> Ok[bool]:
        """Set someone's password; their browser sessions end."""
        await accounts.reset_password(current_user(request), user_id, data.new_password)
        return ok(True)

    @post("/user/{user_id:uuid}/delete", operation_id="adminDeleteUser", status_code=200)
    async def delete_user(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                          user_id: FromPath[UUID]) -> Ok[bool]:
        """Delete an account with its tokens (not yourself, not an administrator)."""
        await accounts.delete(current_user(request), user_id)
        return ok(True)

    @post("/user/{user_id:uuid}/admin/toggle", operation_id="adminToggleAdmin", status_code=200)
    async def toggle_admin(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                           user_id: FromPath[UUID]) -> Ok[bool]:
        """Grant or withdraw the admin role (not on yourself)."""
        await accounts.toggle_admin(current_user(request), user_id)
        return ok(True)

    @post("/user/{user_id:uuid}/roles/set", operation_id="adminSetUserRoles", status_code=200)
    async def set_roles(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                        user_id: FromPath[UUID], data: JSONBody[RolesSet]) -> Ok[AccountView]:
        """Replace an account's roles."""
        return ok(AccountView.of(await accounts.set_roles(current_user(request), user_id, data.roles)))

    @post("/user/{user_id:uuid}/disable", operation_id="adminDisableUser", status_code=200)
    async def disable(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                      user_id: FromPath[UUID]) -> Ok[AccountView]:
        """Disable an account: its sessions end and its tokens stop working."""
        return ok(AccountView.of(await accounts.set_disabled(current_user(request), user_id, True)))

    @post("/user/{user_id:uuid}/enable", operation_id="adminEnableUser", status_code=200)
    async def enable(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                     user_id: FromPath[UUID]) -> Ok[AccountView]:
        """Re-enable a disabled account."""
        return ok(AccountView.of(await accounts.set_disabled(current_user(request), user_id, False)))
