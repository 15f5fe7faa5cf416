"""The security gate on the plan: every rule can fail, findings need a reason, acknowledgments
must match a finding, and both renderers refuse before creating anything."""

from __future__ import annotations

import dataclasses

import pytest

from serverless_ml.core.edge_gate import EDGE_RULES
from serverless_ml.core.gate import SecurityGateError, enforce, evaluate
from serverless_ml.core.gate_rules import RULES
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import (
    ALARM_KEY_ID,
    ROLE_POLICY_ID,
    IamStatement,
    PolicyStatementPlan,
    Principal,
    ServicePlan,
)
from serverless_ml.reference.scenarios import SCENARIOS, fraud_detection, iot_anomaly_detection
from serverless_ml.spec import (
    GATE_RULES,
    Acknowledge,
    AlarmSettings,
    AlarmSubscriber,
    HttpTrigger,
    InferenceServiceSpec,
    SpecError,
)

PUBLIC = Acknowledge(rule="http-auth", part="http", reason="public demo endpoint behind WAF")


def public_fraud() -> InferenceServiceSpec:
    return dataclasses.replace(fraud_detection(), triggers=(HttpTrigger(auth="none"),))


def _with(plan: ServicePlan, **changes: object) -> ServicePlan:
    return dataclasses.replace(plan, **changes)  # type: ignore[arg-type]


def _unaccepted(plan: ServicePlan) -> set[tuple[str, str]]:
    return {(v.rule, v.subject) for v in evaluate(plan).unaccepted}


def test_the_rule_vocabulary_is_the_gate_s_rules() -> None:
    assert set(RULES) | set(EDGE_RULES) == set(GATE_RULES)
    assert not set(RULES) & set(EDGE_RULES)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_reference_scenario_passes_with_reasons(scenario: str) -> None:
    plan = build_plan(SCENARIOS[scenario]())
    report = enforce(plan)
    assert not report.unaccepted and not report.stale
    counts = report.counts()
    assert counts["met"] > counts["accepted"] > 0
    for accepted in report.accepted:
        assert len(accepted.reason) >= 60, accepted
    # Every rule gave at least one verdict on a service with alarms and a failure queue.
    assert {"encryption-at-rest", "tls-only", "retention", "log-retention"} <= {
        v.rule for v in report.verdicts
    }


def test_a_public_endpoint_needs_an_acknowledgment_with_a_reason() -> None:
    spec = public_fraud()
    with pytest.raises(SecurityGateError, match=r"SML701.*http-auth on http:http.*auth='iam'"):
        enforce(build_plan(spec))
    accepted = dataclasses.replace(spec, acknowledgments=(PUBLIC,))
    report = enforce(build_plan(accepted))
    (found,) = [a for a in report.accepted if a.verdict.rule == "http-auth"]
    assert found.reason == PUBLIC.reason


def test_an_acknowledgment_of_nothing_is_refused() -> None:
    spec = dataclasses.replace(fraud_detection(), acknowledgments=(PUBLIC,))  # auth is iam
    with pytest.raises(SecurityGateError, match=r"SML702.*http-auth on http"):
        enforce(build_plan(spec))


@pytest.mark.parametrize(
    ("ack", "code"),
    [
        (dict(rule="no-such-rule", part="http", reason="x" * 30), "SML197"),
        (dict(rule="http-auth", part="http", reason="because"), "SML198"),
        (dict(rule="http-auth", part="nowhere", reason="x" * 30), "SML199"),
    ],
)
def test_acknowledgments_are_checked_in_the_spec(ack: dict[str, str], code: str) -> None:
    with pytest.raises(SpecError, match=code):
        dataclasses.replace(public_fraud(), acknowledgments=(Acknowledge(**ack),))  # type: ignore[type-var]


def test_the_same_finding_acknowledged_twice_is_refused() -> None:
    with pytest.raises(SpecError, match="SML199"):
        dataclasses.replace(public_fraud(), acknowledgments=(PUBLIC, PUBLIC))  # type: ignore[type-var]


def test_each_rule_finds_what_it_names() -> None:
    """Break one plan field per rule: the gate names that rule on that subject."""
    plan = build_plan(iot_anomaly_detection())
    (table,) = plan.tables
    (queue,) = plan.queues
    (stream,) = plan.streams
    (topic,) = plan.topics
    key = plan.monitoring.topic_key
    assert key is not None
    wild = IamStatement(sid="Wild", actions=("dynamodb:*",), resources=(table.ref("arn"),),
                        reason="bad")  # fmt: skip
    star = IamStatement(sid="Star", actions=("dynamodb:PutItem",), resources=("*",), reason="bad")
    allow_all = PolicyStatementPlan(
        sid="Open", effect="Allow", principal=Principal(kind="*"), actions=("sns:*",),
        resources=(topic.ref("arn"),),
    )  # fmt: skip
    cases = {
        ("encryption-at-rest", table.node_id): _with(
            plan, resources=tuple(
                dataclasses.replace(n, encrypted=False) if n is table else n
                for n in plan.resources)),
        ("tls-only", queue.node_id): _with(
            plan, resources=tuple(
                dataclasses.replace(n, policy=()) if n is queue else n for n in plan.resources)),
        ("no-wildcard-actions", ROLE_POLICY_ID): _with(plan, iam=(*plan.iam, wild)),
        ("scoped-resources", ROLE_POLICY_ID): _with(plan, iam=(*plan.iam, star)),
        ("no-wildcard-actions", topic.node_id): _with(
            plan, resources=tuple(
                dataclasses.replace(n, policy=(*n.policy, allow_all)) if n is topic else n
                for n in plan.resources)),
        ("retention", stream.node_id): _with(
            plan, resources=tuple(
                dataclasses.replace(n, retain_on_delete=False) if n is stream else n
                for n in plan.resources)),
        ("log-retention", "log_group"): _with(
            plan, function=dataclasses.replace(plan.function, log_retention_days=0)),
        ("on-failure-destination", "function"): _with(
            plan, alias=dataclasses.replace(plan.alias, async_on_failure=None)),
        ("customer-managed-keys", ALARM_KEY_ID): _with(
            plan, monitoring=dataclasses.replace(
                plan.monitoring,
                topic_key=dataclasses.replace(key, rotation=False))),
        ("encryption-at-rest", "alarm_topic"): _with(
            plan, monitoring=dataclasses.replace(plan.monitoring, topic_key=None)),
    }  # fmt: skip
    assert not _unaccepted(plan)
    for expected, broken in cases.items():
        assert _unaccepted(broken) == {expected}, expected


def test_library_acknowledgments_stop_applying_when_the_choice_changes() -> None:
    """A reservation meets concurrency-limit; the library then drops its acknowledgment."""
    spec = dataclasses.replace(fraud_detection(), reserved_concurrency=50)
    report = enforce(build_plan(spec))
    (verdict,) = [v for v in report.verdicts if v.rule == "concurrency-limit"]
    assert verdict.status == "met"


def test_xray_star_is_met_otherwise_and_scoped_wildcards_say_why() -> None:
    report = enforce(build_plan(fraud_detection()))
    scoped = [v for v in report.verdicts if v.rule == "scoped-resources"]
    assert {v.status for v in scoped} == {"met", "met_otherwise"}
    (xray,) = [v for v in scoped if v.target == "*"]
    assert "no resource-level permissions" in xray.detail


def test_subscribers_are_validated() -> None:
    with pytest.raises(SpecError, match="SML154"):
        AlarmSubscriber(protocol="sms", endpoint="+15550100")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="SML155"):
        AlarmSubscriber(protocol="https", endpoint="http://hooks.example.com")
    with pytest.raises(SpecError, match="SML155"):
        AlarmSubscriber(protocol="email", endpoint="oncall")
    with pytest.raises(SpecError, match="SML140"):
        AlarmSubscriber(protocol="sqs", endpoint="arn:aws:sns:us-east-1:123456789012:x")
    email = AlarmSubscriber(protocol="email", endpoint="oncall@example.com")
    with pytest.raises(SpecError, match="SML156"):
        AlarmSettings(topic=None, subscribers=(email,))
    with pytest.raises(SpecError, match="SML157"):
        AlarmSettings(subscribers=(email, email))


def test_subscription_keys_do_not_depend_on_order() -> None:
    a = AlarmSubscriber(protocol="email", endpoint="a@example.com")
    b = AlarmSubscriber(protocol="https", endpoint="https://hooks.example.com/x")

    def keys(*subscribers: AlarmSubscriber) -> list[str]:
        spec = dataclasses.replace(fraud_detection(), alarms=AlarmSettings(subscribers=subscribers))
        return sorted(s.key for s in build_plan(spec).monitoring.subscriptions)

    assert keys(a, b) == keys(b, a)
    assert len(set(keys(a, b))) == 2
