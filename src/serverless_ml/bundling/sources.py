"""Which files of ours go into a bundle (handler packages, model, extras) and their digests."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from serverless_ml.bundling.errors import MODEL_NOT_FOUND, PACKAGE_NOT_FOUND, BundleError
from serverless_ml.bundling.spec import BundleSpec

MODEL_DIR_NAME: Final = "model"
# Never shipped from a handler package: bytecode of the build machine's Python, typing markers.
SKIPPED_NAMES: Final = frozenset({"__pycache__", "py.typed", ".DS_Store"})
SKIPPED_SUFFIXES: Final = (".pyc", ".pyo")


@dataclass(frozen=True)
class SourceFile:
    """A file copied into the bundle: where it goes (posix), where it came from, and its bytes.

    The bytes are read once and both hashed and written from memory, so a file edited while a
    build runs can never leave a bundle whose content differs from its cache key.
    """

    destination: str
    source: Path
    content: bytes

    @classmethod
    def read(cls, destination: str, source: Path) -> SourceFile:
        return cls(destination, source, source.read_bytes())

    def digest(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _top_package_dir(spec: BundleSpec) -> Path:
    top = spec.top_package
    if spec.source_root is not None:
        directory = spec.source_root / top
    else:
        found = importlib.util.find_spec(top)
        locations = list(found.submodule_search_locations or []) if found else []
        if not locations:
            raise BundleError(
                PACKAGE_NOT_FOUND,
                f"package {top!r} is not importable here: install it, or set source_root to "
                "the directory that contains it",
            )
        directory = Path(locations[0])
    if not (directory / "__init__.py").is_file():
        raise BundleError(PACKAGE_NOT_FOUND, f"{directory} is not a package (no __init__.py)")
    return directory


def _package_files(top_dir: Path, package: str) -> list[SourceFile]:
    parts = package.split(".")
    directory = top_dir.joinpath(*parts[1:])
    if not (directory / "__init__.py").is_file():
        raise BundleError(
            PACKAGE_NOT_FOUND, f"package {package!r} not found: {directory} has no __init__.py"
        )
    files = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(top_dir)
        if not path.is_file() or SKIPPED_NAMES.intersection(relative.parts):
            continue
        if path.suffix in SKIPPED_SUFFIXES:
            continue
        files.append(SourceFile.read(f"{parts[0]}/{relative.as_posix()}", path))
    return files


def handler_files(spec: BundleSpec) -> list[SourceFile]:
    """The handler package, the modules of the shared packages it imports (directly or through
    each other: an edge function carries no DynamoDB or Kinesis helpers), and every parent
    ``__init__.py``."""
    top_dir = _top_package_dir(spec)
    files: dict[str, SourceFile] = {}
    own: set[str] = set()
    for package in spec.handler_packages:
        parts = package.split(".")
        for depth in range(1, len(parts)):
            init = top_dir.joinpath(*parts[1:depth], "__init__.py")
            destination = "/".join([*parts[:depth], "__init__.py"])
            files[destination] = SourceFile.read(destination, init)
            own.add(destination)
        for item in _package_files(top_dir, package):
            files[item.destination] = item
            if package == spec.function_package:
                own.add(item.destination)
    reached = imported_modules(files, roots=own)
    return [
        files[name]
        for name in sorted(files)
        if name in own or not name.endswith(".py") or name in reached
    ]


def _module_of(destination: str) -> str:
    """``a/b/c.py`` -> ``a.b.c``; ``a/b/__init__.py`` -> ``a.b``."""
    parts = destination.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(files: dict[str, SourceFile], *, roots: set[str]) -> set[str]:
    """Destinations of the ``.py`` files ``roots`` import, transitively (every ``import`` and
    ``from ... import`` statement anywhere in a module, lazy ones inside functions included)."""
    by_module = {_module_of(d): d for d in files if d.endswith(".py")}
    seen: set[str] = set()
    pending = [_module_of(d) for d in roots if d.endswith(".py")]
    while pending:
        module = pending.pop()
        destination = by_module.get(module)
        if destination is None or destination in seen:
            continue
        seen.add(destination)
        package = module if destination.endswith("__init__.py") else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(files[destination].content)):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for name in names:
                parts = name.split(".")
                pending.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return seen


def model_files(spec: BundleSpec) -> list[SourceFile]:
    """Every file of ``model_dir``, bound for ``model/``."""
    if spec.model_dir is None:
        return []
    if not spec.model_dir.is_dir():
        raise BundleError(
            MODEL_NOT_FOUND,
            f"model_dir {spec.model_dir} is not a directory: build the model first "
            "(`serverless-ml build-models`) or pass the directory holding model.onnx",
        )
    files = [
        SourceFile.read(f"{MODEL_DIR_NAME}/{path.relative_to(spec.model_dir).as_posix()}", path)
        for path in sorted(spec.model_dir.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]
    if not files:
        raise BundleError(MODEL_NOT_FOUND, f"model_dir {spec.model_dir} is empty")
    return files


def extra_files(spec: BundleSpec) -> list[SourceFile]:
    result = []
    for destination, source in spec.extra_files:
        if not source.is_file():
            raise BundleError(PACKAGE_NOT_FOUND, f"extra file {source} does not exist")
        result.append(SourceFile.read(destination, source))
    return result
