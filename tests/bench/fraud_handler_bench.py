"""Fraud handler numbers: INIT in fresh processes and warm in-process latency through handler().

Run: .venv/bin/python tests/bench/fraud_handler_bench.py [--init-runs 15] [--calls 5000]
Prints numbers; asserts nothing (timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO / "src" / "serverless_ml" / "models" / "artifacts" / "fraud"

_INIT_CHILD = """
import time
start = time.perf_counter()
import sml_handlers.fraud.handler as handler
total = (time.perf_counter() - start) * 1000.0
print(total, handler.MODEL.load_ms, handler.MODEL.warm_up_ms)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_init(python: str, runs: int) -> None:
    env = {**os.environ, "SML_MODEL_DIR": os.environ.get("SML_MODEL_DIR", str(MODEL_DIR))}
    totals, sessions, warm_ups = [], [], []
    for _ in range(runs):
        out = subprocess.run(
            [python, "-c", _INIT_CHILD], capture_output=True, text=True, env=env, check=True
        )
        total, session, warm_up = map(float, out.stdout.split())
        totals.append(total)
        sessions.append(session)
        warm_ups.append(warm_up)
    print(f"INIT ({python}, {runs} fresh processes): import handler module")
    print(f"  total   median {statistics.median(totals):7.1f} ms  min {min(totals):7.1f} ms")
    print(f"  session median {statistics.median(sessions):7.2f} ms  (InferenceSession creation)")
    print(f"  warm-up median {statistics.median(warm_ups):7.2f} ms  (first run)")


def measure_warm(calls: int) -> None:
    os.environ.setdefault("SML_MODEL_DIR", str(MODEL_DIR))
    sys.path.insert(0, str(REPO))
    import sml_handlers.fraud.handler as handler
    from tests.function_code.handler_events import http_event, sample_transactions

    event = http_event(json.dumps(sample_transactions(1, seed=7)[0]))
    rows = None
    timings: list[float] = []
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # EMF lines
        for _ in range(200):
            handler.handler(event, None)
        for _ in range(calls):
            start = time.perf_counter_ns()
            response = handler.handler(event, None)
            timings.append((time.perf_counter_ns() - start) / 1000.0)
        assert response["statusCode"] == 200, response
        import numpy as np

        rows = np.zeros((1, handler.MODEL.n_features), dtype=np.float32)
        runs: list[float] = []
        for _ in range(calls):
            start = time.perf_counter_ns()
            handler.MODEL.run(rows)
            runs.append((time.perf_counter_ns() - start) / 1000.0)
    print(f"warm handler() on one HTTP transaction ({calls} calls, in-process):")
    print(
        f"  p50 {percentile(timings, 0.50):7.1f} us  p99 {percentile(timings, 0.99):7.1f} us"
        f"  mean {statistics.fmean(timings):7.1f} us"
    )
    print(
        f"  of which session.run: p50 {percentile(runs, 0.50):6.1f} us"
        f"  p99 {percentile(runs, 0.99):6.1f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", default=sys.executable, help="interpreter for INIT runs")
    parser.add_argument("--init-runs", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    measure_init(args.python, args.init_runs)
    measure_warm(args.calls)


if __name__ == "__main__":
    main()
