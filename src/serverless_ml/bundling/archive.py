"""Deterministic zip of a bundle directory: same files in, same bytes out."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from pathlib import Path
from typing import Final

# The earliest date a zip entry can carry; fixed so the archive's bytes depend on content only.
FIXED_DATE: Final = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL: Final = 6


def _files(root: Path) -> list[tuple[str, Path]]:
    entries: list[tuple[str, Path]] = []
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            entries.append((path.relative_to(root).as_posix(), path))
    return sorted(entries)


def write_zip(root: Path, destination: Path) -> int:
    """Zip every file under ``root`` (sorted, fixed dates, 0644/0755) to ``destination``.

    Returns the archive's size in bytes.
    """
    with zipfile.ZipFile(
        destination, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        for name, path in _files(root):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so Lambda honours the permission bits
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            with path.open("rb") as source, archive.open(info, "w") as sink:
                while chunk := source.read(1 << 20):
                    sink.write(chunk)
    return destination.stat().st_size


def directory_digest(root: Path) -> str:
    """sha256 over every file's relative path and bytes under ``root`` (a prebuilt bundle's
    identity, the same whichever machine built it)."""
    digest = hashlib.sha256()
    for name, path in _files(root):
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
