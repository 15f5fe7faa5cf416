"""`bench ablation`: each lever turned off alone, per reference function, end to end.

One round, a few warm invokes: structure, and that every variant differs from the full build
the way it claims. No duration is asserted (only that the figures exist and are positive).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from serverless_ml.bench.ablation import (
    format_ablation_markdown,
    format_ablation_table,
    read_only_roots,
    spread,
)
from serverless_ml.bench.ablation_variants import LEVER_KEYS
from serverless_ml.cli import main
from serverless_ml.spec.model import ARTIFACTS_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle")]

FUNCTIONS = ("fraud-detection", "iot-anomaly", "image-processing", "edge-personalization")
# Which levers apply where (and so: which do not, each with its reason).
APPLICABLE = {
    "fraud-detection": {
        "pyc", "trim", "lazy_boto3", "no_powertools", "offline_opt", "warm_up", "threads",
        "compiled",
    },
    "iot-anomaly": {
        "pyc", "trim", "lazy_boto3", "no_powertools", "offline_opt", "warm_up", "threads",
        "compiled",
    },
    "image-processing": {
        "pyc", "trim", "lazy_boto3", "no_powertools", "offline_opt", "warm_up", "threads", "int8",
    },
    "edge-personalization": {"pyc", "no_powertools", "warm_up", "compiled"},
}  # fmt: skip
STATS = ("init_ms", "first_invoke_ms", "cold_ms", "warm_p50_us", "warm_p99_us", "warm_cpu_us")


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    for artifact in ("fraud", "iot", "digits", "personalization"):
        if not (ARTIFACTS_ROOT / artifact / "model.onnx").is_file():
            pytest.skip(f"the {artifact} model is not built (run `serverless-ml build-models`)")
    png = tmp_path_factory.mktemp("ablation") / "ablation.png"
    out = io.StringIO()
    argv = ["bench", "ablation", "--repeats", "1", "--warm-invokes", "3", "--json",
            "--png", str(png)]  # fmt: skip
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    parsed: dict[str, Any] = json.loads(out.getvalue())
    return parsed, png


@pytest.fixture(scope="module")
def result(run: tuple[dict[str, Any], Path]) -> dict[str, Any]:
    return run[0]


def _rows(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["function"]: row for row in result["functions"]}


def _lever(row: dict[str, Any], key: str) -> dict[str, Any]:
    (entry,) = [e for e in row["levers"] if e["lever"] == key]
    return entry


def test_every_function_has_a_row_per_lever(result: dict[str, Any]) -> None:
    rows = _rows(result)
    assert list(rows) == list(FUNCTIONS)
    assert [lever["lever"] for lever in result["levers"]] == list(LEVER_KEYS)
    for name, row in rows.items():
        assert [e["lever"] for e in row["levers"]] == list(LEVER_KEYS), name
        applicable = {e["lever"] for e in row["levers"] if e["applies"]}
        assert applicable == APPLICABLE[name], name
        for entry in row["levers"]:
            if not entry["applies"]:
                assert entry["reason"], (name, entry["lever"])
    assert result["repeats"] == 1 and result["warm_invokes"] == 3
    json.dumps(result)


def test_numbers_are_positive_and_answers_unchanged(result: dict[str, Any]) -> None:
    for name, row in _rows(result).items():
        entries = [row["full"], *(e for e in row["levers"] if e["applies"])]
        for entry in entries:
            for stat in STATS:
                values = entry["stats"][stat]
                assert _positive(values["median"]), (name, entry.get("lever"), stat)
                assert values["min"] <= values["median"] <= values["max"]
                assert len(values["runs"]) == 1
            assert _positive(entry["zipped_bytes"]) and _positive(entry["unzipped_bytes"])
            assert entry["same_answer"] is True, (name, entry.get("lever"))
        for entry in entries[1:]:
            delta = entry["delta"]
            median = entry["stats"]["init_ms"]["median"]
            assert delta["init_ms"] == pytest.approx(
                median - row["full"]["stats"]["init_ms"]["median"], abs=0.01
            )


def test_each_variant_differs_the_way_it_claims(result: dict[str, Any]) -> None:
    for name, row in _rows(result).items():
        full = row["full"]
        facts, seen = full["facts"], full["observed"]
        assert facts["pyc_files"] > 0 and not facts["shim"], name
        assert "botocore" not in seen["at_init"] and "aws_lambda_powertools" not in seen["at_init"]
        assert seen["skipped_warm_ups"] == 0

        pyc = _lever(row, "pyc")
        assert pyc["facts"]["pyc_files"] == 0
        assert pyc["unzipped_bytes"] < full["unzipped_bytes"]

        powertools = _lever(row, "no_powertools")
        assert powertools["facts"]["powertools"] and powertools["facts"]["shim"]
        assert "aws_lambda_powertools" in powertools["observed"]["at_init"]
        assert powertools["zipped_bytes"] > full["zipped_bytes"]

        warm_up = _lever(row, "warm_up")
        assert warm_up["observed"]["skipped_warm_ups"] == 1

        compiled = _lever(row, "compiled")
        if compiled["applies"]:
            assert compiled["observed"]["runtime"] != seen["runtime"]
            assert compiled["facts"]["compiled_model"] != facts["compiled_model"]
            assert compiled["shipped"] is (seen["runtime"] == "compiled")
        if row["runtime"] != "onnxruntime":
            continue
        assert seen["session"]["intra_op_threads"] == 1  # 1024 MB: one thread
        assert seen["session"]["optimization"] == "ORT_DISABLE_ALL"

        trim = _lever(row, "trim")
        assert trim["facts"]["onnxruntime_tools"] and not facts["onnxruntime_tools"]
        assert trim["unzipped_bytes"] > full["unzipped_bytes"]
        assert trim["facts"]["model_sha256"] == facts["model_sha256"]

        eager = _lever(row, "lazy_boto3")
        assert {"boto3", "botocore"} <= set(eager["observed"]["at_init"])

        unoptimized = _lever(row, "offline_opt")
        assert unoptimized["facts"]["model_sha256"] != facts["model_sha256"]
        assert (
            unoptimized["facts"]["model_sha256"] == row["models"]["converted"]["converted_sha256"]
        )
        assert row["models"]["converted"]["reproduced_sha256"] == facts["model_sha256"]
        assert unoptimized["observed"]["session"]["optimization"] == "ORT_ENABLE_ALL"

        threads = _lever(row, "threads")
        assert threads["observed"]["session"]["intra_op_threads"] == 0  # onnxruntime picks
        assert threads["observed"]["session"]["intra_op_spinning"] != "0"
        assert threads["observed"]["session"]["optimization"] == "ORT_DISABLE_ALL"


def test_int8_where_it_quantizes_with_its_accuracy_checked(result: dict[str, Any]) -> None:
    rows = _rows(result)
    image = rows["image-processing"]
    int8 = _lever(image, "int8")
    manifest = image["models"]["int8"]
    assert int8["shipped"] is False
    assert int8["facts"]["model_bytes"] < image["full"]["facts"]["model_bytes"]
    assert int8["facts"]["model_sha256"] == manifest["sha256"]
    assert "ConvInteger" in manifest["ops"]
    check = manifest["accuracy"]
    assert check["rows"] == 359 and check["metric"] == "accuracy"
    assert 0 < check["decision_agreement"] <= 1 and check["within_bound"] is True
    for name in ("fraud-detection", "iot-anomaly"):  # tree ensembles: nothing to quantize
        entry = _lever(rows[name], "int8")
        assert not entry["applies"] and "nothing to quantize" in entry["reason"]
        assert rows[name]["models"]["int8"]["quantized"] is False


def test_image_init_breakdown(result: dict[str, Any]) -> None:
    breakdown = result["image_init"]
    assert breakdown["measured"] is True
    ours = breakdown["ours"]
    for stage in ("numpy", "onnxruntime", "Pillow", "session", "warm_up", "handler", "total"):
        assert _positive(ours[stage]["median"]), stage
    for twin in ("twin_standin", "twin_boto3"):
        assert "onnxruntime" not in breakdown[twin]
        for stage in ("numpy", "Pillow", "boto3", "handler", "total"):
            assert _positive(breakdown[twin][stage]["median"]), (twin, stage)


def test_table_markdown_and_png(run: tuple[dict[str, Any], Path]) -> None:
    result, png = run
    table = format_ablation_table(result)
    markdown = format_ablation_markdown(result)
    print(table)
    for name in FUNCTIONS:
        assert name in table and f"**{name}**" in markdown
    assert "n/a" in table and "stage by stage" in table
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_spread() -> None:
    stats = spread([3.0, 1.0, 2.0])
    assert (stats["median"], stats["min"], stats["max"]) == (2.0, 1.0, 3.0)
    assert stats["runs"] == [3.0, 1.0, 2.0]


def test_read_only_roots_copy_shared_files_once(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    (first / "pkg").mkdir(parents=True)
    (first / "pkg" / "shared.py").write_text("x = 1\n")
    (second / "pkg").mkdir(parents=True)
    os.link(first / "pkg" / "shared.py", second / "pkg" / "shared.py")
    (second / "pkg" / "own.py").write_text("y = 2\n")
    with read_only_roots({"a": first, "b": second}) as roots:
        copy_a, copy_b = roots["a"] / "pkg" / "shared.py", roots["b"] / "pkg" / "shared.py"
        assert copy_a.read_text() == copy_b.read_text() == "x = 1\n"
        assert (
            copy_a.stat().st_ino
            == copy_b.stat().st_ino
            != (first / "pkg" / "shared.py").stat().st_ino
        )
        assert not os.access(roots["b"] / "pkg", os.W_OK) or os.geteuid() == 0
        assert not copy_b.stat().st_mode & 0o222
    assert (first / "pkg" / "shared.py").stat().st_mode & 0o200  # the source is untouched
    assert not roots["a"].exists()


def test_variants_are_cached_by_content(result: dict[str, Any]) -> None:
    from serverless_ml.bench.ablation import build_targets
    from serverless_ml.bench.ablation_variants import Variant, build_variants
    from serverless_ml.bench.cold_start import host_architecture, resolve_python
    from serverless_ml.bench.functions import FUNCTIONS
    from serverless_ml.bundling.cache import default_cache_dir

    python, version, _interpreter, _notes = resolve_python(result["python_version"], None)
    (target,), _warned = build_targets(
        [FUNCTIONS[2]], python, version, host_architecture(), default_cache_dir()
    )
    again, _models = build_variants(target)
    row = _rows(result)["image-processing"]
    for entry, variant in zip(row["levers"], again, strict=True):
        if not entry["applies"]:
            continue
        assert isinstance(variant, Variant)
        assert str(variant.root) == entry["bundle"], entry["lever"]  # the same cache entry
        if entry["lever"] != "compiled":
            key = variant.root.parent.name
            assert len(key) == 64 and int(key, 16) >= 0  # named by its content hash
