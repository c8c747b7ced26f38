"""Reading replay archives: every format, and every way a hostile archive must be refused."""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile

import pytest
import zstandard

from infrastructure.replay.archive import ArchiveLimits, ArchiveRejected, read_logs

LIMITS = ArchiveLimits(max_archive_bytes=1 << 20, max_members=20, max_member_bytes=64 * 1024,
                       max_unpacked_bytes=256 * 1024)
LINE = b'{"method":"POST","endpoint":"/testrun/$type/submit","ts":1}\n'


def tar(members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                archive.addfile(info, io.BytesIO(member[1]))
    return buffer.getvalue()


def zipped(members: list[tuple[str, bytes]], *, mode: int | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.external_attr = mode << 16
            archive.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["tar", "tar.gz", "tar.zst", "zip"])
def test_every_format_yields_only_jsonl_members(kind: str) -> None:
    members = [("logs/a.jsonl", LINE), ("logs/readme.txt", b"not a log"), ("b.JSONL", LINE * 2)]
    data = zipped(members) if kind == "zip" else tar(members, "w:gz" if kind == "tar.gz" else "w")
    if kind == "tar.zst":
        data = zstandard.ZstdCompressor().compress(data)
    assert [(m.name, m.data) for m in read_logs(data, LIMITS)] == [("logs/a.jsonl", LINE), ("b.JSONL", LINE * 2)]


@pytest.mark.parametrize("name", ["../escape.jsonl", "/etc/cron.d/x.jsonl", "logs/../../x.jsonl", "C:/x.jsonl"])
def test_paths_leaving_the_archive_are_refused(name: str) -> None:
    for data in (tar([(name, LINE)]), zipped([(name, LINE)])):
        with pytest.raises(ArchiveRejected, match="Unsafe member path"):
            read_logs(data, LIMITS)


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
def test_links_and_devices_are_refused(kind: bytes) -> None:
    info = tarfile.TarInfo("logs/a.jsonl")
    info.type = kind
    info.linkname = "/etc/passwd"
    with pytest.raises(ArchiveRejected, match="Links and devices"):
        read_logs(tar([info]), LIMITS)


def test_zip_symlink_is_refused() -> None:
    with pytest.raises(ArchiveRejected, match="Links and devices"):
        read_logs(zipped([("a.jsonl", b"/etc/passwd")], mode=stat.S_IFLNK | 0o777), LIMITS)


@pytest.mark.parametrize("kind", ["tar.gz", "tar.zst", "zip"])
def test_compression_bomb_stops_at_the_limit(kind: str) -> None:
    # 8 MiB of zeros compresses to a few KiB: small upload, huge output.
    bomb = b"\0" * (8 << 20)
    if kind == "zip":
        data = zipped([("a.jsonl", bomb)])
    else:
        data = tar([("skipped.bin", bomb)])
        data = gzip.compress(data) if kind == "tar.gz" else zstandard.ZstdCompressor().compress(data)
    assert len(data) < LIMITS.max_archive_bytes
    with pytest.raises(ArchiveRejected, match=r"larger than|unpacks to more than"):
        read_logs(data, LIMITS)


def test_oversized_member_and_upload() -> None:
    with pytest.raises(ArchiveRejected, match=r"Member big\.jsonl is larger"):
        read_logs(tar([("big.jsonl", b"x" * (LIMITS.max_member_bytes + 1))]), LIMITS)
    with pytest.raises(ArchiveRejected, match="Archive is larger"):
        read_logs(b"\x28\xb5\x2f\xfd" + b"\0" * LIMITS.max_archive_bytes, LIMITS)


def test_too_many_members() -> None:
    members = [(f"{i}.jsonl", LINE) for i in range(LIMITS.max_members + 1)]
    for data in (tar(members), zipped(members)):
        with pytest.raises(ArchiveRejected, match="more than 20 members"):
            read_logs(data, LIMITS)


@pytest.mark.parametrize("data", [
    b"plain text, no archive",
    b"\x1f\x8b\x08\x00garbage-after-gzip-magic",
    b"\x28\xb5\x2f\xfdgarbage-after-zstd-magic",
    b"PK\x03\x04garbage-after-zip-magic",
])
def test_unknown_or_corrupt_archives(data: bytes) -> None:
    with pytest.raises(ArchiveRejected, match=r"Unknown archive format|Corrupt"):
        read_logs(data, LIMITS)


def test_truncated_tar_gz_is_corrupt() -> None:
    data = tar([("a.jsonl", LINE * 1000)], "w:gz")
    with pytest.raises(ArchiveRejected, match=r"Corrupt tar\.gz"):
        read_logs(data[: len(data) // 2], LIMITS)
