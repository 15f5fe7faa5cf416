"""Edge personalization Lambda@Edge handler (viewer-request or origin-request).

Reads the CloudFront request (``Records[0].cf.request``: country and device headers, Referer,
query string, cookies), scores every content variant with the compiled personalization model
and serves the most likely to convert: a header and a cookie naming it, and in ``uri`` mode the
URI of that variant's copy (``settings``). A viewer whose cookie already names a variant keeps
it. Configuration comes from ``sml_config.json`` in the bundle (Lambda@Edge has no environment).

Fail open: whatever goes wrong (a model or config that does not load at INIT, a request shape
nobody expected, a bug) the request goes on unchanged and the error is logged; CloudFront never
answers a viewer 5xx because of this function. Response events pass their response unchanged.

INIT imports only the standard library and the compiled model (no numpy, no onnxruntime).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sml_handlers.personalize.features import FEATURE_NAMES, VARIANTS
from sml_handlers.personalize.request import Score, personalize
from sml_handlers.personalize.settings import Settings, settings_of
from sml_handlers.runtime.config import baked_config
from sml_handlers.runtime.logs import get_logger
from sml_handlers.runtime.model import (
    Model,
    check_features,
    default_model_dir,
    load_model,
    ready_fields,
)

SERVICE: Final = "personalize"
logger = get_logger(__name__)


def _scorer(model: Model) -> Score:
    """P(convert) per row from ``model``, after checking it reads what ``variant_rows`` builds."""
    check_features(model, FEATURE_NAMES)
    variants = model.card.get("variants")
    if variants is not None and tuple(variants) != VARIANTS:
        raise ValueError(f"model_card.json variants {variants} differ from features.VARIANTS")
    column = int(model.card.get("positive_class_column", 1))

    def score(rows: Sequence[Sequence[float]]) -> list[float]:
        return [row[column] for row in model.predict(rows)]

    return score


def _init() -> tuple[Score, Settings] | None:
    """The scorer and settings, or None (logged) when either cannot load: then every request
    passes through unchanged rather than the function failing INIT (a 5xx for every viewer)."""
    try:
        settings = settings_of(baked_config())
        model = load_model(default_model_dir())
        score = _scorer(model)
    except Exception:
        logger.exception("personalization disabled: requests pass through unchanged")
        return None
    logger.info("model ready", extra=ready_fields(model, mode=settings.mode))
    return score, settings


READY: Final = _init()


def _record(event: object) -> Mapping[str, Any] | None:
    """``Records[0].cf`` of a CloudFront event, None for anything else."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    first = records[0] if isinstance(records, list) and records else None
    cf = first.get("cf") if isinstance(first, Mapping) else None
    return cf if isinstance(cf, Mapping) else None


def handler(event: Any, context: Any) -> Any:
    cf = _record(event)
    if cf is None:
        logger.error("not a CloudFront event: returned unchanged")
        return event
    config = cf.get("config")
    event_type = config.get("eventType", "") if isinstance(config, Mapping) else ""
    if isinstance(event_type, str) and event_type.endswith("-response"):
        return cf.get("response")
    request = cf.get("request")
    if READY is None or not isinstance(request, Mapping):
        return request
    score, settings = READY
    try:
        decision = personalize(request, score, settings, time.time())
    except Exception:
        logger.exception("personalization failed: request passed through unchanged")
        return request
    logger.debug("variant", extra={"variant": decision.variant, "reason": decision.reason})
    return decision.request
