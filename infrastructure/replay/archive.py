"""Reading replay-log archives safely: bounded, streamed, in memory only.

The archive comes from a caller over HTTP, so it is treated as hostile: the format is detected
from magic bytes (never the file name), decompression is streamed through a byte counter so a
compression bomb stops at the limit instead of filling memory, and members that are links,
devices or paths escaping the archive are refused. Nothing is ever written to disk.
"""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

import zstandard

from domain.errors import InvalidInput

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
TAR_MAGIC_OFFSET = 257
_CHUNK = 64 * 1024


class ArchiveRejected(InvalidInput):
    """The uploaded archive is unreadable, too large or unsafe; nothing from it was used."""


@dataclass(frozen=True)
class ArchiveLimits:
    """Bounds that keep a hostile archive from exhausting memory or CPU."""

    max_archive_bytes: int
    max_members: int
    max_member_bytes: int
    max_unpacked_bytes: int


@dataclass(frozen=True)
class LogMember:
    """One ``*.jsonl`` member's name and content."""

    name: str
    data: bytes


def detect_format(data: bytes) -> str:
    """``tar.zst``, ``tar.gz``, ``zip`` or ``tar`` from the leading bytes; ArchiveRejected otherwise."""
    if data.startswith(ZSTD_MAGIC):
        return "tar.zst"
    if data.startswith(GZIP_MAGIC):
        return "tar.gz"
    if data.startswith(ZIP_MAGICS):
        return "zip"
    if data[TAR_MAGIC_OFFSET:TAR_MAGIC_OFFSET + 5] == b"ustar":
        return "tar"
    raise ArchiveRejected("Unknown archive format: expected tar.zst, tar.gz, tar or zip")


def read_logs(data: bytes, limits: ArchiveLimits) -> list[LogMember]:
    """Every ``*.jsonl`` member of the archive, checked against ``limits``."""
    if len(data) > limits.max_archive_bytes:
        raise ArchiveRejected(f"Archive is larger than {limits.max_archive_bytes} bytes")
    kind = detect_format(data)
    try:
        if kind == "zip":
            return _read_zip(data, limits)
        raw: IO[bytes] = io.BytesIO(data)
        if kind == "tar.zst":
            raw = zstandard.ZstdDecompressor().stream_reader(raw)
        elif kind == "tar.gz":
            raw = gzip.GzipFile(fileobj=raw)
        return _read_tar(_Bounded(raw, limits.max_unpacked_bytes), limits)
    except ArchiveRejected:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, zstandard.ZstdError, OSError, EOFError, zlib.error,
            ValueError) as exc:
        raise ArchiveRejected(f"Corrupt {kind} archive: {exc}") from exc


class _Bounded(io.RawIOBase):
    """A read-only stream that fails once more than ``limit`` bytes came out of ``inner``."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._inner.read(min(len(buffer), _CHUNK))
        self._read += len(chunk)
        if self._read > self._limit:
            raise ArchiveRejected(f"Archive unpacks to more than {self._limit} bytes")
        buffer[:len(chunk)] = chunk
        return len(chunk)


def _check_name(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
        raise ArchiveRejected(f"Unsafe member path in archive: {name}")


def _is_log(name: str) -> bool:
    return name.lower().endswith(".jsonl")


def _read_tar(stream: io.RawIOBase, limits: ArchiveLimits) -> list[LogMember]:
    members: list[LogMember] = []
    count = 0
    with tarfile.open(fileobj=io.BufferedReader(stream, _CHUNK), mode="r|") as archive:
        for info in archive:
            count += 1
            if count > limits.max_members:
                raise ArchiveRejected(f"Archive has more than {limits.max_members} members")
            _check_name(info.name)
            if info.issym() or info.islnk() or info.isdev() or info.isfifo():
                raise ArchiveRejected(f"Links and devices are not accepted in an archive: {info.name}")
            if not info.isfile() or not _is_log(info.name):
                continue
            if info.size > limits.max_member_bytes:
                raise ArchiveRejected(f"Member {info.name} is larger than {limits.max_member_bytes} bytes")
            extracted = archive.extractfile(info)
            if extracted is None:
                continue
            members.append(LogMember(info.name, extracted.read()))
    return members


def _read_zip(data: bytes, limits: ArchiveLimits) -> list[LogMember]:
    members: list[LogMember] = []
    unpacked = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise ArchiveRejected(f"Archive has more than {limits.max_members} members")
        for info in infos:
            _check_name(info.filename)
            # Unix file type in the high bits; zero means a writer that records none (a plain file).
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                raise ArchiveRejected(f"Links and devices are not accepted in an archive: {info.filename}")
            if info.is_dir() or not _is_log(info.filename):
                continue
            # The declared size may lie, so the read itself is bounded as well.
            content = bytearray()
            with archive.open(info) as member:
                while chunk := member.read(_CHUNK):
                    content += chunk
                    unpacked += len(chunk)
                    if len(content) > limits.max_member_bytes:
                        raise ArchiveRejected(
                            f"Member {info.filename} is larger than {limits.max_member_bytes} bytes")
                    if unpacked > limits.max_unpacked_bytes:
                        raise ArchiveRejected(f"Archive unpacks to more than {limits.max_unpacked_bytes} bytes")
            members.append(LogMember(info.filename, bytes(content)))
    return members
