"""Real bundles: pip downloads manylinux wheels (~30 MB per architecture on an empty cache), trims,
precompiles with Python 3.13, and the host-architecture bundle runs in a fresh, read-only,
site-packages-free interpreter the way Lambda runs /var/task."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import (
    Bundle,
    BundleError,
    BundleSpec,
    BundleWarning,
    TargetPython,
    build_bundle,
    builder,
    check_bundle_size,
    content_hash,
    find_target_python,
)
from serverless_ml.bundling.cache import default_cache_dir
from serverless_ml.bundling.elf import needed_libraries
from serverless_ml.core.limits import LAMBDA_UNZIPPED_BYTES, LAMBDA_ZIP_DIRECT_UPLOAD_BYTES
from serverless_ml.spec.model import ARTIFACTS_ROOT
from tests.bundling.read_only import read_only_task

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle")]

SRC = Path(__file__).resolve().parents[2] / "src"
REQUIREMENTS = ("onnxruntime==1.32.0", "numpy==2.4.6")
HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}[
    platform.machine().lower()
]
MB = 2**20


@pytest.fixture(scope="session")
def fraud_model_dir() -> Path:
    directory = ARTIFACTS_ROOT / "fraud"
    if not (directory / "model.onnx").is_file():
        pytest.skip("the fraud model is not built (run `serverless-ml build-models`)")
    return directory


@pytest.fixture(scope="session")
def target_python() -> TargetPython | None:
    found, _notes = find_target_python("3.13")
    return found


def fraud_spec(model_dir: Path, **overrides: object) -> BundleSpec:
    values: dict[str, object] = {
        "name": "fraud",
        "function_package": "sml_handlers.fraud",
        "model_dir": model_dir,
        "requirements": REQUIREMENTS,
    }
    values.update(overrides)
    return BundleSpec(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def arm64_bundle(fraud_model_dir: Path) -> Bundle:
    """The deployed default: arm64, Python 3.13 (built once per session, cached across)."""
    return build_bundle(fraud_spec(fraud_model_dir))


@pytest.fixture(scope="session")
def host_bundle(fraud_model_dir: Path) -> Bundle:
    return build_bundle(fraud_spec(fraud_model_dir, architecture=HOST_ARCH))


@pytest.fixture
def read_only_copy(host_bundle: Bundle, tmp_path: Path) -> Iterator[Path]:
    """The host bundle copied and made read-only, like Lambda's /var/task."""
    with read_only_task(host_bundle.path, tmp_path) as task:
        yield task


def test_default_bundle_fits_lambda_limits(arm64_bundle: Bundle) -> None:
    assert arm64_bundle.architecture == "arm64" and arm64_bundle.python_version == "3.13"
    assert 0 < arm64_bundle.zipped_bytes < LAMBDA_ZIP_DIRECT_UPLOAD_BYTES
    assert arm64_bundle.zipped_bytes < arm64_bundle.unzipped_bytes < LAMBDA_UNZIPPED_BYTES
    assert arm64_bundle.zip_path.stat().st_size == arm64_bundle.zipped_bytes
    check_bundle_size(arm64_bundle)
    # Trimming pays: onnxruntime's unlinked C library alone is ~27 MB on arm64.
    rules = {item.rule for item in arm64_bundle.trimmed}
    assert {"onnxruntime C API library", "test suites", "type stubs"} <= rules
    assert arm64_bundle.trimmed_bytes > 30 * MB
    assert arm64_bundle.unzipped_bytes < arm64_bundle.installed_bytes - 20 * MB  # .pyc added
    print(
        f"arm64 bundle: installed {arm64_bundle.installed_bytes / MB:.1f} MB, "
        f"unzipped {arm64_bundle.unzipped_bytes / MB:.1f} MB, "
        f"zipped {arm64_bundle.zipped_bytes / MB:.1f} MB"
    )


def test_bundle_layout_matches_the_handler_string(
    arm64_bundle: Bundle, fraud_model_dir: Path
) -> None:
    root = arm64_bundle.path
    for relative in (
        "sml_handlers/__init__.py",
        "sml_handlers/fraud/__init__.py",
        "sml_handlers/fraud/handler.py",
        "sml_handlers/runtime/model.py",
        "numpy/__init__.py",
        "onnxruntime/__init__.py",
        "numpy-2.4.6.dist-info/METADATA",
    ):
        assert (root / relative).is_file(), relative
    for model_file in fraud_model_dir.iterdir():
        if model_file.is_file():
            assert (root / "model" / model_file.name).read_bytes() == model_file.read_bytes()
    assert not (root / "sml_handlers" / "py.typed").exists()
    assert not (root / "serverless_ml").exists()
    handler_source = SRC / "sml_handlers" / "fraud" / "handler.py"
    assert (root / "sml_handlers/fraud/handler.py").read_bytes() == handler_source.read_bytes()


def test_trimmed_paths_are_gone(arm64_bundle: Bundle) -> None:
    root = arm64_bundle.path
    for relative in (
        "onnxruntime/tools",
        "onnxruntime/transformers",
        "onnxruntime/quantization",
        "numpy/f2py",
        "numpy/_core/tests",
        "numpy/_core/include",
        "numpy-2.4.6.dist-info/RECORD",
        "bin",
    ):
        assert not (root / relative).exists(), relative
    assert not list(root.rglob("*.pyi"))
    assert not [p for p in root.rglob("tests") if p.is_dir()]
    # The C API library goes only because nothing kept links it (arm64 binaries, read from ELF).
    assert not list((root / "onnxruntime" / "capi").glob("libonnxruntime.so*"))
    for library in root.rglob("*.so*"):
        needed = needed_libraries(library)
        assert needed is not None, library
        assert not [name for name in needed if name.startswith("libonnxruntime.so")], library
    # Nothing was stripped: numpy's OpenBLAS is byte-for-byte what the wheel shipped.
    assert list((root / "numpy.libs").glob("libscipy_openblas*.so"))


def test_bytecode_is_unchecked_hash_pyc_of_the_target_interpreter(
    arm64_bundle: Bundle, target_python: TargetPython | None
) -> None:
    if target_python is None:
        pytest.skip("no Python 3.13 interpreter on this machine")
    assert arm64_bundle.pyc_compiled and arm64_bundle.warnings == ()
    root = arm64_bundle.path
    for relative in (
        "numpy/__pycache__/__init__.cpython-313.pyc",
        "onnxruntime/capi/__pycache__/onnxruntime_inference_collection.cpython-313.pyc",
        "sml_handlers/fraud/__pycache__/handler.cpython-313.pyc",
        "sml_handlers/runtime/__pycache__/model.cpython-313.pyc",
    ):
        header = (root / relative).read_bytes()[:8]
        assert header[:4].hex() == target_python.magic, relative
        assert int.from_bytes(header[4:8], "little") == 0b01, "hash-based, source unchecked"
    foreign = [p for p in root.rglob("*.pyc") if ".cpython-313." not in p.name]
    assert foreign == []


def test_cache_hit_returns_the_same_bundle_without_rebuilding(
    arm64_bundle: Bundle, fraud_model_dir: Path
) -> None:
    manifest = arm64_bundle.path.parent / "manifest.json"
    before = (manifest.stat().st_mtime_ns, arm64_bundle.zip_path.stat().st_mtime_ns)
    again = build_bundle(fraud_spec(fraud_model_dir))
    assert again.from_cache
    assert again.path == arm64_bundle.path
    assert again.content_hash == arm64_bundle.content_hash
    assert (manifest.stat().st_mtime_ns, again.zip_path.stat().st_mtime_ns) == before


def copy_handlers(destination: Path, marker: str) -> Path:
    """A copy of src/sml_handlers whose fraud handler ends with ``marker`` (a stable variant)."""
    shutil.copytree(
        SRC / "sml_handlers",
        destination / "sml_handlers",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    handler = destination / "sml_handlers" / "fraud" / "handler.py"
    handler.write_text(handler.read_text() + f"\n# {marker}\n")
    return destination


def test_a_handler_edit_changes_the_hash_and_reaches_the_bundle(
    arm64_bundle: Bundle, fraud_model_dir: Path, tmp_path: Path
) -> None:
    source_root = copy_handlers(tmp_path, "variant: test_a_handler_edit")
    edited = build_bundle(fraud_spec(fraud_model_dir, source_root=source_root))
    assert edited.content_hash != arm64_bundle.content_hash
    assert edited.path != arm64_bundle.path
    bundled = (edited.path / "sml_handlers" / "fraud" / "handler.py").read_text()
    assert bundled.endswith("# variant: test_a_handler_edit\n")
    # The third-party layer is shared, not reinstalled: same files, same sizes.
    for relative in ("numpy/__init__.py", "onnxruntime/capi/__pycache__"):
        assert (edited.path / relative).exists() == (arm64_bundle.path / relative).exists()
    assert edited.unzipped_bytes - arm64_bundle.unzipped_bytes < 64 * 1024


def test_concurrent_builds_publish_one_complete_bundle(
    arm64_bundle: Bundle, fraud_model_dir: Path, tmp_path: Path
) -> None:
    spec = fraud_spec(
        fraud_model_dir, source_root=copy_handlers(tmp_path, "variant: concurrency test")
    )
    key = content_hash(spec)
    cache_root = default_cache_dir()
    shutil.rmtree(cache_root / "bundles" / key, ignore_errors=True)  # this test's own entry
    results: list[Bundle] = []
    errors: list[BaseException] = []

    def build() -> None:
        try:
            results.append(build_bundle(spec))
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {b.path for b in results} == {cache_root / "bundles" / key / "asset"}
    assert sorted(b.from_cache for b in results) == [False, True]
    assert (results[0].path / "sml_handlers" / "fraud" / "handler.py").is_file()
    assert not list((cache_root / "tmp").glob(f"{key[:16]}-*"))


def test_tiny_limits_raise_coded_errors(arm64_bundle: Bundle) -> None:
    with pytest.raises(BundleError) as caught:
        check_bundle_size(
            arm64_bundle, unzipped_limit=MB, zipped_limit=LAMBDA_ZIP_DIRECT_UPLOAD_BYTES
        )
    assert caught.value.code == "SML301"
    assert "onnxruntime" in caught.value.message  # names the biggest entries
    with pytest.raises(BundleError) as caught:
        check_bundle_size(arm64_bundle, unzipped_limit=LAMBDA_UNZIPPED_BYTES, zipped_limit=MB)
    assert caught.value.code == "SML302"


def test_without_a_target_interpreter_the_bundle_builds_with_a_warning(
    fraud_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builder, "find_target_python", lambda version, explicit=None: (None, ()))
    with pytest.warns(BundleWarning, match="SERVERLESS_ML_TARGET_PYTHON") as caught:
        bundle = build_bundle(fraud_spec(fraud_model_dir))
    message = str(caught[0].message)
    assert "every cold start compiles" in message and "Install Python 3.13" in message
    assert not bundle.pyc_compiled and bundle.interpreter is None
    assert bundle.warnings and bundle.warnings[0] == message
    assert not list(bundle.path.rglob("__pycache__"))
    check_bundle_size(bundle)


def test_ldd_resolves_the_host_binding_without_the_c_library(host_bundle: Bundle) -> None:
    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed")
    (binding,) = (host_bundle.path / "onnxruntime" / "capi").glob("onnxruntime_pybind11_state*.so")
    output = subprocess.run(["ldd", str(binding)], capture_output=True, text=True).stdout
    assert "not found" not in output
    assert "libonnxruntime" not in output


SMOKE = """
import json
import numpy
import onnxruntime
session = onnxruntime.InferenceSession("model/model.onnx", providers=["CPUExecutionProvider"])
first = session.get_inputs()[0]
width = first.shape[1] if isinstance(first.shape[1], int) else 1
outputs = session.run(None, {first.name: numpy.zeros((2, width), dtype=numpy.float32)})
maps = open("/proc/self/maps").read()
print(json.dumps({
    "numpy": numpy.__file__,
    "onnxruntime": onnxruntime.__file__,
    "version": onnxruntime.__version__,
    "rows": [len(o) for o in outputs],
    "loaded_c_library": "libonnxruntime.so" in maps,
    "cached": numpy.__spec__.cached,
}))
"""


def test_host_bundle_runs_the_model_in_a_fresh_read_only_target_process(
    read_only_copy: Path, target_python: TargetPython | None
) -> None:
    if target_python is None:
        pytest.skip("no Python 3.13 interpreter on this machine")
    result = run_isolated(target_python.path, read_only_copy, SMOKE)
    assert result["numpy"].startswith(str(read_only_copy))
    assert result["onnxruntime"].startswith(str(read_only_copy))
    assert result["version"] == "1.32.0"
    assert result["rows"] == [2] * len(result["rows"])
    assert not result["loaded_c_library"]
    assert result["cached"].endswith(".cpython-313.pyc")
    print(json.dumps(result))
