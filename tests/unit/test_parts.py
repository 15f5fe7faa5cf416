"""The compositional service model: parts with unique keys, one core module per kind, a
registry without per-kind branches, and a second function shape (Lambda@Edge) on the same
function core."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

from serverless_ml.core import parts as core_parts
from serverless_ml.core import plan as core_plan
from serverless_ml.core.edge import build_edge_plan
from serverless_ml.core.fragments import Fragment, compose
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import Ref, TablePlan
from serverless_ml.core.policies import resource_policy_json
from serverless_ml.reference.scenarios import SCENARIOS, STACK_IDS, fraud_detection
from serverless_ml.spec import (
    AlertTopic,
    DynamoStreamTrigger,
    EdgeFunctionSpec,
    HttpTrigger,
    KinesisTrigger,
    ModelArtifact,
    NewStream,
    NewTable,
    ResultsTable,
    SpecError,
)
from serverless_ml.spec.service import OUTPUT_TYPES, TRIGGER_TYPES
from sml_handlers.runtime import env

SRC = Path(__file__).resolve().parents[2] / "src"


def test_same_suffix_on_a_table_and_a_stream_is_refused_at_the_spec() -> None:
    """Bug: both passed the spec and the plan, then CDK failed on a duplicate construct id."""
    with pytest.raises(SpecError) as info:
        dataclasses.replace(
            fraud_detection(),
            triggers=(
                DynamoStreamTrigger(new_table=NewTable(name_suffix="events", partition_key="id")),
                KinesisTrigger(new_stream=NewStream(name_suffix="events")),
            ),
        )
    assert info.value.code == "SML167"
    assert "DynamoStreamTrigger" in str(info.value) and "KinesisTrigger" in str(info.value)


def test_a_stream_trigger_keeps_its_tables_sort_key() -> None:
    """Bug: DynamoStreamTrigger rebuilt its NewTable to turn the stream on and dropped it."""
    trigger = DynamoStreamTrigger(
        new_table=NewTable(name_suffix="events", partition_key="device", sort_key="at")
    )
    assert trigger.new_table == NewTable(
        name_suffix="events", partition_key="device", sort_key="at", stream=True
    )
    spec = dataclasses.replace(fraud_detection(), triggers=(trigger,))
    table = build_plan(spec).table("events")
    assert (table.sort_key, table.stream_view_type) == ("at", "NEW_IMAGE")


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: NewTable(name_suffix="has space", partition_key="id"), "SML177"),
        (lambda: NewStream(name_suffix="a.b"), "SML177"),
        (lambda: ResultsTable(name_suffix="r", partition_key=""), "SML178"),
        (lambda: KinesisTrigger(existing_stream_arn="${Token[TOKEN.1]}"), "SML179"),
        (lambda: dataclasses.replace(fraud_detection(), triggers=(object(),)), "SML180"),
        (lambda: dataclasses.replace(fraud_detection(), outputs=(HttpTrigger(),)), "SML180"),
        (lambda: dataclasses.replace(fraud_detection(), triggers=(HttpTrigger(), HttpTrigger())),
         "SML181"),
        (lambda: dataclasses.replace(fraud_detection(), outputs=(AlertTopic(name_suffix="a"),
                                                                 AlertTopic(name_suffix="b"))),
         "SML181"),
    ],
)  # fmt: skip
def test_part_refusals(build: object, code: str) -> None:
    with pytest.raises(SpecError) as info:
        build()  # type: ignore[operator]
    assert info.value.code == code


def test_existing_sources_key_by_their_name_or_an_explicit_one() -> None:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/2026-01-01T00:00:00.000"
    assert DynamoStreamTrigger(existing_stream_arn=arn).key == "payments"
    assert DynamoStreamTrigger(existing_stream_arn=arn, name="pay").key == "pay"
    token = KinesisTrigger(existing_stream_arn="${Token[TOKEN.9]}", name="telemetry")
    assert token.key == "telemetry"


def test_every_part_kind_has_a_core_module_and_nothing_else_branches_on_kind() -> None:
    assert set(core_parts.PART_FRAGMENTS) == set(TRIGGER_TYPES) | set(OUTPUT_TYPES)
    source = inspect.getsource(core_plan)
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    kinds = {t.__name__ for t in (*TRIGGER_TYPES, *OUTPUT_TYPES)}
    assert not names & kinds, "build_plan must compose fragments, not branch on part kinds"


def test_environment_names_come_from_the_one_module_handlers_read() -> None:
    plan = build_plan(SCENARIOS["iot-anomaly"]())
    environment = dict(plan.function.environment)
    assert environment[env.RESULTS_TABLE] == "iot-anomaly-anomalies"
    assert environment[env.ALERT_TOPIC_ARN] == plan.topics[0].ref("arn")
    for path in (SRC / "serverless_ml").rglob("*.py"):
        text = path.read_text()
        for literal in ('"SML_RESULTS_TABLE"', '"SML_ALERT_TOPIC_ARN"', '"SML_MODEL_DIR"'):
            assert literal not in text, (
                f"{path.name} repeats {literal}: use sml_handlers.runtime.env"
            )
    for path in (SRC / "sml_handlers").rglob("*.py"):
        if path.name != "env.py":
            assert '"SML_RESULTS_TABLE"' not in path.read_text(), path


def test_references_are_made_from_nodes() -> None:
    table = build_plan(fraud_detection()).table("transactions")
    assert table.ref("stream_arn") == Ref("table:transactions", "stream_arn")
    with pytest.raises(ValueError, match="no attribute"):
        table.ref("url")
    for path in (SRC / "serverless_ml").rglob("*.py"):
        text = path.read_text()
        for assembled in ('f"table:', 'f"queue:', 'f"stream:', 'f"topic:'):
            assert assembled not in text, f"{path.relative_to(SRC)} assembles a node id"


def test_resource_policies_are_plan_data() -> None:
    plan = build_plan(fraud_detection())
    (queue,) = plan.queues
    document = resource_policy_json(queue.policy, str)
    (deny,) = document["Statement"]
    assert deny["Effect"] == "Deny" and deny["Action"] == ["sqs:*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    sids = [s.sid for s in plan.monitoring.topic_policy]
    assert sids == ["AllowPublishThroughSSLOnly", "AllowAlarmsOfThisAccount"]
    assert plan.function.trust_principals == ("lambda.amazonaws.com",)
    renderers = [*(SRC / "serverless_ml" / "cdk").glob("*.py"),
                 *(SRC / "serverless_ml" / "pulumi").glob("*.py")]  # fmt: skip
    for path in renderers:
        text = path.read_text()
        for own in ("aws:SecureTransport", "lambda.amazonaws.com", "cloudwatch.amazonaws.com"):
            assert own not in text, f"{path.name} writes its own statement ({own})"


def test_compose_keeps_shared_alarms_once_and_refuses_clashes() -> None:
    spec = dataclasses.replace(
        fraud_detection(),
        triggers=(
            *fraud_detection().triggers,
            KinesisTrigger(new_stream=NewStream(name_suffix="clicks")),
        ),
    )
    keys = [a.key for a in build_plan(spec).monitoring.alarms]
    assert keys.count("iterator_age") == 1 and "kinesis_iterator_age_clicks" in keys
    table = build_plan(fraud_detection()).table("decisions")
    clash = dataclasses.replace(table, partition_key="other")
    with pytest.raises(ValueError, match="node id"):
        compose([Fragment(resources=(table,)), Fragment(resources=(table,))])
    assert isinstance(clash, TablePlan)


def test_every_scenario_has_a_stack_id() -> None:
    assert set(STACK_IDS) == set(SCENARIOS)
    assert len(set(STACK_IDS.values())) == len(STACK_IDS)


# --- the second function shape: Lambda@Edge, at the plan level ----------------------------


def _edge(**changes: object) -> EdgeFunctionSpec:
    base = EdgeFunctionSpec(
        name="personalize",
        model=ModelArtifact.packaged("fraud", runtime="compiled"),
        function_package="sml_handlers.fraud",
        config={"VARIANTS": "a,b,c"},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_edge_plan_shares_the_function_core_without_what_edge_forbids() -> None:
    plan = build_edge_plan(_edge())
    fp = plan.function
    assert fp.environment == () and not fp.tracing and not fp.snapstart
    assert fp.reserved_concurrency is None
    assert fp.trust_principals == ("lambda.amazonaws.com", "edgelambda.amazonaws.com")
    assert fp.bundle.baked_config == (("VARIANTS", "a,b,c"),)
    assert fp.bundle.requirements == ()  # compiled models: no onnxruntime, no numpy
    assert fp.bundle.max_zipped_bytes == 1024 * 1024  # viewer events: 1 MB of code
    assert (plan.region, plan.publish_version, plan.retain_on_delete) == ("us-east-1", True, True)
    assert not hasattr(plan, "alias") and not hasattr(plan, "queues")
    assert [s.sid for s in plan.iam] == ["WriteOwnLogs", "WriteReplicaLogs"]
    assert "us-east-1.personalize" in str(plan.iam[1].resources[0])
    origin = build_edge_plan(_edge(event_type="origin-request", memory_mb=2048, timeout_s=30))
    assert origin.function.bundle.max_zipped_bytes == 50 * 1024 * 1024
    regional = build_plan(fraud_detection()).function
    assert set(vars(regional)) == set(vars(fp)), "one FunctionPlan for both shapes"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"event_type": "viewer-whatever"}, "SML401"),
        ({"architecture": "arm64"}, "SML402"),
        ({"memory_mb": 256}, "SML403"),
        ({"timeout_s": 6}, "SML404"),
        ({"event_type": "origin-request", "timeout_s": 31}, "SML404"),
        ({"config": {"bad-key": "x"}}, "SML405"),
        ({"runtime": "python3.11"}, "SML105"),
        ({"function_package": "handler"}, "SML104"),
        ({"event_type": "viewer-response", "include_body": True}, "SML406"),
    ],
)
def test_edge_refusals(changes: dict[str, object], code: str) -> None:
    with pytest.raises(SpecError) as info:
        _edge(**changes)
    assert info.value.code == code


def test_edge_config_is_baked_into_the_bundle_not_the_environment(tmp_path: Path) -> None:
    from serverless_ml.bundling.from_plan import spec_from_plan
    from sml_handlers.runtime.config import baked_config

    bundle = spec_from_plan(build_edge_plan(_edge()).function, cache_dir=tmp_path)
    ((destination, source),) = bundle.extra_files
    assert destination == env.BAKED_CONFIG_FILE
    (tmp_path / "task").mkdir()
    (tmp_path / "task" / destination).write_bytes(source.read_bytes())
    assert baked_config(tmp_path / "task") == {"VARIANTS": "a,b,c"}
    assert baked_config(tmp_path) == {}
    other = spec_from_plan(build_edge_plan(_edge(config={"VARIANTS": "a"})).function,
                           cache_dir=tmp_path)  # fmt: skip
    assert other.extra_files[0][1] != source, "the config's content names its file"
    assert spec_from_plan(build_plan(fraud_detection()).function).extra_files == ()
