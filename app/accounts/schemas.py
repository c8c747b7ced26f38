"""Request and response shapes of the admin user routes and the profile routes.

Bodies are strict (unknown keys are refused) so a misspelt field fails loudly instead of silently
changing nothing. Field names follow the existing service where it has the route (``newEmail``,
``newPassword``); the new routes use snake_case like the rest of the JSON API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import msgspec
from litestar.datastructures import UploadFile

from domain.users.entities import Role, User


class AccountView(msgspec.Struct):
    """An account as administrators and its owner see it: never the password hash, never a token."""

    id: UUID
    username: str
    full_name: str
    email: str
    registration_date: datetime
    roles: list[Role]
    picture_id: UUID | None
    service_user: bool
    disabled: bool

    @classmethod
    def of(cls, user: User) -> AccountView:
        """The view of ``user``; ``service_user`` is the existing service's name for the service role."""
        return cls(id=user.id, username=user.username, full_name=user.full_name, email=user.email,
                   registration_date=user.registration_date, roles=list(user.roles), picture_id=user.picture_id,
                   service_user=user.has_role(Role.SERVICE), disabled=user.disabled)


class ApiVersion(msgspec.Struct):
    """``GET /admin/api/v1/`` answers this without the envelope, as the existing service does."""

    version: str = "v1"


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new account; without a password it can only use API tokens (a CI account)."""

    username: str
    password: str | None = None
    roles: list[Role] | None = None
    full_name: str = ""
    email: str = ""


class EmailSet(msgspec.Struct, forbid_unknown_fields=True, rename={"new_email": "newEmail"}):
    """Body of ``.../email/set``."""

    new_email: str


class PasswordSet(msgspec.Struct, forbid_unknown_fields=True, rename={"new_password": "newPassword"}):
    """Body of ``.../password/set``."""

    new_password: str


class RolesSet(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``.../roles/set``: the complete new set of roles."""

    roles: list[Role]


class FullNameChange(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``/api/v1/user/profile/name``."""

    full_name: str


class UsernameChange(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``/api/v1/user/profile/username``."""

    username: str


class EmailChange(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``/api/v1/user/profile/email``."""

    email: str


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``/api/v1/user/profile/password``."""

    current_password: str
    new_password: str


@dataclass
class PictureForm:
    """``multipart/form-data`` with the picture in the ``filedata`` field, as the existing profile form sends."""

    filedata: UploadFile
