"""What to bundle (``BundleSpec``) and what came out (``Bundle``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final, Literal

from serverless_ml.bundling.errors import INVALID_SPEC, BundleError
from serverless_ml.core.limits import LAMBDA_ARCHITECTURES, LAMBDA_PYTHON_RUNTIMES

Architecture = Literal["arm64", "x86_64"]

_DOTTED_NAME: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_BUNDLE_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# "name==version" or "name[extra]==version" (optionally "; marker"): only exact pins, so the
# cache key (built from these strings) names exactly one set of wheels.
_PINNED: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?\s*===?\s*[^\s;,]+")
_LOCAL_VERSION: Final = re.compile(r"^3\.\d{1,2}$")
RESERVED_TOP_LEVEL: Final = ("model",)


@dataclass(frozen=True, kw_only=True)
class BundleSpec:
    """One Lambda zip artifact: handler package + shared runtime + model + pinned wheels.

    ``function_package`` (``"sml_handlers.fraud"``) is copied from ``source_root`` (default: where
    the package is installed) together with every parent package's ``__init__.py`` and the
    ``shared_packages`` (default: the handlers' small runtime). ``model_dir``'s files land in
    ``model/``. ``extra_files`` are ``(path inside the bundle, source file)`` pairs.
    ``local_only`` allows any CPython 3 ``python_version`` (for measuring on a machine without the
    Lambda runtime's interpreter); such a bundle is not deployable.
    """

    name: str
    function_package: str
    model_dir: Path | None
    requirements: tuple[str, ...]
    python_version: str = "3.13"
    architecture: Architecture = "arm64"
    shared_packages: tuple[str, ...] = ("sml_handlers.runtime",)
    source_root: Path | None = None
    extra_files: tuple[tuple[str, Path], ...] = ()
    local_only: bool = False

    def __post_init__(self) -> None:
        if not _BUNDLE_NAME.match(self.name):
            _invalid(f"name {self.name!r} must be 1-64 letters, digits, '.', '_' or '-'")
        for package in (self.function_package, *self.shared_packages):
            if not _DOTTED_NAME.match(package):
                _invalid(f"{package!r} is not a dotted Python package name")
        if self.local_only:
            if not _LOCAL_VERSION.match(self.python_version):
                _invalid(f"python_version {self.python_version!r} is not a CPython 3.X version")
        elif f"python{self.python_version}" not in LAMBDA_PYTHON_RUNTIMES:
            supported = ", ".join(r.removeprefix("python") for r in LAMBDA_PYTHON_RUNTIMES)
            _invalid(
                f"python_version {self.python_version!r} is not a Lambda runtime onnxruntime "
                f"can run on; use one of {supported}"
            )
        if self.architecture not in LAMBDA_ARCHITECTURES:
            _invalid(f"architecture {self.architecture!r} must be one of {LAMBDA_ARCHITECTURES}")
        for requirement in self.requirements:
            if not _PINNED.match(requirement.strip()):
                _invalid(
                    f"requirement {requirement!r} is not pinned: write 'name==version' so the "
                    "bundle is reproducible and its cache key names exactly one set of wheels"
                )
        for destination, _source in self.extra_files:
            pure = PurePosixPath(destination)
            if pure.is_absolute() or ".." in pure.parts or not pure.parts:
                _invalid(f"extra file destination {destination!r} must be a relative path")
            if pure.parts[0] in RESERVED_TOP_LEVEL or pure.parts[0] == self.top_package:
                _invalid(f"extra file {destination!r} would overwrite bundled code or model")

    @property
    def top_package(self) -> str:
        """The top-level package the handler lives in (``sml_handlers``)."""
        return self.function_package.split(".", 1)[0]

    @property
    def handler_packages(self) -> tuple[str, ...]:
        """The packages copied into the bundle, function package first."""
        return (self.function_package, *self.shared_packages)


def _invalid(message: str) -> None:
    raise BundleError(INVALID_SPEC, message)


@dataclass(frozen=True, kw_only=True)
class TrimmedItem:
    """One trimming rule's effect: what it removed and how many bytes."""

    rule: str
    paths: int
    bytes: int


@dataclass(frozen=True)
class Bundle:
    """A built artifact directory, ready for ``lambda_.Code.from_asset(str(path))`` or
    ``pulumi.FileArchive(str(path))``. Never modify it, not even its permissions: it is shared by
    every build that hashes the same, and its third-party files are hard links into the cache.

    ``zip_path`` is a deterministic zip of ``path`` (sorted entries, fixed timestamps) whose size
    is ``zipped_bytes``. ``installed_bytes`` is what pip installed before trimming.
    """

    path: Path
    content_hash: str
    unzipped_bytes: int
    zipped_bytes: int
    pyc_compiled: bool
    warnings: tuple[str, ...]
    zip_path: Path
    installed_bytes: int = 0
    trimmed: tuple[TrimmedItem, ...] = ()
    interpreter: str | None = None
    from_cache: bool = False
    architecture: str = "arm64"
    python_version: str = "3.13"

    @property
    def trimmed_bytes(self) -> int:
        return sum(item.bytes for item in self.trimmed)
