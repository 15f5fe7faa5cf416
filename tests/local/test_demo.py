"""``serverless-ml demo`` end to end, without the synth step (covered by tests/cdk): the real
fraud bundle in a fresh interpreter, the real moto_server, generated and poison traffic."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from serverless_ml.local import demo
from serverless_ml.models import build


@pytest.mark.slow
def test_demo_passes_every_check(capsys: pytest.CaptureFixture[str]) -> None:
    code = demo.run_demo(transactions=200, synth=False)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out
    assert "[2/4] synth: skipped" in out
    assert "HTTP API: 200/200 transactions answered 200 with a decision" in out
    assert "answered [400, 400, 400]" in out
    assert "batchItemFailures = exactly the 3 poison records" in out
    assert "decisions table: 200 items for 200 transactions, 200 equal to the HTTP answer" in out
    assert "no new or changed decisions" in out
    assert "boto3 not loaded at INIT, 1 ColdStart metric" in out
    counts = {
        name: int(n)
        for name, n in re.findall(r"^\s+(approve|review|decline)\s+(\d+) \(", out, re.M)
    }
    assert set(counts) == {"approve", "review", "decline"}
    assert sum(counts.values()) == 200
    assert counts["approve"] > counts["review"] + counts["decline"]  # ~2% fraud in the generator
    for figure in ("INIT ", "warm HTTP invoke: p50 ", "-I -B on a read-only copy of "):
        assert figure in out
    assert "demo OK: 7 checks passed" in out


def test_demo_fails_when_a_check_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A card that no longer describes its model, and a handler run that breaks: exit 1."""
    shutil.copytree(build.ARTIFACTS_ROOT / "fraud", tmp_path / "fraud")
    card = tmp_path / "fraud" / build.CARD_FILE
    card.write_text(card.read_text().replace('"size_bytes": ', '"size_bytes": 1'))
    monkeypatch.setattr(build, "ARTIFACTS_ROOT", tmp_path)

    def broken(*_args: object) -> None:
        raise RuntimeError("moto_server did not answer")

    monkeypatch.setattr(demo, "_run_handler", broken)
    code = demo.run_demo(transactions=5, synth=False)
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL model: SML505" in out
    assert "FAIL handler run: RuntimeError: moto_server did not answer" in out
    assert "demo FAILED: 2 of 2 checks failed" in out
