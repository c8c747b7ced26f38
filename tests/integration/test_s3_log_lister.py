"""``S3LogArchiveLister`` against a local HTTP server answering like S3's ListObjectsV2.

The payloads follow what S3 returns for an anonymous ``GET /<bucket>?list-type=2&prefix=<run_id>/``
(namespace, ``Contents`` entries, pagination through ``NextContinuationToken``), so the parser is
exercised on the real document shape without network access.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from domain.replay.ports import LogArchive, LogListingFailed
from infrastructure.replay.s3_logs import S3LogArchiveLister

RUN = "7f3c1e2a-5b6d-4c8e-9f01-23456789abcd"
BUCKET = "cloudius-jenkins-test"


def listing(keys: list[str], token: str | None) -> bytes:
    contents = "".join(
        f"<Contents><Key>{key}</Key><LastModified>2024-06-01T13:07:41.000Z</LastModified>"
        f'<ETag>"9b2cf535f27731c974343645a3985328"</ETag><Size>48213277</Size>'
        f"<StorageClass>STANDARD</StorageClass></Contents>" for key in keys)
    more = f"<NextContinuationToken>{token}</NextContinuationToken>" if token else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>{BUCKET}</Name>'
            f"<Prefix>{RUN}/</Prefix><KeyCount>{len(keys)}</KeyCount><MaxKeys>1000</MaxKeys>"
            f"<IsTruncated>{'true' if token else 'false'}</IsTruncated>{contents}{more}</ListBucketResult>").encode()


PAGES = {
    None: listing([f"{RUN}/20240601_130741/db-cluster-7f3c1e2a.tar.zst",
                   f"{RUN}/20240601_130741/sct-runner-events-7f3c1e2a.tar.zst"], "1ueGcxLPRx1Tr"),
    "1ueGcxLPRx1Tr": listing([f"{RUN}/20240601_130741/monitor-set-7f3c1e2a.tar.gz",
                              f"{RUN}/20240601_130741/screenshot.png"], None),
}


class _S3(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == f"/{BUCKET}" and query.get("list-type") == "2" and query.get("prefix") == f"{RUN}/":
            body, status = PAGES[query.get("continuation-token")], 200
        else:
            body, status = b"<Error><Code>AccessDenied</Code></Error>", 403
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _S3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_lists_archives_across_pages(endpoint: str) -> None:
    archives = await S3LogArchiveLister(endpoint, BUCKET).list_archives(RUN)
    base = f"{endpoint}/{BUCKET}/{RUN}/20240601_130741"
    assert archives == [
        LogArchive("db-cluster-7f3c1e2a.tar.zst", f"{base}/db-cluster-7f3c1e2a.tar.zst"),
        LogArchive("sct-runner-events-7f3c1e2a.tar.zst", f"{base}/sct-runner-events-7f3c1e2a.tar.zst"),
        LogArchive("monitor-set-7f3c1e2a.tar.gz", f"{base}/monitor-set-7f3c1e2a.tar.gz")]


async def test_refusal_and_unreachable_store_are_listing_failures(endpoint: str) -> None:
    with pytest.raises(LogListingFailed, match="403"):
        await S3LogArchiveLister(endpoint, "other-bucket").list_archives(RUN)
    with pytest.raises(LogListingFailed):
        await S3LogArchiveLister("http://127.0.0.1:9", BUCKET, timeout=2).list_archives(RUN)


async def test_no_endpoint_means_disabled() -> None:
    lister = S3LogArchiveLister("", BUCKET)
    assert not lister.enabled
    assert await lister.list_archives(RUN) == []
