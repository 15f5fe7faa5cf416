"""The aggregate simulator against the exact one on the test set (sparse, bursty, steady,
diurnal), the bound docs/planner.md states: the same plans give every strategy's cold starts
within 10% plus the exact simulator's own seed-to-seed noise (2 sqrt(n) + 5) and its monthly
cost within 1%; planned end to end, the baselines' costs stay within 10% (a level fitted on
the history peak may differ by one environment)."""

from __future__ import annotations

import math

from serverless_ml.planner.accuracy import SHAPES, accuracy_traces, compare, shaped_trace
from serverless_ml.planner.strategies import PLANNER


def test_aggregate_stays_within_the_stated_bound_of_exact() -> None:
    result = compare(accuracy_traces(functions=4, days=1.0, top_rate=120.0), seeds=2)
    assert {r.trace for r in result.rows} == set(SHAPES)
    for r in result.rows:
        slack = 0.10 * r.exact_cold + 2 * math.sqrt(r.exact_cold) + 5
        assert abs(r.aggregate_cold - r.exact_cold) <= slack, r
        assert abs(r.cost_error) <= 0.01, r
    for r in result.planned:
        if r.strategy != PLANNER:  # the planner's own pick may flip between near-equal costs
            assert abs(r.cost_error) <= 0.10, r  # a fitted level may differ by one
    sparse = [r for r in result.rows if r.trace == "sparse"]
    assert all(r.aggregate_cold == r.exact_cold for r in sparse)  # request by request there
    assert "the same plans simulated both ways" in result.text()


def test_shapes_are_what_they_say() -> None:
    steady = shaped_trace("steady", functions=2, days=1.0)
    assert all(f.counts.std() < 3 * math.sqrt(f.counts.mean()) for f in steady.functions)
    bursty = shaped_trace("bursty", functions=3, days=1.0)
    assert max(f.counts.max() / f.counts.mean() for f in bursty.functions) > 3
    sparse = shaped_trace("sparse", functions=6, days=1.0)
    assert all(f.counts.mean() <= 1.5 for f in sparse.functions)
