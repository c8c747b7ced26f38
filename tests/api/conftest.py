"""The whole app in-process on a temporary SQLite file and embedded broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from app.factory import create_app
from domain.users.entities import Role
from infrastructure.settings import load_settings


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncTestClient]:
    data_dir: Path = tmp_path_factory.mktemp("argus-api")
    settings = load_settings({"ARGUS_STORAGE_DATA_DIR": str(data_dir), "ARGUS_LOG_FORMAT": "json",
                              "ARGUS_AUTH_ARGON2_TIME_COST": "1", "ARGUS_AUTH_ARGON2_MEMORY_KIB": "8192"})
    async with AsyncTestClient(create_app(settings)) as test_client:
        yield test_client


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def token(client: AsyncTestClient) -> str:
    users = client.app.state.services.users
    user = await users.create_user("api-tester", roles=[Role.USER])
    _, secret = await users.issue_token(user.id, "tests")
    return secret


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"token {token}"}
