"""``serverless-ml plan`` end to end on synthetic traces: table, JSON, PNG, loadable plans."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from serverless_ml.planner.cli import (
    EXIT_ERROR,
    EXIT_MET,
    EXIT_UNMET,
    add_plan_arguments,
    main,
    run_plan_command,
)
from serverless_ml.planner.synthetic import synthetic_trace, write_azure
from serverless_ml.spec.concurrency import ConcurrencyPlan

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def azure_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("azure")
    write_azure(synthetic_trace(12, days=1, seed=3), directory)
    return directory


def test_plan_writes_table_png_report_and_loadable_plans(azure_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = run_plan_command([azure_dir], slo="cold-rate<=1%", out_dir=out)
    assert code == EXIT_MET
    for strategy in (
        "on-demand",
        "static-peak",
        "scheduled",
        "target-tracking",
        "snapstart",
        "warmers",
        "planner",
    ):
        assert f"\n{strategy}" in text
    assert "keep-alive sensitivity" in text and "arrivals in" in text
    png = (out / "plan.png").read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 20_000
    report = json.loads((out / "plan_report.json").read_text())
    assert report["chosen"] in [s["strategy"] for s in report["strategies"] if s["meets_objective"]]
    assert len(report["functions"]) == 12
    plan_files = sorted((out / "plans").glob("*.json"))
    assert len(plan_files) == 12
    for path in plan_files:
        plan = ConcurrencyPlan.from_json_file(path)
        data = json.loads(path.read_text())
        assert data["comment"] and data["source"]
        assert {k: v for k, v in data.items() if k not in ("comment", "source")} == plan.to_dict()


def test_single_function_cloudwatch_writes_concurrency_plan_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = ["timestamp,count,duration"]
    for minute in range(2 * 1440):
        hour = (minute // 60) % 24
        rate = 40 if 8 <= hour < 20 else 2
        lines.append(f"{1767571200 + 60 * minute},{rng.poisson(rate)},120")
    csv = tmp_path / "fraud-api.csv"
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    code, text = run_plan_command([csv], slo="cold-rate<=0.5%", out_dir=out, json_output=True)
    report = json.loads(text)
    assert code in (EXIT_MET, EXIT_UNMET) and report["trace"]["functions"] == 1
    assert report["history_minutes"] == [0, 1440]
    plan = ConcurrencyPlan.from_json_file(out / "concurrency_plan.json")
    assert report["functions"][0]["plan"] == plan.to_dict()


def test_objective_nobody_meets_exits_one_and_still_writes(azure_dir: Path, tmp_path: Path) -> None:
    code, text = run_plan_command(
        [azure_dir], slo="cold-rate<=0%,misses<=0", out_dir=tmp_path, plot=False
    )
    assert code == EXIT_UNMET and "no strategy meets" in text
    assert not (tmp_path / "plan.png").exists()
    assert len(list((tmp_path / "plans").glob("*.json"))) == 12


def test_errors_are_coded_messages(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,count\n2026-01-05T10:00:00Z,1\nnoon,2\n")
    code, text = run_plan_command([bad], out_dir=tmp_path / "out")
    assert code == EXIT_ERROR and "SML606" in text and "line 3, column 1" in text
    code, text = run_plan_command([bad], slo="fast please", out_dir=tmp_path / "out")
    assert code == EXIT_ERROR and "SML611" in text
    assert not (tmp_path / "out").exists()


def test_argparse_wiring(
    azure_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_plan_arguments(parser)
    args = parser.parse_args(
        [
            str(azure_dir),
            "--slo",
            "p99-added-ms<=700",
            "--keep-alive-min",
            "20",
            "--init-ms",
            "800",
            "--architecture",
            "x86_64",
            "--no-plot",
            "--out",
            str(tmp_path),
            "--sample",
            "4",
            "--json",
        ]
    )
    assert args.keep_alive_min == 20 and args.architecture == "x86_64" and args.plot is False
    assert (
        main(
            [
                str(azure_dir),
                "--out",
                str(tmp_path),
                "--sample",
                "4",
                "--json",
                "--no-plot",
                "--history-minutes",
                "600",
            ]
        )
        == EXIT_MET
    )
    report = json.loads(capsys.readouterr().out)
    assert report["history_minutes"] == [0, 600] and report["trace"]["functions"] == 4


def test_simulation_is_selectable_and_reported(azure_dir: Path, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_plan_arguments(parser)
    assert parser.parse_args([str(azure_dir)]).simulation == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args([str(azure_dir), "--simulation", "fast"])
    reports = {}
    for simulation in ("exact", "aggregate"):
        out = tmp_path / simulation
        code, text = run_plan_command(
            [azure_dir], out_dir=out, plot=False, simulation=simulation, json_output=True
        )
        assert code in (EXIT_MET, EXIT_UNMET)
        reports[simulation] = json.loads(text)
        assert reports[simulation]["speed"]["simulation"] == simulation
    exact, blocks = reports["exact"]["speed"], reports["aggregate"]["speed"]
    assert exact["aggregate_function_minutes"] == 0 < blocks["aggregate_function_minutes"]
    assert blocks["simulated_one_by_one"] < exact["simulated_one_by_one"]
