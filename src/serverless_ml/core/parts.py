"""The registry from spec part type to the core function that turns it into a fragment.

Adding a part kind: a spec class (``spec/triggers.py`` or ``spec/outputs.py``), a core module
returning a ``Fragment``, one line here, and one render function per backend
(``docs/extending.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from serverless_ml.core.fragments import Fragment, PartContext
from serverless_ml.core.outputs.alert_topic import alert_topic_fragment
from serverless_ml.core.outputs.result_objects import result_objects_fragment
from serverless_ml.core.outputs.results_table import results_table_fragment
from serverless_ml.core.triggers.dynamodb import dynamodb_fragment
from serverless_ml.core.triggers.http import http_fragment
from serverless_ml.core.triggers.kinesis import kinesis_fragment
from serverless_ml.core.triggers.s3 import s3_fragment
from serverless_ml.spec.outputs import AlertTopic, ResultObjects, ResultsTable
from serverless_ml.spec.triggers import DynamoStreamTrigger, HttpTrigger, KinesisTrigger, S3Trigger

PART_FRAGMENTS: dict[type, Callable[[Any, PartContext], Fragment]] = {
    HttpTrigger: http_fragment,
    DynamoStreamTrigger: dynamodb_fragment,
    KinesisTrigger: kinesis_fragment,
    S3Trigger: s3_fragment,
    ResultsTable: results_table_fragment,
    AlertTopic: alert_topic_fragment,
    ResultObjects: result_objects_fragment,
}


def part_fragment(part: object, ctx: PartContext) -> Fragment:
    try:
        build = PART_FRAGMENTS[type(part)]
    except KeyError:
        raise TypeError(f"no core module for part {type(part).__name__}") from None
    return build(part, ctx)
