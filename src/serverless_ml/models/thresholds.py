"""Decision thresholds from precision targets, and the metrics at a threshold.

A transaction is flagged at threshold ``t`` when its score is ``>= t`` (as ``decide`` does).
Thresholds are chosen on a validation split and reported on the test split, never both on one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from serverless_ml.models.errors import THRESHOLD_UNREACHABLE, ModelError


def operating_point(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Precision, recall and alert rate when every score ``>= threshold`` is flagged."""
    y = np.asarray(labels).astype(bool)
    flagged = np.asarray(scores) >= threshold
    n_flagged = int(flagged.sum())
    true_positives = int((flagged & y).sum())
    positives = int(y.sum())
    return {
        "threshold": threshold,
        "precision": round(true_positives / n_flagged, 6) if n_flagged else None,
        "recall": round(true_positives / positives, 6) if positives else None,
        "alert_rate": round(n_flagged / len(y), 6) if len(y) else None,
        "flagged": n_flagged,
        "true_positives": true_positives,
    }


def lowest_threshold_with_precision(
    labels: np.ndarray, scores: np.ndarray, min_precision: float, *, min_flagged: int
) -> float:
    """The lowest score ``t`` whose flagged set (score >= t) has precision >= ``min_precision``
    and at least ``min_flagged`` members: the most recall the precision target allows.

    ``t`` is one of ``scores`` (so a score equal to it is flagged). SML504 if none qualifies.
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ranked = np.asarray(scores)[order]
    hits = np.cumsum(np.asarray(labels)[order].astype(bool))
    # Only the last position of a run of equal scores is a real cut (ties are flagged together).
    last_of_run = np.append(ranked[1:] != ranked[:-1], True)
    flagged = np.arange(1, len(ranked) + 1)
    ok = last_of_run & (flagged >= min_flagged) & (hits >= min_precision * flagged)
    if not ok.any():
        raise ModelError(
            THRESHOLD_UNREACHABLE,
            f"no threshold reaches precision {min_precision} with >= {min_flagged} flagged on "
            f"the validation split ({len(ranked)} rows, {int(hits[-1]) if len(hits) else 0} "
            "positives): lower the target, or grow the validation split",
        )
    return float(ranked[np.flatnonzero(ok)[-1]])


def threshold_for_false_alarm_rate(normal_scores: np.ndarray, rate: float) -> float:
    """The lowest threshold ``t`` (flag when score ``>= t``) that flags at most ``rate`` of
    ``normal_scores`` (known-healthy readings): a float32 just above the ``floor(rate * n) + 1``-th
    highest score, so ties never push the false-alarm rate over ``rate``."""
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be in (0, 1), got {rate}")
    ranked = np.sort(np.asarray(normal_scores, dtype=np.float32))[::-1]
    allowed = int(np.floor(rate * len(ranked)))
    if allowed >= len(ranked):
        raise ValueError("too few normal scores for this rate")
    return float(np.nextafter(ranked[allowed], np.float32(np.inf)))
