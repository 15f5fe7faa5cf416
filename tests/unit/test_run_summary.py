"""The per-function figures of a local run, from hand-made records: counts by source, cold
starts and provisioned INITs, INIT / warm / cold percentiles (nearest rank), errors, throttles,
environments, billed time (INIT included on demand) and what it would cost on Lambda."""

from __future__ import annotations

import math
from typing import Any

import pytest

from serverless_ml.core.limits import (
    EDGE_PRICE_GB_S,
    EDGE_PRICE_REQUEST_PER_MILLION,
    PRICE_GB_S,
    PRICE_REQUEST_PER_MILLION,
)
from serverless_ml.local import records
from serverless_ml.local.records import InitRecord, InvokeRecord
from serverless_ml.local.run_summary import FunctionFigures, figure_lines, figures

FN = "fraud-detection"


def _init(environment: int, init_ms: float, kind: str = "on-demand", **extra: Any) -> InitRecord:
    return InitRecord(
        function=extra.pop("function", FN),
        environment=environment,
        at_s=0.0,
        init_ms=init_ms,
        initialization_type=kind,
        **extra,
    )


def _invoke(environment: int | None, duration_ms: float, **extra: Any) -> InvokeRecord:
    fields: dict[str, Any] = {
        "function": FN,
        "source": "http",
        "request_id": f"r-{environment}-{duration_ms}",
        "environment": environment,
        "at_s": 0.0,
        "duration_ms": duration_ms,
        "init_ms": None,
        "memory_mb": 2048,
        "max_memory_used_mb": 100,
    }
    fields.update(extra)
    return InvokeRecord(**fields)


INITS = [
    _init(1, 200.0),
    _init(2, 300.0),
    _init(3, 250.0),
    _init(4, 1000.0, "provisioned-concurrency"),  # before traffic: not a cold start
    _init(5, 40.0, error="Runtime.ImportModuleError: ValueError: no model"),  # failed
    _init(1, 9000.0, function="other-function"),
]
INVOKES = [
    # three on-demand cold starts: INIT + invoke = 210, 320, 280
    _invoke(1, 10.0, init_ms=200.0, max_memory_used_mb=120),
    _invoke(2, 20.0, init_ms=300.0),
    _invoke(3, 30.0, init_ms=250.0),
    # warm, successful: 1.2, 2, 3, 4 (http) and 5 (the provisioned environment, from a stream)
    _invoke(1, 1.2),
    _invoke(2, 2.0),
    _invoke(3, 3.0),
    _invoke(1, 4.0),
    _invoke(4, 5.0, source="stream:readings", max_memory_used_mb=150),
    # warm failures: not in the warm percentiles, counted as errors
    _invoke(1, 700.0, error_type="ValueError"),
    _invoke(2, 1000.0, error_type="Sandbox.Timedout"),
    # throttled: nothing ran
    _invoke(None, 0.0, throttled=True, error_type="TooManyRequestsException"),
    _invoke(None, 0.0, throttled=True, error_type="TooManyRequestsException"),
    # another function's invokes are not counted
    _invoke(1, 9999.0, function="other-function", init_ms=9000.0),
]
# ceil(10+200) + ceil(20+300) + ceil(30+250) + ceil(1.2) + 2 + 3 + 4 + 5 + 700 + 1000
BILLED_WITH_INIT = 210 + 320 + 280 + 2 + 2 + 3 + 4 + 5 + 700 + 1000
BILLED_WITHOUT_INIT = 10 + 20 + 30 + 2 + 2 + 3 + 4 + 5 + 700 + 1000


@pytest.fixture
def init_billed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "LAMBDA_INIT_BILLED", True)


def _figures(architecture: str = "arm64", elapsed_s: float = 5.0) -> FunctionFigures:
    return figures(FN, INITS, INVOKES, architecture=architecture, elapsed_s=elapsed_s)


@pytest.mark.usefixtures("init_billed")
def test_counts() -> None:
    f = _figures()
    assert f.function == FN
    assert f.invocations == 10  # throttled and other functions' invokes excluded
    assert f.by_source == {"http": 9, "stream:readings": 1}
    assert f.cold_starts == 3
    assert f.provisioned_inits == 1
    assert f.errors == {"ValueError": 1, "Sandbox.Timedout": 1}
    assert f.throttles == 2
    assert f.environments == 4
    assert f.max_memory_used_mb == 150
    assert f.throughput_per_s == pytest.approx(10 / 5.0)


@pytest.mark.usefixtures("init_billed")
def test_percentiles() -> None:
    f = _figures()
    # on-demand INITs that succeeded: 200, 250, 300 (the provisioned 1000 and the failed one
    # are not cold starts)
    assert f.init_p50_ms == 250.0
    assert f.init_max_ms == 300.0
    # warm successes 1.2, 2, 3, 4, 5: nearest rank
    assert f.warm_p50_ms == 3.0
    assert f.warm_p99_ms == 5.0
    # cold requests: INIT + invoke 210, 280, 320
    assert f.cold_p50_ms == 280.0


@pytest.mark.usefixtures("init_billed")
@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_billed_and_cost_include_init(architecture: str) -> None:
    f = _figures(architecture)
    assert f.billed_ms == BILLED_WITH_INIT
    gb_s = BILLED_WITH_INIT / 1000 * 2048 / 1024
    expected = 10 * PRICE_REQUEST_PER_MILLION / 1e6 + gb_s * PRICE_GB_S[architecture]
    assert math.isclose(f.cost_usd, expected, rel_tol=1e-12)


@pytest.mark.usefixtures("init_billed")
def test_an_edge_function_costs_lambda_at_edge_prices() -> None:
    f = figures(FN, INITS, INVOKES, architecture="x86_64", elapsed_s=5.0, edge=True)
    gb_s = BILLED_WITH_INIT / 1000 * 2048 / 1024
    expected = 10 * EDGE_PRICE_REQUEST_PER_MILLION / 1e6 + gb_s * EDGE_PRICE_GB_S
    assert math.isclose(f.cost_usd, expected, rel_tol=1e-12)
    assert f.cost_usd > _figures("x86_64").cost_usd
    assert "at Lambda@Edge prices" in figure_lines(f)[2]


def test_x86_costs_more_than_arm(init_billed: None) -> None:
    assert _figures("x86_64").cost_usd > _figures("arm64").cost_usd


def test_billed_without_init(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "LAMBDA_INIT_BILLED", False)
    f = _figures()
    assert f.billed_ms == BILLED_WITHOUT_INIT
    gb_s = BILLED_WITHOUT_INIT / 1000 * 2
    assert math.isclose(
        f.cost_usd, 10 * PRICE_REQUEST_PER_MILLION / 1e6 + gb_s * PRICE_GB_S["arm64"], rel_tol=1e-12
    )


def test_provisioned_only_has_no_init_percentiles() -> None:
    inits = [_init(1, 800.0, "provisioned-concurrency"), _init(2, 900.0, "provisioned-concurrency")]
    invokes = [_invoke(1, 2.0), _invoke(2, 4.0), _invoke(1, 6.0)]
    f = figures(FN, inits, invokes, architecture="arm64", elapsed_s=1.0)
    assert (f.cold_starts, f.provisioned_inits) == (0, 2)
    assert f.init_p50_ms is None and f.init_max_ms is None and f.cold_p50_ms is None
    assert f.warm_p50_ms == 4.0
    assert f.billed_ms == 12


def test_nothing_ran() -> None:
    throttled = [_invoke(None, 0.0, throttled=True, error_type="TooManyRequestsException")]
    f = figures(FN, [], throttled, architecture="arm64", elapsed_s=0.0)
    assert (f.invocations, f.throttles, f.cold_starts, f.environments) == (0, 1, 0, 0)
    assert f.init_p50_ms is f.warm_p50_ms is f.warm_p99_ms is f.cold_p50_ms is None
    assert (f.billed_ms, f.cost_usd, f.throughput_per_s, f.max_memory_used_mb) == (0, 0.0, 0.0, 0)
    assert f.by_source == {} and f.errors == {}


def test_unknown_architecture_is_priced_as_arm(init_billed: None) -> None:
    assert _figures("riscv").cost_usd == _figures("arm64").cost_usd


@pytest.mark.usefixtures("init_billed")
def test_figure_lines() -> None:
    lines = figure_lines(_figures())
    assert len(lines) == 3
    assert lines[0] == (
        "invocations 10 (9 http, 1 stream:readings), 2.0/s; throttled 2; "
        "function errors: 1 Sandbox.Timedout, 1 ValueError"
    )
    assert lines[1] == (
        "environments 4 (provisioned 1), cold starts 3: INIT p50 250 ms, max 300 ms; "
        "cold request p50 280 ms (INIT + invoke)"
    )
    f = _figures()
    assert lines[2] == (
        f"warm duration p50 3.00 ms, p99 5.00 ms; max memory used 150 MB; billed "
        f"{BILLED_WITH_INIT / 1000:.1f} s = ${f.cost_usd:.6f} at on-demand prices"
    )


def test_figure_lines_when_nothing_ran() -> None:
    lines = figure_lines(figures(FN, [], [], architecture="arm64", elapsed_s=1.0))
    assert lines[0] == "invocations 0 (none), 0.0/s; throttled 0; function errors: none"
    assert "INIT p50 -, max -" in lines[1] and "cold request p50 -" in lines[1]
    assert lines[2].startswith("warm duration p50 -, p99 -;")
