"""The CDK app holding every reference stack; cdk-nag gates its synth."""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import App, Environment

from serverless_ml.cdk import enable_nag
from serverless_ml.reference import deployment
from serverless_ml.reference.cdk_stacks import EdgePersonalizationStack, ReferenceStack
from serverless_ml.reference.scenarios import EDGE_SCENARIOS, EDGE_STACK_IDS, SCENARIOS, STACK_IDS


def build_app(
    *, outdir: Path | None = None, nag: bool = True, context: dict[str, str] | None = None
) -> App:
    """Every reference stack in one app, for ``cdk synth`` / ``cdk deploy <Stack>``."""
    app = App(outdir=str(outdir) if outdir else None, context=context)
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=os.environ.get("CDK_DEFAULT_REGION"),
    )
    for scenario, make_spec in SCENARIOS.items():
        # `cdk deploy -c fraud-detection:concurrency-plan=plan-out/plans/<fn>.json` deploys
        # the plan `serverless-ml plan` chose on the user's own traffic; a Managed Instances
        # plan takes its capacity provider from `-c fraud-detection:subnet-ids=...` and
        # `:security-group-ids=...` (or `:capacity-provider-arn=...`).
        concurrency = deployment.from_cdk_context(app.node.try_get_context, scenario)
        spec = make_spec(concurrency=concurrency)
        ReferenceStack(app, STACK_IDS[scenario], env=env, spec=spec)
    for scenario, make_edge in EDGE_SCENARIOS.items():
        EdgePersonalizationStack(
            app, EDGE_STACK_IDS[scenario], spec=make_edge(), account=env.account
        )
    if nag:
        enable_nag(app)
    return app
