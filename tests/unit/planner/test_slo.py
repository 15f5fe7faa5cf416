"""The --slo syntax and what "meets" means for pooled requests and per function."""

from __future__ import annotations

import pytest

from serverless_ml.planner.errors import PlannerError
from serverless_ml.planner.slo import parse_objective


def test_default_is_one_percent_of_invocations() -> None:
    objective = parse_objective(None)
    assert objective.text == "cold-rate<=1%"
    assert [(c.metric, c.limit) for c in objective.clauses] == [("cold-rate", 0.01)]


def test_clauses_and_units() -> None:
    objective = parse_objective(" cold-rate <= 0.5% , p99.9-added-ms<=250,misses<=10% ")
    assert [(c.metric, c.limit) for c in objective.clauses] == [
        ("cold-rate", 0.005),
        ("p99.9-added-ms", 250.0),
    ]
    assert objective.allowed_misses(40) == 4
    assert parse_objective("cold-rate<=0.02").clauses[0].limit == 0.02
    assert parse_objective("p99-added-ms<=100,misses<=3").allowed_misses(1000) == 3


@pytest.mark.parametrize(
    "text",
    [
        "cold-rate<1%",
        "cold-rate<=150%",
        "warm-rate<=1%",
        "p100-added-ms<=5",
        "p99-added-ms<=5%",
        "misses<=0",
        "cold-rate<=1%,misses<=1,misses<=2",
        "cold-rate<=abc",
    ],
)
def test_bad_objectives_are_refused(text: str) -> None:
    with pytest.raises(PlannerError, match="SML611"):
        parse_objective(text)


def test_pooled_metrics_and_misses() -> None:
    busy = (10_000, 10, 600.0)  # 0.1% cold
    sparse = (24, 24, 600.0)  # every request cold
    pooled = parse_objective("cold-rate<=1%")
    assert pooled.met([busy, sparse])  # 34 / 10024 = 0.34%
    assert not pooled.function_ok(sparse)
    assert not parse_objective("cold-rate<=1%,misses<=0").met([busy, sparse])
    assert parse_objective("cold-rate<=1%,misses<=50%").met([busy, sparse])


def test_latency_percentile_is_nearest_rank_over_requests() -> None:
    objective = parse_objective("p99-added-ms<=300")
    assert objective.function_ok((100, 1, 600.0))  # rank 99 of 100 is warm
    assert not objective.function_ok((100, 2, 600.0))
    assert objective.function_ok((100, 50, 250.0))  # SnapStart restores under the bound
    assert objective.met([(0, 0, 600.0)])  # no requests: nothing to miss
