"""The tutorial handlers of the naive twins (``string.Template`` sources, see ``bench.twins``).

Each is what a typical tutorial deploys: the training library imported at the top, the model
loaded from its own format at import, AWS clients created at import. Input parsing reuses our
stdlib-level modules (copied into the twin), so both versions read the same inputs and any
difference is the way the model is served.
"""

from __future__ import annotations

from typing import Final

FRAUD: Final = '''\
"""Naive fraud handler: what a typical tutorial deploys."""
import json
import os

import joblib
import numpy as np
import sklearn  # noqa: F401

from sml_handlers.fraud.features import decide, feature_vector, parse_transaction

model = joblib.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.joblib"))
REVIEW, DECLINE = $review, $decline


def handler(event, context):
    body = json.loads(event["body"])
    txn = parse_transaction(body)
    row = np.asarray([feature_vector(txn)], dtype=np.float32)
    score = float(model.predict_proba(row)[0, 1])
    decision = decide(score, REVIEW, DECLINE)
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            {"transaction_id": txn.transaction_id, "decision": decision, "score": score}
        ),
    }
'''

IOT: Final = '''\
"""Naive IoT anomaly handler: what a typical tutorial deploys."""
import base64
import json
import os

import boto3
import joblib
import numpy as np
import sklearn  # noqa: F401

from sml_handlers.iot.features import feature_vector, parse_reading

# offset_ was set to the calibrated threshold, so predict() == -1 flags an anomaly.
model = joblib.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.joblib"))
dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")
TABLE = os.environ["$results_table_variable"]
TOPIC = os.environ["$alert_topic_variable"]


def handler(event, context):
    records = event["Records"]
    readings = [parse_reading(json.loads(base64.b64decode(r["kinesis"]["data"]))) for r in records]
    rows = np.asarray([feature_vector(r) for r in readings], dtype=np.float32)
    flags = model.predict(rows) == -1
    scores = -model.score_samples(rows)
    anomalies = []
    for record, reading, flag, score in zip(records, readings, flags, scores):
        if flag:
            sequence = record["kinesis"]["sequenceNumber"]
            dynamodb.put_item(
                TableName=TABLE,
                Item={
                    "device_id": {"S": reading.device_id},
                    "timestamp": {"S": reading.timestamp},
                    "anomaly_score": {"N": str(float(score))},
                    "sequence_number": {"S": sequence},
                },
            )
            anomalies.append(sequence)
    if anomalies:
        sns.publish(
            TopicArn=TOPIC,
            Subject=f"{len(anomalies)} IoT anomalies",
            Message=json.dumps({"sequence_numbers": anomalies}),
        )
    return {"batchItemFailures": []}
'''

IMAGE: Final = '''\
"""Naive digits handler: what a typical tutorial deploys (numpy CNN weights, Pillow)."""
import os
import urllib.parse

import boto3
import numpy as np
from PIL import Image  # noqa: F401

from sml_handlers.image.vision import decode, to_digit_input

weights = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.npz"))
params = {name: weights[name].astype(np.float64) for name in weights.files}
s3 = boto3.client("s3")
dynamodb = boto3.client("dynamodb")
TABLE = os.environ["$results_table_variable"]


def conv(x, w, b):
    n, c, h, width = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * width, c * 9)
    out = cols @ w.reshape(len(w), -1).T + b
    return out.reshape(n, h, width, len(w)).transpose(0, 3, 1, 2)


def pool(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def predict(images):
    x = pool(np.maximum(conv(images, params["conv1_w"], params["conv1_b"]), 0.0))
    x = pool(np.maximum(conv(x, params["conv2_w"], params["conv2_b"]), 0.0))
    logits = x.reshape(len(x), -1) @ params["dense_w"].T + params["dense_b"]
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def handler(event, context):
    results = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        image = decode(data, max_pixels=40_000_000, max_bytes=20 * 1024 * 1024)
        probabilities = predict(to_digit_input(image)[None].astype(np.float64))[0]
        digit, confidence = str(int(probabilities.argmax())), round(float(probabilities.max()), 4)
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "object_id": {"S": f"{bucket}/{key}"},
                "digit": {"S": digit},
                "confidence": {"N": repr(confidence)},
            },
        )
        results.append({"key": key, "digit": digit, "confidence": confidence})
    return {"results": results}
'''

PERSONALIZE: Final = '''\
"""Naive edge personalization handler: what a typical tutorial deploys (scikit-learn)."""
import os
import time

import joblib
import numpy as np
import sklearn  # noqa: F401

from sml_handlers.personalize.request import personalize
from sml_handlers.personalize.settings import settings_of

model = joblib.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.joblib"))
settings = settings_of($config)


def score(rows):
    return model.predict_proba(np.asarray(rows, dtype=np.float32))[:, 1].tolist()


def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    return personalize(request, score, settings, time.time()).request
'''
