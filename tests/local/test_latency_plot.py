"""The latency chart of a local run: a PNG per run, drawn with matplotlib's Agg backend (no
display needed), one panel per function, cold starts and throttles marked."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from serverless_ml.local.latency_plot import plot_latency
from serverless_ml.local.records import InvokeRecord

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _invoke(function: str, at_s: float, duration_ms: float, **extra: Any) -> InvokeRecord:
    fields: dict[str, Any] = {
        "function": function,
        "source": "http",
        "request_id": f"{function}-{at_s}",
        "environment": 1,
        "at_s": at_s,
        "duration_ms": duration_ms,
        "init_ms": None,
        "memory_mb": 1024,
        "max_memory_used_mb": 80,
    }
    fields.update(extra)
    return InvokeRecord(**fields)


def _run() -> list[InvokeRecord]:
    invokes = [_invoke("fraud-detection", 0.0, 4.0, init_ms=350.0)]
    invokes += [_invoke("fraud-detection", 0.1 * i, 2.0 + i % 3) for i in range(1, 40)]
    invokes += [
        _invoke(
            "fraud-detection",
            2.0,
            0.0,
            environment=None,
            throttled=True,
            error_type="TooManyRequestsException",
        ),
        _invoke("iot-anomaly", 0.5, 20.0, init_ms=900.0),
        _invoke(
            "iot-anomaly",
            1.5,
            0.0,
            environment=None,
            throttled=True,
            error_type="TooManyRequestsException",
        ),
    ]
    invokes += [_invoke("iot-anomaly", 0.5 + 0.2 * i, 8.0) for i in range(1, 10)]
    return invokes


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a_png_is_written(tmp_path: Path) -> None:
    out = tmp_path / "charts" / "run-latency.png"  # the folder is made if missing
    assert plot_latency(_run(), out, title="fraud + iot: 52 invokes, 2 cold starts") == out
    width, height = _png_size(out)
    assert width == 10 * 110  # 10 inches at 110 dpi
    assert height == pytest.approx(2 * 2.6 * 110, abs=2)  # one 2.6-inch panel per function


def test_one_function_one_panel(tmp_path: Path) -> None:
    only_fraud = [r for r in _run() if r.function == "fraud-detection"]
    _, height = _png_size(plot_latency(only_fraud, tmp_path / "one.png", title="fraud"))
    assert height == pytest.approx(2.6 * 110, abs=2)


def test_an_empty_run_still_draws(tmp_path: Path) -> None:
    width, _ = _png_size(plot_latency([], tmp_path / "empty.png", title="nothing ran"))
    assert width == 1100


def test_only_throttles_and_cold_starts(tmp_path: Path) -> None:
    invokes = [
        _invoke(
            "f", 0.0, 0.0, environment=None, throttled=True, error_type="TooManyRequestsException"
        ),
        _invoke("f", 0.2, 0.0, init_ms=120.0, error_type="Runtime.ImportModuleError"),
    ]
    _png_size(plot_latency(invokes, tmp_path / "edge.png", title="edge cases"))


def test_the_agg_backend_is_used_without_a_display(tmp_path: Path) -> None:
    """In a fresh interpreter with no display and an interactive backend asked for, the chart
    is still drawn, with Agg, and pyplot is imported only when a chart is drawn."""
    out = tmp_path / "agg.png"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "import serverless_ml.local.latency_plot as lp\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported at module import'\n"
        "from serverless_ml.local.records import InvokeRecord\n"
        "r = InvokeRecord(function='f', source='http', request_id='r', environment=1, at_s=0.0,\n"
        "    duration_ms=3.0, init_ms=200.0, memory_mb=128, max_memory_used_mb=50)\n"
        f"lp.plot_latency([r], Path({str(out)!r}), title='t')\n"
        "import matplotlib\n"
        "print(matplotlib.get_backend())\n"
    )
    env = {"PATH": "/usr/bin:/bin", "MPLBACKEND": "TkAgg", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().lower() == "agg"
    assert out.read_bytes()[:8] == PNG_SIGNATURE
