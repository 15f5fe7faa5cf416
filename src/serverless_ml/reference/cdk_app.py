"""The CDK app holding every reference stack; cdk-nag gates its synth."""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import App, Environment

from serverless_ml.cdk import enable_nag
from serverless_ml.reference.cdk_stacks import FraudDetectionStack

STACKS = {"FraudDetectionStack": FraudDetectionStack}


def build_app(*, outdir: Path | None = None, nag: bool = True) -> App:
    """Every reference stack in one app, for ``cdk synth`` / ``cdk deploy <Stack>``."""
    app = App(outdir=str(outdir) if outdir else None)
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=os.environ.get("CDK_DEFAULT_REGION"),
    )
    for stack_id, stack_class in STACKS.items():
        stack_class(app, stack_id, env=env)
    if nag:
        enable_nag(app)
    return app
