"""The escape hatch: ``ResourceOptions.transforms`` on the service reaches every descendant (the
harness applies them like the engine: own first, then the ancestors')."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from tests.pulumi.conftest import case, specs
from tests.pulumi.harness import Rendered, render


@pytest.fixture(scope="module")
def transformed() -> Rendered:
    def bigger_function(args: pulumi.ResourceTransformArgs) -> Any:
        if args.type_ == "aws:lambda/function:Function":
            props: dict[str, Any] = dict(args.props)
            return pulumi.ResourceTransformResult({**props, "memorySize": 2048}, args.opts)
        return None

    def extra_tag(args: pulumi.ResourceTransformArgs) -> Any:
        props: dict[str, Any] = dict(args.props)
        if "tags" in props:
            tags = {**props["tags"], "cost-center": "42"}
            return pulumi.ResourceTransformResult({**props, "tags": tags}, args.opts)
        return None

    opts = pulumi.ResourceOptions(transforms=[bigger_function, extra_tag])
    return render(specs()["fraud"], opts=opts)


def test_transform_reaches_a_grandchild(transformed: Rendered) -> None:
    (function,) = transformed.of_type("aws:lambda/function:Function")
    assert transformed.parent_type(function) == "serverless-ml:lambda:InferenceFunction"
    assert function.inputs["memorySize"] == 2048


def test_transform_reaches_every_tagged_resource(transformed: Rendered) -> None:
    plain = {r.name: r for r in case("fraud").render.resources}
    tagged = [r for r in transformed.resources if "tags" in r.inputs]
    assert len(tagged) >= 10
    for r in tagged:
        assert r.inputs["tags"] == {**plain[r.name].inputs["tags"], "cost-center": "42"}


def test_untouched_properties_stay_as_planned(transformed: Rendered) -> None:
    plain = {r.name: r for r in case("fraud").render.resources}
    for r in transformed.resources:
        before = {k: v for k, v in plain[r.name].inputs.items() if k not in ("tags", "code")}
        after = {k: v for k, v in r.inputs.items() if k not in ("tags", "code")}
        if r.type == "aws:lambda/function:Function":
            assert after.pop("memorySize") == 2048
            before.pop("memorySize")
        assert after == before, r.name
