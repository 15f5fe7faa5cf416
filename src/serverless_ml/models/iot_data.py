"""Seeded synthetic multi-sensor readings with injected faults, for the IoT anomaly model.

``generate_readings(n_devices, n_steps, seed=...)`` simulates ``n_devices`` machines reporting
once a minute for ``n_steps`` minutes from 2026-01-05T00:00Z, and returns the readings as the JSON
objects the IoT function accepts (``sml_handlers.iot.features.parse_reading``), in time order,
plus one label per reading: ``""`` for a healthy reading, else the fault type. The same
arguments always give the same data (numpy ``default_rng(seed)``, PCG64).

Each device has its own baselines and a daily cycle (UTC hour, per-device phase):

=================  ======================  ==============  ==================  ==========
sensor             per-device level        daily swing     noise (1 sigma)     resolution
=================  ======================  ==============  ==================  ==========
temperature_c      35-70 C                 +-2-6 C         0.25-0.4 C          0.1
vibration_mm_s     1.0-4.0 mm/s            +-10% of level  6-9% of level       0.01
pressure_kpa       250-600 kPa             +-5-20 kPa      1.5-3 kPa           0.1
rpm                1200/1800/2400/3000/    +-2% of level   0.3-0.5% of level   1
                   3600
=================  ======================  ==============  ==================  ==========

Readings are rounded to the sensor's resolution. The device's reported ``<sensor>_baseline`` is
its profile for that minute with a small estimation error (0.1 sigma), and ``_baseline_std`` its
noise sigma within +-10% (what a device learns over past days); ``_repeats`` is counted from the
emitted series itself, faults included.

Faults (4 episodes per device-day on average, Poisson; 70% spikes, 5% drifts, 10% stuck,
15% dropouts; ~5% of readings faulty), each on one sensor, each reading of an episode labelled with its type:

- **spike**: one reading off by 4-10 sigma (vibration upwards only).
- **drift**: over 120-360 readings the sensor's offset grows linearly from 1 to 6-12 sigma (on
  temperature, vibration or pressure): early drift readings are close to normal.
- **stuck**: the sensor repeats its last value for 30-180 readings while the process moves on.
- **dropout**: the channel reads 0 for 1-20 readings (a disconnected sensor loop).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np

from sml_handlers.iot.features import SENSORS

START: Final = datetime(2026, 1, 5, tzinfo=UTC)
FAULT_TYPES: Final[tuple[str, ...]] = ("spike", "drift", "stuck", "dropout")
NORMAL: Final = ""
RESOLUTION: Final[dict[str, float]] = {
    "temperature_c": 0.1,
    "vibration_mm_s": 0.01,
    "pressure_kpa": 0.1,
    "rpm": 1.0,
}
_DECIMALS: Final = {"temperature_c": 1, "vibration_mm_s": 2, "pressure_kpa": 1, "rpm": 0}
EPISODES_PER_DAY: Final = 4.0  # per device, all fault types together
FAULT_MIX: Final = (0.7, 0.05, 0.1, 0.15)  # share of episodes per FAULT_TYPES entry
_DRIFT_SENSORS: Final = (0, 1, 2)


def _profiles(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Per device and sensor (shape [n, 4]): level, daily swing, noise sigma; per device phase."""
    level = np.column_stack(
        [
            rng.uniform(35, 70, n),
            rng.uniform(1.0, 4.0, n),
            rng.uniform(250, 600, n),
            rng.choice([1200.0, 1800.0, 2400.0, 3000.0, 3600.0], n),
        ]
    )
    swing = np.column_stack(
        [
            rng.uniform(2, 6, n),
            level[:, 1] * 0.10,
            rng.uniform(5, 20, n),
            level[:, 3] * 0.02,
        ]
    )
    sigma = np.column_stack(
        [
            rng.uniform(0.25, 0.4, n),
            level[:, 1] * rng.uniform(0.06, 0.09, n),
            rng.uniform(1.5, 3.0, n),
            level[:, 3] * rng.uniform(0.003, 0.005, n),
        ]
    )
    return {"level": level, "swing": swing, "sigma": sigma, "phase": rng.uniform(0, 24, n)}


def _quantize(values: np.ndarray) -> np.ndarray:
    steps = np.asarray([RESOLUTION[s] for s in SENSORS])
    return np.asarray(np.round(values / steps) * steps)


def _inject(
    rng: np.random.Generator, series: np.ndarray, sigma: np.ndarray, labels: list[str]
) -> None:
    """Add fault episodes to one device's quantized ``series`` [steps, 4] in place."""
    steps = series.shape[0]
    episodes = rng.poisson(EPISODES_PER_DAY * steps / 1440.0)
    for _ in range(episodes):
        kind = FAULT_TYPES[int(rng.choice(len(FAULT_TYPES), p=FAULT_MIX))]
        start = int(rng.integers(steps))
        if kind == "spike":
            sensor = int(rng.integers(len(SENSORS)))
            sign = 1.0 if sensor == 1 else float(rng.choice([-1.0, 1.0]))
            span = range(start, start + 1)
            series[start, sensor] += sign * rng.uniform(4, 10) * sigma[sensor]
        elif kind == "drift":
            sensor = int(_DRIFT_SENSORS[int(rng.integers(len(_DRIFT_SENSORS)))])
            length = int(rng.integers(120, 361))
            span = range(start, min(steps, start + length))
            ramp = np.linspace(1.0, rng.uniform(6, 12), length)[: len(span)]
            sign = 1.0 if sensor == 1 else float(rng.choice([-1.0, 1.0]))
            series[span.start : span.stop, sensor] += sign * ramp * sigma[sensor]
        elif kind == "stuck":
            sensor = int(rng.integers(len(SENSORS)))
            length = int(rng.integers(30, 181))
            span = range(start, min(steps, start + length))
            held = series[max(0, start - 1), sensor]
            series[span.start : span.stop, sensor] = held
        else:  # dropout
            sensor = int(rng.integers(len(SENSORS)))
            span = range(start, min(steps, start + int(rng.integers(1, 21))))
            series[span.start : span.stop, sensor] = 0.0
        for index in span:
            if not labels[index]:  # overlapping episodes: the first one names the reading
                labels[index] = kind


def _repeats(series: np.ndarray) -> np.ndarray:
    counts = np.zeros(series.shape, dtype=np.int64)
    for t in range(1, series.shape[0]):
        same = series[t] == series[t - 1]
        counts[t] = np.where(same, counts[t - 1] + 1, 0)
    return counts


def generate_readings(
    n_devices: int, n_steps: int, *, seed: int, device_prefix: str = "dev"
) -> tuple[list[dict[str, Any]], list[str]]:
    """``n_devices * n_steps`` readings (time order, then device) and their fault labels."""
    if n_devices < 1 or n_steps < 1:
        raise ValueError("n_devices and n_steps must be >= 1")
    rng = np.random.default_rng(seed)
    profile = _profiles(rng, n_devices)
    minutes = np.arange(n_steps, dtype=np.float64)
    per_device: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]] = []
    for device in range(n_devices):
        hours = (minutes / 60.0 - profile["phase"][device]) % 24.0
        cycle = np.sin(2.0 * math.pi * hours / 24.0)[:, None]
        expected = profile["level"][device] + profile["swing"][device] * cycle
        sigma = profile["sigma"][device]
        series = _quantize(expected + rng.normal(0.0, 1.0, expected.shape) * sigma)
        labels = [NORMAL] * n_steps
        _inject(rng, series, sigma, labels)
        series = np.maximum(_quantize(series), 0.0)
        baseline = expected + rng.normal(0.0, 0.1, expected.shape) * sigma
        reported_sigma = sigma * rng.uniform(0.9, 1.1, sigma.shape)
        per_device.append(
            (
                series,
                baseline,
                np.broadcast_to(reported_sigma, series.shape),
                _repeats(series),
                labels,
            )
        )
    readings: list[dict[str, Any]] = []
    labels_out: list[str] = []
    for step in range(n_steps):
        timestamp = (START + timedelta(minutes=step)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for device, (series, baseline, sigma, repeats, labels) in enumerate(per_device):
            reading: dict[str, Any] = {
                "device_id": f"{device_prefix}-{device:04d}",
                "timestamp": timestamp,
            }
            for index, sensor in enumerate(SENSORS):
                decimals = _DECIMALS[sensor]
                reading[sensor] = round(float(series[step, index]), decimals)
                reading[f"{sensor}_baseline"] = round(float(baseline[step, index]), decimals + 2)
                reading[f"{sensor}_baseline_std"] = round(float(sigma[step, index]), 4)
                reading[f"{sensor}_repeats"] = int(repeats[step, index])
            readings.append(reading)
            labels_out.append(labels[step])
    return readings, labels_out
