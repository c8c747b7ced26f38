"""Account administration and profile rules against fakes: lock-out protection, sessions, audit."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

import pytest

from domain.errors import AlreadyExists, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from domain.users.accounts import AccountService, check_email
from domain.users.entities import Role, User
from domain.users.pictures import PictureService, image_type
from domain.users.service import UserService
from tests.unit.fakes import (
    FakeAccountRepository,
    FakeClock,
    FakePasswordHasher,
    FakePictureRepository,
    FakeTokenRepository,
    FakeUserRepository,
    RecordingAudit,
    RecordingSessions,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


@dataclass
class World:
    users: UserService
    accounts: AccountService
    pictures: PictureService
    repository: FakeUserRepository
    tokens: FakeTokenRepository
    stored_pictures: FakePictureRepository
    sessions: RecordingSessions
    audit: RecordingAudit

    async def stored(self, user: User) -> User:
        found = await self.repository.get(user.id)
        assert found is not None
        return found


@pytest.fixture
def world() -> World:
    repository, tokens, pictures = FakeUserRepository(), FakeTokenRepository(), FakePictureRepository()
    clock, hasher = FakeClock(), FakePasswordHasher()
    users = UserService(repository, tokens, hasher, clock)
    lifecycle = FakeAccountRepository(repository, tokens, pictures)
    sessions, audit = RecordingSessions(), RecordingAudit()
    return World(users, AccountService(users, repository, lifecycle, hasher, sessions, audit),
                 PictureService(pictures, lifecycle, clock, max_bytes=1024), repository, tokens, pictures,
                 sessions, audit)


@pytest.fixture
async def admin(world: World) -> User:
    return await world.users.create_user("root", roles=[Role.ADMIN], password="admin password")


# -- administration -------------------------------------------------------------------------------

async def test_admin_creates_an_account_and_it_is_audited(world: World, admin: User) -> None:
    user = await world.accounts.create(admin, "ci-bot", roles=[Role.SERVICE], email="ci@example.com")
    assert (await world.stored(user)).roles == [Role.SERVICE]
    assert world.audit.entries == [(admin.id, "user.create", str(user.id), {"username": "ci-bot",
                                                                             "roles": "service"})]


@pytest.mark.parametrize("email", ["nope", "a@b", "two@@example.com", "sp ace@example.com", "x" * 250 + "@ex.com"])
async def test_malformed_email_refuses_creation(world: World, admin: User, email: str) -> None:
    with pytest.raises(InvalidInput):
        await world.accounts.create(admin, "someone", email=email)
    assert await world.repository.by_username("someone") is None


def test_plausible_addresses_pass() -> None:
    for email in ("a@example.com", "first.last+tag@sub.example.co.uk"):
        check_email(email)


async def test_admin_cannot_remove_own_admin_role(world: World, admin: User) -> None:
    await world.users.create_user("second", roles=[Role.ADMIN])
    with pytest.raises(PermissionDenied, match="your own admin role"):
        await world.accounts.set_roles(admin, admin.id, [Role.USER])
    with pytest.raises(PermissionDenied, match="your own admin role"):
        await world.accounts.toggle_admin(admin, admin.id)
    assert (await world.stored(admin)).roles == [Role.ADMIN]


async def test_last_enabled_admin_cannot_be_demoted_or_disabled(world: World, admin: User) -> None:
    other = await world.users.create_user("other", roles=[Role.ADMIN])
    await world.accounts.set_disabled(admin, other.id, True)
    disabled_other = await world.stored(other)
    # ``other`` is disabled, so ``admin`` is the last enabled admin: another admin (acting as ``other``
    # before being disabled, say) may neither demote nor disable it.
    with pytest.raises(PermissionDenied, match="last enabled administrator"):
        await world.accounts.toggle_admin(disabled_other, admin.id)
    with pytest.raises(PermissionDenied, match="last enabled administrator"):
        await world.accounts.set_disabled(disabled_other, admin.id, True)
    with pytest.raises(PermissionDenied, match="last enabled administrator"):
        await world.accounts.set_roles(disabled_other, admin.id, [Role.USER])
    stored = await world.stored(admin)
    assert stored.roles == [Role.ADMIN] and not stored.disabled


async def test_a_second_enabled_admin_can_be_demoted(world: World, admin: User) -> None:
    other = await world.users.create_user("other", roles=[Role.ADMIN, Role.MANAGER])
    demoted = await world.accounts.toggle_admin(admin, other.id)
    assert demoted.roles == [Role.MANAGER] == (await world.stored(other)).roles
    promoted = await world.accounts.toggle_admin(admin, other.id)
    assert promoted.roles == sorted([Role.ADMIN, Role.MANAGER])
    assert [e[1] for e in world.audit.entries] == ["user.roles.set", "user.roles.set"]


async def test_toggling_the_only_role_away_leaves_user(world: World, admin: User) -> None:
    other = await world.users.create_user("other", roles=[Role.ADMIN])
    assert (await world.accounts.toggle_admin(admin, other.id)).roles == [Role.USER]


async def test_empty_roles_are_refused(world: World, admin: User) -> None:
    other = await world.users.create_user("other")
    with pytest.raises(InvalidInput):
        await world.accounts.set_roles(admin, other.id, [])
    assert (await world.stored(other)).roles == [Role.USER]


async def test_disable_revokes_sessions_and_tokens_stop_working(world: World, admin: User) -> None:
    user = await world.users.create_user("worker")
    _, secret = await world.users.issue_token(user.id)
    disabled = await world.accounts.set_disabled(admin, user.id, True)
    assert disabled.disabled and (await world.stored(user)).disabled
    assert world.sessions.revoked == [(user.id, None)]
    with pytest.raises(NotAuthenticated):
        await world.users.authenticate_token(secret)
    await world.accounts.set_disabled(admin, user.id, False)
    assert (await world.users.authenticate_token(secret)).id == user.id
    assert [e[1] for e in world.audit.entries] == ["user.disable", "user.enable"]


async def test_cannot_disable_yourself(world: World, admin: User) -> None:
    with pytest.raises(PermissionDenied, match="your own account"):
        await world.accounts.set_disabled(admin, admin.id, True)
    assert not (await world.stored(admin)).disabled and not world.sessions.revoked


async def test_password_reset_hashes_and_revokes_sessions(world: World, admin: User) -> None:
    user = await world.users.create_user("forgetful", password="old password")
    await world.accounts.reset_password(admin, user.id, "brand new password")
    assert (await world.stored(user)).password_hash == "fake$brand new password"
    assert world.sessions.revoked == [(user.id, None)]
    with pytest.raises(InvalidInput):
        await world.accounts.reset_password(admin, user.id, "short")
    assert (await world.stored(user)).password_hash == "fake$brand new password"


async def test_delete_removes_account_tokens_and_frees_the_username(world: World, admin: User) -> None:
    user = await world.users.create_user("leaver")
    await world.users.issue_token(user.id)
    user = await world.pictures.upload(user, PNG)
    await world.accounts.delete(admin, user.id)
    assert await world.repository.get(user.id) is None
    assert not world.tokens.tokens and not world.stored_pictures.pictures
    assert world.sessions.revoked == [(user.id, None)]
    assert (await world.users.create_user("leaver")).id != user.id
    assert world.audit.entries[-1] == (admin.id, "user.delete", str(user.id), {"username": "leaver"})


async def test_delete_refused_for_yourself_and_for_admins(world: World, admin: User) -> None:
    other = await world.users.create_user("other", roles=[Role.ADMIN])
    with pytest.raises(PermissionDenied, match="your own account"):
        await world.accounts.delete(admin, admin.id)
    with pytest.raises(PermissionDenied, match="Administrators cannot be deleted"):
        await world.accounts.delete(admin, other.id)
    assert len(world.repository.users) == 2 and not world.audit.entries


async def test_unknown_target_is_not_found(world: World, admin: User) -> None:
    missing = uuid4()
    for action in (world.accounts.toggle_admin(admin, missing), world.accounts.delete(admin, missing),
                   world.accounts.set_disabled(admin, missing, True),
                   world.accounts.set_email(admin, missing, "a@example.com"),
                   world.accounts.reset_password(admin, missing, "long enough password"),
                   world.accounts.set_roles(admin, missing, [Role.USER])):
        with pytest.raises(NotFound):
            await action
    assert not world.audit.entries


async def test_admin_sets_an_email(world: World, admin: User) -> None:
    user = await world.users.create_user("mailer", email="old@example.com")
    await world.accounts.set_email(admin, user.id, "new@example.com")
    assert (await world.stored(user)).email == "new@example.com"
    assert world.audit.entries[-1][3] == {"previous": "old@example.com", "email": "new@example.com"}


# -- own profile ----------------------------------------------------------------------------------

async def test_full_name_is_trimmed_and_bounded(world: World) -> None:
    user = await world.users.create_user("named")
    assert (await world.accounts.change_full_name(user, "  Ada Lovelace ")).full_name == "Ada Lovelace"
    for bad in ("   ", "x" * 201):
        with pytest.raises(InvalidInput):
            await world.accounts.change_full_name(user, bad)
    assert (await world.stored(user)).full_name == "Ada Lovelace"


async def test_rename_frees_the_old_name_and_refuses_a_taken_one(world: World) -> None:
    user = await world.users.create_user("before")
    await world.users.create_user("taken")
    renamed = await world.accounts.change_username(user, "after")
    assert renamed.username == "after" == (await world.stored(user)).username
    assert await world.repository.by_username("before") is None
    with pytest.raises(AlreadyExists):
        await world.accounts.change_username(renamed, "taken")
    with pytest.raises(InvalidInput):
        await world.accounts.change_username(renamed, "bad name")
    assert (await world.stored(user)).username == "after"


async def test_email_change_needs_admin_or_impersonation(world: World, admin: User) -> None:
    user = await world.users.create_user("plain", email="plain@example.com")
    with pytest.raises(PermissionDenied):
        await world.accounts.change_own_email(user, "new@example.com", impersonated=False)
    assert (await world.stored(user)).email == "plain@example.com"
    await world.accounts.change_own_email(user, "new@example.com", impersonated=True)
    await world.accounts.change_own_email(admin, "root@example.com", impersonated=False)
    assert (await world.stored(user)).email == "new@example.com"
    assert (await world.stored(admin)).email == "root@example.com"


async def test_own_password_change_checks_the_current_one_and_keeps_this_session(world: World) -> None:
    user = await world.users.create_user("changer", password="first password")
    session = uuid4()
    with pytest.raises(PermissionDenied, match="incorrect"):
        await world.accounts.change_own_password(user, "wrong password", "second password", keep_session=session)
    with pytest.raises(InvalidInput):
        await world.accounts.change_own_password(user, "first password", "short", keep_session=session)
    assert (await world.stored(user)).password_hash == "fake$first password" and not world.sessions.revoked
    await world.accounts.change_own_password(user, "first password", "second password", keep_session=session)
    assert (await world.stored(user)).password_hash == "fake$second password"
    assert world.sessions.revoked == [(user.id, session)]


async def test_password_change_without_a_password_is_refused(world: World) -> None:
    user = await world.users.create_user("tokenonly")
    with pytest.raises(PermissionDenied, match="no password"):
        await world.accounts.change_own_password(user, "", "second password", keep_session=None)


# -- pictures -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "expected"), [
    (PNG, "image/png"), (b"\xff\xd8\xff\xe0rest", "image/jpeg"), (b"GIF89a....", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None), (b"<html>", None), (b"", None),
])
def test_image_type_by_signature(data: bytes, expected: str | None) -> None:
    assert image_type(data) == expected


async def test_upload_replaces_the_previous_picture(world: World) -> None:
    user = await world.users.create_user("pictured")
    first = await world.pictures.upload(user, PNG)
    second = await world.pictures.upload(first, b"GIF89a" + b"\x00" * 10)
    assert (await world.stored(user)).picture_id == second.picture_id
    assert list(world.stored_pictures.pictures) == [second.picture_id]
    assert second.picture_id is not None
    assert (await world.pictures.get(second.picture_id)).content_type == "image/gif"


async def test_bad_pictures_change_nothing(world: World) -> None:
    user = await world.users.create_user("unpictured")
    for data, message in ((b"", "empty"), (b"plain text", "PNG, JPEG, GIF or WebP"),
                          (PNG + b"\x00" * 1024, "larger than 1024 bytes")):
        with pytest.raises(InvalidInput, match=message):
            await world.pictures.upload(user, data)
    assert (await world.stored(user)).picture_id is None and not world.stored_pictures.pictures
    with pytest.raises(NotFound):
        await world.pictures.get(uuid4())
