"""The audit log on the table layer: one partition per month, read newest first across months."""

from __future__ import annotations

import base64
import binascii

import msgspec

from domain.users.entities import AuditEntry
from infrastructure.storage import tables
from infrastructure.storage.store import InvalidCursor, TableStore
from infrastructure.storage.struct_rows import from_row, to_row

LOG = "audit"
MAX_MONTHS = 1000


def _encode(bucket: str, cursor: bytes | None) -> str:
    return base64.urlsafe_b64encode(msgspec.msgpack.encode([bucket, cursor])).decode()


def _decode(cursor: str) -> tuple[str, bytes | None]:
    try:
        bucket, inner = msgspec.msgpack.decode(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, msgspec.DecodeError, ValueError, TypeError) as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if not isinstance(bucket, str) or not (inner is None or isinstance(inner, bytes)):
        raise InvalidCursor("cursor is not valid")
    return bucket, inner


class StoreAuditRepository:
    """Entries partitioned by month so no partition grows without bound; a tiny table lists the months."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    async def add(self, entry: AuditEntry) -> None:
        """Write the entry, then make sure its month is listed."""
        bucket = entry.at.strftime("%Y-%m")
        await self._store.insert(tables.audit_log, to_row(entry, tables.audit_log, bucket=bucket))
        await self._store.insert(tables.audit_buckets, {"log": LOG, "bucket": bucket})

    async def newest(self, limit: int, cursor: str | None) -> tuple[list[AuditEntry], str | None]:
        """Walk the months newest first, resuming inside the month the cursor names."""
        months = [r["bucket"] for r in
                  (await self._store.select(tables.audit_buckets, {"log": LOG}, limit=MAX_MONTHS)).rows]
        start, inner = (months[0] if months else "", None) if cursor is None else _decode(cursor)
        if start not in months:
            if cursor is not None:
                raise InvalidCursor("cursor does not belong to this listing")
            return [], None
        entries: list[AuditEntry] = []
        for index in range(months.index(start), len(months)):
            bucket = months[index]
            page = await self._store.select(tables.audit_log, {"bucket": bucket}, limit=limit - len(entries),
                                            cursor=inner)
            entries += [from_row(r, AuditEntry) for r in page.rows]
            inner = None
            if page.cursor is not None:
                return entries, _encode(bucket, page.cursor)
            if len(entries) >= limit:
                return entries, _encode(months[index + 1], None) if index + 1 < len(months) else None
        return entries, None
