"""build_plan(spec) -> ServicePlan: the one place where a spec becomes concrete decisions."""

from __future__ import annotations

from serverless_ml.core import defaults, limits, naming
from serverless_ml.core.alarms import monitoring_plan
from serverless_ml.core.concurrency import alias_provisioned, scaling_plan, warmer_plan
from serverless_ml.core.iam import function_statements
from serverless_ml.core.plan_types import (
    AliasPlan,
    BundlePlan,
    FunctionPlan,
    QueuePlan,
    Ref,
    ServicePlan,
    TopicPlan,
    Value,
)
from serverless_ml.core.triggers import (
    http_plan,
    kinesis_mapping_plan,
    stream_mapping_plan,
    stream_plan,
    table_plan,
)
from serverless_ml.spec.service import InferenceServiceSpec

FAILURE_QUEUE = "failures"
ALERT_TOPIC = "alerts"
RESULTS_TABLE_ENV = "SML_RESULTS_TABLE"
ALERT_TOPIC_ENV = "SML_ALERT_TOPIC_ARN"


def build_plan(spec: InferenceServiceSpec) -> ServicePlan:
    """Decide every default, name, permission, trigger setting and alarm for ``spec``."""
    service = spec.name
    failure_queue = QueuePlan(
        key=FAILURE_QUEUE,
        name=naming.failure_queue_name(service),
        retention_s=defaults.QUEUE_RETENTION_S,
        visibility_timeout_s=defaults.QUEUE_VISIBILITY_TIMEOUT_S,
        sqs_managed_sse=True,
        enforce_tls=True,
    )
    mappings = tuple(
        stream_mapping_plan(i, t, failure_queue=FAILURE_QUEUE, timeout_s=spec.timeout_s)
        for i, t in enumerate(spec.dynamo_streams)
    ) + tuple(
        kinesis_mapping_plan(t, failure_queue=FAILURE_QUEUE, timeout_s=spec.timeout_s)
        for t in spec.kinesis_streams
    )
    topics = (
        (
            TopicPlan(
                key=ALERT_TOPIC,
                name=naming.alert_topic_name(service),
                enforce_tls=True,
                kms_key="alias/aws/sns",
            ),
        )
        if spec.alert_topic
        else ()
    )
    tables = tuple(table_plan(service, t.new_table) for t in spec.dynamo_streams if t.new_table)
    if spec.results_table is not None:
        tables += (table_plan(service, spec.results_table),)
    return ServicePlan(
        service=service,
        function=_function_plan(spec),
        alias=AliasPlan(
            name=spec.alias_name,
            provisioned=alias_provisioned(spec.concurrency),
            async_max_retries=defaults.ASYNC_MAX_RETRIES,
            async_max_event_age_s=defaults.ASYNC_MAX_EVENT_AGE_S,
            async_on_failure_queue=FAILURE_QUEUE,
        ),
        scaling=scaling_plan(service, spec.alias_name, spec.concurrency),
        warmer=warmer_plan(service, spec.concurrency),
        tables=tables,
        streams=tuple(
            stream_plan(service, k.new_stream) for k in spec.kinesis_streams if k.new_stream
        ),
        topics=topics,
        queues=(failure_queue,),
        http=None if spec.http is None else http_plan(service, spec.http, spec.log_retention_days),
        stream_mappings=mappings,
        iam=function_statements(
            tracing=spec.tracing,
            stream_mappings=mappings,
            results_table=spec.results_table.name_suffix if spec.results_table else None,
            failure_queue=FAILURE_QUEUE,
            alert_topic=ALERT_TOPIC if spec.alert_topic else None,
        ),
        monitoring=monitoring_plan(
            service=service,
            alias=spec.alias_name,
            timeout_s=spec.timeout_s,
            settings=spec.alarms,
            uses_provisioned=spec.concurrency.uses_provisioned,
            stream_mappings=mappings,
            failure_queue=failure_queue,
            kinesis_streams=tuple(
                naming.stream_name(service, k.new_stream.name_suffix)
                if k.new_stream
                else str(k.existing_stream_arn).rsplit("/", 1)[-1]
                for k in spec.kinesis_streams
            ),
        ),
        tags=tuple(sorted({defaults.TAG_KEY: service, **spec.tags}.items())),
    )


def _function_plan(spec: InferenceServiceSpec) -> FunctionPlan:
    service = spec.name
    environment: dict[str, Value] = {
        "POWERTOOLS_SERVICE_NAME": service,
        "POWERTOOLS_METRICS_NAMESPACE": defaults.METRICS_NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": defaults.LOG_LEVEL,
        **defaults.NATIVE_THREADS_ENV,
        **spec.environment,
    }
    if spec.results_table is not None:
        environment[RESULTS_TABLE_ENV] = naming.table_name(service, spec.results_table.name_suffix)
    if spec.alert_topic:
        environment[ALERT_TOPIC_ENV] = Ref(f"topic:{ALERT_TOPIC}", "arn")
    python_version = spec.runtime.removeprefix("python")
    return FunctionPlan(
        name=naming.function_name(service),
        description=spec.description or f"serverless-ml inference: {service}",
        handler=f"{spec.function_package}.handler.handler",
        runtime=spec.runtime,
        latest_runtime=limits.LAMBDA_LATEST_PYTHON_RUNTIME,
        architecture=spec.architecture,
        memory_mb=spec.memory_mb,
        timeout_s=spec.timeout_s,
        ephemeral_storage_mb=spec.ephemeral_storage_mb,
        reserved_concurrency=spec.reserved_concurrency,
        environment=tuple(sorted(environment.items(), key=lambda kv: kv[0])),
        tracing=spec.tracing,
        snapstart=spec.concurrency.mode == "snapstart",
        log_group_name=naming.log_group_name(service),
        log_retention_days=spec.log_retention_days,
        log_format=defaults.LOG_FORMAT,
        role_name=naming.role_name(service),
        bundle=BundlePlan(
            function_package=spec.function_package,
            model_dir=spec.model.directory,
            requirements=defaults.FUNCTION_REQUIREMENTS + spec.extra_requirements,
            python_version=python_version,
            architecture=spec.architecture,
            max_zipped_bytes=limits.LAMBDA_ZIP_DIRECT_UPLOAD_BYTES,
            max_unzipped_bytes=limits.LAMBDA_UNZIPPED_BYTES,
        ),
    )
