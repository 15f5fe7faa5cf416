"""Lambda SnapStart runtime hooks (Python 3.12+ managed runtimes).

``snapshot_restore_py`` exists only inside Lambda, so registration is guarded. Before the snapshot
the session runs once more (pages and allocations warm in the snapshot); after a restore every
environment would otherwise share the snapshot's RNG state and cached AWS connections, so the RNGs
are reseeded from the OS and the AWS clients dropped. Restore hooks must finish within 10 s
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html).
"""

from __future__ import annotations

import random

import numpy as np

from sml_handlers.runtime import aws
from sml_handlers.runtime.model import LoadedModel


def before_snapshot(model: LoadedModel) -> None:
    """Warm the session once more right before Lambda snapshots the environment."""
    model.warm_up()


def after_restore() -> None:
    """Give this restored environment its own randomness and fresh AWS clients."""
    random.seed()  # from os.urandom
    np.random.seed()  # the legacy global RandomState, also from OS entropy
    aws.reset_clients()


def register_hooks(model: LoadedModel) -> bool:
    """Register both hooks with SnapStart; False (and nothing done) outside Lambda."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot, model)
    register_after_restore(after_restore)
    return True
