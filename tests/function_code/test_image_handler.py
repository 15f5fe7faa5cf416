"""Image handler on S3 notifications: real onnxruntime on the committed digits model, real PNG
and JPEG files made here, moto for S3 and DynamoDB."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

import boto3
import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from PIL import Image
from sklearn.datasets import load_digits

from serverless_ml.local import image_uploads
from tests.function_code.handlers import import_with_model

REPO = Path(__file__).resolve().parents[2]
DIGITS_MODEL_DIR = REPO / "src" / "serverless_ml" / "models" / "artifacts" / "digits"
BUCKET = "images-uploads-123456789012-us-east-1"
TABLE = "images-results"


def image_handler() -> ModuleType:
    """``sml_handlers.image.handler``, imported (INIT) with the committed digits model."""
    return import_with_model("sml_handlers.image.handler", DIGITS_MODEL_DIR)


handler = image_handler()
DIGITS = load_digits()


digit_png = image_uploads.digit_image  # a digit as a phone would save it, scaled up
row_png = image_uploads.digit_row  # a scanned form field: digits side by side
huge_png = image_uploads.declared_png  # a tiny file declaring huge dimensions


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (16, 16), 255).save(buffer, format="GIF")
    return buffer.getvalue()


class Aws:
    def __init__(self) -> None:
        self.s3 = boto3.client("s3", region_name="us-east-1")
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        self.dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "object_id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "object_id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

    def upload(self, key: str, data: bytes) -> dict[str, Any]:
        """Put the object and return the S3 notification record for it."""
        response = self.s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        return {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                "object": {
                    "key": quote_plus(key, safe="/"),
                    "size": len(data),
                    "versionId": response.get("VersionId"),
                    "sequencer": "0055AED6DCD90281E5",
                },
            },
        }

    def results(self) -> dict[str, dict[str, Any]]:
        items = self.dynamodb.scan(TableName=TABLE)["Items"]
        return {i["key"]["S"]: i for i in items}

    def result_object(self, key: str) -> dict[str, Any]:
        body = self.s3.get_object(Bucket=BUCKET, Key=f"results/{key}.json")["Body"].read()
        result: dict[str, Any] = json.loads(body)
        return result


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with mock_aws():
        resources = Aws()
        monkeypatch.setenv("SML_RESULTS_TABLE", TABLE)
        monkeypatch.setenv("SML_RESULTS_BUCKET", BUCKET)
        monkeypatch.setenv("SML_RESULTS_PREFIX", "results/")
        monkeypatch.setenv("SML_MAX_OBJECT_BYTES", str(2 * 1024 * 1024))
        yield resources


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def _reference_digit(data: bytes) -> str:
    """The digit an independent session reads from the same preprocessing."""
    from sml_handlers.image.vision import decode, to_digit_input

    session = ort.InferenceSession(
        str(DIGITS_MODEL_DIR / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    image = decode(data, max_pixels=10**8, max_bytes=10**8)
    rows = to_digit_input(image)[np.newaxis].astype(np.float32)
    (name,) = [o.name for o in session.get_outputs()][:1]
    return str(int(np.argmax(session.run([name], {session.get_inputs()[0].name: rows})[0])))


def test_a_multi_record_event_reads_every_image_and_document(aws: Aws) -> None:
    samples = list(range(1500, 1520))  # from the end of the set: mostly the held-out split
    records = [aws.upload(f"uploads/img-{i}.png", digit_png(i)) for i in samples[:10]]
    records += [aws.upload(f"uploads/img-{i}.jpg", digit_png(i, fmt="JPEG")) for i in samples[10:]]
    row = [1503, 1504, 1505, 1506, 1507]
    records.append(aws.upload("uploads/documents/form 7.png", row_png(row)))
    response = handler.handler(event(*records), None)
    assert response == {"objects": 21, "results_written": 21, "failed": 0,
                        "unreadable_records": 0}  # fmt: skip
    results = aws.results()
    correct = 0
    for i in samples:
        key = f"uploads/img-{i}.{'png' if i < 1510 else 'jpg'}"
        item = results[key]
        assert item["status"]["S"] == "ok" and item["mode"]["S"] == "image"
        assert 0.0 <= float(item["confidence"]["N"]) <= 1.0
        data = digit_png(i) if i < 1510 else digit_png(i, fmt="JPEG")
        assert item["digit"]["S"] == _reference_digit(data)  # the handler's own preprocessing
        correct += item["digit"]["S"] == str(DIGITS.target[i])
    assert correct >= 17, f"{correct}/20 digits right"
    document = results["uploads/documents/form 7.png"]
    assert document["mode"]["S"] == "document"
    text = document["text"]["S"]
    expected = "".join(str(DIGITS.target[i]) for i in row)
    assert len(text) == len(row) and sum(a == b for a, b in zip(text, expected, strict=True)) >= 4
    assert len(document["confidences"]["L"]) == len(row)
    mirrored = aws.result_object("uploads/documents/form 7.png")
    assert mirrored["text"] == text and mirrored["object_id"] == document["object_id"]["S"]


def test_one_onnx_runtime_call_per_event(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    model = handler.MODEL

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(model, name)

        def run(self, rows: np.ndarray) -> np.ndarray:
            calls.append(len(rows))
            return model.run(rows)

    monkeypatch.setattr(handler, "MODEL", Counting())
    records = [aws.upload(f"uploads/{i}.png", digit_png(i)) for i in range(3)]
    records.append(aws.upload("uploads/documents/row.png", row_png([4, 5, 6])))
    handler.handler(event(*records), None)
    assert calls == [6]


def test_duplicate_deliveries_write_nothing_new(aws: Aws) -> None:
    record = aws.upload("uploads/once.png", digit_png(3))
    first = handler.handler(event(record, record), None)  # duplicated within one event too
    assert first["objects"] == 1 and first["results_written"] == 1
    before = aws.results()
    again = handler.handler(event(record), None)
    assert again["results_written"] == 0
    assert aws.results() == before
    overwritten = aws.upload("uploads/once.png", digit_png(4))  # a new version is a new result
    assert handler.handler(event(overwritten), None)["results_written"] == 1
    assert len([i for i in aws.s3.list_object_versions(Bucket=BUCKET)["Versions"]]) >= 3


def test_url_encoded_keys_are_decoded(aws: Aws) -> None:
    key = "uploads/scans/façade 2026+x.png"
    response = handler.handler(event(aws.upload(key, digit_png(5))), None)
    assert response["results_written"] == 1
    assert aws.results()[key]["status"]["S"] == "ok"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (os.urandom(4096), "not_an_image"),
        (b"%PDF-1.7\n" + b"0" * 100, "not_an_image"),
        (b"", "not_an_image"),
        (gif_bytes(), "not_an_image"),
        (huge_png(20_000, 20_000), "too_many_pixels"),
        (digit_png(1)[:60], "corrupt"),
        (b"\x89PNG" + b"\x00" * (3 * 1024 * 1024), "too_large_bytes"),
    ],
    ids=["random", "pdf", "empty", "gif", "bomb", "truncated", "oversize"],
)
def test_a_bad_file_gets_a_failure_result_and_its_neighbours_are_read(
    aws: Aws, data: bytes, reason: str
) -> None:
    good = aws.upload("uploads/good.png", digit_png(7))
    bad = aws.upload("uploads/bad.png", data)
    response = handler.handler(event(good, bad), None)
    assert response["failed"] == 1 and response["results_written"] == 2
    results = aws.results()
    assert results["uploads/good.png"]["status"]["S"] == "ok"
    failed = results["uploads/bad.png"]
    assert (failed["status"]["S"], failed["reason"]["S"]) == ("failed", reason)


def test_a_document_without_handwriting_is_a_recorded_failure(aws: Aws) -> None:
    blank = io.BytesIO()
    Image.new("L", (200, 60), 255).save(blank, format="PNG")
    response = handler.handler(event(aws.upload("uploads/documents/blank.png",
                                                blank.getvalue())), None)  # fmt: skip
    assert response["failed"] == 1
    assert aws.results()["uploads/documents/blank.png"]["reason"]["S"] == "no_digits"


def test_an_object_deleted_before_it_is_read_is_a_recorded_failure(aws: Aws) -> None:
    record = aws.upload("uploads/gone.png", digit_png(2))
    aws.s3.delete_object(
        Bucket=BUCKET, Key="uploads/gone.png", VersionId=record["s3"]["object"]["versionId"]
    )
    response = handler.handler(event(record), None)
    assert response["failed"] == 1
    assert aws.results()["uploads/gone.png"]["reason"]["S"] == "object_missing"


def test_a_transient_failure_retries_the_event_without_losing_the_others(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [aws.upload(f"uploads/t{i}.png", digit_png(i)) for i in range(3)]
    real_put = handler._put_item

    def flaky(table: str, result: dict[str, Any]) -> bool:
        if result["key"] == "uploads/t1.png":
            raise ConnectionError("DynamoDB unavailable")
        return bool(real_put(table, result))

    monkeypatch.setattr(handler, "_put_item", flaky)
    with pytest.raises(handler.RetryableError, match=r"t1\.png"):
        handler.handler(event(*records), None)
    assert set(aws.results()) == {"uploads/t0.png", "uploads/t2.png"}
    monkeypatch.setattr(handler, "_put_item", real_put)
    retried = handler.handler(event(*records), None)  # Lambda's async retry
    assert retried["results_written"] == 1
    assert set(aws.results()) == {f"uploads/t{i}.png" for i in range(3)}


def test_an_unreadable_record_is_counted_and_the_rest_read(aws: Aws) -> None:
    good = aws.upload("uploads/ok.png", digit_png(9))
    broken = {"eventSource": "aws:s3", "s3": {"bucket": {"name": BUCKET}, "object": {}}}
    response = handler.handler(event(good, broken), None)
    assert response["unreadable_records"] == 1 and response["results_written"] == 1


def test_warmer_and_unknown_events() -> None:
    assert handler.handler({"serverless-ml": "warmer"}, None)["warmed"] is True
    with pytest.raises(ValueError, match="unrecognised event"):
        handler.handler({"Records": [{"eventSource": "aws:sqs"}]}, None)


def test_an_eventbridge_object_created_event_from_an_existing_bucket(aws: Aws) -> None:
    """The existing-bucket route: EventBridge delivers one object per event, key not
    URL-encoded, ``version-id`` with a dash."""
    key = "uploads/partner scan+1.png"
    put = aws.s3.put_object(Bucket=BUCKET, Key=key, Body=digit_png(6))
    event = {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-12-02T00:00:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{BUCKET}"],
        "detail": {
            "version": "0",
            "bucket": {"name": BUCKET},
            "object": {"key": key, "size": 100, "etag": "x", "version-id": put["VersionId"],
                       "sequencer": "00617F08299329D189"},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }  # fmt: skip
    response = handler.handler(event, None)
    assert response["results_written"] == 1
    item = aws.results()[key]
    assert item["status"]["S"] == "ok" and item["version_id"]["S"] == put["VersionId"]
    assert handler.handler(event, None)["results_written"] == 0  # a replay writes nothing


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(1, 300), height=st.integers(1, 300), seed=st.integers(0, 2**16),
    fmt=st.sampled_from(["PNG", "JPEG"]), mode=st.sampled_from(["image", "document"]),
)  # fmt: skip
def test_any_image_is_read_or_recorded_as_a_failure(
    width: int, height: int, seed: int, fmt: str, mode: str
) -> None:
    """Whatever the pixels (noise, one-pixel lines, extreme aspect ratios), reading ends in
    digit inputs or an ObjectProblem for that object, never another exception."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format=fmt)
    obj = handler.s3.S3Object(bucket="b", key="k", size=None, version_id=None, sequencer=None,
                              event_name="")  # fmt: skip
    work = handler.Work(obj=obj, mode=mode)
    try:
        handler.read(work, buffer.getvalue(), 1 << 24)
    except handler.ObjectProblem as problem:
        assert problem.reason
    else:
        assert work.inputs and all(x.shape == (1, 8, 8) for x in work.inputs)


@settings(max_examples=200, deadline=None)
@given(
    record=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
            st.sampled_from(["eventSource", "s3", "bucket", "object", "name", "key", "size",
                             "versionId", "sequencer", "detail", "source", "detail-type"]),
            inner, max_size=5),
        max_leaves=12,
    )
)  # fmt: skip
def test_any_record_parses_or_is_refused_as_unreadable(record: Any) -> None:
    for candidate in (
        record,
        {"eventSource": "aws:s3", "s3": record},
        {"source": "aws.s3", "detail-type": "Object Created", "detail": record},
    ):
        try:
            parsed = handler.s3.parse_record(candidate)
        except handler.s3.RecordError:
            continue
        assert parsed.bucket and parsed.key
