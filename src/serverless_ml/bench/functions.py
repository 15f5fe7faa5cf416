"""Every reference function as the cold-start benchmark runs it, declared once.

Each entry names the function as its reference stack deploys it (plan: bundle, memory,
environment), its naive twin, one real event of its trigger, what Lambda would set that the
plan leaves to deploy time (ARNs, bucket names), and how to read the *answer* of a first invoke
(decision, anomalous records, digit, variant) from the handler's response and the AWS calls it
made, so ours and the twin are checked to answer the same thing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.baseline import Twin
from serverless_ml.bench.cold_start import fraud_function_plan, sample_event
from serverless_ml.bench.twins import FRAUD_TWIN, IMAGE_TWIN, IOT_TWIN, PERSONALIZE_TWIN
from serverless_ml.core.plan_types import FunctionPlan
from sml_handlers.runtime import env as handler_env

Calls = Sequence[Mapping[str, Any]]
Answer = tuple[Any, float | None]  # (what the function decided, its score where it has one)

IOT_SEED: Final = 2  # a fleet whose last readings hold 5 anomalies, none near the threshold
IOT_DEVICES: Final = 50
IOT_STEPS: Final = 720
IOT_BATCH: Final = 100
STREAM_ARN: Final = "arn:aws:kinesis:us-east-1:123456789012:stream/iot-anomaly-readings"
UPLOADS_BUCKET: Final = "image-processing-uploads"
UPLOAD_KEY: Final = "uploads/png-0000"
ARRIVAL_EPOCH_S: Final = 1714564800.0


@dataclass(frozen=True, kw_only=True)
class BenchFunction:
    """One reference function: ``event(objects_dir)`` may store the S3 objects it names."""

    key: str
    plan: Callable[[], FunctionPlan]
    twin: Twin
    event: Callable[[Path], dict[str, Any]]
    answer: Callable[[Mapping[str, Any], Any, Calls], Answer]
    env: Mapping[str, str] = field(default_factory=dict)


def _ops(calls: Calls, service: str, operation: str) -> list[Mapping[str, Any]]:
    return [c["request"] for c in calls if c["service"] == service and c["operation"] == operation]


def _fraud_answer(event: Mapping[str, Any], response: Any, calls: Calls) -> Answer:
    if not isinstance(response, Mapping) or response.get("statusCode") != 200:
        raise RuntimeError(f"fraud: first invoke answered {response!r:.300}")
    body = json.loads(response["body"])
    return body["decision"], float(body["score"])


def _iot_event(objects: Path) -> dict[str, Any]:
    """A Kinesis batch: the last readings of a generated fleet, faults grown."""
    from serverless_ml.local.stream_esm import lambda_record
    from serverless_ml.models.iot_data import generate_readings

    readings, _labels = generate_readings(
        IOT_DEVICES, IOT_STEPS, seed=IOT_SEED, device_prefix="bench"
    )
    records = [
        lambda_record(
            {
                "SequenceNumber": f"4959{i:052d}",
                "Data": json.dumps(reading).encode("utf-8"),
                "PartitionKey": reading["device_id"],
                "ApproximateArrivalTimestamp": ARRIVAL_EPOCH_S,
            },
            stream_arn=STREAM_ARN,
            shard_id="shardId-000000000000",
        )
        for i, reading in enumerate(readings[-IOT_BATCH:])
    ]
    return {"Records": records}


def _iot_answer(event: Mapping[str, Any], response: Any, calls: Calls) -> Answer:
    """The batch positions of the anomalies written (and the highest anomaly score)."""
    if response != {"batchItemFailures": []}:
        raise RuntimeError(f"iot: first invoke answered {response!r:.300}")
    position = {r["kinesis"]["sequenceNumber"]: i for i, r in enumerate(event["Records"])}
    items = _ops(calls, "dynamodb", "put_item")
    flagged = sorted(position[item["Item"]["sequence_number"]["S"]] for item in items)
    scores = [float(item["Item"]["anomaly_score"]["N"]) for item in items]
    return flagged, max(scores) if scores else None


def _image_event(objects: Path) -> dict[str, Any]:
    """An S3 notification for one PNG upload of a held-out digit (stored under ``objects``)."""
    from serverless_ml.bench.image_bench import make_uploads
    from serverless_ml.local.s3_events import s3_event, s3_event_record

    folder = objects / UPLOADS_BUCKET / Path(UPLOAD_KEY).parent
    folder.mkdir(parents=True, exist_ok=True)
    make_uploads(folder, count=1, rows=0)
    data = (objects / UPLOADS_BUCKET / UPLOAD_KEY).read_bytes()
    record = s3_event_record(
        bucket=UPLOADS_BUCKET,
        key=UPLOAD_KEY,
        size=len(data),
        etag=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        sequencer="0062E99A88DC407460",
        region="us-east-1",
        event_time="2024-05-01T12:00:00.000Z",
        principal_id="AWS:AIDAEXAMPLEBENCH",
        source_ip="198.51.100.7",
        configuration_id="uploads",
    )
    return s3_event([record])


def _image_answer(event: Mapping[str, Any], response: Any, calls: Calls) -> Answer:
    """The digit read from the upload (and its confidence), as written to the results table."""
    items = [item["Item"] for item in _ops(calls, "dynamodb", "put_item")]
    if len(items) != 1 or "digit" not in items[0]:
        raise RuntimeError(f"image: first invoke wrote {items!r:.300} ({response!r:.200})")
    return items[0]["digit"]["S"], float(items[0]["confidence"]["N"])


def _edge_plan() -> FunctionPlan:
    from serverless_ml.bench.edge_bench import edge_functions

    return edge_functions()["compiled"]


def _edge_event(objects: Path) -> dict[str, Any]:
    from serverless_ml.bench.edge_bench import origin_request_events

    return origin_request_events(1)[0]


def _edge_answer(event: Mapping[str, Any], response: Any, calls: Calls) -> Answer:
    """The variant's URI the request was rewritten to."""
    original = event["Records"][0]["cf"]["request"]["uri"]
    if not isinstance(response, Mapping) or response.get("uri") in (None, original):
        raise RuntimeError(f"personalize: request not personalized: {response!r:.300}")
    return response["uri"], None


def _scenario_plan(name: str) -> Callable[[], FunctionPlan]:
    def plan() -> FunctionPlan:
        from serverless_ml.core.plan import build_plan
        from serverless_ml.reference.scenarios import SCENARIOS

        return build_plan(SCENARIOS[name]()).function

    return plan


FRAUD: Final = BenchFunction(
    key="fraud",
    plan=fraud_function_plan,
    twin=FRAUD_TWIN,
    event=lambda objects: sample_event(),
    answer=_fraud_answer,
)

FUNCTIONS: Final = (
    FRAUD,
    BenchFunction(
        key="iot",
        plan=_scenario_plan("iot-anomaly"),
        twin=IOT_TWIN,
        event=_iot_event,
        answer=_iot_answer,
        env={handler_env.ALERT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:iot-anomaly-alerts"},
    ),
    BenchFunction(
        key="image",
        plan=_scenario_plan("image-processing"),
        twin=IMAGE_TWIN,
        event=_image_event,
        answer=_image_answer,
        env={handler_env.RESULTS_BUCKET: UPLOADS_BUCKET},
    ),
    BenchFunction(
        key="personalize",
        plan=_edge_plan,
        twin=PERSONALIZE_TWIN,
        event=_edge_event,
        answer=_edge_answer,
    ),
)
"""Fraud, IoT, image and edge personalization, in that order."""
