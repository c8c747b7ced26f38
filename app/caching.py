"""Conditional answers for polled routes: an ``ETag`` on every answer and ``304`` when it did not change.

Run cards and run pages poll every few minutes; most polls find nothing new. Hashing the encoded
envelope lets the browser skip the download without the server keeping any per-client state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, TypeVar

from litestar import Request, Response
from litestar.serialization import encode_json
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from app.envelope import Ok, ok

T = TypeVar("T")
# For polled answers: the browser keeps the copy but asks again with If-None-Match every time.
REVALIDATE = {"Cache-Control": "no-cache"}


def entity_tag(body: bytes) -> str:
    """A weak validator for ``body``: equal JSON gives equal tags on every worker.

    Weak because the gzip middleware may send other bytes for the same JSON.
    """
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str, tag: str) -> bool:
    """RFC 9110 weak comparison: ``*`` or any listed tag equal to ours, ``W/`` prefixes ignored."""
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return "*" in candidates or tag.removeprefix("W/") in candidates


def etag_response(request: Request[Any, Any, Any], payload: T,
                  headers: Mapping[str, str] | None = None) -> Response[Ok[T]]:
    """``payload`` in the success envelope with an ``ETag``; ``304`` without a body when the client has it.

    The envelope is encoded here (once) because the tag must be computed over the exact bytes sent.
    """
    body = encode_json(ok(payload))
    tag = entity_tag(body)
    answer_headers = {**(headers or {}), "ETag": tag}
    if _matches(request.headers.get("if-none-match", ""), tag):
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=answer_headers)
    return Response(body, headers=answer_headers, media_type="application/json")
