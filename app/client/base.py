"""What every ``/api/v1/client`` controller shares: its tag, its login rule and its path parameters."""

from __future__ import annotations

from litestar import Controller
from litestar.params import FromPath

from app.security import LOGIN, login_required

# Both stay strings so a bad value gets the client contract's error envelope, not a routing 404.
RunTypeParam = FromPath[str]
RunIdParam = FromPath[str]


class ClientApiController(Controller):
    """Base of the CI protocol controllers: CI jobs call them with an API token."""

    tags = ["ci protocol"]
    guards = [login_required]
    opt = LOGIN
