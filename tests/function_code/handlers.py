"""Import a handler module (its INIT) with a given model directory, once per process."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType


def import_with_model(module: str, model_dir: Path) -> ModuleType:
    """``module`` imported with ``$SML_MODEL_DIR`` set to ``model_dir`` for its INIT; the
    variable is restored after (an already imported module is returned as it is)."""
    previous = os.environ.get("SML_MODEL_DIR")
    os.environ["SML_MODEL_DIR"] = str(model_dir)
    try:
        return importlib.import_module(module)
    finally:
        if previous is None:
            os.environ.pop("SML_MODEL_DIR", None)
        else:
            os.environ["SML_MODEL_DIR"] = previous
