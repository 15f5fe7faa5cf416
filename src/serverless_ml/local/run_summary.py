"""The figures a person reads after a local run, per function, from the run's records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from serverless_ml.bench.figures import percentile
from serverless_ml.core.limits import (
    EDGE_PRICE_GB_S,
    EDGE_PRICE_REQUEST_PER_MILLION,
    PRICE_GB_S,
    PRICE_REQUEST_PER_MILLION,
)
from serverless_ml.local.records import ON_DEMAND, PROVISIONED, InitRecord, InvokeRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionFigures:
    function: str
    invocations: int
    by_source: dict[str, int]
    cold_starts: int
    provisioned_inits: int
    init_p50_ms: float | None
    init_max_ms: float | None
    warm_p50_ms: float | None
    warm_p99_ms: float | None
    cold_p50_ms: float | None  # INIT + duration of cold invokes
    throughput_per_s: float
    errors: dict[str, int]
    throttles: int
    environments: int
    max_memory_used_mb: int
    billed_ms: int
    cost_usd: float  # requests + billed GB-seconds at ``prices`` for the architecture
    prices: str = "on-demand"  # or "Lambda@Edge"


def _p(values: Sequence[float], fraction: float) -> float | None:
    return percentile(values, fraction) if values else None


def figures(
    function: str,
    inits: Sequence[InitRecord],
    invokes: Sequence[InvokeRecord],
    *,
    architecture: str,
    elapsed_s: float,
    edge: bool = False,
) -> FunctionFigures:
    """Everything the summary prints for one function (``edge``: at Lambda@Edge prices)."""
    mine = [r for r in invokes if r.function == function]
    ran = [r for r in mine if not r.throttled]
    warm = [r.duration_ms for r in ran if not r.cold and r.error_type is None]
    cold = [r for r in ran if r.cold]
    on_demand_inits = [
        i.init_ms
        for i in inits
        if i.function == function and i.error is None and i.initialization_type == ON_DEMAND
    ]
    billed = sum(r.billed_ms for r in ran)
    memory_gb = (ran[0].memory_mb if ran else 0) / 1024
    if edge:
        per_request, price = EDGE_PRICE_REQUEST_PER_MILLION / 1e6, EDGE_PRICE_GB_S
    else:
        per_request = PRICE_REQUEST_PER_MILLION / 1e6
        price = PRICE_GB_S.get(architecture, PRICE_GB_S["arm64"])
    return FunctionFigures(
        function=function,
        invocations=len(ran),
        by_source=dict(Counter(r.source for r in ran)),
        cold_starts=len(cold),
        provisioned_inits=sum(
            1 for i in inits if i.function == function and i.initialization_type == PROVISIONED
        ),
        init_p50_ms=_p(on_demand_inits, 0.5),
        init_max_ms=max(on_demand_inits) if on_demand_inits else None,
        warm_p50_ms=_p(warm, 0.5),
        warm_p99_ms=_p(warm, 0.99),
        cold_p50_ms=_p([(r.init_ms or 0.0) + r.duration_ms for r in cold], 0.5),
        throughput_per_s=len(ran) / elapsed_s if elapsed_s > 0 else 0.0,
        errors=dict(Counter(r.error_type for r in ran if r.error_type is not None)),
        throttles=sum(1 for r in mine if r.throttled),
        environments=len({r.environment for r in ran}),
        max_memory_used_mb=max((r.max_memory_used_mb for r in ran), default=0),
        billed_ms=billed,
        cost_usd=len(ran) * per_request + billed / 1000 * memory_gb * price,
        prices="Lambda@Edge" if edge else "on-demand",
    )


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def figure_lines(f: FunctionFigures) -> list[str]:
    sources = ", ".join(f"{n} {s}" for s, n in sorted(f.by_source.items()))
    errors = ", ".join(f"{n} {kind}" for kind, n in sorted(f.errors.items())) or "none"
    return [
        f"invocations {f.invocations} ({sources or 'none'}), {f.throughput_per_s:.1f}/s; "
        f"throttled {f.throttles}; function errors: {errors}",
        f"environments {f.environments} (provisioned {f.provisioned_inits}), cold starts "
        f"{f.cold_starts}: INIT p50 {_ms(f.init_p50_ms)}, max {_ms(f.init_max_ms)}; "
        f"cold request p50 {_ms(f.cold_p50_ms)} (INIT + invoke)",
        f"warm duration p50 {_ms(f.warm_p50_ms)}, p99 {_ms(f.warm_p99_ms)}; max memory used "
        f"{f.max_memory_used_mb} MB; billed {f.billed_ms / 1000:.1f} s = ${f.cost_usd:.6f} "
        f"at {f.prices} prices",
    ]
