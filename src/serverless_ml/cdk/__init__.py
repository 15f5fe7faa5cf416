"""AWS CDK v2 renderer: plan -> constructs. Import requires the ``cdk`` extra."""

from serverless_ml.cdk.alarms import InferenceAlarms
from serverless_ml.cdk.function import InferenceFunction
from serverless_ml.cdk.nag import acknowledge, enable_nag
from serverless_ml.cdk.service import InferenceService
from serverless_ml.cdk.triggers import HttpEndpoint, StreamMapping

__all__ = [
    "HttpEndpoint",
    "InferenceAlarms",
    "InferenceFunction",
    "InferenceService",
    "StreamMapping",
    "acknowledge",
    "enable_nag",
]
