"""Domain errors: named failures that the web layer maps once to the wire format.

Each carries the arguments the existing service put in its error envelope, so clients that read
``response.arguments[0]`` get a useful message.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every failure a caller can cause; never a bug in the service."""

    def __init__(self, message: str, *arguments: object) -> None:
        super().__init__(message, *arguments)
        self.message = message


class NotFound(DomainError):
    """The addressed entity does not exist."""


class AlreadyExists(DomainError):
    """A unique name or key is taken by another entity."""


class InvalidInput(DomainError):
    """A value is well-formed on the wire but not acceptable to the domain."""


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""


class NotAuthenticated(DomainError):
    """The caller presented no identity, or one that does not check out."""


class RateLimited(DomainError):
    """The caller tried too often; it must wait before trying again."""
