"""Configuration baked into the bundle at build time (Lambda@Edge allows no environment).

Standard library only; read once at INIT.
"""

from __future__ import annotations

import json
from pathlib import Path

from sml_handlers.runtime import env


def baked_config(task_root: Path | None = None) -> dict[str, str]:
    """The bundle's ``sml_config.json`` (next to the ``sml_handlers`` package), or ``{}``."""
    root = task_root or Path(__file__).absolute().parents[2]
    path = root / env.BAKED_CONFIG_FILE
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{path}: expected a JSON object of strings")
    return data
