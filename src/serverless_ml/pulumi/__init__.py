"""Pulumi renderer: plan -> pulumi_aws resources, as ComponentResources.

Import requires the ``pulumi`` extra. Type tokens (API, pinned in tests):
``serverless-ml:index:InferenceService``, ``serverless-ml:lambda:InferenceFunction``,
``serverless-ml:triggers:HttpEndpoint``, ``serverless-ml:triggers:DynamoStreamTrigger``,
``serverless-ml:triggers:KinesisStreamTrigger``,
``serverless-ml:monitoring:InferenceAlarms``.
"""

from serverless_ml.pulumi.alarms import InferenceAlarms, InferenceAlarmsArgs
from serverless_ml.pulumi.function import InferenceFunction, InferenceFunctionArgs
from serverless_ml.pulumi.refs import RefResolver
from serverless_ml.pulumi.service import InferenceService, InferenceServiceArgs
from serverless_ml.pulumi.triggers import (
    DynamoStreamTrigger,
    DynamoStreamTriggerArgs,
    HttpEndpoint,
    HttpEndpointArgs,
    KinesisStreamTrigger,
    StreamTriggerArgs,
)

__all__ = [
    "DynamoStreamTrigger",
    "DynamoStreamTriggerArgs",
    "HttpEndpoint",
    "HttpEndpointArgs",
    "InferenceAlarms",
    "InferenceAlarmsArgs",
    "InferenceFunction",
    "InferenceFunctionArgs",
    "InferenceService",
    "InferenceServiceArgs",
    "KinesisStreamTrigger",
    "RefResolver",
    "StreamTriggerArgs",
]
