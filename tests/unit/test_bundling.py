"""Bundler pieces that need no pip download: spec checks, ELF reading, trimming, zip, cache,
interpreter discovery, size limits and content hashing. The real builds are in tests/bundling."""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from serverless_ml.bundling import (
    Bundle,
    BundleError,
    BundleSpec,
    check_bundle_size,
    content_hash,
    find_target_python,
    interpreter,
)
from serverless_ml.bundling import cache as bundle_cache
from serverless_ml.bundling.archive import write_zip
from serverless_ml.bundling.elf import needed_libraries
from serverless_ml.bundling.sources import handler_files, model_files
from serverless_ml.bundling.trim import trim
from serverless_ml.bundling.wheels import pip_command

SRC = Path(__file__).resolve().parents[2] / "src"
REQUIREMENTS = ("onnxruntime==1.32.0", "numpy==2.4.6")


def fake_elf(path: Path, needed: tuple[str, ...]) -> Path:
    """A minimal 64-bit little-endian shared object with the given DT_NEEDED entries."""
    dynstr = b"\0"
    offsets = []
    for name in needed:
        offsets.append(len(dynstr))
        dynstr += name.encode() + b"\0"
    dynamic = b"".join(struct.pack("<qQ", 1, offset) for offset in offsets) + struct.pack(
        "<qQ", 0, 0
    )
    dynstr_offset = 64
    dynamic_offset = dynstr_offset + len(dynstr)
    section_offset = dynamic_offset + len(dynamic)
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header += struct.pack("<HHIQQQIHHHHHH", 3, 0x3E, 1, 0, 0, section_offset, 0, 64, 0, 0, 64, 3, 0)
    sections = struct.pack("<IIQQQQIIQQ", *([0] * 10))
    sections += struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, dynstr_offset, len(dynstr), 0, 0, 1, 0)
    sections += struct.pack("<IIQQQQIIQQ", 0, 6, 0, 0, dynamic_offset, len(dynamic), 1, 0, 8, 16)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + dynstr + dynamic + sections)
    return path


def write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- BundleSpec -------------------------------------------------------------------------------


def spec(**overrides: object) -> BundleSpec:
    values: dict[str, object] = {
        "name": "fraud",
        "function_package": "sml_handlers.fraud",
        "model_dir": None,
        "requirements": REQUIREMENTS,
    }
    values.update(overrides)
    return BundleSpec(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"requirements": ("numpy",)}, "not pinned"),
        ({"requirements": ("numpy>=2",)}, "not pinned"),
        ({"python_version": "3.11"}, "python_version"),
        ({"architecture": "mips"}, "architecture"),
        ({"function_package": "sml-handlers.fraud"}, "dotted"),
        ({"name": ""}, "name"),
        ({"extra_files": (("model/x.bin", Path("x")),)}, "overwrite"),
        ({"extra_files": (("../x", Path("x")),)}, "relative"),
    ],
)
def test_spec_refuses_what_cannot_bundle_reproducibly(
    overrides: dict[str, object], fragment: str
) -> None:
    with pytest.raises(BundleError, match=fragment) as caught:
        spec(**overrides)
    assert caught.value.code == "SML300"


def test_spec_defaults_are_lambda_arm64_python313() -> None:
    default = spec()
    assert (default.python_version, default.architecture) == ("3.13", "arm64")
    assert spec(requirements=("scikit-learn[all]==1.9.1",)).requirements


def test_pip_command_targets_lambda_platform_without_local_bytecode(tmp_path: Path) -> None:
    command = pip_command(REQUIREMENTS, tmp_path, python_version="3.13", architecture="arm64")
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == ["manylinux2014_aarch64", "manylinux_2_28_aarch64"]
    assert "--only-binary=:all:" in command and "--no-compile" in command
    assert command[command.index("--python-version") + 1] == "3.13"
    assert command[-2:] == list(REQUIREMENTS)


# --- sources and content hash -----------------------------------------------------------------


def test_handler_files_take_the_package_runtime_and_parent_init_only() -> None:
    destinations = [item.destination for item in handler_files(spec())]
    assert "sml_handlers/__init__.py" in destinations
    assert "sml_handlers/fraud/handler.py" in destinations
    assert "sml_handlers/runtime/model.py" in destinations
    assert not [d for d in destinations if "__pycache__" in d or d.endswith((".pyc", "py.typed"))]
    others = [
        d
        for d in destinations
        if not d.startswith(("sml_handlers/fraud/", "sml_handlers/runtime/"))
    ]
    assert others == ["sml_handlers/__init__.py"]


def test_content_hash_follows_handler_sources_model_and_requirements(tmp_path: Path) -> None:
    source_root = tmp_path / "src"
    shutil.copytree(
        SRC / "sml_handlers",
        source_root / "sml_handlers",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    model = tmp_path / "model"
    write(model / "model.onnx", "weights")
    base = spec(source_root=source_root, model_dir=model)
    first = content_hash(base)
    # Unchanged inputs: same key. A handler edit, a model edit, a new pin: new keys.
    assert content_hash(base) == first
    handler = source_root / "sml_handlers" / "fraud" / "handler.py"
    handler.write_text(handler.read_text() + "\n# edited\n")
    after_handler = content_hash(base)
    (model / "model.onnx").write_text("other weights")
    after_model = content_hash(base)
    repinned = content_hash(
        spec(source_root=source_root, model_dir=model, requirements=("numpy==2.4.5",))
    )
    arm, x86 = (
        content_hash(spec(source_root=source_root, model_dir=model, architecture=a))
        for a in ("arm64", "x86_64")
    )
    assert len({first, after_handler, after_model, repinned, x86}) == 5
    assert arm == after_model
    # Bytecode left by the build machine's Python never changes the key.
    write(
        source_root / "sml_handlers" / "fraud" / "__pycache__" / "handler.cpython-311.pyc", "junk"
    )
    assert content_hash(base) == after_model


def test_missing_package_and_model_are_coded_errors(tmp_path: Path) -> None:
    with pytest.raises(BundleError) as caught:
        handler_files(spec(function_package="sml_handlers.nope"))
    assert caught.value.code == "SML304"
    with pytest.raises(BundleError) as caught:
        model_files(spec(model_dir=tmp_path / "absent"))
    assert caught.value.code == "SML305"


# --- ELF reader -------------------------------------------------------------------------------


def test_elf_reader_returns_dt_needed_in_order(tmp_path: Path) -> None:
    library = fake_elf(tmp_path / "a.so", ("libonnxruntime.so.1", "libc.so.6"))
    assert needed_libraries(library) == ("libonnxruntime.so.1", "libc.so.6")
    assert needed_libraries(write(tmp_path / "b.so", "not elf")) is None


def test_elf_reader_agrees_with_ldd_on_the_real_onnxruntime_binding() -> None:
    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed")
    found = importlib.util.find_spec("onnxruntime.capi.onnxruntime_pybind11_state")
    assert found is not None and found.origin is not None
    needed = needed_libraries(Path(found.origin))
    assert needed, "the binding links at least libc"
    resolved = subprocess.run(["ldd", found.origin], capture_output=True, text=True).stdout
    for soname in needed:
        assert soname in resolved
    # The measured fact the trimming relies on (ldd shows direct and indirect dependencies).
    assert "libonnxruntime.so" not in resolved


# --- trimming ---------------------------------------------------------------------------------


def fake_site(root: Path, *, binding_links_library: bool) -> Path:
    write(root / "numpy" / "__init__.py")
    write(root / "numpy" / "_core" / "tests" / "test_x.py")
    write(root / "numpy" / "_core" / "_multiarray_tests.cpython-313-aarch64-linux-gnu.so", "t")
    write(root / "numpy" / "_core" / "include" / "numpy" / "ndarraytypes.h")
    write(root / "numpy" / "f2py" / "__init__.py")
    write(root / "numpy" / "typing" / "__init__.py")
    write(root / "numpy" / "typing" / "tests" / "data" / "fail.pyi")
    write(root / "numpy" / "_typing" / "__init__.py")
    write(root / "numpy" / "__init__.pyi")
    write(root / "numpy" / "testing" / "__init__.py")
    write(root / "numpy.libs" / "libscipy_openblas64_.so", "blas")
    write(root / "numpy-2.4.6.dist-info" / "METADATA", "Name: numpy\nVersion: 2.4.6\n")
    write(root / "numpy-2.4.6.dist-info" / "RECORD")
    write(root / "numpy-2.4.6.dist-info" / "licenses" / "LICENSE.txt")
    for tool in ("tools", "transformers", "quantization"):
        write(root / "onnxruntime" / tool / "__init__.py")
    write(root / "onnxruntime" / "__init__.py")
    capi = root / "onnxruntime" / "capi"
    needed = ("libonnxruntime.so.1", "libc.so.6") if binding_links_library else ("libc.so.6",)
    fake_elf(capi / "onnxruntime_pybind11_state.cpython-313-aarch64-linux-gnu.so", needed)
    fake_elf(capi / "libonnxruntime.so.1.32.0", ("libc.so.6",))
    fake_elf(capi / "libonnxruntime_providers_shared.so", ("libc.so.6",))
    write(root / "bin" / "f2py")
    return root


def test_trim_removes_what_inference_never_imports(tmp_path: Path) -> None:
    root = fake_site(tmp_path / "site", binding_links_library=False)
    result = trim(root)
    gone = [
        "numpy/_core/tests",
        "numpy/_core/_multiarray_tests.cpython-313-aarch64-linux-gnu.so",
        "numpy/_core/include",
        "numpy/f2py",
        "numpy/typing/tests",
        "numpy/__init__.pyi",
        "numpy-2.4.6.dist-info/RECORD",
        "onnxruntime/tools",
        "onnxruntime/transformers",
        "onnxruntime/quantization",
        "onnxruntime/capi/libonnxruntime.so.1.32.0",
        "bin",
    ]
    kept = [
        "numpy/__init__.py",
        "numpy/typing/__init__.py",  # importable at run time by user code
        "numpy/_typing/__init__.py",  # imported by numpy itself
        "numpy/testing/__init__.py",
        "numpy.libs/libscipy_openblas64_.so",
        "numpy-2.4.6.dist-info/METADATA",  # importlib.metadata.version() keeps working
        "numpy-2.4.6.dist-info/licenses/LICENSE.txt",
        "onnxruntime/capi/libonnxruntime_providers_shared.so",
        "onnxruntime/capi/onnxruntime_pybind11_state.cpython-313-aarch64-linux-gnu.so",
    ]
    assert [p for p in gone if (root / p).exists()] == []
    assert [p for p in kept if not (root / p).exists()] == []
    assert result.notes == ()
    by_rule = {item.rule: item for item in result.items}
    assert by_rule["onnxruntime C API library"].paths == 1
    assert all(item.bytes > 0 for item in result.items)


def test_trim_drops_pillow_modules_and_only_the_libraries_they_alone_linked(
    tmp_path: Path,
) -> None:
    root = fake_site(tmp_path / "site", binding_links_library=False)
    pil, libs = root / "PIL", root / "pillow.libs"
    fake_elf(pil / "_imaging.cpython-313-aarch64-linux-gnu.so", ("libjpeg-1a.so.62", "libc.so.6"))
    fake_elf(pil / "_imagingft.cpython-313-aarch64-linux-gnu.so",
             ("libfreetype-2b.so.6", "libjpeg-1a.so.62"))  # fmt: skip
    fake_elf(libs / "libjpeg-1a.so.62.4.0", ("libc.so.6",))
    fake_elf(libs / "libfreetype-2b.so.6.20.6", ("libpng16-3c.so.16", "libc.so.6"))
    fake_elf(libs / "libpng16-3c.so.16.58.0", ("libc.so.6",))
    fake_elf(libs / "libdlopened-4d.so.1", ("libc.so.6",))  # nothing links it: it stays
    result = trim(root)
    assert not (pil / "_imagingft.cpython-313-aarch64-linux-gnu.so").exists()
    assert (pil / "_imaging.cpython-313-aarch64-linux-gnu.so").exists()
    assert sorted(p.name for p in libs.iterdir()) == [
        "libdlopened-4d.so.1", "libjpeg-1a.so.62.4.0",
    ]  # fmt: skip
    by_rule = {item.rule: item for item in result.items}
    assert by_rule["orphaned vendored libraries"].paths == 2
    assert (root / "numpy.libs" / "libscipy_openblas64_.so").exists()


def test_trim_keeps_the_c_library_when_something_links_it(tmp_path: Path) -> None:
    root = fake_site(tmp_path / "site", binding_links_library=True)
    result = trim(root)
    assert (root / "onnxruntime" / "capi" / "libonnxruntime.so.1.32.0").exists()
    assert any("links libonnxruntime.so.1" in note for note in result.notes)


def test_trim_keeps_the_c_library_when_python_code_loads_it(tmp_path: Path) -> None:
    root = fake_site(tmp_path / "site", binding_links_library=False)
    write(root / "onnxruntime" / "capi" / "_ld_preload.py", "CDLL('libonnxruntime.so.1')\n")
    result = trim(root)
    assert (root / "onnxruntime" / "capi" / "libonnxruntime.so.1.32.0").exists()
    assert any("_ld_preload.py names" in note for note in result.notes)


# --- zip, cache, sizes ------------------------------------------------------------------------


def test_zip_is_deterministic_and_keeps_executable_bits(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    write(root / "b" / "mod.py", "print('b')\n")
    write(root / "a.py", "print('a')\n")
    library = write(root / "lib" / "x.so", "elf")
    library.chmod(0o755)
    first = write_zip(root, tmp_path / "one.zip")
    os.utime(root / "a.py", (1_900_000_000, 1_900_000_000))
    second = write_zip(root, tmp_path / "two.zip")
    assert first == second
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["a.py", "b/mod.py", "lib/x.so"]
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        assert modes == {"a.py": 0o644, "b/mod.py": 0o644, "lib/x.so": 0o755}
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_cache_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "infra"
    (project / "stacks").mkdir(parents=True)
    (project / "cdk.json").write_text("{}")
    monkeypatch.setenv(bundle_cache.CACHE_ENV, str(tmp_path / "env-cache"))
    assert bundle_cache.default_cache_dir(tmp_path / "arg") == tmp_path / "arg"
    assert bundle_cache.default_cache_dir() == tmp_path / "env-cache"
    monkeypatch.delenv(bundle_cache.CACHE_ENV)
    monkeypatch.chdir(project / "stacks")
    assert bundle_cache.default_cache_dir() == project / ".cache" / "serverless-ml"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    monkeypatch.setattr(bundle_cache, "_project_root", lambda start: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert bundle_cache.default_cache_dir() == tmp_path / "xdg" / "serverless-ml"


def test_cache_layout_is_gitignored_and_publish_never_overwrites(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    bundle_cache.prepare(root)
    assert (root / ".gitignore").read_text().splitlines()[-1] == "*"
    first = bundle_cache.temp_entry(root, "k" * 64)
    write(first / "asset" / "a.py", "first")
    assert bundle_cache.publish(first, root / "bundles" / "k")
    second = bundle_cache.temp_entry(root, "k" * 64)
    write(second / "asset" / "a.py", "second")
    assert not bundle_cache.publish(second, root / "bundles" / "k")
    assert not second.exists()
    assert (root / "bundles" / "k" / "asset" / "a.py").read_text() == "first"


def fake_bundle(tmp_path: Path, unzipped: int, zipped: int) -> Bundle:
    asset = tmp_path / "asset"
    write(asset / "numpy" / "__init__.py", "x" * 100)
    return Bundle(
        path=asset,
        content_hash="0" * 64,
        unzipped_bytes=unzipped,
        zipped_bytes=zipped,
        pyc_compiled=True,
        warnings=(),
        zip_path=tmp_path / "bundle.zip",
    )


def test_size_limits_are_coded_errors_with_a_way_out(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path, unzipped=300 * 2**20, zipped=40 * 2**20)
    with pytest.raises(BundleError, match="container image") as caught:
        check_bundle_size(bundle)  # Lambda's 250 MB unzipped
    assert caught.value.code == "SML301"
    assert "numpy" in caught.value.message  # says where the bytes are
    small = fake_bundle(tmp_path, unzipped=2 * 2**20, zipped=2 * 2**20)
    check_bundle_size(small)
    with pytest.raises(BundleError) as caught:
        check_bundle_size(small, unzipped_limit=50 * 2**20, zipped_limit=2**20)  # an edge budget
    assert caught.value.code == "SML302"


# --- target interpreter discovery -------------------------------------------------------------


@pytest.fixture
def no_interpreters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment where no interpreter but the running one can be found."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.delenv(interpreter.TARGET_PYTHON_ENV, raising=False)
    interpreter.probe.cache_clear()
    return tmp_path / "pyenv"


def other_version() -> str:
    """A Lambda Python version the running interpreter is not."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return next(v for v in ("3.13", "3.12", "3.14") if v != running)


def test_discovery_finds_nothing_and_says_why(
    no_interpreters: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(interpreter.TARGET_PYTHON_ENV, "/nonexistent/python")
    found, notes = find_target_python(other_version())
    assert found is None
    assert notes and "does not run" in notes[0]


def test_discovery_falls_back_to_the_newest_pyenv_version(
    no_interpreters: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    real_python = sys.executable
    monkeypatch.setattr(interpreter.sys, "executable", str(no_interpreters / "not-python"))
    found, _ = find_target_python(version)
    assert found is None
    versions = no_interpreters / "versions"
    for patch in ("2", "10"):
        binary = versions / f"{version}.{patch}" / "bin" / f"python{version}"
        binary.parent.mkdir(parents=True)
        binary.symlink_to(real_python)
    (versions / f"{version}.11" / "bin").mkdir(parents=True)  # no interpreter inside
    (versions / "2.7.18" / "bin").mkdir(parents=True)
    interpreter.probe.cache_clear()
    found, _ = find_target_python(version)
    assert found is not None
    assert found.path == str(versions / f"{version}.10" / "bin" / f"python{version}")


def test_discovery_order_explicit_then_env(
    no_interpreters: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    found, _ = find_target_python(version, explicit=sys.executable)
    assert found is not None and found.path == sys.executable
    assert found.magic == importlib.util.MAGIC_NUMBER.hex()
    monkeypatch.setenv(interpreter.TARGET_PYTHON_ENV, sys.executable)
    from_env, _ = find_target_python(version)
    assert from_env is not None and from_env.path == sys.executable
    with pytest.raises(BundleError) as caught:
        find_target_python(other_version(), explicit=sys.executable)
    assert caught.value.code == "SML306"


def test_prune_keeps_recent_variants_and_entries_in_use(tmp_path: Path) -> None:
    directory = tmp_path / "bundles"
    now = time.time()
    ages = {"a": 10, "b": 2 * 3600, "c": 3 * 3600, "d": 4 * 3600, "e": 5 * 3600, "f": 60}
    for name, age in ages.items():
        write(directory / name / "manifest.json", "{}")
        os.utime(directory / name, (now - age, now - age))
    write(directory / "old" / "manifest.json", "{}")
    os.utime(directory / "old", (now - 40 * 24 * 3600, now - 40 * 24 * 3600))
    write(directory / "old-model.joblib", "pickle")  # plain files age out too
    os.utime(directory / "old-model.joblib", (now - 40 * 24 * 3600, now - 40 * 24 * 3600))
    groups = {"a": "fraud", "b": "fraud", "c": "fraud", "d": "fraud", "e": "fraud", "f": "fraud"}
    removed = bundle_cache.prune(directory, lambda entry: groups.get(entry.name))
    # newest three of the group stay (a, f, b); older ones idle for over an hour go; so does
    # anything unused for a month, grouped or not.
    assert sorted(p.name for p in removed) == ["c", "d", "e", "old", "old-model.joblib"]
    assert sorted(p.name for p in directory.iterdir()) == ["a", "b", "f"]
