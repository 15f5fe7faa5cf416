"""ModelArtifact(runtime="compiled"): refused at spec time when the compiler cannot translate
the model, planned without numpy or onnxruntime, parity-checked on probes built from the
model's own thresholds."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import onnx
import pytest

from serverless_ml.core.defaults import FUNCTION_REQUIREMENTS
from serverless_ml.core.plan import build_plan
from serverless_ml.models.compiler import artifact
from serverless_ml.models.errors import ModelError
from serverless_ml.reference.scenarios import SCENARIOS
from serverless_ml.spec import ModelArtifact
from serverless_ml.spec.edge import EdgeFunctionSpec
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.model import ARTIFACTS_ROOT


def test_compiled_is_opt_in_and_named() -> None:
    assert ModelArtifact.packaged("fraud").runtime == "onnxruntime"
    model = ModelArtifact.packaged("fraud", runtime="compiled")
    assert model.compiled and model.directory == ARTIFACTS_ROOT / "fraud"


def test_a_model_the_compiler_cannot_translate_is_refused_at_spec_time() -> None:
    with pytest.raises(SpecError) as caught:
        ModelArtifact.packaged("digits", runtime="compiled")
    assert caught.value.code == "SML509"
    assert "com.microsoft.FusedConv" in str(caught.value)
    assert "keep runtime='onnxruntime'" in str(caught.value)


def test_an_unknown_runtime_is_refused() -> None:
    with pytest.raises(SpecError, match=r"SML131.*'tensorrt'"):
        ModelArtifact.packaged("fraud", runtime="tensorrt")  # type: ignore[arg-type]


@pytest.mark.parametrize("scenario", ["fraud-detection", "iot-anomaly"])
def test_a_compiled_model_plans_a_bundle_without_numpy_or_onnxruntime(scenario: str) -> None:
    spec = SCENARIOS[scenario]()
    compiled = dataclasses.replace(spec, model=dataclasses.replace(spec.model, runtime="compiled"))
    bundle = build_plan(compiled).function.bundle
    assert (bundle.requirements, bundle.model_runtime) == ((), "compiled")
    default = build_plan(spec).function.bundle
    assert (default.requirements, default.model_runtime) == (FUNCTION_REQUIREMENTS, "onnxruntime")


def test_edge_functions_need_a_compiled_model() -> None:
    with pytest.raises(SpecError, match=r"SML407.*runtime='compiled'"):
        EdgeFunctionSpec(
            name="personalize",
            model=ModelArtifact.packaged("fraud"),
            function_package="sml_handlers.fraud",
        )


def test_probes_sit_on_both_sides_of_every_chosen_threshold() -> None:
    model = onnx.load(str(ARTIFACTS_ROOT / "fraud" / "model.onnx"))
    rows = artifact.probe_rows(model, 22)
    assert rows.dtype == np.float32 and rows.shape[1] == 22
    assert np.isnan(rows).any() and (rows == 0).all(axis=1).any()
    (tree,) = [n for n in model.graph.node if n.op_type == "TreeEnsembleClassifier"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in tree.attribute}
    feature, value = next(
        (int(f), np.float32(v))
        for f, v, m in zip(
            attrs["nodes_featureids"], attrs["nodes_values"], attrs["nodes_modes"], strict=True
        )
        if m != b"LEAF"
    )
    column = rows[:, feature]
    below, above = np.nextafter(value, np.float32(-np.inf)), np.nextafter(value, np.float32(np.inf))
    if value in column:  # the probe set samples thresholds when there are very many
        assert below in column and above in column
    assert len(rows) > 1000


def test_verified_source_refuses_a_module_that_disagrees_with_onnxruntime(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = artifact.compile_artifact(ARTIFACTS_ROOT / "fraud")
    broken_source = re.sub(
        r"(\n    return )(v\d+)\n", r"\1[x + 0.001 for x in \2]\n", real.source, count=1
    )
    assert broken_source != real.source
    broken = dataclasses.replace(real, source=broken_source)
    monkeypatch.setattr(artifact, "compile_artifact", lambda directory: broken)
    with pytest.raises(ModelError) as caught:
        artifact.verified_source(ARTIFACTS_ROOT / "fraud")
    assert caught.value.code == "SML511"


def test_verified_source_card_records_how_the_module_was_made() -> None:
    source, card = artifact.verified_source(ARTIFACTS_ROOT / "iot")
    imports = {
        line.split()[1] for line in source.splitlines() if line.startswith(("import ", "from "))
    }
    assert imports <= {"__future__", "array", "math", "collections.abc"}, imports
    assert card["runtime"] == "compiled"
    assert card["compiled"]["output"] == "anomaly_score"
    assert card["compiled"]["parity"]["max_abs_diff"] <= 1e-5
