"""The ``model/`` directory of a compiled-runtime bundle: ``compiled_model.py`` (compiled from
the artifact's ONNX graph, parity with onnxruntime checked) and its card, cached by content
(model, card and compiler sources), so the bundle's hash follows all three."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from serverless_ml.bundling import cache
from serverless_ml.models.build import CARD_FILE, MODEL_FILE
from serverless_ml.models.compiler.artifact import COMPILED_FILE, compiler_digest, verified_source


def compiled_model_dir(model_dir: Path, cache_dir: Path) -> Path:
    """``cache_dir/compiled/<key>``: built once per model, card and compiler (SML509-511)."""
    digest = hashlib.sha256(compiler_digest().encode())
    for name in (MODEL_FILE, CARD_FILE):
        digest.update(b"\0" + (model_dir / name).read_bytes())
    key = digest.hexdigest()[:32]
    final = cache_dir / "compiled" / key
    if (final / CARD_FILE).is_file():
        cache.touch(final)
        return final
    cache.prepare(cache_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    source, card = verified_source(model_dir)
    work = cache.temp_entry(cache_dir, key)
    (work / COMPILED_FILE).write_text(source, encoding="utf-8")
    (work / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", "utf-8")
    cache.publish(work, final)
    return final
