"""Coded errors of ``serverless-ml coldstarts`` (SML8xx), documented in docs/errors.md."""

from __future__ import annotations

from serverless_ml.spec.errors import SpecError

CODES: dict[str, str] = {
    "SML801": "--since / --until cannot be parsed, or the window is empty",
    "SML802": "the log group does not exist",
    "SML803": "CloudWatch Logs cannot be read (no region, no credentials, access denied, endpoint down)",
    "SML804": "no platform line (REPORT, INIT_*, RESTORE_*) in the window: nothing to measure",
    "SML805": "--compare-bench file unreadable or not `bench cold-start --json` output",
    "SML806": "--compare-plan is neither a ConcurrencyPlan file nor a reference scenario",
    "SML807": "option out of range (empty function name, --max-lines < 1)",
}


class ColdStartsError(SpecError):
    """A refusal by ``coldstarts``: a stable ``code`` (SML8xx) and what to change."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown coldstarts error code {code}")
        super().__init__(code, message)
