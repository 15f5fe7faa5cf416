"""Physical resource names, decided from the service name. Names are API: renaming replaces
resources, so tests pin them."""

from __future__ import annotations


def function_name(service: str) -> str:
    return service


def role_name(service: str) -> str:
    return f"{service}-fn-role"


def log_group_name(service: str) -> str:
    return f"/aws/lambda/{function_name(service)}"


def table_name(service: str, suffix: str) -> str:
    return f"{service}-{suffix}"


def stream_name(service: str, suffix: str) -> str:
    return f"{service}-{suffix}"


def topic_name(service: str, suffix: str) -> str:
    return f"{service}-{suffix}"


def failure_queue_name(service: str) -> str:
    return f"{service}-failures"


def alarm_topic_name(service: str) -> str:
    return f"{service}-alarms"


def alarm_name(service: str, key: str) -> str:
    return f"{service}-{key.replace('_', '-')}"


def http_api_name(service: str) -> str:
    return f"{service}-http"


def access_log_group_name(service: str) -> str:
    return f"/aws/apigateway/{service}-http"


def s3_rule_name(service: str, key: str) -> str:
    return f"{service}-{key}-uploads"


def warmer_rule_name(service: str) -> str:
    return f"{service}-warmer"


def scaling_policy_name(service: str) -> str:
    return f"{service}-pc-utilization"


def dashboard_name(service: str) -> str:
    return service


def scalable_resource_id(service: str, alias: str) -> str:
    """Application Auto Scaling's id for an alias' provisioned concurrency."""
    return f"function:{function_name(service)}:{alias}"


def alias_resource(service: str, alias: str) -> str:
    """The ``Resource`` dimension Lambda uses for per-alias metrics."""
    return f"{function_name(service)}:{alias}"


def capacity_provider_name(service: str) -> str:
    """A Lambda Managed Instances capacity provider the service creates (one per service:
    functions on one provider are isolated by containers, not microVMs)."""
    return f"{service}-capacity"


def operator_role_name(service: str) -> str:
    """The role Lambda assumes to manage the capacity provider's instances."""
    return f"{service}-cp-operator"
