"""``bench cold-start --all``: every reference function against its naive twin, in one run.

One row per function (``twin_runs.row``); the headline ratio is against the *strong* twin (what a
careful user ships: the tutorial handler installed by pip for the runtime's Python, so its .pyc
are valid), with the weak twin (no .pyc) beside it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.functions import FUNCTIONS
from serverless_ml.bench.twin_runs import measure, row

WARM_INVOKES: Final = 200
NOTES: Final = (
    "AWS calls (S3 GetObject, DynamoDB puts, SNS publish) go to an in-process stand-in for "
    "boto3, which Lambda's runtime provides and neither bundle ships: network latency and "
    "boto3's own import (ours: on the first batch; a tutorial twin: at INIT) are in no figure",
    "memory sizes reach the handlers through the environment only: no CPU cap applies here, "
    "while Lambda gives a function CPU in proportion to memory (1 vCPU at 1769 MB), so INIT "
    "there is longer for both, most at 128 MB",
)


def run_every_function_bench(
    *,
    repeats: int = 5,
    target_python: str | None = None,
    cache_dir: Path | None = None,
    warm_invokes: int = WARM_INVOKES,
) -> dict[str, Any]:
    """Measure every reference function and its twins; a JSON-ready dict with ``rows``."""
    load_before = os.getloadavg()[0]
    setup, measured = measure(
        FUNCTIONS, repeats=repeats, warm_invokes=warm_invokes, target_python=target_python,
        cache_dir=cache_dir,
    )  # fmt: skip
    return {
        "benchmark": "cold-start-all",
        "architecture": setup.architecture,
        "interpreter": setup.interpreter,
        "repeats": repeats,
        "warm_invokes": warm_invokes,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        "rows": [row(setup, m) for m in measured],
        "notes": [*setup.notes, *NOTES],
    }


def _answer(value: Any) -> str:
    """A first-invoke answer, short: a decision, ``3 anomalies``, ``digit 7``, ``variant b``."""
    text = str(value)
    if isinstance(value, list):
        return f"{len(value)} anomalies"
    if text.startswith("/"):  # the variant's URI: /variants/<variant>/<page>
        return f"variant {text.split('/')[2]}"
    return f"digit {text}" if text.isdigit() else text


def format_every_function_table(result: dict[str, Any]) -> str:
    """One line per function: INIT and first invoke of ours vs both twins, sizes, answers."""
    lines = [
        f"Cold start of every reference function against its naive twin: "
        f"{result['architecture']}, {result['interpreter']}",
        f"medians of {result['repeats']} fresh read-only processes per variant, interleaved; "
        f"x = twin / ours; {result['machine']['cpus']} CPUs, 1-min load average "
        f"{' -> '.join(str(v) for v in result['machine']['load_average_1min'])}",
        "",
        f"{'':<22}{'INIT ms':-^41}  {'first invoke ms':-^26}  {'unzipped MB':-^14}",
        f"{'function':<22}{'ours':>8}{'twin':>9}{'x':>6}{'no-pyc twin':>12}{'x':>6}  "
        f"{'ours':>8}{'twin':>9}{'x':>7}  {'ours':>6}{'twin':>8}  same answer",
    ]
    for r in result["rows"]:
        strong, weak = r["twin_strong"], r["twin_weak"]
        lines.append(
            f"{r['function']:<22}{r['init_ms_median']:>8.1f}{strong['init_ms_median']:>9.1f}"
            f"{strong['init_ratio']:>6.1f}{weak['init_ms_median']:>12.1f}{weak['init_ratio']:>6.1f}  "
            f"{r['first_invoke_ms_median']:>8.2f}{strong['first_invoke_ms_median']:>9.2f}"
            f"{strong['first_invoke_ratio']:>7.1f}  {r['bundle_unzipped_mb']:>6.1f}"
            f"{r['baseline_bundle_unzipped_mb']:>8.1f}  "
            f"{'yes' if r['same_answer'] else 'NO'} ({_answer(r['answer'])})"
        )
    lines += ["", "twins (tutorial handler, model in its training library's format):"]
    for r in result["rows"]:
        lines.append(
            f"- {r['function']}: {r['twin_strong']['label']} "
            f"({', '.join(r['baseline_requirements'])}); ours: {r['memory_mb']} MB, "
            f"INIT without .pyc {r['no_pyc_init_ms_median']:.1f} ms"
        )
    if result["notes"]:
        lines += ["", "notes:", *(f"- {note}" for note in result["notes"])]
    return "\n".join(lines)
