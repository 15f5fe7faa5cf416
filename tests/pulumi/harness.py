"""Render an ``InferenceService`` under Pulumi mocks and record every resource registration.

``render_with_mocks(spec)`` -> ``list[RecordedResource]``: type token, logical name, inputs
(the engine's camelCase property names, every Output resolved), plus parent, explicit and
implicit dependencies and resource options, in registration order. ``render(spec)`` also
returns the component and its resolved public outputs.

The mocks return plausible ids and ARNs (``Env``: account ``ACCOUNT``, region ``REGION`` unless
told otherwise) so that ``Ref``s resolve to strings the tests can compare; ``computed`` is that
ARN scheme, shared with the parity tests' CloudFormation evaluator. Like the engine, the monitor
applies ``ResourceOptions.transforms`` of a resource and of its ancestors (own first, then
walking up), so the documented escape hatch can be exercised; only synchronous transforms are
supported.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs, Mocks

from serverless_ml.pulumi import InferenceService, InferenceServiceArgs
from serverless_ml.spec.service import InferenceServiceSpec

ACCOUNT = "123456789012"
REGION = "eu-west-1"
PROJECT = "serverless-ml-tests"
STACK = "mocks"


@dataclass(frozen=True)
class Env:
    """Where the mocked program deploys: every mocked ARN and invoke answer uses it."""

    region: str = REGION
    account: str = ACCOUNT
    partition: str = "aws"


DEFAULT_ENV = Env()


@dataclass(frozen=True)
class RecordedResource:
    type: str
    name: str
    inputs: dict[str, Any]
    id: str  # the id the mocks returned ("" for components)
    urn: str
    parent: str  # the parent's URN ("" for none)
    dependencies: tuple[str, ...]  # URNs: depends_on plus those the inputs' Outputs carry
    custom: bool  # False for components
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    outputs: dict[str, Any]  # the state the mocks returned
    provider: str = ""  # "<provider urn>::<id>" when given explicitly (or inherited)


@dataclass
class Rendered:
    resources: list[RecordedResource]
    service: InferenceService
    outputs: dict[str, Any]  # the component's public outputs, resolved
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> RecordedResource:
        found = [r for r in self.resources if r.name == name and type_ in (None, r.type)]
        assert len(found) == 1, f"{len(found)} resources named {name!r} ({type_})"
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        return next(r for r in self.resources if r.urn == urn)

    def parent_type(self, resource: RecordedResource) -> str:
        """The parent's type token; "" for the stack (which the mocks do not record)."""
        parent = [r for r in self.resources if r.urn == resource.parent]
        return parent[0].type if parent else ""

    def children(self, resource: RecordedResource) -> list[RecordedResource]:
        return [r for r in self.resources if r.parent == resource.urn]


@dataclass(frozen=True)
class _Meta:
    urn: str
    parent: str
    dependencies: tuple[str, ...]
    custom: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    provider: str = ""


def computed(
    type_: str, name: str, inputs: dict[str, Any], env: Env = DEFAULT_ENV
) -> dict[str, Any]:
    """Plausible computed attributes for the types the renderer reads back: the one mock ARN
    scheme (``name`` is the logical name, ``inputs["name"]`` the physical one)."""
    physical = str(inputs.get("name", name))
    ident = name.replace("-", "")[:10]
    region, account = env.region, env.account

    def _arn(service: str, rest: str, *, regional: bool = True) -> str:
        return f"arn:{env.partition}:{service}:{region if regional else ''}:{account}:{rest}"

    if type_ == "aws:lambda/function:Function":
        arn = _arn("lambda", f"function:{physical}")
        apigateway = f"arn:{env.partition}:apigateway:{region}"
        return {
            "arn": arn,
            "version": "1",
            "qualifiedArn": f"{arn}:1",
            "invokeArn": f"{apigateway}:lambda:path/functions/{arn}/invocations",
        }
    if type_ == "aws:lambda/alias:Alias":
        arn = _arn("lambda", f"function:{inputs['functionName']}:{physical}")
        return {"arn": arn}
    if type_ == "aws:dynamodb/table:Table":
        arn = _arn("dynamodb", f"table/{physical}")
        stream = f"{arn}/stream/2026-01-01T00:00:00.000" if inputs.get("streamEnabled") else ""
        return {"arn": arn, "streamArn": stream}
    if type_ == "aws:sqs/queue:Queue":
        return {
            "arn": _arn("sqs", physical),
            "url": f"https://sqs.{region}.amazonaws.com/{account}/{physical}",
        }
    if type_ == "aws:cloudwatch/logGroup:LogGroup":
        return {"arn": _arn("logs", f"log-group:{physical}")}
    if type_ == "aws:iam/role:Role":
        return {"arn": _arn("iam", f"role/{physical}", regional=False)}
    if type_ == "aws:sns/topic:Topic":
        return {"arn": _arn("sns", physical)}
    if type_ == "aws:s3/bucket:Bucket":
        bucket = str(inputs.get("bucket", name))
        return {"arn": f"arn:{env.partition}:s3:::{bucket}", "bucket": bucket, "id": bucket}
    if type_ == "aws:kms/key:Key":
        return {"arn": _arn("kms", f"key/{ident}"), "keyId": ident}
    if type_ == "aws:kinesis/stream:Stream":
        return {"arn": _arn("kinesis", f"stream/{physical}")}
    if type_ == "aws:cloudwatch/eventRule:EventRule":
        return {"arn": _arn("events", f"rule/{physical}")}
    if type_ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return {"arn": _arn("cloudwatch", f"alarm:{physical}")}
    if type_ == "aws:apigatewayv2/api:Api":
        return {
            "apiEndpoint": f"https://{ident}.execute-api.{region}.amazonaws.com",
            "executionArn": _arn("execute-api", ident),
        }
    if type_ == "aws:lambda/functionUrl:FunctionUrl":
        return {"functionUrl": f"https://{ident}.lambda-url.{region}.on.aws/"}
    if type_ == "aws:cloudfront/distribution:Distribution":
        return {
            "arn": f"arn:{env.partition}:cloudfront::{account}:distribution/{ident.upper()}",
            "domainName": f"{ident}.cloudfront.net",
        }
    if type_ == "aws:lambda/capacityProvider:CapacityProvider":
        return {"arn": _arn("lambda", f"capacity-provider:{physical}")}
    if type_ == "aws:lambda/eventSourceMapping:EventSourceMapping":
        return {"uuid": f"{ident}-uuid", "arn": _arn("lambda", f"event-source-mapping:{ident}")}
    return {}


class RecordingMocks(Mocks):
    """Records every registration (after the transforms) and every invoke."""

    def __init__(self, env: Env = DEFAULT_ENV) -> None:
        self.env = env
        self.local = threading.local()
        self.metas: dict[str, _Meta] = {}
        self.transforms: dict[str, list[Callable[..., Any]]] = {}
        self.resources: list[RecordedResource] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        meta: _Meta = self.local.meta
        inputs = self._transformed(meta, args)
        outputs = {**inputs, **computed(args.typ, args.name, inputs, self.env)}
        ident = f"{args.name}-id" if args.custom else ""
        with self._lock:
            self.resources.append(
                RecordedResource(
                    type=args.typ,
                    name=args.name,
                    inputs=inputs,
                    id=ident,
                    urn=meta.urn,
                    parent=meta.parent,
                    dependencies=meta.dependencies,
                    custom=meta.custom,
                    retain_on_delete=meta.retain_on_delete,
                    ignore_changes=meta.ignore_changes,
                    outputs=outputs,
                    provider=meta.provider,
                )
            )
        return ident, outputs

    def _transformed(self, meta: _Meta, args: MockResourceArgs) -> dict[str, Any]:
        with self._lock:
            self.transforms[meta.urn] = list(args.transforms)
            chain: list[Callable[..., Any]] = []
            urn = meta.urn
            while urn:
                chain += self.transforms.get(urn, [])
                urn = self.metas[urn].parent if urn in self.metas else ""
        props = dict(args.inputs)
        for transform in chain:
            result = transform(
                pulumi.ResourceTransformArgs(
                    custom=meta.custom,
                    type_=args.typ,
                    name=args.name,
                    props=props,
                    opts=pulumi.ResourceOptions(),
                )
            )
            if result is not None:
                if not isinstance(result, pulumi.ResourceTransformResult):
                    raise TypeError("the mock monitor runs synchronous transforms only")
                props = dict(result.props)
        return props

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        # An empty failure list, not None: the mock monitor iterates it.
        self.calls.append((args.token, dict(args.args)))
        region = self._provider_region(str(getattr(args, "provider", "") or "")) or self.env.region
        account = self.env.account
        if args.token == "aws:index/getPartition:getPartition":
            partition = self.env.partition
            suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
            return {"id": partition, "partition": partition, "dnsSuffix": suffix}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"id": region, "name": region, "region": region}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "id": account,
                "accountId": account,
                "arn": f"arn:{self.env.partition}:iam::{account}:user/tests",
                "userId": "AIDATESTS",
            }, []
        raise NotImplementedError(f"no mock for invoke {args.token}")

    def _provider_region(self, reference: str) -> str | None:
        """The ``region`` an explicit provider (``<urn>::<id>``) was created with."""
        urn = reference.rsplit("::", 1)[0]
        found = [
            r for r in self.resources if r.urn == urn and r.type.startswith("pulumi:providers:")
        ]
        return (
            str(found[0].inputs.get("region")) if found and found[0].inputs.get("region") else None
        )


class RecordingMonitor(MockMonitor):
    """Hands each registration's parent, dependencies and options to the mocks."""

    mocks: RecordingMocks

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            meta = _Meta(
                urn=urn,
                parent=request.parent,
                dependencies=tuple(request.dependencies),
                custom=bool(request.custom),
                retain_on_delete=bool(request.retainOnDelete),
                ignore_changes=tuple(request.ignoreChanges),
                provider=str(request.provider),
            )
            with self.mocks._lock:
                self.mocks.metas[urn] = meta
            self.mocks.local.meta = meta
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


def run_with_mocks(
    program: Callable[[], pulumi.Input[Any]], env: Env = DEFAULT_ENV
) -> tuple[RecordingMocks, Any]:
    """Run ``program`` as a Pulumi program under fresh mocks (deploying to ``env``); returns the
    mocks and what the Output it returned resolved to (all registrations have completed)."""
    mocks = RecordingMocks(env)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=STACK, preview=False, monitor=RecordingMonitor(mocks)
    )
    resolved: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def go() -> pulumi.Output[Any]:
        return pulumi.Output.from_input(program()).apply(lambda v: resolved.setdefault("v", v))

    go()
    return mocks, resolved.get("v")


def render(
    spec: InferenceServiceSpec,
    *,
    code_dir: Path | None = None,
    name: str | None = None,
    opts: pulumi.ResourceOptions | None = None,
    env: Env = DEFAULT_ENV,
) -> Rendered:
    """One ``InferenceService`` for ``spec`` (named ``spec.name`` unless ``name``), with
    ``code_dir`` as its artifact (default: the real bundle, built once and cached by content),
    deployed to ``env``."""
    code = code_dir
    holder: dict[str, InferenceService] = {}

    def program() -> pulumi.Output[dict[str, Any]]:
        service = InferenceService(
            name or spec.name, InferenceServiceArgs(spec=spec, code_dir=code), opts
        )
        holder["service"] = service
        return pulumi.Output.from_input(_public_outputs(service))

    mocks, outputs = run_with_mocks(program, env)
    return Rendered(
        resources=list(mocks.resources),
        service=holder["service"],
        outputs=outputs,
        calls=list(mocks.calls),
    )


def render_with_mocks(
    spec: InferenceServiceSpec, *, code_dir: Path | None = None
) -> list[RecordedResource]:
    """Every resource registration of ``InferenceService(spec.name, spec)``, in order."""
    return render(spec, code_dir=code_dir).resources


def _public_outputs(service: InferenceService) -> dict[str, Any]:
    names = (
        "function_name", "function_arn", "alias_name", "alias_arn", "role_arn", "endpoint_url",
        "table_names", "table_arns", "queue_urls", "queue_arns", "topic_arn", "dashboard_name",
    )  # fmt: skip
    return {n: getattr(service, n) for n in names}


@dataclass
class RenderedEdge:
    resources: list[RecordedResource]
    service: Any  # serverless_ml.pulumi.edge.EdgePersonalization
    outputs: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]]

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> RecordedResource:
        (found,) = [r for r in self.resources if r.name == name]
        return found


def render_edge(spec: Any, *, code_dir: Path | None = None, env: Env = DEFAULT_ENV) -> RenderedEdge:
    """One ``EdgePersonalization`` for ``spec`` under the mocks (stack default region ``env``)."""
    from serverless_ml.pulumi.edge import EdgePersonalization, EdgePersonalizationArgs

    holder: dict[str, Any] = {}

    def program() -> pulumi.Output[dict[str, Any]]:
        service = EdgePersonalization(
            spec.name, EdgePersonalizationArgs(spec=spec, code_dir=code_dir)
        )
        holder["service"] = service
        return pulumi.Output.from_input(
            {
                "distribution_domain_name": service.distribution_domain_name,
                "version_arn": service.version_arn,
                "function_name": service.function_name,
            }
        )

    mocks, outputs = run_with_mocks(program, env)
    return RenderedEdge(list(mocks.resources), holder["service"], outputs, list(mocks.calls))
