"""A local stand-in for GitHub (OAuth + REST) and for a Cloudflare Access team's key endpoint.

A real HTTP server (``http.server`` in a thread) on a free local port, so the adapters run their
real httpx code. GitHub answers come from the bodies under ``tests/fixtures/github/``, shaped like
GitHub's documented responses; codes are single use and each exchange issues a fresh token, as on
GitHub. The JWKS endpoint serves whatever public keys the test installed. Every request is kept so
tests can assert what the service sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

FIXTURES = Path(__file__).parent / "fixtures" / "github"
API_PREFIX = "/api"
CERTS_PATH = "/cdn-cgi/access/certs"
# An account whose API reads are answered by closing the connection: a network failure mid-login.
DROPPED = "dropped"


@dataclass
class SeenRequest:
    """What the service sent: method, path with query, headers and body."""

    method: str
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class IdentityProviders:
    """State behind the server; ``url`` is its base (``http://127.0.0.1:<port>``)."""

    client_id: str
    client_secret: str
    url: str = ""
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    codes: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    seen: list[SeenRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_code(self, account: str) -> str:
        """A one-time authorization code that GitHub would hand back for ``account`` (a fixture suffix)."""
        code = secrets.token_hex(10)
        with self._lock:
            self.codes[code] = account
        return code

    def certs_fetches(self) -> int:
        """How many times the key endpoint was read."""
        return sum(1 for r in self.seen if r.path == CERTS_PATH)

    # -- request handling, called from the server's threads ------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: str) -> tuple[int, Any] | None:
        """Status and JSON body for a request; None means: drop the connection without answering."""
        with self._lock:
            self.seen.append(SeenRequest(method, path, headers, body))
        route = urlsplit(path).path
        if method == "POST" and route == "/login/oauth/access_token":
            return self._exchange(parse_qs(body))
        if method == "GET" and route == CERTS_PATH:
            return 200, self.jwks
        if method == "GET" and route in (f"{API_PREFIX}/user", f"{API_PREFIX}/user/emails", f"{API_PREFIX}/user/orgs"):
            scheme, _, token = headers.get("authorization", "").partition(" ")
            account = self.tokens.get(token) if scheme == "Bearer" else None
            if account is None:
                return 401, _fixture("bad_credentials")
            if account == DROPPED:
                return None
            name = route.removeprefix(f"{API_PREFIX}/").replace("/", "_")
            return 200, _fixture(f"{name}_{account}")
        return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

    def _exchange(self, form: dict[str, list[str]]) -> tuple[int, Any]:
        if form.get("client_id") != [self.client_id] or form.get("client_secret") != [self.client_secret]:
            return 200, {"error": "incorrect_client_credentials",
                         "error_description": "The client_id and/or client_secret passed are incorrect."}
        with self._lock:
            account = self.codes.pop((form.get("code") or [""])[0], None)
            if account is None:
                return 200, _fixture("access_token_bad_code")
            token = f"gho_{secrets.token_urlsafe(27)}"
            self.tokens[token] = account
        return 200, {**_fixture("access_token"), "access_token": token}


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.providers.answer(self.command, self.path, headers, body)
        if answer is None:
            self.close_connection = True
            return
        status, payload = answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _handle  # noqa: N815 (http.server's names)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the test output should show the service's logs, not the stand-in's."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    providers: IdentityProviders


@contextmanager
def running_identity_providers(client_id: str, client_secret: str) -> Iterator[IdentityProviders]:
    """The stand-in serving on a free local port until the block ends."""
    providers = IdentityProviders(client_id=client_id, client_secret=client_secret)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.providers = providers
    providers.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="identity-providers", daemon=True)
    thread.start()
    try:
        yield providers
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@dataclass
class AccessKey:
    """An RSA key pair standing in for one of the team's Access signing keys."""

    kid: str
    private: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> AccessKey:
        """A fresh 2048-bit key with a random key id, as Cloudflare's are."""
        return cls(secrets.token_hex(32), rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def jwk(self) -> dict[str, Any]:
        """The public half as the certs endpoint lists it."""
        return {**RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True), "kid": self.kid, "alg": "RS256",
                "use": "sig"}

    def public_pem(self) -> bytes:
        """The public key in PEM, the secret an algorithm-confusion attack would use."""
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, claims: dict[str, Any]) -> str:
        """A genuine RS256 token."""
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": self.kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_token(claims: dict[str, Any], kid: str, alg: str, secret: bytes = b"") -> str:
    """A token with ``alg`` ``none`` (no signature) or ``HS256`` keyed by ``secret``, built by hand."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(claims).encode())
    signing_input = f"{header}.{body}".encode()
    signature = b"" if alg == "none" else hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"
