"""Where bundles are cached, and how an entry is published whole or not at all.

Every entry is built in a private temporary directory next to the cache and renamed into place in
one ``os.rename``, so a concurrent reader (another pytest worker, a second ``cdk synth``) sees
either nothing or a complete entry. A per-key lock (POSIX ``flock``, where available) makes the
second builder wait for the first instead of building the same thing twice.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

CACHE_ENV: Final = "SERVERLESS_ML_CACHE"
CACHE_SUBDIR: Final = Path(".cache") / "serverless-ml"
PROJECT_MARKERS: Final = ("pyproject.toml", "cdk.json", "Pulumi.yaml", ".git")
STALE_TEMP_S: Final = 24 * 3600
# Pruning: per bundle name/architecture/Python keep the most recently used few; drop others once
# unused for an hour (so an entry another process is using right now is never touched), and drop
# anything unused for a month.
KEEP_PER_NAME: Final = 3
IN_USE_GRACE_S: Final = 3600
UNUSED_MAX_S: Final = 30 * 24 * 3600


def _project_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in PROJECT_MARKERS):
            return directory
    return None


def default_cache_dir(explicit: Path | None = None) -> Path:
    """``explicit`` > ``$SERVERLESS_ML_CACHE`` > ``<project>/.cache/serverless-ml`` (the nearest
    directory above the working directory with pyproject.toml, cdk.json, Pulumi.yaml or .git) >
    ``$XDG_CACHE_HOME/serverless-ml`` (``~/.cache/serverless-ml``)."""
    if explicit is not None:
        return explicit
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    root = _project_root(Path.cwd())
    if root is not None:
        return root / CACHE_SUBDIR
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "serverless-ml"


def prepare(cache_dir: Path) -> None:
    """Create the cache layout; a ``.gitignore`` of ``*`` keeps it out of the user's repository."""
    for sub in ("bundles", "deps", "tmp", "locks"):
        (cache_dir / sub).mkdir(parents=True, exist_ok=True)
    ignore = cache_dir / ".gitignore"
    if not ignore.exists():
        with contextlib.suppress(OSError):
            ignore.write_text("# created by serverless-ml: build cache\n*\n", encoding="utf-8")
    _sweep_stale_temp(cache_dir / "tmp")


def _sweep_stale_temp(tmp: Path) -> None:
    """Remove temporary build directories left by crashed builds (older than a day)."""
    cutoff = time.time() - STALE_TEMP_S
    for entry in tmp.iterdir():
        with contextlib.suppress(OSError):
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)


@contextlib.contextmanager
def key_lock(cache_dir: Path, key: str) -> Iterator[None]:
    """Hold an exclusive lock on ``key`` (no-op where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: rename-into-place alone keeps readers safe
        yield
        return
    with (cache_dir / "locks" / f"{key}.lock").open("a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def temp_entry(cache_dir: Path, key: str) -> Path:
    """A fresh private directory to build ``key`` in (same filesystem as the cache)."""
    return Path(tempfile.mkdtemp(prefix=f"{key[:16]}-", dir=cache_dir / "tmp"))


def link_or_copy(source: str, destination: str) -> None:
    """``shutil.copytree`` helper: hard-link cached files (bundles share the deps layer's bytes;
    nothing in the cache is ever modified in place), copying where links are not possible."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def touch(entry: Path) -> None:
    """Record that ``entry`` was used now (its directory mtime is its last use)."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def prune(directory: Path, group_of: Callable[[Path], str | None]) -> list[Path]:
    """Remove entries of ``directory`` by the rules above; ``group_of`` names an entry's group
    (None: unknown, only the age rule applies). Returns what was removed."""
    now = time.time()
    groups: dict[str | None, list[tuple[float, Path]]] = {}
    for entry in directory.iterdir():
        with contextlib.suppress(OSError):
            groups.setdefault(group_of(entry), []).append((entry.stat().st_mtime, entry))
    removed: list[Path] = []
    for group, entries in groups.items():
        entries.sort(reverse=True)
        for rank, (used, entry) in enumerate(entries):
            idle = now - used
            surplus = group is not None and rank >= KEEP_PER_NAME and idle > IN_USE_GRACE_S
            if surplus or idle > UNUSED_MAX_S:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def publish(temporary: Path, final: Path) -> bool:
    """Rename ``temporary`` to ``final`` atomically; False (and ``temporary`` removed) if another
    builder published ``final`` first."""
    try:
        os.rename(temporary, final)
    except OSError:
        if final.exists():
            shutil.rmtree(temporary, ignore_errors=True)
            return False
        raise
    return True
