"""Resolve the plan's ``Ref`` values to CDK tokens (and to cdk-nag's names for them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aws_cdk import CfnElement, Stack

from serverless_ml.core.plan_types import Ref, Value


@dataclass(frozen=True)
class _Attribute:
    token: Callable[[], str]
    element: CfnElement
    cfn_name: str  # the Fn::GetAtt name cdk-nag prints, e.g. "Arn", "StreamArn"


class RefResolver:
    """Maps ``Ref(resource, attribute)`` to a token; resources register as they are created."""

    def __init__(self) -> None:
        self._attributes: dict[tuple[str, str], _Attribute] = {}

    def register(
        self, resource: str, element: CfnElement, **attributes: tuple[Callable[[], str], str]
    ) -> None:
        for attribute, (token, cfn_name) in attributes.items():
            self._attributes[(resource, attribute)] = _Attribute(token, element, cfn_name)

    def _get(self, ref: Ref) -> _Attribute:
        try:
            return self._attributes[(ref.resource, ref.attribute)]
        except KeyError as exc:
            raise KeyError(f"no resource registered for {ref}") from exc

    def resolve(self, value: Value) -> str:
        if isinstance(value, str):
            return value
        return self._get(value).token() + value.suffix

    def resolve_all(self, values: tuple[Value, ...]) -> list[str]:
        return [self.resolve(v) for v in values]

    def nag_name(self, value: Value) -> str:
        """How cdk-nag names a policy resource in granular findings: ``<LogicalId.Arn>/x``."""
        if isinstance(value, str):
            return value
        attr = self._get(value)
        stack = Stack.of(attr.element)
        logical_id = stack.resolve(attr.element.logical_id)
        return f"<{logical_id}.{attr.cfn_name}>{value.suffix}"


__all__ = ["Ref", "RefResolver"]
