"""The reference services the local runner can run, by scenario name (the names of
``reference.scenarios``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from serverless_ml.local.services.base import LocalService
from serverless_ml.spec import ConcurrencyPlan


def _fraud(concurrency: ConcurrencyPlan | None) -> LocalService:
    from serverless_ml.local.services.fraud import FraudService

    return FraudService(concurrency)


def _iot(concurrency: ConcurrencyPlan | None) -> LocalService:
    from serverless_ml.local.services.iot import IoTService

    return IoTService(concurrency)


def _image(concurrency: ConcurrencyPlan | None) -> LocalService:
    from serverless_ml.local.services.image import ImageService

    return ImageService(concurrency)


def _edge(concurrency: ConcurrencyPlan | None) -> LocalService:
    from serverless_ml.local.services.edge import EdgeService

    if concurrency is not None:
        raise ValueError(
            "edge-personalization: Lambda@Edge has no provisioned concurrency or warmers; "
            "run it without --concurrency-plan"
        )
    return EdgeService()


LOCAL_SERVICES: Final[dict[str, Callable[[ConcurrencyPlan | None], LocalService]]] = {
    "fraud-detection": _fraud,
    "iot-anomaly": _iot,
    "image-processing": _image,
    "edge-personalization": _edge,
}
"""Every reference service, in the order ``--all`` and ``make demo`` run them."""


def local_service(scenario: str, concurrency: ConcurrencyPlan | None = None) -> LocalService:
    """The service, with ``concurrency`` instead of its default capacity plan when given."""
    try:
        make = LOCAL_SERVICES[scenario]
    except KeyError:
        raise ValueError(
            f"unknown scenario {scenario!r}: choose one of {', '.join(LOCAL_SERVICES)}"
        ) from None
    return make(concurrency)
