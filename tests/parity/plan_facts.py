"""The facts a plan promises, in the shape the rendered extractors produce.

Every plan ``Ref`` and every ARN the backends derive (alias, role, topic, rule) is resolved by
the mock ARN scheme for ``env``. ``UNRENDERED`` lists the plan fields no resource property
carries, each with its reason; the coverage test checks that every other field is read here.
"""

from __future__ import annotations

import json
from typing import Any

from serverless_ml.core.alarms import ALARM_TOPIC_ID, dashboard_body
from serverless_ml.core.plan_types import (
    LOG_GROUP_ID,
    AlarmPlan,
    HttpPlan,
    Joined,
    MetricPlan,
    MonitoringPlan,
    PolicyStatementPlan,
    Pseudo,
    Ref,
    ServicePlan,
    StreamMappingPlan,
    Value,
)
from serverless_ml.core.policies import statement_json
from tests.parity import facts as f
from tests.pulumi.harness import Env

UNRENDERED: dict[tuple[str, str], str] = {
    ("ServicePlan", "service"): "reaches resources only through names and the service tag",
    ("ServicePlan", "extras"): "read by neither renderer (the coverage test asserts it is empty)",
    ("FunctionPlan", "latest_runtime"): "the security gate's latest-runtime verdict, no property",
    ("FunctionPlan", "bundle"): "the artifact recipe: a content-hashed asset (CDK) or a "
    "FileArchive (Pulumi) of the same bundle directory; tests/bundling covers it",
    ("IamStatement", "reason"): "the cdk-nag acknowledgment's text, no property",
    ("StreamMappingPlan", "key"): "names the construct / child resource, no property",
    ("HttpPlan", "key"): "names the construct / child resource, no property",
    ("BucketNotificationPlan", "key"): "names the construct / child resource, no property",
    ("S3EventRulePlan", "key"): "names the construct / child resource, no property",
    ("BucketPlan", "arn"): "core's name-derived ARN: the role's statements and the invoke "
    "permission carry it (compared there), the bucket resource has no ARN property",
    ("MetricPlan", "label"): "read by neither renderer (the coverage test asserts it is empty)",
    ("ServicePlan", "acknowledgments"): "the security gate's input: cdk-nag acknowledgments and "
    "checkov skips (tests/cdk/test_security_gate.py), no resource property",
    ("Acknowledgment", "rule"): "the security gate's input, no resource property",
    ("Acknowledgment", "subject"): "the security gate's input, no resource property",
    ("Acknowledgment", "reason"): "the acknowledgments' text, no resource property",
    ("SubscriptionPlan", "key"): "names the construct / child resource, no property",
    ("ManagedInstancesPlan", "capacity_provider_name"): "the dimension of the capacity "
    "provider's metrics: compared in the alarms and dashboards sections",
}


def facts_from_plan(plan: ServicePlan, env: Env) -> f.Facts:
    p = _Plan(plan, env)
    fp = plan.function
    logs = {fp.log_group_name: fp.log_retention_days}
    if plan.http is not None and plan.http.access_log_group_name is not None:
        logs[plan.http.access_log_group_name] = plan.http.access_log_retention_days
    return {
        "function": {
            "name": fp.name,
            "description": fp.description,
            "handler": fp.handler,
            "runtime": fp.runtime,
            "architectures": [fp.architecture],
            "memory_mb": fp.memory_mb,
            "timeout_s": fp.timeout_s,
            "ephemeral_storage_mb": fp.ephemeral_storage_mb,
            "reserved_concurrency": fp.reserved_concurrency,
            "environment": {key: p.resolve(value) for key, value in fp.environment},
            "tracing": "Active" if fp.tracing else None,
            "snapstart": "PublishedVersions" if fp.snapstart else None,
            "log_format": fp.log_format,
            "log_group": fp.log_group_name,
            "role": p.role_arn,
        },
        "role": {
            "name": fp.role_name,
            "trust": [
                {
                    "effect": "Allow",
                    "actions": ["sts:AssumeRole"],
                    "principal": {"Service": sorted(fp.trust_principals)},
                }
            ],
            "policies": [
                [
                    {
                        "effect": "Allow",
                        "actions": list(s.actions),
                        "sid": s.sid,
                        "resources": [p.resolve(v) for v in s.resources],
                    }
                    for s in plan.iam
                ]
            ],
            "managed_policies": [],
        },
        "log_groups": logs,
        "alias": {
            "name": plan.alias.name,
            "function": fp.name,
            "version": f"published:{fp.name}",  # never $LATEST
            "provisioned": {p.alias_target: plan.alias.provisioned}
            if plan.alias.provisioned
            else {},
        },
        "async_invoke": [p.async_invoke()],
        "scaling": p.scaling(),
        "rules": p.rules(),
        "permissions": p.permissions(),
        "tables": {
            t.name: {
                "keys": [[t.partition_key, "HASH", t.partition_key_type]]
                + ([[t.sort_key, "RANGE", t.sort_key_type]] if t.sort_key else []),
                "stream_view_type": t.stream_view_type,
                "billing_mode": t.billing_mode,
                "point_in_time_recovery": t.point_in_time_recovery,
                "deletion_protection": t.deletion_protection,
                "encrypted": t.encrypted,
                "retain_on_delete": t.retain_on_delete,
            }
            for t in plan.tables
        },
        "kinesis_streams": {
            k.name: {
                "mode": k.mode,
                "shard_count": k.shard_count,
                "retention_hours": k.retention_hours,
                "encryption": ["KMS", k.encryption_key],
                "retain_on_delete": k.retain_on_delete,
            }
            for k in plan.streams
        },
        "queues": {
            q.name: {
                "retention_s": q.retention_s,
                "visibility_timeout_s": q.visibility_timeout_s,
                "sqs_managed_sse": q.sqs_managed_sse,
                "policies": p.policies(q.policy),
                "retain_on_delete": q.retain_on_delete,
            }
            for q in plan.queues
        },
        "http": [] if plan.http is None else [p.http(plan.http)],
        "stream_mappings": f.records(p.mapping(m) for m in plan.stream_mappings),
        "alarms": {a.name: p.alarm(a) for a in plan.monitoring.alarms},
        "topics": p.topics(plan.monitoring),
        "keys": p.keys(plan.monitoring),
        "subscriptions": f.records(
            {"topic": plan.monitoring.topic_name, "protocol": s.protocol, "endpoint": s.endpoint}
            for s in plan.monitoring.subscriptions
        ),
        "dashboards": {}
        if plan.monitoring.dashboard_name is None
        else {
            plan.monitoring.dashboard_name: json.loads(dashboard_body(plan.monitoring, env.region))
        },
        "buckets": {
            p.resolve(b.name): {
                "versioned": b.versioned,
                "encryption": b.encryption,
                "public_access_block": dict.fromkeys(f.PUBLIC_ACCESS_FLAGS, b.block_public_access),
                "policies": p.policies(b.policy),
                "retain_on_delete": b.retain_on_delete,
            }
            for b in plan.buckets
        },
        "bucket_notifications": f.notifications(
            {
                "bucket": p.resolve(n.bucket),
                "target": p.alias_arn,
                "events": list(n.events),
                "prefix": n.prefix or None,
                "suffix": n.suffix or None,
            }
            for n in plan.notifications
        ),
        "managed_instances": p.managed_instances(),
        "tags": {key: dict(plan.tags) for key in p.taggable(logs)},
    }


def _metric(m: MetricPlan) -> dict[str, Any]:
    return {
        "namespace": m.namespace,
        "name": m.metric_name,
        "dimensions": dict(m.dimensions),
        "statistic": m.statistic,
        "period_s": m.period_s,
    }


class _Plan:
    """The plan's derived values: ARNs by the mock scheme, and section builders."""

    def __init__(self, plan: ServicePlan, env: Env) -> None:
        self.plan = plan
        self.env = env
        fp = plan.function
        self.function_arn = f.attribute(f.FUNCTION, fp.name, "arn", env)
        self.alias_arn = f.attribute(f.ALIAS, plan.alias.name, "arn", env, functionName=fp.name)
        self.alias_target = f"{fp.name}:{plan.alias.name}"
        self.role_arn = f.attribute(f.ROLE, fp.role_name, "arn", env)

    def taggable(self, log_groups: dict[str, int]) -> list[str]:
        """Every resource that carries the plan's tags (dashboards aside: see ``facts``)."""
        plan, fp = self.plan, self.plan.function
        keys = [f"function:{fp.name}", f"role:{fp.role_name}"]
        keys += [f"log_group:{name}" for name in log_groups]
        keys += [f"table:{t.name}" for t in plan.tables] + [f"queue:{q.name}" for q in plan.queues]
        keys += [f"alarm:{a.name}" for a in plan.monitoring.alarms]
        keys += [f"mapping:{self.resolve(m.source_arn)}" for m in plan.stream_mappings]
        if plan.monitoring.topic_name is not None:
            keys.append(f"topic:{plan.monitoring.topic_name}")
        if plan.monitoring.topic_key is not None:
            keys.append(f"key:{plan.monitoring.topic_key.description}")
        keys += [f"topic:{t.name}" for t in plan.topics]
        keys += [f"stream:{k.name}" for k in plan.streams]
        keys += [f"bucket:{self.resolve(b.name)}" for b in plan.buckets]
        keys += [f"rule:{r.rule_name}" for r in plan.s3_rules]
        for c in plan.capacity_providers:
            keys += [f"capacity_provider:{c.name}", f"role:{c.operator_role_name}"]
        if plan.warmer is not None:
            keys.append(f"rule:{plan.warmer.rule_name}")
        if plan.scaling is not None:
            keys.append(f"scalable_target:{plan.scaling.resource_id}")
        if plan.http is not None and plan.http.endpoint == "http_api":
            keys += [f"api:{plan.http.name}", f"stage:{plan.http.name}/{plan.http.stage_name}"]
        return keys

    def queue_arn(self, key: str) -> str:
        return f.attribute(f.QUEUE, self.plan.queue(key).name, "arn", self.env)

    def policies(self, statements: tuple[PolicyStatementPlan, ...]) -> list[Any]:
        """A resource policy as the facts normalize it (one document, or none)."""
        if not statements:
            return []
        return [[f.statement(statement_json(s, self.resolve), with_sid=True) for s in statements]]

    def resolve(self, value: Value) -> str:
        if isinstance(value, Pseudo):
            return {"account_id": self.env.account, "region": self.env.region,
                    "partition": self.env.partition}[value.name]  # fmt: skip
        if isinstance(value, Joined):
            return "".join(self.resolve(part) for part in value.parts)
        if not isinstance(value, Ref):
            return value
        attribute = {"arn": "arn", "stream_arn": "streamArn", "name": "bucket"}[value.attribute]
        kind, _, key = value.resource.partition(":")
        if value.resource == ALARM_TOPIC_ID:
            topic = self.topic_arn()
            assert topic is not None
            arn = topic
        elif value.resource == LOG_GROUP_ID:
            name = self.plan.function.log_group_name
            arn = f.attribute(f.LOG_GROUP, name, attribute, self.env)
        elif kind == "table":
            t = self.plan.table(key)
            stream = t.stream_view_type is not None
            arn = f.attribute(f.TABLE, t.name, attribute, self.env, streamEnabled=stream)
        elif kind == "queue":
            arn = f.attribute(f.QUEUE, self.plan.queue(key).name, attribute, self.env)
        elif kind == "stream":
            (k,) = [s for s in self.plan.streams if s.key == key]
            arn = f.attribute(f.KINESIS, k.name, attribute, self.env)
        elif kind == "bucket":
            (b,) = [x for x in self.plan.buckets if x.key == key]
            arn = f.attribute(f.BUCKET, self.resolve(b.name), attribute, self.env)
        elif kind == "topic":
            (t,) = [s for s in self.plan.topics if s.key == key]
            arn = f.attribute(f.TOPIC, t.name, attribute, self.env)
        elif kind == "capacity_provider":
            (c,) = [x for x in self.plan.capacity_providers if x.key == key]
            arn = f.attribute(f.CAPACITY_PROVIDER, c.name, attribute, self.env)
        else:
            raise AssertionError(f"the plan refers to an unknown resource: {value}")
        return arn + value.suffix

    def managed_instances(self) -> dict[str, Any]:
        m = self.plan.managed_instances
        providers = {
            c.name: {
                "subnets": list(c.subnet_ids),
                "security_groups": list(c.security_group_ids),
                "architectures": [c.architecture],
                "allowed_instance_types": list(c.allowed_instance_types),
                "excluded_instance_types": list(c.excluded_instance_types),
                "max_vcpu": c.max_vcpu_count,
                "scaling_mode": c.scaling_mode,
                "scaling_policies": [
                    {"metric": metric, "target": target} for metric, target in c.scaling_policies
                ],
                "operator_role": {
                    "name": c.operator_role_name,
                    "trust": [
                        {
                            "effect": "Allow",
                            "actions": ["sts:AssumeRole"],
                            "principal": {"Service": sorted(c.operator_trust_principals)},
                        }
                    ],
                    "policies": [],
                    "managed_policies": [self.resolve(a) for a in c.operator_managed_policies],
                },
            }
            for c in self.plan.capacity_providers
        }
        if m is None:
            return {"capacity_providers": providers, "function": None, "environments": None}
        environments = None
        if m.min_environments is not None or m.max_environments is not None:
            environments = {"min": m.min_environments, "max": m.max_environments}
        return {
            "capacity_providers": providers,
            "function": {
                "capacity_provider": self.resolve(m.capacity_provider_arn),
                "memory_gib_per_vcpu": m.memory_gib_per_vcpu,
                "max_concurrency": m.per_environment_max_concurrency,
                "latest_published": m.publish_latest_published,
            },
            "environments": environments,
        }

    def async_invoke(self) -> dict[str, Any]:
        a = self.plan.alias
        return {
            "target": self.alias_target,
            "max_retries": a.async_max_retries,
            "max_event_age_s": a.async_max_event_age_s,
            "on_failure": None if a.async_on_failure is None else self.resolve(a.async_on_failure),
            "on_success": None,
        }

    def scaling(self) -> list[dict[str, Any]]:
        s = self.plan.scaling
        if s is None:
            return []
        policies = []
        if s.target_utilization is not None:
            policies.append(
                {
                    "name": s.policy_name,
                    "type": "TargetTrackingScaling",
                    "target": s.target_utilization,
                    "metric": {
                        "namespace": s.metric_namespace,
                        "name": s.metric_name,
                        "statistic": s.metric_statistic,
                        "dimensions": dict(s.metric_dimensions),
                    },
                    "scale_in_cooldown_s": s.scale_in_cooldown_s,
                    "scale_out_cooldown_s": s.scale_out_cooldown_s,
                }
            )
        actions = [
            {
                "name": a.name,
                "schedule": a.schedule,
                "min": a.min_capacity,
                "max": a.max_capacity,
                "resource_id": s.resource_id,
            }
            for a in s.scheduled_actions
        ]
        target = {
            "namespace": s.service_namespace,
            "resource_id": s.resource_id,
            "dimension": s.scalable_dimension,
            "min": s.min_capacity,
            "max": s.max_capacity,
            "scheduled_actions": f.records(actions),
            "policies": policies,
        }
        return [target]

    def rules(self) -> dict[str, Any]:
        """The warmer's schedule rule and each existing bucket's S3 event rule."""
        out: dict[str, Any] = {
            r.rule_name: {
                "schedule": None,
                "pattern": json.loads(r.event_pattern),
                "enabled": True,
                "targets": [{"id": r.target_id, "arn": self.alias_arn, "input": None}],
            }
            for r in self.plan.s3_rules
        }
        w = self.plan.warmer
        if w is not None:
            targets = [
                {"id": i, "arn": self.alias_arn, "input": w.input_json} for i in w.target_ids
            ]
            out[w.rule_name] = {"schedule": w.schedule, "pattern": None, "enabled": True,
                                "targets": f.records(targets)}  # fmt: skip
        return out

    def permissions(self) -> list[dict[str, Any]]:
        """Who may invoke the alias: API Gateway for an HTTP API, anyone through a public
        Function URL (two permissions since October 2025), EventBridge for the warmer."""
        out = []

        def allow(principal: str, source: Any = None, **extra: Any) -> None:
            permission = {
                "action": "lambda:InvokeFunction",
                "principal": principal,
                "target": self.alias_target,
                "source": source,
                "url_auth_type": None,
                "via_function_url": False,
                "source_account": None,
            }
            out.append(permission | extra)

        h = self.plan.http
        if h is not None and h.endpoint == "http_api":
            allow("apigateway.amazonaws.com", {"api": h.name, "path": h.path})
        if h is not None and h.endpoint == "function_url" and h.auth == "none":
            allow("*", action="lambda:InvokeFunctionUrl", url_auth_type="NONE")
            allow("*", via_function_url=True)
        if self.plan.warmer is not None:
            rule = f.attribute(f.RULE, self.plan.warmer.rule_name, "arn", self.env)
            allow("events.amazonaws.com", rule)
        for r in self.plan.s3_rules:
            allow(r.principal, f.attribute(f.RULE, r.rule_name, "arn", self.env))
        for n in self.plan.notifications:
            allow(n.principal, self.resolve(n.bucket_arn),
                  source_account=self.resolve(n.source_account))  # fmt: skip
        return f.records(out)

    def http(self, h: HttpPlan) -> dict[str, Any]:
        cors = (
            {"allow_origins": list(h.cors_origins), "allow_methods": [h.method]}
            if h.cors_origins
            else None
        )
        if h.endpoint == "function_url":
            return {
                "kind": "function_url",
                "auth": f.HTTP_AUTH[h.auth],
                "target": self.alias_target,
                "cors": cors,
            }
        access_log = None
        if h.access_log_format is not None:
            assert h.access_log_group_name is not None
            destination = f.attribute(f.LOG_GROUP, h.access_log_group_name, "arn", self.env)
            access_log = {"destination": destination, "format": h.access_log_format}
        return {
            "kind": "http_api",
            "name": h.name,
            "protocol": "HTTP",
            "cors": cors,
            "routes": [
                {
                    "key": f"{h.method} {h.path}",
                    "auth": f.HTTP_AUTH[h.auth],
                    "integration": {
                        "type": "AWS_PROXY",
                        "uri": self.alias_arn,
                        "payload_format_version": h.payload_format_version,
                    },
                }
            ],
            "stages": [
                {
                    "name": h.stage_name,
                    "auto_deploy": True,  # a stage without deployments serves nothing
                    "throttle_rate_per_s": h.throttle_rate_per_s,
                    "throttle_burst": h.throttle_burst,
                    "access_log": access_log,
                }
            ],
        }

    def mapping(self, m: StreamMappingPlan) -> dict[str, Any]:
        return {
            "kind": m.source_kind,
            "target": self.alias_arn,
            "source": self.resolve(m.source_arn),
            "batch_size": m.batch_size,
            "max_batching_window_s": m.max_batching_window_s,
            "starting_position": m.starting_position,
            "bisect_on_error": m.bisect_on_error,
            "retry_attempts": m.retry_attempts,
            "max_record_age_s": m.max_record_age_s,
            "parallelization_factor": m.parallelization_factor,
            "function_response_types": list(m.function_response_types),
            "on_failure": self.resolve(m.on_failure_destination),
            "filters": [json.loads(p) for p in m.filter_patterns],
        }

    def topic_arn(self) -> str | None:
        name = self.plan.monitoring.topic_name
        return None if name is None else f.attribute(f.TOPIC, name, "arn", self.env)

    def alarm(self, a: AlarmPlan) -> dict[str, Any]:
        topic = self.topic_arn()
        actions = ([topic] if topic else []) + list(self.plan.monitoring.action_arns)
        out: dict[str, Any] = {
            "description": a.description,
            "threshold": a.threshold,
            "comparison": a.comparison,
            "evaluation_periods": a.evaluation_periods,
            "datapoints_to_alarm": a.datapoints_to_alarm,
            "treat_missing_data": a.treat_missing_data,
            "actions": actions,
            "ok_actions": [],
            "insufficient_data_actions": [],
            "metric": None,
            "math": None,
        }
        if a.metric is not None:
            out["metric"] = _metric(a.metric)
            return out
        out["math"] = {
            "expression": a.expression,
            "label": a.key,
            "return_data": True,
            "period_s": a.expression_period_s,
            "metrics": {
                query_id: _metric(m) | {"return_data": False}
                for query_id, m in a.expression_metrics
            },
        }
        return out

    def keys(self, m: MonitoringPlan) -> dict[str, Any]:
        k = m.topic_key
        if k is None:
            return {}
        return {
            k.alias_name: {
                "description": k.description,
                "rotation": k.rotation,
                "pending_window_days": k.pending_window_days,
                "policy": self.policies(k.policy)[0],
            }
        }

    def topics(self, m: MonitoringPlan) -> dict[str, Any]:
        out: dict[str, Any] = {
            t.name: {"kms_key": t.kms_key, "policies": self.policies(t.policy)}
            for t in self.plan.topics
        }
        if m.topic_name is not None:
            assert m.topic_key is not None
            out[m.topic_name] = {
                "kms_key": f"key:{m.topic_key.alias_name}",
                "policies": self.policies(m.topic_policy),
            }
        return out
