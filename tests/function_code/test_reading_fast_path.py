"""``parse_reading`` takes plainly valid numbers without building messages; whatever the
input, it returns or refuses exactly what each field's own validator decides."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sml_handlers.iot import features as f
from sml_handlers.runtime.fields import Invalid

NUMBERS = (
    st.sampled_from([0, 0.0, -0.0, 1, 3.0, 3.5, -60.0, 300.0, 300.0001, 1e6, 1e6 + 1, 10**400,
                     math.nan, math.inf, -math.inf, True, False, 5e-324])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.none()
    | st.text(max_size=3)
)  # fmt: skip


def expected(obj: dict[str, Any]) -> tuple[str, Any]:
    """What the field validators alone decide for ``obj``."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    checks: list[tuple[str, Any]] = [("device_id", f._device_id), ("timestamp", f._timestamp)]
    for name, kind, low, high in f._NUMERIC_FIELDS:
        checks.append((name, f._validator(kind, low, high)))
    for name, check in checks:
        if name not in obj:
            errors[name] = "is required"
            continue
        try:
            values[name] = check(obj[name])
        except Invalid as problem:
            errors[name] = str(problem)
    return ("errors", errors) if errors else ("values", values)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_fast_path_decides_as_the_validators(data: st.DataObject) -> None:
    obj: dict[str, Any] = {"device_id": "pump-1", "timestamp": "2026-01-05T12:00:00Z"}
    for name, _kind, low, high in f._NUMERIC_FIELDS:
        if data.draw(st.booleans()):
            obj[name] = data.draw(NUMBERS)
        elif data.draw(st.booleans()):
            obj[name] = data.draw(st.floats(min_value=max(low, 1e-9), max_value=min(high, 1e6)))
    outcome, detail = expected(obj)
    try:
        reading = f.parse_reading(obj)
    except f.ReadingError as error:
        assert outcome == "errors" and error.errors == detail
        return
    assert outcome == "values"
    assert reading.values == tuple(detail[s] for s in f.SENSORS)
    assert reading.baselines == tuple(detail[f"{s}_baseline"] for s in f.SENSORS)
    assert reading.baseline_stds == tuple(detail[f"{s}_baseline_std"] for s in f.SENSORS)
    assert reading.repeats == tuple(detail[f"{s}_repeats"] for s in f.SENSORS)
    assert all(type(v) is float for v in (*reading.values, *reading.baselines))
    assert all(type(v) is int for v in reading.repeats)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_valid_readings_come_out_as_the_validators_give_them(data: st.DataObject) -> None:
    obj: dict[str, Any] = {"device_id": "pump-1", "timestamp": 1_767_614_400.5}
    for name, kind, low, high in f._NUMERIC_FIELDS:
        if kind == "count":
            obj[name] = data.draw(st.integers(0, 50) | st.sampled_from([0.0, 7.0, 1e6]))
        else:
            bottom = max(low, 1e-6) if kind == "positive" else low
            obj[name] = data.draw(
                st.floats(min_value=bottom, max_value=min(high, 1e9)) | st.integers(1, 60)
            )
    outcome, detail = expected(obj)
    reading = f.parse_reading(obj)
    assert outcome == "values"
    assert reading.values == tuple(detail[s] for s in f.SENSORS)
    assert reading.repeats == tuple(detail[f"{s}_repeats"] for s in f.SENSORS)
