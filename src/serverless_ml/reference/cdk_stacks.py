"""Reference stacks for ``cdk deploy``: one stack per scenario."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from serverless_ml.cdk import InferenceService
from serverless_ml.cdk.edge import EdgePersonalization
from serverless_ml.core import limits
from serverless_ml.reference.scenarios import (
    edge_personalization,
    fraud_detection,
    image_processing,
    iot_anomaly_detection,
)
from serverless_ml.spec.personalization import EdgePersonalizationSpec
from serverless_ml.spec.service import InferenceServiceSpec


class ReferenceStack(Stack):
    """One reference service per stack, with its endpoints and data resources as outputs."""

    default_spec: Callable[[], InferenceServiceSpec] | None = None

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: InferenceServiceSpec | None = None,
        code_dir: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        if spec is None:
            default = type(self).default_spec
            if default is None:
                raise TypeError(f"{type(self).__name__} needs spec=InferenceServiceSpec(...)")
            spec = default()
        self.service = InferenceService(self, "Service", spec=spec, code_dir=code_dir)
        if self.service.http is not None:
            CfnOutput(self, "EndpointUrl", value=self.service.http.url)
        CfnOutput(self, "AliasArn", value=self.service.alias.function_arn)
        for key, table in self.service.tables.items():
            CfnOutput(self, f"Table{key.capitalize()}", value=table.table_name)
        for key, stream in self.service.streams.items():
            CfnOutput(self, f"Stream{key.capitalize()}", value=stream.stream_name)
        for key, topic in self.service.topics.items():
            CfnOutput(self, f"Topic{key.capitalize()}", value=topic.topic_arn)
        for key, bucket in self.service.buckets.items():
            CfnOutput(self, f"Bucket{key.capitalize()}", value=bucket.bucket_name)


class FraudDetectionStack(ReferenceStack):
    """Fraud scoring over HTTPS and a DynamoDB stream (see ``scenarios.fraud_detection``)."""

    default_spec = staticmethod(fraud_detection)


class IoTAnomalyStack(ReferenceStack):
    """Anomaly detection on a Kinesis stream (see ``scenarios.iot_anomaly_detection``)."""

    default_spec = staticmethod(iot_anomaly_detection)


class ImageProcessingStack(ReferenceStack):
    """Digits and documents read on S3 upload (see ``scenarios.image_processing``)."""

    default_spec = staticmethod(image_processing)


class EdgePersonalizationStack(Stack):
    """Edge personalization (see ``scenarios.edge_personalization``), always in us-east-1:
    the function must be, and keeping the distribution with it leaves no cross-region
    reference to break."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: EdgePersonalizationSpec | None = None,
        code_dir: Path | None = None,
        account: str | None = None,
        **kwargs: Any,
    ) -> None:
        env = Environment(account=account, region=limits.EDGE_REGION)
        super().__init__(scope, id, env=env, **kwargs)
        self.service = EdgePersonalization(
            self, "Service", spec=spec or edge_personalization(), code_dir=code_dir
        )
        CfnOutput(self, "DistributionDomainName", value=self.service.distribution_domain_name)
        CfnOutput(self, "FunctionVersionArn", value=self.service.version_arn)
        if self.service.bucket is not None:
            CfnOutput(self, "SiteBucket", value=self.service.bucket.bucket_name)
