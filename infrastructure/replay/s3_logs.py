"""``LogArchiveLister`` over S3's ListObjectsV2, anonymously, as SCT's log bucket is public-read.

SCT uploads a run's logs to ``s3://<bucket>/<run_id>/...`` even when Argus is down, so listing
that prefix is how a replay recovers ``logs/submit`` calls that never arrived.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote
from xml.etree.ElementTree import ParseError

import httpx
from defusedxml import DefusedXmlException, ElementTree

from domain.replay.ports import LogArchive, LogListingFailed

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
ARCHIVE_SUFFIXES = (".tar.zst", ".tar.gz", ".tgz", ".zst", ".gz", ".zip")
# A run has tens of archives; the cap only stops a misbehaving endpoint from paging forever.
MAX_PAGES = 50


class S3LogArchiveLister:
    """Lists ``<bucket>/<run_id>/`` on an S3-compatible endpoint (path-style URLs)."""

    def __init__(self, endpoint: str, bucket: str, *, timeout: float = 15.0) -> None:
        self._endpoint = endpoint.rstrip("/")
        self._bucket = bucket
        self._timeout = timeout

    @property
    def enabled(self) -> bool:
        """Back-fill needs an endpoint; an empty one switches it off."""
        return bool(self._endpoint and self._bucket)

    async def list_archives(self, run_id: str) -> list[LogArchive]:
        """Archives under the run's prefix; LogListingFailed for an unreachable or refusing store."""
        if not self.enabled:
            return []
        try:
            return await self._list(run_id)
        except (httpx.HTTPError, ParseError, DefusedXmlException) as exc:
            raise LogListingFailed(f"Listing s3://{self._bucket}/{run_id}/ failed: {exc}") from exc

    async def _list(self, run_id: str) -> list[LogArchive]:
        archives: list[LogArchive] = []
        params: dict[str, str] = {"list-type": "2", "prefix": f"{run_id}/"}
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            for _ in range(MAX_PAGES):
                response = await http.get(f"{self._endpoint}/{self._bucket}", params=params)
                response.raise_for_status()
                root = ElementTree.fromstring(response.content)
                for item in root.iter(f"{_NS}Contents"):
                    key = item.findtext(f"{_NS}Key") or ""
                    if key.lower().endswith(ARCHIVE_SUFFIXES):
                        archives.append(LogArchive(
                            name=PurePosixPath(key).name,
                            link=f"{self._endpoint}/{self._bucket}/{quote(key)}"))
                token = root.findtext(f"{_NS}NextContinuationToken")
                if root.findtext(f"{_NS}IsTruncated") != "true" or not token:
                    break
                params = {**params, "continuation-token": token}
        return archives
