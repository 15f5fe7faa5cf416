"""The planner benchmark (100 functions x 1440 minutes, every strategy; the same trace with
counts x100; a fleet): it runs and prints its speed. No wall-clock assertion: the machine is
shared and noisy."""

from __future__ import annotations

import argparse
import json

import pytest

from serverless_ml.planner.bench import add_bench_arguments, bench_planner, bench_scale, main_bench

pytestmark = pytest.mark.slow


def test_planner_bench_reports_its_speed(capsys: pytest.CaptureFixture[str]) -> None:
    result = bench_planner(functions=100, days=1.0, seed=0)
    print(result.text())
    assert result.minutes == 1440 and result.functions == 100
    assert result.simulated_arrivals > 10 * result.invocations  # every strategy, every function
    assert result.arrivals_per_second > 0


def test_scaled_counts_cover_100x_the_invocations_one_by_one_far_fewer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = bench_scale(functions=20, days=0.5, factor=100, fleet=30, repeats=1, exact=True)
    print(result.text())
    assert result.scaled.invocations == 100 * result.trace.invocations
    assert result.scaled.per_invocation < result.scaled.invocations / 10  # blocks, not requests
    assert result.exact is not None and result.exact.per_invocation >= result.exact.invocations
    assert result.fleet is not None and result.fleet.functions == 30
    assert result.ratio > 0 and "functions/s" in result.text()


def test_bench_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    args = ["--functions", "5", "--days", "0.5", "--fleet", "10", "--repeats", "1", "--json"]
    assert main_bench(parser.parse_args(args)) == 0
    data = json.loads(capsys.readouterr().out)
    assert '"arrivals_per_second"' in json.dumps(data)
    assert {"trace", "exact", "scaled", "fleet", "ratio_cpu"} <= set(data)


def test_bench_command_refuses_nonsense_with_a_code(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    assert main_bench(parser.parse_args(["--functions", "0", "--fleet", "0"])) == 2
    assert "SML612" in capsys.readouterr().err
