"""Drop what inference never imports from a ``pip install --target`` directory.

Each rule removes files a Lambda handler cannot reach at run time (test suites, build helpers,
offline tools, type stubs, installer bookkeeping). Nothing is ``strip``-ped: auditwheel-repaired
libraries (numpy's bundled OpenBLAS) then fail to load with "ELF load command address/offset not
page-aligned". Licences and ``METADATA`` stay, so ``importlib.metadata.version()`` still works.
"""

from __future__ import annotations

import fnmatch
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from serverless_ml.bundling.elf import is_elf, needed_libraries
from serverless_ml.bundling.spec import TrimmedItem

# Part of every bundle's cache key: bump it whenever a rule below (or the bundle layout) changes,
# so no cached bundle built under the old rules is reused.
BUNDLER_VERSION: Final = 3


@dataclass(frozen=True)
class TrimRule:
    """Paths (posix, relative to the install root; ``fnmatch`` patterns) removed for ``why``."""

    name: str
    why: str
    patterns: tuple[str, ...]


PILLOW_UNUSED_MODULES: Final = (
    "_imagingft", "_imagingcms", "_webp", "_avif", "_imagingtk", "_imagingmath", "_imagingmorph",
)  # fmt: skip

TRIM_RULES: Final = (
    TrimRule(
        "test suites",
        "tests ship inside numpy and others; no handler imports them",
        ("*/tests", "tests", "*/conftest.py"),
    ),
    TrimRule(
        "onnxruntime offline tools",
        "model conversion, quantization and transformer optimization run before deployment",
        ("onnxruntime/tools", "onnxruntime/transformers", "onnxruntime/quantization"),
    ),
    TrimRule(
        "numpy build and test helpers",
        "f2py, C headers, static libraries, PyInstaller hooks and test-only extension modules",
        (
            "numpy/f2py",
            "numpy/_core/include",
            "numpy/_core/lib",
            "numpy/_pyinstaller",
            "numpy/_core/_*_tests.*",
            "numpy/testing/print_coercion_tables.py",
        ),
    ),
    TrimRule("type stubs", "*.pyi only serve type checkers", ("*.pyi",)),
    TrimRule(
        "installer bookkeeping",
        "RECORD (stale after trimming), INSTALLER, REQUESTED, WHEEL, direct_url.json",
        tuple(
            f"*.dist-info/{name}"
            for name in ("RECORD", "INSTALLER", "REQUESTED", "WHEEL", "direct_url.json")
        ),
    ),
    TrimRule("console scripts", "pip's bin/ wrappers point at the build machine", ("bin",)),
    TrimRule(
        "stale bytecode", "bytecode is compiled later by the target interpreter", ("*/__pycache__",)
    ),
    TrimRule(
        "Pillow modules inference never imports",
        "fonts (FreeType), colour management (LCMS), WebP / AVIF codecs, Tk, ImageMath and "
        "ImageMorph: handlers open PNG and JPEG only, which the core _imaging module decodes",
        tuple(f"PIL/{module}.*" for module in PILLOW_UNUSED_MODULES),
    ),
)

# auditwheel vendors each wheel's shared libraries into ``<dist>.libs/``; once a rule above drops
# the extension modules that linked some of them, those are unreachable.
ORPHANED_LIBRARIES: Final = "orphaned vendored libraries"

# onnxruntime wheels carry the C API library next to the Python binding, which embeds its own
# copy of the runtime (measured: the binding's DT_NEEDED list has no libonnxruntime). It goes
# only when no kept ELF file needs it and no kept Python file names it.
UNLINKED_LIBRARY_RULE: Final = TrimRule(
    "onnxruntime C API library",
    "the Python binding does not link libonnxruntime.so (checked per build from DT_NEEDED)",
    ("onnxruntime/capi/libonnxruntime.so.*",),
)


@dataclass(frozen=True)
class TrimResult:
    items: tuple[TrimmedItem, ...]
    notes: tuple[str, ...]


def tree_bytes(root: Path) -> int:
    """Sum of file sizes below ``root`` (what Lambda counts as unzipped size)."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _size(path: Path) -> int:
    return tree_bytes(path) if path.is_dir() else path.stat().st_size


def _matches(relative: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns)


def _walk(root: Path, keep_going: Callable[[Path], bool]) -> list[Path]:
    """Every path below ``root``, not descending into paths for which ``keep_going`` is False."""
    found: list[Path] = []
    pending = [root]
    while pending:
        directory = pending.pop()
        for child in sorted(directory.iterdir()):
            found.append(child)
            if child.is_dir() and not child.is_symlink() and keep_going(child):
                pending.append(child)
    return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _apply(root: Path, rule: TrimRule) -> TrimmedItem:
    doomed: list[Path] = []

    def descend(directory: Path) -> bool:
        return not _matches(directory.relative_to(root).as_posix(), rule.patterns)

    for path in _walk(root, descend):
        if _matches(path.relative_to(root).as_posix(), rule.patterns):
            doomed.append(path)
    removed = 0
    for path in doomed:
        removed += _size(path)
        _remove(path)
    return TrimmedItem(rule=rule.name, paths=len(doomed), bytes=removed)


def _library_still_needed(root: Path, candidates: list[Path]) -> str | None:
    """Why a candidate library must stay, or None if nothing kept refers to it."""
    stems = {c.name.split(".so", 1)[0] + ".so" for c in candidates}
    candidate_set = set(candidates)
    for path in root.rglob("*"):
        if path in candidate_set or not path.is_file():
            continue
        if ".so" in path.name and is_elf(path):
            needed = needed_libraries(path)
            if needed is None:
                return f"cannot read the dynamic section of {path.relative_to(root)}"
            for soname in needed:
                if any(soname.startswith(stem) for stem in stems):
                    return f"{path.relative_to(root)} links {soname}"
        elif path.suffix == ".py" and path.parts[len(root.parts)] == "onnxruntime":
            text = path.read_text(encoding="utf-8", errors="replace")
            for stem in stems:
                if stem in text:
                    return f"{path.relative_to(root)} names {stem}"
    return None


def _elf_graph(root: Path) -> dict[Path, tuple[str, ...] | None]:
    """Every shared object below ``root`` and its ``DT_NEEDED`` sonames."""
    return {
        p: needed_libraries(p)
        for p in root.rglob("*")
        if p.is_file() and ".so" in p.name and is_elf(p)
    }


def _reachable(
    starts: Iterable[Path], graph: dict[Path, tuple[str, ...] | None], libs: dict[str, Path]
) -> set[Path]:
    """The vendored libraries ``starts`` need, transitively."""
    reached: set[Path] = set()
    pending = list(starts)
    while pending:
        for soname in graph.get(pending.pop()) or ():
            found = libs.get(soname) or libs.get(soname.split(".so", 1)[0] + ".so")
            if found is not None and found not in reached:
                reached.add(found)
                pending.append(found)
    return reached


def _orphaned_libraries(root: Path, before: dict[Path, tuple[str, ...] | None]) -> TrimmedItem:
    """Drop vendored libraries (``*.libs/``) that only extension modules a rule removed needed:
    reachable from a removed module, unreachable from every kept one. A library nothing ever
    linked (perhaps opened with ``dlopen``) stays, and so does everything if any dynamic
    section cannot be read."""
    if any(needed is None for needed in before.values()):
        return TrimmedItem(rule=ORPHANED_LIBRARIES, paths=0, bytes=0)
    libs: dict[str, Path] = {}
    for lib in before:
        if lib.parent.name.endswith(".libs") and lib.parent.parent == root:
            libs[lib.name] = lib
            libs.setdefault(lib.name.split(".so", 1)[0] + ".so", lib)
    vendored = set(libs.values())
    removed = [p for p in before if not p.exists()]
    kept = [p for p in before if p.exists() and p not in vendored]
    doomed = sorted(_reachable(removed, before, libs) - _reachable(kept, before, libs))
    doomed = [p for p in doomed if p.exists()]
    size = sum(p.stat().st_size for p in doomed)
    for path in doomed:
        path.unlink()
    return TrimmedItem(rule=ORPHANED_LIBRARIES, paths=len(doomed), bytes=size)


def trim(root: Path) -> TrimResult:
    """Apply every rule to ``root`` in place; return what each removed."""
    before = _elf_graph(root)
    items = [_apply(root, rule) for rule in TRIM_RULES]
    items.append(_orphaned_libraries(root, before))
    notes: list[str] = []
    candidates = [
        path
        for path in (root / "onnxruntime" / "capi").glob("libonnxruntime.so*")
        if _matches(path.relative_to(root).as_posix(), UNLINKED_LIBRARY_RULE.patterns)
    ]
    if candidates:
        reason = _library_still_needed(root, candidates)
        if reason is None:
            items.append(_apply(root, UNLINKED_LIBRARY_RULE))
        else:
            notes.append(f"kept {', '.join(c.name for c in candidates)}: {reason}")
    return TrimResult(items=tuple(item for item in items if item.paths), notes=tuple(notes))
