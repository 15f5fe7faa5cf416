"""The reference services the local runner can run, by scenario name (the names of
``reference.scenarios``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from serverless_ml.local.services.base import LocalService


def _fraud() -> LocalService:
    from serverless_ml.local.services.fraud import FraudService

    return FraudService()


def _iot() -> LocalService:
    from serverless_ml.local.services.iot import IoTService

    return IoTService()


def _image() -> LocalService:
    from serverless_ml.local.services.image import ImageService

    return ImageService()


def _edge() -> LocalService:
    from serverless_ml.local.services.edge import EdgeService

    return EdgeService()


LOCAL_SERVICES: Final[dict[str, Callable[[], LocalService]]] = {
    "fraud-detection": _fraud,
    "iot-anomaly": _iot,
    "image-processing": _image,
    "edge-personalization": _edge,
}
"""Every reference service, in the order ``--all`` and ``make demo`` run them."""


def local_service(scenario: str) -> LocalService:
    try:
        return LOCAL_SERVICES[scenario]()
    except KeyError:
        raise ValueError(
            f"unknown scenario {scenario!r}: choose one of {', '.join(LOCAL_SERVICES)}"
        ) from None
