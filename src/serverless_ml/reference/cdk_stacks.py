"""Reference stacks for ``cdk deploy``: one stack per scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from serverless_ml.cdk import InferenceService
from serverless_ml.reference.scenarios import fraud_detection
from serverless_ml.spec.service import InferenceServiceSpec


class FraudDetectionStack(Stack):
    """Fraud scoring over HTTPS and a DynamoDB stream (see ``scenarios.fraud_detection``)."""

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
        self.service = InferenceService(
            self, "Service", spec=spec or fraud_detection(), code_dir=code_dir
        )
        if self.service.http is not None:
            CfnOutput(self, "EndpointUrl", value=self.service.http.url)
        CfnOutput(self, "AliasArn", value=self.service.alias.function_arn)
        for key, table in self.service.tables.items():
            CfnOutput(self, f"Table{key.capitalize()}", value=table.table_name)
