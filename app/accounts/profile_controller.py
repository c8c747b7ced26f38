"""The current account's own profile: name, username, e-mail, password and picture; and serving pictures."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from app.accounts.schemas import AccountView, EmailChange, FullNameChange, PasswordChange, PictureForm, UsernameChange
from app.envelope import Ok, ok
from app.security import LOGIN, current_session, current_user, is_impersonating, login_required
from domain.users.accounts import AccountService
from domain.users.pictures import PictureService

AnyRequest = Request[Any, Any, Any]
# A picture id is never reused for other bytes, so browsers may keep a picture for good.
PICTURE_CACHE = "private, max-age=31536000, immutable"


class ProfileController(Controller):
    """Changes people make to their own account; each answers the account as it now is."""

    path = "/api/v1/user/profile"
    tags = ["profile"]
    guards = [login_required]
    opt = LOGIN

    @post("/name", operation_id="setProfileName", status_code=200)
    async def set_name(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                       data: JSONBody[FullNameChange]) -> Ok[AccountView]:
        """Change the display name."""
        return ok(AccountView.of(await accounts.change_full_name(current_user(request), data.full_name)))

    @post("/username", operation_id="setProfileUsername", status_code=200)
    async def set_username(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                           data: JSONBody[UsernameChange]) -> Ok[AccountView]:
        """Move to a free username."""
        return ok(AccountView.of(await accounts.change_username(current_user(request), data.username)))

    @post("/email", operation_id="setProfileEmail", status_code=200)
    async def set_email(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                        data: JSONBody[EmailChange]) -> Ok[AccountView]:
        """Change the e-mail address (administrators, or while impersonating a service account)."""
        user = await accounts.change_own_email(current_user(request), data.email,
                                               impersonated=is_impersonating(request))
        return ok(AccountView.of(user))

    @post("/password", operation_id="setProfilePassword", status_code=200)
    async def set_password(self, request: AnyRequest, accounts: NamedDependency[AccountService],
                           data: JSONBody[PasswordChange]) -> Ok[bool]:
        """Change the password; every other session of the account ends, this one stays."""
        session = current_session(request)
        await accounts.change_own_password(current_user(request), data.current_password, data.new_password,
                                           keep_session=session.id if session else None)
        return ok(True)

    @post("/picture", operation_id="uploadProfilePicture", status_code=200)
    async def upload_picture(self, request: AnyRequest, pictures: NamedDependency[PictureService],
                             data: Annotated[PictureForm, Body(media_type=RequestEncodingType.MULTI_PART)]
                             ) -> Ok[AccountView]:
        """Upload a PNG, JPEG, GIF or WebP picture as the multipart field ``filedata``."""
        # Reading one byte past the limit is enough to refuse the upload without holding all of it.
        content = await data.filedata.read(pictures.max_bytes + 1)
        return ok(AccountView.of(await pictures.upload(current_user(request), content)))


class PictureController(Controller):
    """Profile pictures at the avatar URL the existing frontend builds (``/storage/picture/<id>``)."""

    path = "/storage/picture"
    tags = ["profile"]
    guards = [login_required]
    opt = LOGIN

    @get("/{picture_id:uuid}", operation_id="getPicture", media_type="application/octet-stream")
    async def picture(self, request: AnyRequest, pictures: NamedDependency[PictureService],
                      picture_id: FromPath[UUID]) -> Response[bytes]:
        """The picture with its own image type; revalidation with ``If-None-Match`` answers 304."""
        etag = f'"{picture_id.hex}"'
        headers = {"Cache-Control": PICTURE_CACHE, "ETag": etag, "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == etag:
            return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
        picture = await pictures.get(picture_id)
        return Response(picture.data, media_type=picture.content_type, headers=headers)
