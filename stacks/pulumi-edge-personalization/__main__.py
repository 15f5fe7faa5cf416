"""Pulumi program for the edge-personalization reference stack (see README.md).

One spec (``serverless_ml.reference.scenarios.edge_personalization``), decided into a plan and
rendered by ``serverless_ml.pulumi.edge.EdgePersonalization`` through its own us-east-1
provider, whatever ``aws:region`` the stack uses: the same plan
`cdk deploy EdgePersonalizationStack` deploys.
"""

import pulumi

from serverless_ml.pulumi.edge import EdgePersonalization, EdgePersonalizationArgs
from serverless_ml.reference.scenarios import edge_personalization

service = EdgePersonalization(
    "edge-personalization", EdgePersonalizationArgs(spec=edge_personalization())
)

pulumi.export("distribution_domain_name", service.distribution_domain_name)
pulumi.export("distribution_id", service.distribution_id)
pulumi.export("function_name", service.function_name)
pulumi.export("version_arn", service.version_arn)
pulumi.export("site_bucket", service.bucket.bucket if service.bucket else None)
