"""Result objects: JSON results written under a prefix of a bucket the service's S3 trigger
creates (the spec refuses a prefix the trigger watches)."""

from __future__ import annotations

from serverless_ml.core.fragments import Fragment, PartContext
from serverless_ml.core.iam import sid
from serverless_ml.core.plan_types import IamStatement
from serverless_ml.core.triggers.s3 import bucket_arn, bucket_name
from serverless_ml.spec.outputs import ResultObjects
from sml_handlers.runtime import env


def result_objects_fragment(part: ResultObjects, ctx: PartContext) -> Fragment:
    name = bucket_name(ctx.service, part.bucket)
    statement = IamStatement(
        sid=sid("WriteResultObjects", part.bucket),
        actions=("s3:PutObject",),
        resources=(bucket_arn(name) + f"/{part.prefix}*",),
        reason="write result objects under the results prefix only",
    )
    return Fragment(
        environment=((env.RESULTS_BUCKET, name), (env.RESULTS_PREFIX, part.prefix)),
        statements=(statement,),
    )
