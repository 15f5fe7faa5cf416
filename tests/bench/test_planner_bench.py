"""The planner benchmark (100 functions x 1440 minutes, every strategy): it runs and prints its
speed. No wall-clock assertion: the machine is shared and noisy."""

from __future__ import annotations

import argparse

import pytest

from serverless_ml.planner.bench import add_bench_arguments, bench_planner, main_bench

pytestmark = pytest.mark.slow


def test_planner_bench_reports_its_speed(capsys: pytest.CaptureFixture[str]) -> None:
    result = bench_planner(functions=100, days=1.0, seed=0)
    print(result.text())
    assert result.minutes == 1440 and result.functions == 100
    assert result.simulated_arrivals > 10 * result.invocations  # every strategy, every function
    assert result.arrivals_per_second > 0


def test_bench_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    assert main_bench(parser.parse_args(["--functions", "5", "--days", "0.5", "--json"])) == 0
    assert '"arrivals_per_second"' in capsys.readouterr().out
