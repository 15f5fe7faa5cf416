"""Sensor readings: validation, and the feature vector the IoT anomaly model scores.

Imported by the Lambda handler (at INIT) and by model training, so it uses the standard library
only. One reading is one JSON object from one device (other fields are ignored):

===========================  ================================================================
``device_id``                string, 1-128 characters
``timestamp``                ISO-8601 string with a UTC offset (``2026-01-05T12:00:00Z``) or
                             epoch seconds (a number); between 2000-01-01 and 2100-01-01 UTC
``<sensor>``                 number: the reading, for each sensor in ``SENSORS``
``<sensor>_baseline``        number: what the device expects for this sensor now (its own
                             rolling profile for this time of day, computed on the device)
``<sensor>_baseline_std``    number > 0: the sensor's usual noise around that baseline
``<sensor>_repeats``         whole number >= 0: how many readings in a row before this one
                             carried exactly this value
===========================  ================================================================

Why the device sends its baseline and repeat count: the function sees one reading at a time
(records of one device are spread over batches and environments), so a reading must carry what
makes it judgeable. A spike, a dropout (the channel reads 0) and a grown drift are far from the
baseline in units of the usual noise; a stuck sensor is usually close to its baseline but repeats
the same value for many readings, which real sensors with noise and a fine resolution rarely do.

Numbers must be JSON numbers (not booleans, not NaN or infinities); whole numbers accept ``3``
or ``3.0`` but not ``3.5``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Final, NamedTuple, TypeVar

from sml_handlers.runtime.fields import FieldErrors, Invalid, as_utc, describe, finite_number

SENSORS: Final[tuple[str, ...]] = ("temperature_c", "vibration_mm_s", "pressure_kpa", "rpm")
# Physically plausible range of a reading or baseline per sensor (refused outside: a unit error).
SENSOR_RANGES: Final[dict[str, tuple[float, float]]] = {
    "temperature_c": (-60.0, 300.0),
    "vibration_mm_s": (0.0, 500.0),
    "pressure_kpa": (0.0, 10_000.0),
    "rpm": (0.0, 100_000.0),
}
Z_CLIP: Final = 50.0  # deviations beyond 50 noise units are all "very far"
MAX_REPEATS: Final = 1_000_000
MAX_ID_LENGTH: Final = 128
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
NON_OBJECT_KEY: Final = "reading"  # the errors key used when the input is not an object
_T = TypeVar("_T")

# Model inputs, in order. Each fault shows on one sensor, so the model sees the most deviant
# sensor and the longest repeat run (per-sensor inputs made the isolation forest spend most of
# its random splits on healthy sensors: recall on drift fell from 0.45 to 0.27 at the same
# false-alarm rate, measured on the validation split). ``suspect_sensor`` names the sensor.
FEATURE_NAMES: Final[tuple[str, ...]] = (
    "max_abs_deviation",  # max over sensors of |value - baseline| / baseline_std, <= Z_CLIP
    "max_log_repeats",  # max over sensors of log1p(repeats)
)


class ReadingError(FieldErrors):
    """Invalid reading; ``errors`` maps each bad field to what is wrong and what is expected."""

    what = "reading"


class Reading(NamedTuple):
    """A validated reading. Per-sensor tuples follow ``SENSORS`` order; ``timestamp`` is the
    normalised UTC string ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (the anomalies table's sort key).
    A NamedTuple, not a dataclass: ``dataclasses`` imports ``inspect``, ~17 ms of INIT."""

    device_id: str
    timestamp: str
    values: tuple[float, ...]
    baselines: tuple[float, ...]
    baseline_stds: tuple[float, ...]
    repeats: tuple[int, ...]

    @property
    def temperature_c(self) -> float:
        return self.values[0]

    @property
    def vibration_mm_s(self) -> float:
        return self.values[1]

    @property
    def pressure_kpa(self) -> float:
        return self.values[2]

    @property
    def rpm(self) -> float:
        return self.values[3]

    def deviations(self) -> tuple[float, ...]:
        """Per sensor, (value - baseline) / baseline_std, clipped to +-Z_CLIP."""
        return tuple(
            max(-Z_CLIP, min(Z_CLIP, (value - base) / std))
            for value, base, std in zip(
                self.values, self.baselines, self.baseline_stds, strict=True
            )
        )


def _in_range(value: object, low: float, high: float) -> float:
    expected = f"a number from {low:g} to {high:g}"
    number = finite_number(value, expected)
    if not low <= number <= high:
        raise Invalid(f"must be {expected}, got {describe(value)}")
    return number


def _positive(value: object) -> float:
    number = finite_number(value, "a number > 0")
    if number <= 0:
        raise Invalid(f"must be a number > 0, got {describe(value)}")
    return number


def _count(value: object) -> int:
    expected = f"a whole number from 0 to {MAX_REPEATS}"
    number = finite_number(value, expected)
    if not number.is_integer() or not 0 <= number <= MAX_REPEATS:
        raise Invalid(f"must be {expected}, got {describe(value)}")
    return int(number)


def _device_id(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_LENGTH:
        raise Invalid(f"must be a string of 1-{MAX_ID_LENGTH} characters, got {describe(value)}")
    return value


def _timestamp(value: object) -> str:
    expected = "an ISO-8601 string with a UTC offset or epoch seconds, 2000-01-01..2100-01-01"
    moment: datetime
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(f"must be {expected}, got {describe(value)}") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise Invalid(f"must carry a UTC offset (e.g. 'Z'), got {describe(value)}")
    else:
        seconds = finite_number(value, expected)
        if not EARLIEST.timestamp() <= seconds < LATEST.timestamp():
            raise Invalid(f"must be {expected}, got {describe(value)}")
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    moment = as_utc(moment, expected, value)
    if not EARLIEST <= moment < LATEST:
        raise Invalid(f"must be {expected}, got {describe(value)}")
    # Microseconds: readings of one device less than a millisecond apart stay distinct rows,
    # and a fixed width keeps the sort key in time order.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain_number(value: object, kind: str, low: float, high: float) -> float | int | None:
    """``value`` when it is plainly valid for its field (the common case, decided without
    building a message), else None: the field's validator then says what is wrong."""
    kind_of = type(value)
    if kind_of is not float and kind_of is not int:  # bool is its own type: refused below
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:  # an integer beyond float's range
        return None
    if kind == "range":
        return number if low <= number <= high else None  # NaN and infinities fail too
    if kind == "positive":
        return number if 0 < number < math.inf else None
    if 0 <= number <= MAX_REPEATS and number.is_integer():
        return int(number)
    return None


def parse_reading(obj: object) -> Reading:
    """Validate one reading (a JSON object); ReadingError lists every bad or missing field."""
    if not isinstance(obj, Mapping):
        raise ReadingError({NON_OBJECT_KEY: f"must be a JSON object, got {describe(obj)}"})
    errors: dict[str, str] = {}

    def field(name: str, parse: Callable[[object], _T], default: _T) -> _T:
        if name not in obj:
            errors[name] = "is required"
            return default
        try:
            return parse(obj[name])
        except Invalid as problem:
            errors[name] = str(problem)
            return default

    device_id = field("device_id", _device_id, "")
    timestamp = field("timestamp", _timestamp, "")
    numbers: list[float | int] = []
    for name, kind, low, high in _NUMERIC_FIELDS:
        plain = _plain_number(obj.get(name), kind, low, high)
        if plain is None:
            plain = field(
                name, _validator(kind, low, high), 0 if kind == "count" else _DEFAULTS[kind]
            )
        numbers.append(plain)
    if errors:
        raise ReadingError(errors)
    return Reading(
        device_id=device_id,
        timestamp=timestamp,
        # Each check returns a float for readings, baselines and noise, an int for repeats.
        values=tuple(numbers[0::4]),  # type: ignore[arg-type]
        baselines=tuple(numbers[1::4]),  # type: ignore[arg-type]
        baseline_stds=tuple(numbers[2::4]),  # type: ignore[arg-type]
        repeats=tuple(numbers[3::4]),  # type: ignore[arg-type]
    )


# What a field that failed stands in as while the other fields are still checked.
_DEFAULTS: Final[dict[str, float | int]] = {"range": 0.0, "positive": 1.0, "count": 0}
# Every numeric field of a reading with its check, in SENSORS order, four per sensor:
# (name, kind, low, high) for the value, its baseline, the baseline's noise and the repeat run.
_NUMERIC_FIELDS: Final = tuple(
    entry
    for sensor in SENSORS
    for entry in (
        (sensor, "range", *SENSOR_RANGES[sensor]),
        (f"{sensor}_baseline", "range", *SENSOR_RANGES[sensor]),
        (f"{sensor}_baseline_std", "positive", 0.0, math.inf),
        (f"{sensor}_repeats", "count", 0.0, float(MAX_REPEATS)),
    )
)


def _validator(kind: str, low: float, high: float) -> Callable[[object], float | int]:
    """The full check of a field (it builds the message a client reads)."""
    if kind == "range":
        return lambda value: _in_range(value, low, high)
    return _positive if kind == "positive" else _count


def feature_vector(reading: Reading) -> list[float]:
    """The model's input row, in ``FEATURE_NAMES`` order."""
    deviation = max(abs(value) for value in reading.deviations())
    return [deviation, math.log1p(max(reading.repeats))]


def suspect_sensor(reading: Reading) -> str:
    """The sensor most likely at fault: the largest |deviation|, unless a repeat run is longer
    than 3 readings (then the sensor repeating the longest)."""
    longest = max(range(len(SENSORS)), key=lambda i: reading.repeats[i])
    if reading.repeats[longest] > 3:
        return SENSORS[longest]
    deviations = reading.deviations()
    return SENSORS[max(range(len(SENSORS)), key=lambda i: abs(deviations[i]))]
