"""The normalized facts of one deployed service, and what the three extractors share.

``Facts`` is a dict of sections (plain dicts / lists / str / int / float / bool / None), built
three ways: from the plan (``plan_facts``), from a synthesized CloudFormation template
(``cdk_facts``) and from the resources recorded under Pulumi mocks (``pulumi_facts``). The two
rendered extractors read only what was rendered; every value they cannot read literally (an
ARN, a name behind a ``Ref``) comes from the one mock ARN scheme, ``tests.pulumi.harness.computed``,
so the three agree on concrete strings.

Sections: ``function``, ``role``, ``log_groups``, ``alias``, ``async_invoke``, ``scaling``,
``rules`` (warmers and S3 event rules), ``permissions``, ``tables``, ``queues``, ``http``, ``stream_mappings``, ``alarms``,
``topics``, ``keys`` (by alias), ``subscriptions``, ``dashboards``, ``managed_instances``
(capacity providers with their operator roles, the function's capacity-provider config, the
published version's execution environments), and ``tags`` (``"<kind>:<name>"`` -> tags, for every tagged resource;
dashboards are left out: the Terraform-based Pulumi provider cannot tag them). Collections whose order means nothing are sorted (``records``);
lists whose order the plan fixes (actions, resources, alarm actions) keep it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from tests.pulumi.harness import Env, computed

Facts = dict[str, Any]

SECTIONS = (
    "function",
    "role",
    "log_groups",
    "alias",
    "async_invoke",
    "scaling",
    "rules",
    "permissions",
    "tables",
    "kinesis_streams",
    "queues",
    "http",
    "stream_mappings",
    "alarms",
    "topics",
    "keys",
    "subscriptions",
    "dashboards",
    "buckets",
    "bucket_notifications",
    "managed_instances",
    "tags",
)

# Pulumi type tokens: the keys of the mock ARN scheme.
FUNCTION = "aws:lambda/function:Function"
ALIAS = "aws:lambda/alias:Alias"
ROLE = "aws:iam/role:Role"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TABLE = "aws:dynamodb/table:Table"
QUEUE = "aws:sqs/queue:Queue"
TOPIC = "aws:sns/topic:Topic"
KINESIS = "aws:kinesis/stream:Stream"
RULE = "aws:cloudwatch/eventRule:EventRule"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
CAPACITY_PROVIDER = "aws:lambda/capacityProvider:CapacityProvider"
PUBLIC_ACCESS_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls",
                       "restrict_public_buckets")  # fmt: skip


def notifications(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Bucket notifications grouped by (bucket, target, prefix, suffix) with their events
    sorted: CloudFormation lists one configuration per event, Pulumi one with a list."""
    grouped: dict[tuple[Any, ...], set[str]] = {}
    for e in entries:
        key = (e["bucket"], e["target"], e["prefix"], e["suffix"])
        grouped.setdefault(key, set()).update(e["events"])
    return records(
        {"bucket": b, "target": t, "prefix": p, "suffix": s, "events": sorted(events)}
        for (b, t, p, s), events in grouped.items()
    )


HTTP_AUTH = {"iam": "AWS_IAM", "none": "NONE"}  # the plan's word -> the services' word


def attribute(type_: str, physical: str, name: str, env: Env, **inputs: Any) -> str:
    """Attribute ``name`` (``arn``, ``streamArn``, ``url``) of the resource of ``type_`` named
    ``physical``, as the Pulumi mocks compute it (``inputs``: what else the scheme reads)."""
    value = computed(type_, physical, {"name": physical, **inputs}, env)[name]
    assert isinstance(value, str) and value, f"no {name} for {type_} {physical!r}"
    return value


class ReadDict(dict[str, Any]):
    """A resource's properties that remember which keys an extractor looked at, so that a
    rendered property no fact covers fails the test instead of going unnoticed."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def unread(self) -> set[str]:
        return set(self.keys()) - self.read


def assert_all_read(
    unread: Iterable[tuple[str, str]], ignored: Mapping[tuple[str, str], str]
) -> None:
    missing = sorted(set(unread) - set(ignored))
    assert not missing, f"rendered properties no fact covers: {missing}"


def as_list(value: Any) -> list[Any]:
    """IAM's "one string or a list of strings"."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def principal(value: Any) -> dict[str, list[str]]:
    """``"*"`` and ``{"AWS": "*"}`` are the same principal; values become sorted lists."""
    if value == "*":
        return {"AWS": ["*"]}
    assert isinstance(value, Mapping), f"unexpected principal {value!r}"
    return {str(k): sorted(as_list(v)) for k, v in value.items()}


def statement(s: Mapping[str, Any], *, with_sid: bool) -> dict[str, Any]:
    """One IAM statement, normalized (the trust policy drops the Sid: CDK names none)."""
    out: dict[str, Any] = {"effect": s["Effect"], "actions": as_list(s.get("Action"))}
    if with_sid:
        out["sid"] = s.get("Sid")
    if "Principal" in s:
        out["principal"] = principal(s["Principal"])
    if "Resource" in s:
        out["resources"] = as_list(s["Resource"])
    if "Condition" in s:
        out["condition"] = s["Condition"]
    unknown = set(s) - {"Sid", "Effect", "Action", "Principal", "Resource", "Condition"}
    assert not unknown, f"statement keys the facts do not cover: {sorted(unknown)}"
    return out


def statements(document: Mapping[str, Any] | str, *, with_sid: bool) -> list[dict[str, Any]]:
    doc = json.loads(document) if isinstance(document, str) else document
    return [statement(s, with_sid=with_sid) for s in as_list(doc["Statement"])]


_LAMBDA_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)(?::([^:]+))?$")


def lambda_target(function: str, qualifier: str | None = None) -> str:
    """``name[:qualifier]`` for a function given by name or ARN (qualified or not), the two
    ways Lambda APIs accept it."""
    match = _LAMBDA_ARN.match(function)
    name, arn_qualifier = (match.group(1), match.group(2)) if match else (function, None)
    assert not (arn_qualifier and qualifier), f"qualified twice: {function} + {qualifier}"
    q = arn_qualifier or qualifier
    return f"{name}:{q}" if q else name


def bare_log_group_arn(arn: str) -> str:
    """CloudFormation's ``GetAtt LogGroup.Arn`` ends in ``:*``; API Gateway (and Terraform's
    provider, which trims it) take either form for the same log group."""
    return arn.removesuffix(":*")


def snake(key: str) -> str:
    """``AllowOrigins`` / ``allowOrigins`` -> ``allow_origins``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def snake_keys(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if value is None else {snake(k): v for k, v in value.items()}


def records(items: Iterable[Any]) -> list[Any]:
    """A collection whose order means nothing, in a canonical order."""
    return sorted(items, key=lambda x: json.dumps(canonical(x), sort_keys=True))


def canonical(value: Any) -> Any:
    """JSON-able and type-strict: integral floats (Pulumi's numbers) become ints, tuples lists."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    raise TypeError(f"not a fact: {value!r}")


def _text(value: Any) -> list[str]:
    return json.dumps(canonical(value), indent=1, sort_keys=True).splitlines()


def differences(actual: Facts, expected: Facts, *, labels: tuple[str, str]) -> list[str]:
    """One unified diff per section that differs (JSON text, so ``1`` != ``true``)."""
    out = []
    for section in sorted(set(actual) | set(expected)):
        a, e = _text(actual.get(section)), _text(expected.get(section))
        if a != e:
            diff = difflib.unified_diff(e, a, fromfile=labels[1], tofile=labels[0], lineterm="")
            out.append(f"--- section {section!r}\n" + "\n".join(diff))
    return out


def assert_same(actual: Facts, expected: Facts, *, labels: tuple[str, str]) -> None:
    assert set(actual) == set(SECTIONS), sorted(set(actual) ^ set(SECTIONS))
    assert set(expected) == set(SECTIONS), sorted(set(expected) ^ set(SECTIONS))
    diffs = differences(actual, expected, labels=labels)
    assert not diffs, f"{labels[0]} != {labels[1]}:\n" + "\n\n".join(diffs)
