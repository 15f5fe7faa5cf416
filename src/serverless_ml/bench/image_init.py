"""Where the image function's INIT goes, stage by stage, against its numpy twin.

``bench cold-start --all`` measured the image function's INIT above its twin's (a numpy forward
pass over ``np.load``-ed weights, Pillow, boto3 at the top; ``bench.twins``). This breakdown runs
the same INIT split into stages, in fresh read-only ``-I -B`` processes interleaved with the
ablation benchmark's rounds (same bootstrap imports, same in-process AWS):

- ours (the full build): ``import numpy``, ``import onnxruntime``, Pillow (``Image``,
  ``ImageOps``), ``import dataclasses`` (the stdlib module our runtime's dataclasses pull in,
  with ``inspect``), then the handler import, split into the session creation and the warm-up
  inference (the model's own ``load_ms`` / ``warm_up_ms``) and the rest (our modules);
- the strong twin, twice: with the in-process stand-in for boto3 (as ``bench cold-start --all``
  ran it) and with the real boto3 (what it pays on Lambda): ``import numpy``, Pillow,
  ``import boto3``, then its handler (``np.load`` of the weights, two clients, its code).

Each stage is timed after the previous ones, so a module two stages share is paid by the first.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from serverless_ml.bench.aws_standin import write_standin
from serverless_ml.bench.aws_transport import CREDENTIALS_ENV, TRANSPORT_MODULE
from serverless_ml.bench.baseline import HANDLER_MODULE, build_twin
from serverless_ml.bench.cold_start import lambda_environment
from serverless_ml.bench.compiled_runtime import BOOTSTRAP_IMPORTS
from serverless_ml.bench.isolated import run_isolated

if TYPE_CHECKING:
    from serverless_ml.bench.ablation_variants import Target

FUNCTION_KEY: Final = "image"
OURS_STAGES: Final = (
    ("numpy", "import numpy"),
    ("onnxruntime", "import onnxruntime"),
    ("Pillow", "from PIL import Image, ImageOps"),
    ("dataclasses", "import dataclasses"),
    ("handler", "import sml_handlers.image.handler"),
)
TWIN_STAGES: Final = (
    ("numpy", "import numpy"),
    ("Pillow", "from PIL import Image, ImageOps"),
    ("boto3", "import boto3"),
    ("handler", f"import {HANDLER_MODULE}"),
)
VARIANTS: Final = ("ours", "twin_standin", "twin_boto3")

_STAGED: Final = """
import sys
sys.path.append({runtime!r})
sys.path.append({hooks!r})
import {bootstrap}
import {transport}
{transport}.install()
_result_stream = sys.stdout
sys.stdout = open(os.devnull, "w")
stages = []
for label, statement in {stages!r}:
    began = time.perf_counter()
    exec(statement, {{}})
    stages.append([label, (time.perf_counter() - began) * 1000.0])
model = getattr(sys.modules.get({module!r}), "MODEL", None)
sys.stdout = _result_stream
print(json.dumps({{
    "stages": stages,
    "load_ms": getattr(model, "load_ms", None),
    "warm_up_ms": getattr(model, "warm_up_ms", None),
}}))
"""


@dataclass
class Breakdown:
    """The breakdown's processes, run by the ablation benchmark between its own."""

    target: Target | None = None
    twin: Path | None = None
    runtime_site: Path | None = None
    standin: Path | None = None
    notes: list[str] = field(default_factory=list)

    def jobs(self) -> list[tuple[str]]:
        return [(v,) for v in VARIANTS] if self.target is not None else []

    def sources(self) -> dict[str, Path]:
        if self.target is None or self.twin is None:
            return {}
        return {"image-init-ours": self.target.full.path, "image-init-twin": self.twin}

    def run(
        self, key: tuple[str], python: str, roots: Mapping[str, Path], hooks: Path
    ) -> dict[str, Any]:
        assert self.target is not None and self.runtime_site is not None
        (variant,) = key
        ours = variant == "ours"
        task = roots["image-init-ours" if ours else "image-init-twin"]
        runtime = self.standin if variant == "twin_standin" else self.runtime_site
        code = _STAGED.format(
            runtime=str(runtime), hooks=str(hooks), bootstrap=BOOTSTRAP_IMPORTS,
            transport=TRANSPORT_MODULE, stages=OURS_STAGES if ours else TWIN_STAGES,
            module=self.target.module,
        )  # fmt: skip
        env = {
            **lambda_environment(self.target.plan, task),
            **self.target.function.env,
            **CREDENTIALS_ENV,
        }
        return run_isolated(python, task, code, env=env)

    def summary(self, results: Mapping[tuple[str, ...], list[dict[str, Any]]]) -> dict[str, Any]:
        if self.target is None:
            return {"measured": False, "notes": self.notes}
        out: dict[str, Any] = {"measured": True, "notes": self.notes}
        for variant in VARIANTS:
            runs = results[(variant,)]
            parts: dict[str, list[float]] = {}
            for run in runs:
                stages = dict(run["stages"])
                if run["load_ms"] is not None:  # split the handler import
                    session, warm_up = run["load_ms"], run["warm_up_ms"]
                    stages["session"] = session
                    stages["warm_up"] = warm_up
                    stages["handler"] -= session + warm_up
                stages["total"] = sum(dict(run["stages"]).values())
                for name, value in stages.items():
                    parts.setdefault(name, []).append(value)
            out[variant] = {
                name: {
                    "median": round(statistics.median(values), 2),
                    "min": round(min(values), 2),
                    "max": round(max(values), 2),
                }
                for name, values in parts.items()
            }
        return out


def plan_breakdown(targets: Sequence[Target], runtime_site: Path, cache_dir: Path) -> Breakdown:
    """The breakdown for the image target among ``targets`` (empty without one)."""
    from serverless_ml.bench.twins import IMAGE_TWIN

    target = next((t for t in targets if t.key == FUNCTION_KEY), None)
    if target is None:
        return Breakdown(notes=["no image function in this run"])
    twin = build_twin(
        IMAGE_TWIN, cache_dir, python_version=target.version, architecture=target.architecture,
        interpreter=target.python,
    )  # fmt: skip
    standin = write_standin(cache_dir / "ablation-runtime" / "standin")
    return Breakdown(
        target=target, twin=twin.pyc_path, runtime_site=runtime_site, standin=standin,
        notes=[f"twin: {IMAGE_TWIN.label} ({', '.join(twin.requirements)}), with .pyc"],
    )  # fmt: skip


_ORDER: Final = ("numpy", "onnxruntime", "Pillow", "dataclasses", "boto3", "session", "warm_up",
                 "handler", "total")  # fmt: skip
_LABELS: Final = {
    "handler": "rest of the handler import",
    "session": "session creation",
    "warm_up": "warm-up inference",
    "boto3": "import boto3",
    "dataclasses": "import dataclasses (+ inspect)",
    "total": "INIT, sum of the stages",
}


def format_breakdown(summary: Mapping[str, Any]) -> list[str]:
    """The breakdown as text lines (empty when not measured)."""
    if not summary.get("measured"):
        return []
    heads = {"ours": "ours", "twin_standin": "twin, stand-in boto3", "twin_boto3": "twin, boto3"}
    lines = [
        "image-processing INIT, stage by stage (ms, median (min-max))",
        f"  {'stage':<34}" + "".join(f"{heads[v]:>24}" for v in VARIANTS),
    ]
    for stage in _ORDER:
        cells = []
        for variant in VARIANTS:
            value = summary[variant].get(stage)
            cells.append(
                "-" if value is None
                else f"{value['median']:.1f} ({value['min']:.1f}-{value['max']:.1f})"
            )  # fmt: skip
        lines.append(f"  {_LABELS.get(stage, stage):<34}" + "".join(f"{c:>24}" for c in cells))
    lines.extend(f"  note: {note}" for note in summary["notes"])
    return lines
