"""Resolving external identities to accounts, against fakes of the storage ports."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from domain.errors import NotFound, PermissionDenied
from domain.users import external
from domain.users.entities import ExternalIdentity, IdentityLink, IdentityProvider, Role, User
from domain.users.external import ExternalLoginService, name_from_email, username_base
from tests.unit.fakes import FakeClock, FakeIdentityLinkRepository, FakeUserRepository

GH = IdentityProvider.GITHUB
CF = IdentityProvider.CLOUDFLARE


def github(subject: str = "58213764", login: str = "mona-tester", email: str = "mona@scylladb.com",
           verified: bool = True) -> ExternalIdentity:
    return ExternalIdentity(provider=GH, subject=subject, login=login, email=email, email_verified=verified,
                            name="Mona Tester", avatar_url="https://avatars.example/u/1")


def access(email: str, subject: str | None = None) -> ExternalIdentity:
    return ExternalIdentity(provider=CF, subject=subject or f"sub-{email}", email=email, email_verified=True)


class YieldingLinks(FakeIdentityLinkRepository):
    """Gives the event loop a turn before every operation, so concurrent logins really interleave."""

    async def claim(self, link: IdentityLink) -> bool:
        await asyncio.sleep(0)
        return await super().claim(link)

    async def get(self, provider: IdentityProvider, subject: str) -> IdentityLink | None:
        await asyncio.sleep(0)
        return await super().get(provider, subject)


@pytest.fixture
def users() -> FakeUserRepository:
    return FakeUserRepository()


@pytest.fixture
def links() -> FakeIdentityLinkRepository:
    return YieldingLinks()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(users: FakeUserRepository, links: FakeIdentityLinkRepository, clock: FakeClock) -> ExternalLoginService:
    return ExternalLoginService(users, links, clock, registration_domains={CF: ["scylladb.com"]})


async def existing(users: FakeUserRepository, clock: FakeClock, username: str, email: str = "",
                   disabled: bool = False) -> User:
    user = User(id=uuid4(), username=username, email=email, registration_date=clock.now(), disabled=disabled)
    assert await users.add(user)
    return user


async def test_first_login_creates_a_plain_user_and_links_it(service: ExternalLoginService,
                                                             users: FakeUserRepository,
                                                             links: FakeIdentityLinkRepository) -> None:
    user = await service.login(github())
    assert (user.username, user.full_name, user.email, user.roles) == (
        "mona-tester", "Mona Tester", "mona@scylladb.com", [Role.USER])
    assert user.password_hash is None
    link = links.links[(GH, "58213764")]
    assert (link.user_id, link.login, link.avatar_url) == (user.id, "mona-tester", "https://avatars.example/u/1")
    assert list(users.users) == [user.id]


async def test_second_login_reuses_the_account_even_after_a_rename_on_github(service: ExternalLoginService,
                                                                            users: FakeUserRepository) -> None:
    first = await service.login(github())
    again = await service.login(github(login="mona-renamed", email="new@scylladb.com"))
    assert again.id == first.id
    assert len(users.users) == 1


async def test_verified_email_attaches_the_identity_to_the_existing_account(
        service: ExternalLoginService, users: FakeUserRepository, links: FakeIdentityLinkRepository,
        clock: FakeClock) -> None:
    mona = await existing(users, clock, "mona", email="Mona@ScyllaDB.com")
    user = await service.login(github())
    assert user.id == mona.id
    assert links.links[(GH, "58213764")].user_id == mona.id
    assert len(users.users) == 1


async def test_unverified_email_never_claims_an_existing_account(service: ExternalLoginService,
                                                                 users: FakeUserRepository, clock: FakeClock) -> None:
    mona = await existing(users, clock, "mona", email="mona@scylladb.com")
    user = await service.login(github(verified=False))
    assert user.id != mona.id
    assert user.email == ""  # an address nobody verified is not recorded either


async def test_email_match_prefers_the_oldest_account(service: ExternalLoginService, users: FakeUserRepository,
                                                      clock: FakeClock) -> None:
    older = await existing(users, clock, "mona-old", email="mona@scylladb.com")
    clock.advance(days=1)
    await existing(users, clock, "mona-new", email="mona@scylladb.com")
    assert (await service.login(github())).id == older.id


async def test_taken_username_gets_a_numbered_suffix(service: ExternalLoginService, users: FakeUserRepository,
                                                     clock: FakeClock) -> None:
    await existing(users, clock, "mona-tester")
    await existing(users, clock, "mona-tester-2")
    user = await service.login(github(email=""))
    assert user.username == "mona-tester-3"


@pytest.mark.parametrize(("login", "email", "expected"), [
    ("mona-tester", "", "mona-tester"),
    ("", "john.doe@scylladb.com", "john.doe"),
    ("--weird name!", "", "weird-name-"),
    ("", "", "user"),
    ("x" * 80, "", "x" * 55),
])
def test_username_base(login: str, email: str, expected: str) -> None:
    assert username_base(ExternalIdentity(provider=GH, subject="1", login=login, email=email)) == expected


def test_name_from_email_splits_on_dots_and_capitalises() -> None:
    assert name_from_email("john.doe@scylladb.com") == "John Doe"
    assert name_from_email("mona@scylladb.com") == "Mona"


async def test_disabled_linked_account_is_refused(service: ExternalLoginService, users: FakeUserRepository) -> None:
    user = await service.login(github())
    users.users[user.id].disabled = True
    with pytest.raises(PermissionDenied, match="disabled"):
        await service.login(github())


async def test_disabled_account_matched_by_email_is_refused_without_linking(
        service: ExternalLoginService, users: FakeUserRepository, links: FakeIdentityLinkRepository,
        clock: FakeClock) -> None:
    await existing(users, clock, "mona", email="mona@scylladb.com", disabled=True)
    with pytest.raises(PermissionDenied, match="disabled"):
        await service.login(github())
    assert links.links == {}
    assert len(users.users) == 1


async def test_access_registration_from_an_allowed_domain(service: ExternalLoginService) -> None:
    user = await service.login(access("john.doe@ScyllaDB.com"))
    assert (user.username, user.full_name, user.email) == ("john.doe", "John Doe", "john.doe@ScyllaDB.com")


async def test_access_registration_from_another_domain_is_refused(service: ExternalLoginService,
                                                                  users: FakeUserRepository,
                                                                  links: FakeIdentityLinkRepository) -> None:
    with pytest.raises(PermissionDenied, match="not open to its e-mail domain"):
        await service.login(access("eve@evil.example"))
    assert users.users == {}
    assert links.links == {}


async def test_access_login_of_a_known_address_outside_the_domains(service: ExternalLoginService,
                                                                   users: FakeUserRepository,
                                                                   clock: FakeClock) -> None:
    partner = await existing(users, clock, "partner", email="partner@vendor.example")
    assert (await service.login(access("partner@vendor.example"))).id == partner.id


async def test_no_domains_means_no_access_registration(users: FakeUserRepository, clock: FakeClock) -> None:
    closed = ExternalLoginService(users, FakeIdentityLinkRepository(), clock, registration_domains={CF: []})
    with pytest.raises(PermissionDenied):
        await closed.login(access("john.doe@scylladb.com"))


async def test_concurrent_first_logins_create_one_account(service: ExternalLoginService,
                                                          users: FakeUserRepository) -> None:
    results = await asyncio.gather(*(service.login(github()) for _ in range(5)))
    assert len({u.id for u in results}) == 1
    assert len(users.users) == 1


async def test_link_whose_account_vanished_is_replaced(service: ExternalLoginService, users: FakeUserRepository,
                                                       links: FakeIdentityLinkRepository, clock: FakeClock,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(external, "WINNER_WAIT_ATTEMPTS", 2)
    monkeypatch.setattr(external, "WINNER_WAIT_SECONDS", 0)
    orphan = IdentityLink(provider=GH, subject="58213764", user_id=uuid4(), linked_at=clock.now())
    await links.claim(orphan)
    user = await service.login(github())
    assert user.id != orphan.user_id
    assert links.links[(GH, "58213764")].user_id == user.id


async def test_link_attaches_an_identity_to_the_signed_in_account(service: ExternalLoginService,
                                                                  users: FakeUserRepository,
                                                                  clock: FakeClock) -> None:
    mona = await existing(users, clock, "mona")
    link = await service.link(mona, github())
    assert link.user_id == mona.id
    assert (await service.link(mona, github())).user_id == mona.id  # linking twice is harmless
    assert (await service.login(github())).id == mona.id


async def test_link_refuses_an_identity_of_another_account(service: ExternalLoginService, users: FakeUserRepository,
                                                           clock: FakeClock) -> None:
    owner = await service.login(github())
    other = await existing(users, clock, "someone-else")
    with pytest.raises(PermissionDenied, match="linked to another"):
        await service.link(other, github())
    assert (await service.login(github())).id == owner.id


async def test_unconfigured_providers_are_not_found(service: ExternalLoginService) -> None:
    assert not service.github_configured
    assert not service.access_configured
    with pytest.raises(NotFound):
        service.github_authorize_url("state")
    with pytest.raises(NotFound):
        await service.access_identity("token")
