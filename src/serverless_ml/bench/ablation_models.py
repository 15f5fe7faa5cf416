"""Model files for the ablation benchmark's model levers, each cached by content.

- **Unoptimized** (``converted_model``): the model as converted, before the offline
  ``ORT_ENABLE_EXTENDED`` pass. It comes from the model's own build (``models.build``) run
  again, stopped at its ``onnx_export.optimize`` call; the rebuild must reproduce the committed
  ``model.onnx`` byte for byte (sha256), so the converted graph is the shipped model's.
- **int8** (``int8_model``): ``onnxruntime.quantization.quantize_dynamic`` (int8 weights,
  activations quantized at run time) of the converted graph, then optimized offline like the
  shipped model, and checked on the model's own held-out data against the shipped model. It
  applies only where quantization changes the graph (MatMul / Gemm / Conv weights): tree
  ensembles have none, so their ``int8_model`` says why not.

The bound (``ACCURACY_BOUND``): decisions identical on >= 99.5% of the held-out rows and the
held-out metric (accuracy for the digits CNN; ROC AUC for the tree models) no more than 0.002
below the shipped model's. A model outside it is reported, not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from unittest import mock

import numpy as np

from serverless_ml.bundling import cache
from serverless_ml.models.build import ARTIFACTS_ROOT, CARD_FILE, MODEL_FILE

LAYOUT: Final = 1
CACHE_SUBDIR: Final = "ablation-models"
CONVERTED_FILE: Final = "converted.onnx"
INT8_FILE: Final = "int8.onnx"
MIN_DECISION_AGREEMENT: Final = 0.995
MAX_METRIC_DROP: Final = 0.002
ACCURACY_BOUND: Final = (
    f"decisions identical on >= {MIN_DECISION_AGREEMENT:.1%} of the model's held-out rows and "
    f"the held-out metric (accuracy for the digits CNN, ROC AUC for tree models) at most "
    f"{MAX_METRIC_DROP} below the shipped model's"
)
QUANTIZED_OPS: Final = frozenset(
    {
        "ConvInteger",
        "MatMulInteger",
        "DynamicQuantizeLinear",
        "DynamicQuantizeMatMul",
        "QLinearConv",
    }
)


@dataclass(frozen=True)
class HeldOut:
    """The model's own held-out rows, how to turn its output into decisions, and its metric."""

    inputs: np.ndarray
    input_name: str
    output_name: str
    decisions: Callable[[np.ndarray], np.ndarray]
    metric_name: str
    metric: Callable[[np.ndarray], float]


def _card(artifact: str) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((ARTIFACTS_ROOT / artifact / CARD_FILE).read_text("utf-8"))
    return card


def held_out(artifact: str) -> HeldOut:
    """The held-out (test) split the model card's metrics were measured on."""
    from sklearn.metrics import roc_auc_score

    card = _card(artifact)
    if artifact == "digits":
        from serverless_ml.models import digits_model

        data = digits_model.load_data()
        test = digits_model.split_indices(data.labels)["test"]
        labels = data.labels[test]
        return HeldOut(
            inputs=np.ascontiguousarray(data.images[test], np.float32),
            input_name=digits_model.INPUT_NAME,
            output_name=digits_model.OUTPUT_NAME,
            decisions=lambda out: np.asarray(out.argmax(axis=1)),
            metric_name="accuracy",
            metric=lambda out: float((out.argmax(axis=1) == labels).mean()),
        )
    if artifact == "fraud":
        from serverless_ml.models import fraud_model

        split = fraud_model.load_split("test")
        review, decline = card["thresholds"]["review"], card["thresholds"]["decline"]
        return HeldOut(
            inputs=np.ascontiguousarray(split.features, np.float32),
            input_name=card["input_name"],
            output_name=card["output_name"],
            decisions=lambda out: np.digitize(out[:, 1], [review, decline]),
            metric_name="roc_auc",
            metric=lambda out: float(roc_auc_score(split.labels, out[:, 1])),
        )
    if artifact == "iot":
        from serverless_ml.models import iot_model
        from serverless_ml.models.iot_data import NORMAL

        readings = iot_model.load_split("test", seed=iot_model.SEED)
        faulty = readings.labels != NORMAL
        threshold = float(card["threshold"])
        return HeldOut(
            inputs=np.ascontiguousarray(readings.features, np.float32),
            input_name=card["input_name"],
            output_name=card["output_name"],
            decisions=lambda out: np.asarray(out[:, 0] >= threshold),
            metric_name="roc_auc",
            metric=lambda out: float(roc_auc_score(faulty, out[:, 0])),
        )
    raise ValueError(f"no held-out data for {artifact!r}")


def _key(artifact: str, kind: str) -> str:
    digest = hashlib.sha256(f"{LAYOUT}\0{kind}\0".encode())
    for name in (MODEL_FILE, CARD_FILE):
        digest.update((ARTIFACTS_ROOT / artifact / name).read_bytes())
    return digest.hexdigest()[:32]


@contextlib.contextmanager
def _entry(cache_dir: Path, name: str, key: str) -> Iterator[tuple[Path, Path | None]]:
    """(final entry, work dir to fill or None when the entry exists), locked per key."""
    final = cache_dir / CACHE_SUBDIR / f"{name}-{key}"
    if (final / "manifest.json").is_file():
        cache.touch(final)
        yield final, None
        return
    cache.prepare(cache_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    with cache.key_lock(cache_dir, f"{CACHE_SUBDIR}-{name}-{key}"):
        if (final / "manifest.json").is_file():
            yield final, None
            return
        work = cache.temp_entry(cache_dir, key)
        try:
            yield final, work
            cache.publish(work, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _manifest(entry: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
    return data


def _write_manifest(work: Path, data: dict[str, Any]) -> None:
    (work / "manifest.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def converted_model(artifact: str, cache_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The committed model before offline optimization (see module doc), and its manifest."""
    from serverless_ml.models import onnx_export
    from serverless_ml.models.build import _builder

    with _entry(cache_dir, artifact, _key(artifact, "converted")) as (final, work):
        if work is not None:
            captured: list[bytes] = []
            optimize = onnx_export.optimize

            def capture(model: Any, out_path: Path, **options: Any) -> None:
                captured.append(model.SerializeToString())
                optimize(model, out_path, **options)

            rebuilt = work / "rebuilt"
            with mock.patch.object(onnx_export, "optimize", capture):
                card = _builder(artifact)(rebuilt)
            committed = _card(artifact)["sha256"]
            if len(captured) != 1 or card["sha256"] != committed:
                raise RuntimeError(
                    f"rebuilding {artifact!r} gave model sha256 {card['sha256'][:12]}, the "
                    f"committed one is {committed[:12]}: cannot recover its converted graph"
                )
            (work / CONVERTED_FILE).write_bytes(captured[0])
            shutil.rmtree(rebuilt)
            _write_manifest(
                work,
                {
                    "artifact": artifact,
                    "reproduced_sha256": committed,
                    "converted_sha256": hashlib.sha256(captured[0]).hexdigest(),
                    "converted_bytes": len(captured[0]),
                },
            )
    return final / CONVERTED_FILE, _manifest(final)


def _op_types(path: Path) -> list[str]:
    import onnx

    return [node.op_type for node in onnx.load(str(path)).graph.node]


def _outputs(path: Path, data: HeldOut) -> np.ndarray:
    from serverless_ml.models import onnx_export

    return onnx_export.probabilities(
        onnx_export.session(path), data.inputs, output_name=data.output_name,
        input_name=data.input_name,
    )  # fmt: skip


def accuracy_check(artifact: str, candidate: Path) -> dict[str, Any]:
    """``candidate`` against the shipped model on the held-out rows (see ``ACCURACY_BOUND``)."""
    data = held_out(artifact)
    shipped = _outputs(ARTIFACTS_ROOT / artifact / MODEL_FILE, data)
    served = _outputs(candidate, data)
    agreement = float((data.decisions(shipped) == data.decisions(served)).mean())
    before, after = data.metric(shipped), data.metric(served)
    within = agreement >= MIN_DECISION_AGREEMENT and before - after <= MAX_METRIC_DROP
    return {
        "rows": len(data.inputs),
        "decision_agreement": round(agreement, 6),
        "metric": data.metric_name,
        "metric_shipped": round(before, 6),
        "metric_int8": round(after, 6),
        "metric_drop": round(before - after, 6),
        "max_abs_output_diff": round(float(np.max(np.abs(shipped - served))), 6),
        "bound": ACCURACY_BOUND,
        "within_bound": within,
    }


def int8_model(artifact: str, cache_dir: Path) -> tuple[Path | None, dict[str, Any]]:
    """The int8 model (None when quantization leaves the graph unchanged) and its manifest:
    op types, sizes and the accuracy check."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from serverless_ml.models import onnx_export

    converted, _converted_manifest = converted_model(artifact, cache_dir)
    with _entry(cache_dir, artifact, _key(artifact, "int8")) as (final, work):
        if work is not None:
            quantized = work / "quantized.onnx"
            quiet = logging.getLogger()
            level = quiet.level
            quiet.setLevel(logging.ERROR)  # "consider pre-processing" advice, once per call
            try:
                quantize_dynamic(str(converted), str(quantized), weight_type=QuantType.QInt8)
            finally:
                quiet.setLevel(level)
            ops = _op_types(quantized)
            manifest: dict[str, Any] = {
                "artifact": artifact,
                "quantized": bool(QUANTIZED_OPS.intersection(ops)),
                "converted_ops": sorted(set(_op_types(converted))),
            }
            if manifest["quantized"]:
                import onnx

                data = held_out(artifact)
                onnx_export.optimize(
                    onnx.load(str(quantized)), work / INT8_FILE, check_rows=data.inputs,
                    input_name=data.input_name, output_name=data.output_name,
                )  # fmt: skip
                manifest.update(
                    ops=_op_types(work / INT8_FILE),
                    int8_bytes=(work / INT8_FILE).stat().st_size,
                    shipped_bytes=(ARTIFACTS_ROOT / artifact / MODEL_FILE).stat().st_size,
                    sha256=hashlib.sha256((work / INT8_FILE).read_bytes()).hexdigest(),
                    accuracy=accuracy_check(artifact, work / INT8_FILE),
                )
            quantized.unlink()
            _write_manifest(work, manifest)
    manifest = _manifest(final)
    return (final / INT8_FILE if manifest["quantized"] else None), manifest
