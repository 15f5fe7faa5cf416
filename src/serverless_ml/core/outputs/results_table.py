"""Results table: a DynamoDB table the function writes results to with conditional puts."""

from __future__ import annotations

from serverless_ml.core.acknowledgments import aws_managed_key
from serverless_ml.core.fragments import Fragment, PartContext
from serverless_ml.core.plan_types import IamStatement
from serverless_ml.core.tables import table_plan
from serverless_ml.spec.outputs import ResultsTable
from sml_handlers.runtime import env


def results_table_fragment(part: ResultsTable, ctx: PartContext) -> Fragment:
    table = table_plan(
        ctx.service, key=part.key, partition_key=part.partition_key, sort_key=part.sort_key,
        stream=False,
    )  # fmt: skip
    statement = IamStatement(
        sid="WriteResults",
        actions=("dynamodb:PutItem", *(("dynamodb:DeleteItem",) if part.undo_writes else ())),
        resources=(table.ref("arn"),),
        reason="idempotent conditional writes of results"
        + (", and undoing them when a later step of the record fails" if part.undo_writes else ""),
    )
    return Fragment(
        resources=(table,),
        environment=((env.RESULTS_TABLE, table.name),),
        statements=(statement,),
        acknowledgments=aws_managed_key(table),
    )
