"""IoT handler test support: the handler loaded on the IoT model, readings, records, moto resources.

The function-code conftest points ``SML_MODEL_DIR`` at the fraud model; the IoT handler module is
imported here with the IoT model directory instead, and the variable restored afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import onnxruntime as ort

from serverless_ml.local.stream_esm import lambda_record
from serverless_ml.models.iot_data import generate_readings
from sml_handlers.iot.features import feature_vector, parse_reading
from tests.function_code.handlers import import_with_model

REPO = Path(__file__).resolve().parents[2]
IOT_MODEL_DIR = REPO / "src" / "serverless_ml" / "models" / "artifacts" / "iot"
STREAM_NAME = "iot-readings"
STREAM_ARN = f"arn:aws:kinesis:us-east-1:123456789012:stream/{STREAM_NAME}"
ANOMALIES_TABLE = "iot-anomalies"
_loaded: ModuleType | None = None


def iot_handler() -> ModuleType:
    """``sml_handlers.iot.handler``, imported (INIT) with the committed IoT model."""
    return import_with_model("sml_handlers.iot.handler", IOT_MODEL_DIR)


def reference_scores(readings: list[dict[str, Any]]) -> np.ndarray:
    """anomaly_score of each reading from an independent one-thread session."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        str(IOT_MODEL_DIR / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    rows = np.asarray([feature_vector(parse_reading(r)) for r in readings], dtype=np.float32)
    return np.asarray(session.run(["anomaly_score"], {"features": rows})[0])[:, 0]


def threshold() -> float:
    card = json.loads((IOT_MODEL_DIR / "model_card.json").read_text(encoding="utf-8"))
    return float(card["threshold"])


def mixed_readings(n_normal: int, n_anomalous: int, *, seed: int) -> list[dict[str, Any]]:
    """Generated readings: ``n_anomalous`` the model flags and ``n_normal`` it does not, shuffled."""
    readings, _ = generate_readings(20, 240, seed=seed, device_prefix=f"t{seed}")
    scores = reference_scores(readings)
    cut = threshold()
    flagged = [r for r, s in zip(readings, scores, strict=True) if s >= cut]
    normal = [r for r, s in zip(readings, scores, strict=True) if s < cut]
    if len(flagged) < n_anomalous or len(normal) < n_normal:
        raise AssertionError("generator gave too few readings of a kind: change the seed")
    rng = np.random.default_rng(seed)
    chosen = flagged[:n_anomalous] + normal[:n_normal]
    return [chosen[i] for i in rng.permutation(len(chosen))]


def sequence_number(index: int) -> str:
    return f"4959{index:052d}"


def kinesis_event(payloads: list[bytes]) -> dict[str, Any]:
    """A Lambda Kinesis batch of raw data blobs, sequence numbers 0..n-1 in order."""
    return {
        "Records": [
            lambda_record(
                {"SequenceNumber": sequence_number(i), "Data": data, "PartitionKey": "p"},
                stream_arn=STREAM_ARN,
                shard_id="shardId-000000000000",
            )
            for i, data in enumerate(payloads)
        ]
    }


def encode(reading: object) -> bytes:
    return json.dumps(reading).encode("utf-8")


class AwsResources:
    """In moto: the anomalies table, an alert topic and an SQS queue subscribed to it."""

    def __init__(self) -> None:
        import boto3

        self.dynamodb = boto3.client("dynamodb")
        self.dynamodb.create_table(
            TableName=ANOMALIES_TABLE,
            KeySchema=[
                {"AttributeName": "device_id", "KeyType": "HASH"},
                {"AttributeName": "timestamp", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "device_id", "AttributeType": "S"},
                {"AttributeName": "timestamp", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.sns = boto3.client("sns")
        self.topic_arn: str = self.sns.create_topic(Name="iot-alerts")["TopicArn"]
        self.sqs = boto3.client("sqs")
        self.alert_queue = self.sqs.create_queue(QueueName="iot-alert-inbox")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.alert_queue, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.sns.subscribe(
            TopicArn=self.topic_arn,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"RawMessageDelivery": "true"},
        )

    def anomalies(self) -> dict[tuple[str, str], dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": ANOMALIES_TABLE}
        while True:
            page = self.dynamodb.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return {(i["device_id"]["S"], i["timestamp"]["S"]): i for i in items}

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message body on ``queue_url`` as JSON (deleting them)."""
        bodies: list[dict[str, Any]] = []
        while True:
            page = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            messages = page.get("Messages", [])
            if not messages:
                return bodies
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    def alerts(self) -> list[dict[str, Any]]:
        return self.drain(self.alert_queue)
