"""Lambda SnapStart runtime hooks (Python 3.12+ managed runtimes).

``snapshot_restore_py`` exists only inside Lambda, so registration is guarded. Before the snapshot
the model runs once more (pages and allocations warm in the snapshot); after a restore every
environment would otherwise share the snapshot's RNG state and cached AWS connections, so the RNGs
are reseeded from the OS and the AWS clients dropped. Restore hooks must finish within 10 s
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html).
"""

from __future__ import annotations

import random
import sys

from sml_handlers.runtime import aws
from sml_handlers.runtime.model import Model


def before_snapshot(model: Model) -> None:
    """Warm the model once more right before Lambda snapshots the environment."""
    model.warm_up()


def after_restore() -> None:
    """Give this restored environment its own randomness and fresh AWS clients."""
    random.seed()  # from os.urandom
    numpy = sys.modules.get("numpy")  # loaded by the onnxruntime runtime only; never import it
    if numpy is not None:
        numpy.random.seed()  # the legacy global RandomState, also from OS entropy
    aws.reset_clients()


def register_hooks(model: Model) -> bool:
    """Register both hooks with SnapStart; False (and nothing done) outside Lambda."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot, model)
    register_after_restore(after_restore)
    return True
