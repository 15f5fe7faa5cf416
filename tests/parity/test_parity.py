"""Parity: for every scenario, the facts of the CDK template and of the Pulumi mocks equal each
other and the plan's, section by section (see ``facts.py`` for what they cover)."""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Iterator
from typing import Any

import pytest

from serverless_ml.core import plan_types
from serverless_ml.core.plan import build_plan
from serverless_ml.core.plan_types import MetricPlan, ServicePlan
from tests.cdk.conftest import Synth
from tests.parity.cdk_facts import facts_from_cdk
from tests.parity.conftest import (
    STACK_OF,
    CdkCase,
    PulumiCase,
    as_pulumi,
    cdk_specs,
    make_cdk_case,
    pulumi_fixture_specs,
)
from tests.parity.facts import Facts, assert_same, differences
from tests.parity.plan_facts import UNRENDERED, facts_from_plan
from tests.parity.pulumi_facts import facts_from_pulumi
from tests.pulumi.harness import DEFAULT_ENV, Rendered


def _cdk(case: CdkCase) -> Facts:
    return facts_from_cdk(case.template, case.env, case.scope)


def test_cdk_service_is_built_from_the_spec_the_pulumi_render_uses(cdk_case: CdkCase) -> None:
    assert cdk_case.plan == build_plan(cdk_case.spec)


def test_every_template_resource_belongs_to_a_compared_service(synth: Synth) -> None:
    for stack in sorted(set(STACK_OF.values())):
        scopes = [make_cdk_case(synth, k).scope for k, s in STACK_OF.items() if s == stack]
        assert set(synth.templates[stack]["Resources"]) == set().union(*scopes), stack


def test_cdk_template_matches_plan(cdk_case: CdkCase) -> None:
    expected = facts_from_plan(cdk_case.plan, cdk_case.env)
    assert_same(_cdk(cdk_case), expected, labels=(f"cdk:{cdk_case.key}", "plan"))


def test_pulumi_render_of_the_cdk_spec_matches_plan(cdk_as_pulumi: PulumiCase) -> None:
    case = cdk_as_pulumi
    assert case.rendered.service.plan == case.plan
    expected = facts_from_plan(case.plan, case.env)
    assert_same(facts_from_pulumi(case.rendered), expected, labels=(f"pulumi:{case.key}", "plan"))


def test_cdk_template_matches_pulumi_render(cdk_case: CdkCase, cdk_as_pulumi: PulumiCase) -> None:
    assert_same(
        _cdk(cdk_case),
        facts_from_pulumi(cdk_as_pulumi.rendered),
        labels=(f"cdk:{cdk_case.key}", f"pulumi:{cdk_case.key}"),
    )


def test_pulumi_only_variant_matches_plan(pulumi_case: PulumiCase) -> None:
    case = pulumi_case
    assert case.rendered.service.plan == case.plan
    expected = facts_from_plan(case.plan, case.env)
    assert_same(facts_from_pulumi(case.rendered), expected, labels=(f"pulumi:{case.key}", "plan"))


# --- the comparison can fail --------------------------------------------------------------


def _fraud_resources(template: dict[str, Any], case: CdkCase) -> dict[str, dict[str, Any]]:
    """Type -> properties of the (single) in-scope resource of that type, for editing."""
    out: dict[str, dict[str, Any]] = {}
    for logical, resource in template["Resources"].items():
        if logical in case.scope:
            out.setdefault(resource["Type"], resource["Properties"])
    return out


def test_a_drifted_template_is_caught(synth: Synth) -> None:
    case = make_cdk_case(synth, "fraud-detection")
    template = copy.deepcopy(case.template)
    props = _fraud_resources(template, case)
    props["AWS::Lambda::EventSourceMapping"]["BatchSize"] += 1
    # A reference to the wrong resource: the plan's failure queue -> a table.
    table = min(k for k in case.scope if template["Resources"][k]["Type"].endswith("::Table"))
    props["AWS::Lambda::EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Destination"] = {
        "Fn::GetAtt": [table, "Arn"]
    }
    props["AWS::IAM::Policy"]["PolicyDocument"]["Statement"][-1]["Resource"] = "*"
    props["AWS::IAM::Role"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AdministratorAccess"]
    drifted = facts_from_cdk(template, case.env, case.scope)
    diffs = differences(drifted, facts_from_plan(case.plan, case.env), labels=("drifted", "plan"))
    assert [d.splitlines()[0] for d in diffs] == [
        "--- section 'async_invoke'",
        "--- section 'role'",
        "--- section 'stream_mappings'",
    ]


def test_a_rendered_property_no_fact_reads_fails(synth: Synth) -> None:
    case = make_cdk_case(synth, "fraud-detection")
    template = copy.deepcopy(case.template)
    _fraud_resources(template, case)["AWS::Lambda::Function"]["Layers"] = ["arn:aws:lambda:x"]
    with pytest.raises(AssertionError, match=r"AWS::Lambda::Function', 'Layers'"):
        facts_from_cdk(template, case.env, case.scope)


def _drift(rendered: Rendered, type_: str, **inputs: Any) -> Rendered:
    target = next(r for r in rendered.resources if r.type == type_)
    changed = dataclasses.replace(target, inputs={**target.inputs, **inputs})
    return dataclasses.replace(
        rendered, resources=[changed if r is target else r for r in rendered.resources]
    )


def test_a_drifted_pulumi_render_is_caught(synth: Synth) -> None:
    case = as_pulumi(make_cdk_case(synth, "fraud-detection"))
    drifted = _drift(case.rendered, "aws:cloudwatch/metricAlarm:MetricAlarm", threshold=7)
    drifted = _drift(drifted, "aws:lambda/alias:Alias", functionVersion="$LATEST")
    drifted = _drift(drifted, "aws:sqs/queue:Queue", sqsManagedSseEnabled=False)
    drifted = _drift(drifted, "aws:dynamodb/table:Table", tags={})
    expected = facts_from_plan(case.plan, case.env)
    diffs = differences(facts_from_pulumi(drifted), expected, labels=("drifted", "plan"))
    assert [d.splitlines()[0] for d in diffs] == [
        "--- section 'alarms'",
        "--- section 'alias'",
        "--- section 'queues'",
        "--- section 'tags'",
    ]
    with pytest.raises(AssertionError, match="imageUri"):
        facts_from_pulumi(_drift(case.rendered, "aws:lambda/function:Function", imageUri="x"))


# --- the facts cover the whole plan -------------------------------------------------------


class _Recorder:
    """Stands in for a plan dataclass and records which fields are read (``isinstance`` still
    sees the real class; methods run against the recorder, so their reads count too)."""

    def __init__(self, obj: Any, seen: set[tuple[str, str]]) -> None:
        self._obj = obj
        self._seen = seen

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(self._obj)

    def __getattr__(self, name: str) -> Any:
        obj = self._obj
        if name in {f.name for f in dataclasses.fields(obj)}:
            self._seen.add((type(obj).__name__, name))
            return _wrap(getattr(obj, name), self._seen)
        attr = getattr(type(obj), name)
        if isinstance(attr, property):  # derived views (plan.tables) read fields through us
            assert attr.fget is not None
            return attr.fget(self)
        if not callable(attr):  # class constants (a node's kind)
            return attr
        return types.MethodType(attr, self)


def _wrap(value: Any, seen: set[tuple[str, str]]) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _Recorder(value, seen)
    if isinstance(value, tuple):
        return tuple(_wrap(v, seen) for v in value)
    return value


def _dataclasses_in(hint: Any) -> Iterator[type]:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        yield hint
    for arg in typing.get_args(hint):
        yield from _dataclasses_in(arg)


def _plan_fields() -> set[tuple[str, str]]:
    """Every (class, field) reachable from ServicePlan, skipping what ``UNRENDERED`` excludes."""
    out: set[tuple[str, str]] = set()
    todo: list[type] = [ServicePlan]
    done: set[type] = set()
    while todo:
        cls = todo.pop()
        if cls in done:
            continue
        done.add(cls)
        hints = typing.get_type_hints(cls, vars(plan_types))
        for field in dataclasses.fields(cls):
            if (cls.__name__, field.name) in UNRENDERED:
                continue
            out.add((cls.__name__, field.name))
            todo.extend(_dataclasses_in(hints[field.name]))
    return out


def _all_plans() -> list[ServicePlan]:
    specs = list(cdk_specs().values()) + list(pulumi_fixture_specs().values())
    return [build_plan(spec) for spec in specs]


def _instances(value: Any, cls: type) -> Iterator[Any]:
    if isinstance(value, cls):
        yield value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _instances(getattr(value, field.name), cls)
    if isinstance(value, tuple):
        for v in value:
            yield from _instances(v, cls)


def test_facts_read_every_rendered_plan_field() -> None:
    seen: set[tuple[str, str]] = set()
    for plan in _all_plans():
        facts_from_plan(_Recorder(plan, seen), DEFAULT_ENV)  # type: ignore[arg-type]
    expected = _plan_fields()
    assert expected - seen == set(), "plan fields the facts never read (over all scenarios)"
    assert seen & set(UNRENDERED) == set(), "fields listed as unrendered are read: update it"
    assert ("ServicePlan", "function") in expected and ("Ref", "suffix") in expected


def test_unrendered_optional_fields_stay_empty() -> None:
    """No renderer reads ``extras`` or ``MetricPlan.label``: a plan that sets them would
    promise something no deployment carries."""
    for plan in _all_plans():
        assert plan.extras == {}
        assert {m.label for m in _instances(plan, MetricPlan)} <= {""}
