"""A tiny CloudFormation evaluator: a synthesized template's values as concrete strings.

Pseudo parameters come from the ``Env``; ``Ref`` / ``Fn::GetAtt`` of a resource give what
CloudFormation documents for its type (a function's ``Ref`` is its name, an alias' its ARN, a
queue's its URL, a log group's ``Arn`` ends in ``:*``), with ARNs and URLs from the Pulumi
mocks' scheme for a resource of that type and physical name. Resources without a scheme entry
(API, integration, scalable target) evaluate to ``{LogicalId}``: extractors follow those links
with :meth:`Template.linked`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.parity import facts as f
from tests.pulumi.harness import Env

_LINK = re.compile(r"\{([A-Za-z0-9]+)\}")


@dataclass(frozen=True)
class _Kind:
    pulumi_type: str
    name_property: str
    ref: str  # "name" (the physical name) or an attribute of the mock scheme


_KINDS = {
    "AWS::Lambda::Function": _Kind(f.FUNCTION, "FunctionName", "name"),
    "AWS::Lambda::Alias": _Kind(f.ALIAS, "Name", "arn"),
    "AWS::IAM::Role": _Kind(f.ROLE, "RoleName", "name"),
    "AWS::Logs::LogGroup": _Kind(f.LOG_GROUP, "LogGroupName", "name"),
    "AWS::DynamoDB::Table": _Kind(f.TABLE, "TableName", "name"),
    "AWS::SQS::Queue": _Kind(f.QUEUE, "QueueName", "url"),
    "AWS::SNS::Topic": _Kind(f.TOPIC, "TopicName", "arn"),
    "AWS::Kinesis::Stream": _Kind(f.KINESIS, "Name", "name"),
    "AWS::Events::Rule": _Kind(f.RULE, "Name", "name"),
    "AWS::S3::Bucket": _Kind(f.BUCKET, "BucketName", "name"),
    "AWS::Lambda::CapacityProvider": _Kind(f.CAPACITY_PROVIDER, "CapacityProviderName", "name"),
}
_GET_ATT = {"Arn": "arn", "StreamArn": "streamArn", "TopicArn": "arn", "QueueUrl": "url"}


class Template:
    """``resources``: the template's resources, or those of one construct (``scope``: logical
    ids); intrinsics may still point anywhere in the template."""

    def __init__(self, template: Mapping[str, Any], env: Env, scope: set[str] | None = None):
        self.all: dict[str, dict[str, Any]] = {
            k: {**r, "Properties": f.ReadDict(r.get("Properties", {}))}
            for k, r in template["Resources"].items()
        }
        self.env = env
        self.resources = {k: v for k, v in self.all.items() if scope is None or k in scope}

    def unread(self) -> set[tuple[str, str]]:
        """(type, property) of the in-scope resources that nothing has read so far."""
        return {(r["Type"], k) for r in self.resources.values() for k in r["Properties"].unread()}

    def of(self, type_: str) -> dict[str, dict[str, Any]]:
        """Logical id -> properties of the in-scope resources of ``type_``."""
        return {k: r.get("Properties", {}) for k, r in self.resources.items() if r["Type"] == type_}

    def one(self, type_: str) -> tuple[str, dict[str, Any]]:
        found = self.of(type_)
        assert len(found) == 1, f"{len(found)} {type_} in the service"
        return next(iter(found.items()))

    def linked(self, value: Any, type_: str) -> tuple[str, dict[str, Any]]:
        """The resource of ``type_`` that ``value`` (``{"Ref": id}``, ``{"Fn::GetAtt": [id, x]}``
        or a string the evaluator made with ``{id}`` in it) points to: logical id and properties."""
        if isinstance(value, Mapping) and "Ref" in value:
            logical = value["Ref"]
        elif isinstance(value, Mapping) and "Fn::GetAtt" in value:
            logical = value["Fn::GetAtt"][0]
        else:
            found = _LINK.findall(self.ev(value))
            assert len(found) == 1, f"no single link in {value!r}"
            logical = found[0]
        resource = self.all[logical]
        assert resource["Type"] == type_, f"{logical} is a {resource['Type']}, not a {type_}"
        return logical, resource.get("Properties", {})

    def ev(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.ev(x) for x in node]
        if not isinstance(node, Mapping):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, name = arg.split(".", 1) if isinstance(arg, str) else arg
                return self._get_att(logical, name)
            if key == "Fn::Join":
                separator, parts = arg
                return str(separator).join(str(self.ev(p)) for p in self.ev(parts))
            if key == "Fn::Select":
                index, items = arg
                return self.ev(items)[int(self.ev(index))]
            if key == "Fn::Split":
                separator, text = arg
                return str(self.ev(text)).split(separator)
            assert not key.startswith("Fn::"), f"the evaluator has no {key}"
        return {k: self.ev(v) for k, v in node.items()}

    def _pseudo(self, name: str) -> str:
        values = {
            "AWS::Partition": self.env.partition,
            "AWS::Region": self.env.region,
            "AWS::AccountId": self.env.account,
            "AWS::URLSuffix": "amazonaws.com",
        }
        return values[name]

    def _ref(self, logical: str) -> str:
        if logical.startswith("AWS::"):
            return self._pseudo(logical)
        kind = _KINDS.get(self.all[logical]["Type"])
        if kind is None:
            return "{" + logical + "}"
        if kind.ref == "name":
            return self._physical(logical, kind)
        return self._scheme(logical, kind, kind.ref)

    def _get_att(self, logical: str, name: str) -> str:
        type_ = self.all[logical]["Type"]
        kind = _KINDS.get(type_)
        assert kind is not None and name in _GET_ATT, f"the evaluator has no {type_}.{name}"
        value = self._scheme(logical, kind, _GET_ATT[name])
        # CloudFormation documents a log group's Arn with the trailing ":*".
        return value + ":*" if type_ == "AWS::Logs::LogGroup" and name == "Arn" else value

    def _physical(self, logical: str, kind: _Kind) -> str:
        props = self.all[logical].get("Properties", {})
        assert kind.name_property in props, f"{logical} has no explicit {kind.name_property}"
        return str(self.ev(props[kind.name_property]))

    def _scheme(self, logical: str, kind: _Kind, attribute: str) -> str:
        props = self.all[logical].get("Properties", {})
        inputs: dict[str, Any] = {}
        if kind.pulumi_type == f.ALIAS:
            inputs["functionName"] = self.ev(props["FunctionName"])
        if kind.pulumi_type == f.TABLE:
            inputs["streamEnabled"] = "StreamSpecification" in props
        return f.attribute(
            kind.pulumi_type, self._physical(logical, kind), attribute, self.env, **inputs
        )
