"""Profile pictures: accepted only when the bytes are an image of a kind every browser shows.

The type comes from the file's signature, not from the uploader's Content-Type or file name, so a
page or script uploaded as a "picture" is refused instead of being served back with an image type.
A new upload gets a new id, which lets the picture route tell browsers to cache it for good.
"""

from __future__ import annotations

from uuid import UUID, uuid4

import msgspec

from domain.clock import Clock
from domain.errors import InvalidInput, NotFound
from domain.users.entities import Picture, User
from domain.users.ports import AccountRepository, PictureRepository

# (offset, signature) pairs of each accepted type; WebP is a RIFF container with a WEBP form type.
_SIGNATURES: dict[str, tuple[tuple[int, bytes], ...]] = {
    "image/png": ((0, b"\x89PNG\r\n\x1a\n"),),
    "image/jpeg": ((0, b"\xff\xd8\xff"),),
    "image/gif": ((0, b"GIF8"),),
    "image/webp": ((0, b"RIFF"), (8, b"WEBP")),
}


def image_type(data: bytes) -> str | None:
    """The MIME type of a PNG, JPEG, GIF or WebP image; None for anything else."""
    for content_type, parts in _SIGNATURES.items():
        if all(data[offset:offset + len(signature)] == signature for offset, signature in parts):
            return content_type
    return None


class PictureService:
    """Stores uploaded pictures and points the account at the newest one."""

    def __init__(self, pictures: PictureRepository, accounts: AccountRepository, clock: Clock,
                 max_bytes: int) -> None:
        self._pictures = pictures
        self._accounts = accounts
        self._clock = clock
        self.max_bytes = max_bytes

    async def upload(self, user: User, data: bytes) -> User:
        """Replace the account's picture; the previous one is deleted once nothing points at it."""
        if not data:
            raise InvalidInput("The picture is empty")
        if len(data) > self.max_bytes:
            raise InvalidInput(f"The picture is larger than {self.max_bytes} bytes (setting profile.max_picture_bytes)",
                               len(data))
        content_type = image_type(data)
        if content_type is None:
            raise InvalidInput("The picture must be a PNG, JPEG, GIF or WebP image")
        picture = Picture(id=uuid4(), user_id=user.id, content_type=content_type, data=data,
                          created_at=self._clock.now())
        await self._pictures.add(picture)
        if not await self._accounts.update(user, {"picture_id": picture.id}):
            await self._pictures.delete(picture.id)
            raise NotFound(f"User {user.id} not found", str(user.id))
        if user.picture_id is not None:
            await self._pictures.delete(user.picture_id)
        return msgspec.structs.replace(user, picture_id=picture.id)

    async def get(self, picture_id: UUID) -> Picture:
        """The picture, or ``NotFound``."""
        picture = await self._pictures.get(picture_id)
        if picture is None:
            raise NotFound(f"Picture {picture_id} not found", str(picture_id))
        return picture
