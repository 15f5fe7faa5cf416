"""What the logs cannot tell, asked of the Lambda API when it answers: aliases -> versions
(``ListAliases``: ``FunctionVersion`` plus ``RoutingConfig.AdditionalVersionWeights``), the log
group and format (``LoggingConfig``), memory, SnapStart, and whether the function runs on
Lambda Managed Instances (``CapacityProviderConfig``). Unreachable -> a note, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from serverless_ml.coldstarts.log_lines import LogFormat


@dataclass(frozen=True, kw_only=True)
class FunctionInfo:
    reachable: bool
    note: str = ""  # why the API did not answer
    log_group: str | None = None
    log_format: LogFormat | None = None
    memory_mb: int | None = None
    snapstart: bool = False
    managed_instances: bool = False
    # alias -> version -> weight; None when ListAliases did not answer (``note`` says why)
    aliases: dict[str, dict[str, float]] | None = None


def describe_function(client: Any | None, name: str) -> FunctionInfo:
    """The function's configuration and aliases, or ``reachable=False`` with the reason."""
    if client is None:
        return FunctionInfo(reachable=False, note="no Lambda client")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        config = client.get_function_configuration(FunctionName=name)
    except (ClientError, BotoCoreError) as exc:
        return FunctionInfo(reachable=False, note=f"Lambda API: {_reason(exc)}")
    note = ""
    aliases: dict[str, dict[str, float]] | None
    try:
        aliases = _aliases(client, name)
    except (ClientError, BotoCoreError) as exc:
        aliases, note = None, f"ListAliases: {_reason(exc)}"
    logging = config.get("LoggingConfig") or {}
    fmt = logging.get("LogFormat")
    return FunctionInfo(
        reachable=True,
        note=note,
        log_group=logging.get("LogGroup") or None,
        log_format=fmt if fmt in ("Text", "JSON") else None,
        memory_mb=config.get("MemorySize"),
        snapstart=(config.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions",
        managed_instances=bool(config.get("CapacityProviderConfig")),
        aliases=aliases,
    )


def _reason(exc: Exception) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return f"{error.get('Code')}: {error.get('Message', '')}".strip() if error else str(exc)


def _aliases(client: Any, name: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    marker: str | None = None
    while True:
        page = client.list_aliases(FunctionName=name, **({"Marker": marker} if marker else {}))
        for alias in page.get("Aliases", []):
            extra = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            weights = {str(v): float(w) for v, w in extra.items()}
            weights[str(alias["FunctionVersion"])] = round(1.0 - sum(weights.values()), 6)
            out[str(alias["Name"])] = weights
        marker = page.get("NextMarker")
        if not marker:
            return out
