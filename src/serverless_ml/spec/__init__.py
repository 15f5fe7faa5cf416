"""The backend-neutral description of an inference service: what the user wants."""

from serverless_ml.spec.acknowledgments import GATE_RULES, Acknowledge
from serverless_ml.spec.alarms import AlarmSettings, AlarmSubscriber, AlarmThreshold
from serverless_ml.spec.concurrency import ConcurrencyPlan, ScheduledAction, Warmer
from serverless_ml.spec.edge import EdgeFunctionSpec
from serverless_ml.spec.errors import SpecError
from serverless_ml.spec.managed_instances import CapacityProvider, ManagedInstances
from serverless_ml.spec.model import ModelArtifact
from serverless_ml.spec.outputs import AlertTopic, Output, ResultObjects, ResultsTable
from serverless_ml.spec.personalization import EdgePersonalizationSpec, HttpOrigin, SiteBucket
from serverless_ml.spec.service import InferenceServiceSpec
from serverless_ml.spec.triggers import (
    DynamoStreamTrigger,
    HttpTrigger,
    KinesisTrigger,
    NewBucket,
    NewStream,
    NewTable,
    S3Trigger,
    Trigger,
)

__all__ = [
    "GATE_RULES",
    "Acknowledge",
    "AlarmSettings",
    "AlarmSubscriber",
    "AlarmThreshold",
    "AlertTopic",
    "CapacityProvider",
    "ConcurrencyPlan",
    "DynamoStreamTrigger",
    "EdgeFunctionSpec",
    "EdgePersonalizationSpec",
    "HttpOrigin",
    "HttpTrigger",
    "InferenceServiceSpec",
    "KinesisTrigger",
    "ManagedInstances",
    "ModelArtifact",
    "NewBucket",
    "NewStream",
    "NewTable",
    "Output",
    "ResultObjects",
    "ResultsTable",
    "S3Trigger",
    "ScheduledAction",
    "SiteBucket",
    "SpecError",
    "Trigger",
    "Warmer",
]
