"""Naive twins: the tutorial version of a reference function, built once per content.

A ``Twin`` is declared once (``bench.twins``): the distributions its handler imports (pinned to
the versions installed here, where its model is trained and written), the model file its
training code writes, the handler source, and which of our stdlib-level modules it reuses so
that both versions read the same inputs. ``build_twin`` installs it with the same pip
``--platform``/``--python-version`` flags as our bundles (no .pyc: the *weak* twin), and with an
interpreter of the runtime's version also adds the timestamp .pyc pip run by that Python writes
(the *strong* twin). Installed dependencies are one shared layer per requirements set, hard
linked into each twin.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Final

from serverless_ml.bundling import cache
from serverless_ml.bundling.archive import write_zip
from serverless_ml.bundling.bytecode import compile_tree
from serverless_ml.bundling.trim import tree_bytes
from serverless_ml.bundling.wheels import install_wheels
from serverless_ml.spec.model import ARTIFACTS_ROOT
from sml_handlers.runtime import env

# Part of every cache key: bump when the twins' layout or content rules change.
BASELINE_LAYOUT: Final = 4
HANDLER_MODULE: Final = "baseline_handler"
CACHE_SUBDIR: Final = "baseline"


@dataclass(frozen=True, kw_only=True)
class Twin:
    """The naive version of one reference function (see module doc).

    ``handler_source`` is a ``string.Template``; ``constants()`` fills it (numbers a tutorial
    hard-codes, read from the shipped model card). ``support`` names modules of ours copied at
    their package path (stdlib/numpy/Pillow-only input code). ``write_model(path)`` runs the
    model's own training code; its cache key covers ``training_modules``, the shipped card of
    ``artifact`` and the pinned requirements.
    """

    name: str
    label: str
    distributions: tuple[str, ...]
    model_file: str
    write_model: Callable[[Path], None]
    training_modules: tuple[str, ...]
    artifact: str
    handler_source: str
    support: tuple[str, ...] = ()
    constants: Callable[[], Mapping[str, str]] = field(default=lambda: {})
    pins: Callable[[], Mapping[str, str]] = field(default=lambda: {})

    def requirements(self) -> tuple[str, ...]:
        """``name==version`` of each distribution: ``pins()``, else the installed version."""
        pinned = self.pins()
        return tuple(
            f"{name}=={pinned.get(name) or importlib.metadata.version(name)}"
            for name in self.distributions
        )

    def handler(self) -> str:
        variables = {  # the names our handlers read, so the twin runs in the same environment
            "results_table_variable": env.RESULTS_TABLE,
            "alert_topic_variable": env.ALERT_TOPIC_ARN,
        }
        return Template(self.handler_source).substitute({**variables, **self.constants()})


@dataclass(frozen=True)
class BaselineBundle:
    """``path``: the naive zip's content (no .pyc). ``pyc_path``: the same files plus the .pyc a
    ``pip install -t`` run by the runtime's Python version would write (timestamp-checked), the
    stronger twin; None when no such interpreter was given."""

    path: Path
    unzipped_bytes: int
    zipped_bytes: int
    requirements: tuple[str, ...]
    pyc_path: Path | None = None


def _digest(*parts: bytes) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(hashlib.sha256(part).digest())
    return sha.hexdigest()


def _module_path(name: str) -> Path:
    found = importlib.util.find_spec(name)
    if found is None or found.origin is None:
        raise RuntimeError(f"{name} is not importable")
    return Path(found.origin)


def support_files(twin: Twin) -> dict[str, Path]:
    """Each support module and its packages' ``__init__.py``, by path in the bundle."""
    files: dict[str, Path] = {}
    for name in twin.support:
        parts = name.split(".")
        for depth in range(1, len(parts)):
            package = ".".join(parts[:depth])
            files["/".join(parts[:depth]) + "/__init__.py"] = _module_path(package)
        files["/".join(parts) + ".py"] = _module_path(name)
    return dict(sorted(files.items()))


def model_file(twin: Twin, cache_dir: Path, requirements: tuple[str, ...]) -> Path:
    """The twin's model, written by its training code, cached by what determines it."""
    sources = [_module_path(name).read_bytes() for name in twin.training_modules]
    card = (ARTIFACTS_ROOT / twin.artifact / "model_card.json").read_bytes()
    key = _digest(*sources, card, json.dumps(requirements).encode())
    suffix = Path(twin.model_file).suffix
    path = cache_dir / CACHE_SUBDIR / f"model-{twin.name}-{key[:32]}{suffix}"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    # One temporary per process: two test workers may train the same model at once, and the
    # atomic rename makes whichever finishes last win with identical content.
    temporary = path.with_name(f"{path.stem}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")
    twin.write_model(temporary)
    temporary.replace(path)
    return path


def _deps(
    cache_dir: Path, requirements: tuple[str, ...], python_version: str, architecture: str
) -> Path:
    """The shared install of ``requirements``: ``site`` (no .pyc), built once."""
    key = _digest(
        json.dumps([BASELINE_LAYOUT, requirements, python_version, architecture]).encode()
    )
    entry = cache_dir / CACHE_SUBDIR / f"deps-{key[:32]}"
    if not (entry / "manifest.json").is_file():
        with cache.key_lock(cache_dir, f"baseline-deps-{key}"):
            if not (entry / "manifest.json").is_file():
                work = cache.temp_entry(cache_dir, key)
                try:
                    install_wheels(
                        requirements, work / "site", python_version=python_version,
                        architecture=architecture,
                    )  # fmt: skip
                    _manifest(work, group=f"deps/{python_version}/{architecture}")
                    cache.publish(work, entry)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
    cache.touch(entry)
    return entry


def _deps_with_pyc(deps: Path, cache_dir: Path, interpreter: str) -> Path:
    """``deps/site-pyc``: the shared install plus timestamp .pyc by ``interpreter``, built once."""
    final = deps / "site-pyc"
    if final.is_dir():
        return final
    with cache.key_lock(cache_dir, f"baseline-pyc-{deps.name}"):
        if not final.is_dir():
            work = cache.temp_entry(cache_dir, deps.name)
            try:
                shutil.copytree(deps / "site", work / "site-pyc", copy_function=cache.link_or_copy)
                compile_tree(interpreter, work / "site-pyc", invalidation_mode="timestamp")
                cache.publish(work / "site-pyc", final)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return final


def _manifest(work: Path, **fields: object) -> None:
    (work / "manifest.json").write_text(json.dumps(fields), encoding="utf-8")


def _group(entry: Path) -> str | None:
    """Prune group of a cache entry (None for model files: the age rule only)."""
    try:
        data = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
        return str(data["group"])
    except (OSError, ValueError, KeyError):
        return None


def _own_files(asset: Path, twin: Twin, source: str, model: Path) -> None:
    """Handler, support modules and model into ``asset`` (over the linked dependencies)."""
    (asset / f"{HANDLER_MODULE}.py").write_text(source, encoding="utf-8")
    for relative, path in support_files(twin).items():
        (asset / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, asset / relative)
    shutil.copyfile(model, asset / twin.model_file)


def build_twin(
    twin: Twin,
    cache_dir: Path,
    *,
    python_version: str,
    architecture: str,
    interpreter: str | None = None,
) -> BaselineBundle:
    """The twin for ``python_version``/``architecture``, built once per content;
    ``interpreter`` (of ``python_version``) also builds the with-.pyc variant."""
    cache.prepare(cache_dir)
    requirements = twin.requirements()
    model = model_file(twin, cache_dir, requirements)
    source = twin.handler()
    support = b"".join(path.read_bytes() for path in support_files(twin).values())
    key = _digest(
        json.dumps(
            [BASELINE_LAYOUT, twin.name, requirements, python_version, architecture]
        ).encode(),
        source.encode(),
        support,
        model.read_bytes(),
    )
    entry = cache_dir / CACHE_SUBDIR / key
    deps = _deps(cache_dir, requirements, python_version, architecture)
    if not (entry / "manifest.json").is_file():
        with cache.key_lock(cache_dir, f"baseline-{key}"):
            if not (entry / "manifest.json").is_file():
                work = cache.temp_entry(cache_dir, key)
                try:
                    asset = work / "asset"
                    shutil.copytree(deps / "site", asset, copy_function=cache.link_or_copy)
                    _own_files(asset, twin, source, model)
                    zipped = write_zip(asset, work / "bundle.zip")
                    (work / "bundle.zip").unlink()  # only its size is reported
                    _manifest(
                        work, group=f"{twin.name}/{python_version}/{architecture}",
                        unzipped_bytes=tree_bytes(asset), zipped_bytes=zipped,
                    )  # fmt: skip
                    cache.publish(work, entry)
                finally:
                    shutil.rmtree(work, ignore_errors=True)
                cache.prune(cache_dir / CACHE_SUBDIR, _group)
    cache.touch(entry)
    cache.touch(model)
    data = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
    pyc_path = None
    if interpreter is not None:
        pyc_path = _with_pyc(entry, cache_dir, interpreter, deps, twin, source, model)
    return BaselineBundle(
        path=entry / "asset",
        unzipped_bytes=data["unzipped_bytes"],
        zipped_bytes=data["zipped_bytes"],
        requirements=requirements,
        pyc_path=pyc_path,
    )


def _with_pyc(
    entry: Path, cache_dir: Path, interpreter: str, deps: Path, twin: Twin, source: str, model: Path
) -> Path:
    """``entry/asset-pyc``: the twin over the compiled shared layer, its own files compiled."""
    final = entry / "asset-pyc"
    if final.is_dir():
        return final
    site = _deps_with_pyc(deps, cache_dir, interpreter)
    with cache.key_lock(cache_dir, f"baseline-pyc-{entry.name}"):
        if final.is_dir():
            return final
        work = cache.temp_entry(cache_dir, entry.name)
        try:
            staged = work / "asset-pyc"
            shutil.copytree(site, staged, copy_function=cache.link_or_copy)
            _own_files(staged, twin, source, model)
            # Up-to-date .pyc of the shared layer are kept; only the twin's own files compile.
            compile_tree(interpreter, staged, invalidation_mode="timestamp")
            cache.publish(staged, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return final


def build_baseline(
    cache_dir: Path, *, python_version: str, architecture: str, interpreter: str | None = None
) -> BaselineBundle:
    """The fraud function's twin (scikit-learn + joblib), as ``build_twin`` builds it."""
    from serverless_ml.bench.twins import FRAUD_TWIN

    return build_twin(
        FRAUD_TWIN, cache_dir, python_version=python_version, architecture=architecture,
        interpreter=interpreter,
    )  # fmt: skip
