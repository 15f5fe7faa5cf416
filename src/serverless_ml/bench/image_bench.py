"""Image function: fresh-process INIT of its bundle, and images per second in one warm
environment for both modes, with the bundle sizes and what trimming Pillow keeps.

The bundle is the deployed one rebuilt for this machine's architecture (and, without the
runtime's Python, for the running one), copied read-only like ``/var/task``, run with no
bytecode writing. In one fresh process per repeat the handler module is imported (INIT, timed),
then its read path (Pillow decode, digit framing or row segmentation, one ONNX Runtime call per
event) runs over PNG and JPEG uploads made from held-out ``load_digits()`` samples. ``batched``
reads events of ``EVENT_SIZE`` objects (one session run per event, as the handler does); the
baseline ``one_by_one`` reads one object per event. S3 and DynamoDB calls are left out (they
depend on the network, not the function).
"""

from __future__ import annotations

import io
import statistics
import tempfile
from pathlib import Path
from typing import Any, Final

from serverless_ml.bench.cold_start import (
    host_architecture,
    lambda_environment,
    resolve_python,
    task_roots,
)
from serverless_ml.bench.figures import local_and_deployed
from serverless_ml.bench.isolated import run_isolated
from serverless_ml.bundling import spec_from_plan
from serverless_ml.bundling.cache import default_cache_dir
from serverless_ml.core.plan import build_plan
from serverless_ml.reference.scenarios import image_processing

EVENT_SIZE: Final = 10
DIGITS_PER_ROW: Final = 8
MB: Final = 1024 * 1024

_CHILD: Final = """
import json, statistics, time
from pathlib import Path
start = time.perf_counter()
import sml_handlers.image.handler as h
init_ms = (time.perf_counter() - start) * 1000.0
import PIL
folder = Path({images!r})
uploads = {{kind: [p.read_bytes() for p in sorted(folder.glob(kind + "-*"))]
           for kind in ("png", "jpeg", "row")}}

def event(datas, mode):
    works = []
    for i, data in enumerate(datas):
        obj = h.s3.S3Object(bucket="bench", key=f"uploads/{{i}}", size=len(data),
                            version_id="v1", sequencer=None, event_name="ObjectCreated:Put")
        work = h.Work(obj=obj, mode=mode)
        h.read(work, data, 1 << 26)
        works.append(work)
    h.classify(works)
    assert all(w.result and w.result["status"] == "ok" for w in works), works[0].result
    return len(works)

def rate(datas, mode, size, repeats={repeats}):
    rates = []
    for _ in range(repeats):
        done, began = 0, time.perf_counter()
        for i in range(0, len(datas), size):
            done += event(datas[i:i + size], mode)
        rates.append(done / (time.perf_counter() - began))
    return statistics.median(rates)

images = uploads["png"] + uploads["jpeg"]
event(images[:1], "image")  # first invoke aside
print(json.dumps({{
    "init_ms": init_ms,
    "session_ms": h.MODEL.load_ms,
    "images_per_s_batched": rate(images, "image", {event_size}),
    "images_per_s_one_by_one": rate(images, "image", 1),
    "documents_per_s_batched": rate(uploads["row"], "document", {event_size}),
    "pil_file": PIL.__file__,
}}))
"""


def make_uploads(folder: Path, *, count: int = 100, rows: int = 30) -> None:
    """PNG and JPEG digit uploads (dark ink on paper, scaled 8x) and document rows, from the
    end of ``load_digits()`` (mostly the model's held-out split)."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits().images[-(count + rows * DIGITS_PER_ROW) :]

    def paper(index: int) -> Any:
        pixels = (255 - digits[index] * 255 / 16).astype(np.uint8)
        return Image.fromarray(pixels, mode="L").resize((64, 64), Image.Resampling.NEAREST)

    for i in range(count):
        fmt = "png" if i % 2 == 0 else "jpeg"
        buffer = io.BytesIO()
        paper(i).convert("RGB" if fmt == "jpeg" else "L").save(buffer, format=fmt.upper())
        (folder / f"{fmt}-{i:04d}").write_bytes(buffer.getvalue())
    for r in range(rows):
        cells = [paper(count + r * DIGITS_PER_ROW + j) for j in range(DIGITS_PER_ROW)]
        row = Image.new("L", (DIGITS_PER_ROW * 88 + 24, 112), 255)
        for j, cell in enumerate(cells):
            row.paste(cell, (24 + j * 88, 24))
        buffer = io.BytesIO()
        row.save(buffer, format="PNG")
        (folder / f"row-{r:04d}").write_bytes(buffer.getvalue())


def run_image_bench(
    *, repeats: int = 5, target_python: str | None = None, cache_dir: Path | None = None
) -> dict[str, Any]:
    """Measure INIT and warm throughput of the image function's bundle (see module doc)."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    root = default_cache_dir(cache_dir)
    function = build_plan(image_processing()).function
    deployed_spec = spec_from_plan(function, cache_dir=root)
    python, version, interpreter, notes = resolve_python(
        deployed_spec.python_version, target_python
    )
    built, deployed_bundles, warned = local_and_deployed(
        {"image": deployed_spec}, python=python, version=version,
        architecture=host_architecture(), cache_dir=root,
    )  # fmt: skip
    local, deployed = built["image"], deployed_bundles["image"]
    notes += warned
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sml-image-bench-") as scratch:
        make_uploads(Path(scratch))
        with task_roots({"image": (local.path, True)}) as roots:
            task = roots["image"]
            code = _CHILD.format(images=scratch, repeats=3, event_size=EVENT_SIZE)
            for _ in range(repeats):
                runs.append(
                    run_isolated(python, task, code, env=lambda_environment(function, task))
                )
    if not all(str(run["pil_file"]).startswith("/") and "site-packages" not in run["pil_file"]
               for run in runs):  # fmt: skip
        raise RuntimeError(f"Pillow did not come from the bundle: {runs[0]['pil_file']}")

    def median(field: str) -> float:
        return round(statistics.median(float(run[field]) for run in runs), 2)

    pillow = next((t for t in deployed.trimmed if t.rule.startswith("Pillow")), None)
    orphans = next((t for t in deployed.trimmed if t.rule == "orphaned vendored libraries"), None)
    return {
        "function": function.name,
        "interpreter": interpreter,
        "repeats": repeats,
        "event_size": EVENT_SIZE,
        "init_ms_median": median("init_ms"),
        "session_ms_median": median("session_ms"),
        "images_per_s_batched": median("images_per_s_batched"),
        "images_per_s_one_by_one": median("images_per_s_one_by_one"),
        "documents_per_s_batched": median("documents_per_s_batched"),
        "digits_per_document": DIGITS_PER_ROW,
        "bundle_arm64_zipped_mb": round(deployed.zipped_bytes / MB, 1),
        "bundle_arm64_unzipped_mb": round(deployed.unzipped_bytes / MB, 1),
        "pillow_trimmed_mb": round(
            ((pillow.bytes if pillow else 0) + (orphans.bytes if orphans else 0)) / MB, 1
        ),
        "notes": notes,
    }


def format_image_table(result: dict[str, Any]) -> str:
    r = result
    batched, single = r["images_per_s_batched"], r["images_per_s_one_by_one"]
    lines = [
        f"image function ({r['interpreter']}), {r['repeats']} fresh processes, read-only bundle",
        f"  INIT median                  {r['init_ms_median']:>9.1f} ms "
        f"(session {r['session_ms_median']:.1f} ms)",
        f"  images/s, events of {r['event_size']:<2}       {batched:>9.1f}   "
        f"one per event: {single:.1f} ({batched / single:.2f}x)",
        f"  documents/s ({r['digits_per_document']} digits each) {r['documents_per_s_batched']:>8.1f}",
        f"  bundle arm64                 {r['bundle_arm64_zipped_mb']:>9.1f} MB zipped, "
        f"{r['bundle_arm64_unzipped_mb']:.1f} MB unzipped "
        f"(Pillow trimming saved {r['pillow_trimmed_mb']:.1f} MB)",
    ]
    lines += [f"  note: {note}" for note in r["notes"]]
    return "\n".join(lines)
