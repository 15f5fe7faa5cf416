"""Parity scenarios: every service the CDK session synth holds (rendered through the Pulumi
mocks too, in the same environment), plus the Pulumi-only variants (mocks only: no second
jsii synth)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import CfnElement, Stack, Token
from constructs import IConstruct

from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import ServicePlan
from serverless_ml.reference.scenarios import SCENARIOS, STACK_IDS
from serverless_ml.spec import InferenceServiceSpec
from tests.cdk.conftest import Synth, synth, variant_specs
from tests.pulumi import conftest as pulumi_cases
from tests.pulumi.harness import DEFAULT_ENV, Env, Rendered, render

__all__ = ["synth"]  # the session synth of tests/cdk (memoized there: one jsii synth)

STACK_OF = dict(STACK_IDS) | {key: "VariantsStack" for key in variant_specs()}


def cdk_specs() -> dict[str, InferenceServiceSpec]:
    """The spec behind each ``Synth.services`` key (as ``build_app`` builds the fraud stack)."""
    return {
        **{scenario: make(concurrency=None) for scenario, make in SCENARIOS.items()},
        **variant_specs(),
    }


def pulumi_fixture_specs() -> dict[str, InferenceServiceSpec]:
    """tests/pulumi's specs: variants the CDK synth does not hold (its "fraud" is the CDK
    Fraud's spec, rendered once for both)."""
    return pulumi_cases.specs()


@dataclass(frozen=True)
class CdkCase:
    key: str
    env: Env
    template: dict[str, Any]
    scope: set[str]  # logical ids of this service's construct
    plan: ServicePlan  # the construct's own plan
    spec: InferenceServiceSpec


@dataclass(frozen=True)
class PulumiCase:
    key: str
    env: Env
    plan: ServicePlan  # build_plan(spec)
    rendered: Rendered


_RENDERS: dict[tuple[str, Env], Rendered] = {}


def rendered(spec: InferenceServiceSpec, env: Env) -> Rendered:
    """One mock render per (spec, environment) per process."""
    key = (repr(spec), env)
    if key not in _RENDERS:
        _RENDERS[key] = render(spec, env=env)
    return _RENDERS[key]


def env_of(construct: IConstruct) -> Env:
    """The stack's own region / account where it pins them, else the mocks' defaults."""
    stack = Stack.of(construct)
    region, account = stack.region, stack.account
    return Env(
        region=DEFAULT_ENV.region if Token.is_unresolved(region) else region,
        account=DEFAULT_ENV.account if Token.is_unresolved(account) else account,
    )


def logical_ids(construct: IConstruct) -> set[str]:
    """The logical ids of the construct's resources (overrides included: CDK renames the
    function's current version)."""
    stack = Stack.of(construct)
    return {
        str(stack.resolve(c.logical_id))
        for c in construct.node.find_all()
        if isinstance(c, CfnElement)
    }


@pytest.fixture(scope="session", params=sorted(cdk_specs()))
def cdk_case(request: pytest.FixtureRequest, synth: Synth) -> CdkCase:
    return make_cdk_case(synth, str(request.param))


def make_cdk_case(synth: Synth, key: str) -> CdkCase:
    service = synth.services[key]
    return CdkCase(
        key=key,
        env=env_of(service),
        template=synth.templates[STACK_OF[key]],
        scope=logical_ids(service),
        plan=service.plan,
        spec=cdk_specs()[key],
    )


@pytest.fixture(scope="session")
def cdk_as_pulumi(cdk_case: CdkCase) -> PulumiCase:
    return as_pulumi(cdk_case)


def as_pulumi(case: CdkCase) -> PulumiCase:
    """The CDK service's spec rendered under the Pulumi mocks, in the CDK stack's environment."""
    return PulumiCase(
        key=case.key,
        env=case.env,
        plan=build_plan(case.spec),
        rendered=rendered(case.spec, case.env),
    )


@pytest.fixture(scope="session", params=sorted(pulumi_fixture_specs()))
def pulumi_case(request: pytest.FixtureRequest) -> PulumiCase:
    """tests/pulumi's specs under the mocks, in the mocks' default environment."""
    key = str(request.param)
    spec = pulumi_fixture_specs()[key]
    return PulumiCase(
        key=key, env=DEFAULT_ENV, plan=build_plan(spec), rendered=rendered(spec, DEFAULT_ENV)
    )
