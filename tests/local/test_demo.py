"""``serverless-ml demo`` end to end, without the synth step (covered by tests/cdk): every
reference service through the local runner on moto's real server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from serverless_ml.local import demo
from serverless_ml.local.services import LOCAL_SERVICES
from serverless_ml.models import build


@pytest.mark.slow
def test_demo_passes_every_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # plots and logs go to ./local-runs
    code = demo.run_demo(synth=False, duration_s=3.0)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out
    assert "[2/4] synth: skipped" in out
    for scenario in LOCAL_SERVICES:
        row = re.search(rf"^\s+{scenario}\s+(\d+)\s+(\d+)\s", out, re.M)
        assert row is not None, f"no summary row for {scenario}:\n{out}"
        assert int(row[1]) > 0  # invocations
        assert (tmp_path / "local-runs" / f"{scenario}-latency.png").is_file()
    assert "HTTP decisions over" in out
    assert re.search(r"demo OK: \d+ checks passed", out)


def test_demo_fails_when_a_check_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A card that no longer describes its model, and a local run that breaks: exit 1."""
    shutil.copytree(build.ARTIFACTS_ROOT / "fraud", tmp_path / "fraud")
    card = tmp_path / "fraud" / build.CARD_FILE
    card.write_text(card.read_text().replace('"size_bytes": ', '"size_bytes": 1'))
    monkeypatch.setattr(build, "ARTIFACTS_ROOT", tmp_path)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("moto_server did not answer")

    monkeypatch.setattr(demo, "run_local", broken)
    code = demo.run_demo(synth=False)
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL model" in out
    assert "FAIL local run: RuntimeError: moto_server did not answer" in out
    assert "demo FAILED: 2 of 2 checks failed" in out
