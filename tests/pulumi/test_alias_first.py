"""Alias-first wiring: every trigger targets the alias, never the bare function (or provisioned
concurrency and SnapStart are silently bypassed: aws-cdk #22353, #15321)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.pulumi.conftest import Case, case


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def test_the_bare_function_arn_is_never_an_input(any_case: Case) -> None:
    function_arn = any_case.render.outputs["function_arn"]
    assert function_arn.endswith(f":function:{any_case.plan.function.name}")
    for r in any_case.render.resources:
        for s in _strings(r.inputs):
            assert function_arn not in s or s.startswith(f"{function_arn}:"), (r.name, s)
            assert "$LATEST" not in s, r.name


def test_stream_mappings_invoke_the_alias_arn(any_case: Case) -> None:
    alias_arn = any_case.render.outputs["alias_arn"]
    assert alias_arn == any_case.render.outputs["function_arn"] + ":" + any_case.plan.alias.name
    for m in any_case.render.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        assert m.inputs["functionName"] == alias_arn


def test_http_api_integration_and_permission_use_the_alias(fraud: Case) -> None:
    (integration,) = fraud.render.of_type("aws:apigatewayv2/integration:Integration")
    assert integration.inputs["integrationUri"] == fraud.render.outputs["alias_arn"]


def test_every_permission_is_qualified_to_the_alias(any_case: Case) -> None:
    for p in any_case.render.of_type("aws:lambda/permission:Permission"):
        assert p.inputs["function"] == any_case.plan.function.name
        assert p.inputs["qualifier"] == any_case.plan.alias.name


def test_function_url_is_on_the_alias() -> None:
    for key in ("static", "tracking"):
        c = case(key)
        (url,) = c.render.of_type("aws:lambda/functionUrl:FunctionUrl")
        assert url.inputs["qualifier"] == c.plan.alias.name


def test_public_function_url_grants_both_actions_only_through_the_url() -> None:
    c = case("static")
    grants = {
        p.inputs["action"]: p.inputs for p in c.render.of_type("aws:lambda/permission:Permission")
    }
    assert grants["lambda:InvokeFunctionUrl"]["functionUrlAuthType"] == "NONE"
    assert grants["lambda:InvokeFunction"]["invokedViaFunctionUrl"] is True
    assert {g["principal"] for g in grants.values()} == {"*"}
    iam_url = case("tracking")
    assert iam_url.render.of_type("aws:lambda/permission:Permission") == []


def test_warmer_targets_the_alias() -> None:
    c = case("warmed")
    targets = c.render.of_type("aws:cloudwatch/eventTarget:EventTarget")
    assert targets
    assert {t.inputs["arn"] for t in targets} == {c.render.outputs["alias_arn"]}
    (rule,) = c.render.of_type("aws:cloudwatch/eventRule:EventRule")
    warmer_permissions = [
        p
        for p in c.render.of_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "events.amazonaws.com"
    ]
    assert [p.inputs["sourceArn"] for p in warmer_permissions] == [rule.outputs["arn"]]


def test_async_and_provisioned_concurrency_are_on_the_alias(any_case: Case) -> None:
    for type_ in (
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
    ):
        for r in any_case.render.of_type(type_):
            assert r.inputs["qualifier"] == any_case.plan.alias.name


def test_triggers_wait_for_the_alias(any_case: Case) -> None:
    alias = any_case.render.of_type("aws:lambda/alias:Alias")[0]
    for type_ in (
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "aws:apigatewayv2/integration:Integration",
        "aws:lambda/functionUrl:FunctionUrl",
        "aws:lambda/permission:Permission",
        "aws:cloudwatch/eventTarget:EventTarget",
    ):
        for r in any_case.render.of_type(type_):
            assert alias.urn in r.dependencies, r.name
