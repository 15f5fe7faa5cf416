"""The aggregate simulator's Poisson arithmetic against plain sums, and the sampled peak of a
busy minute against the exact simulator's."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serverless_ml.planner.arrivals import user_arrivals
from serverless_ml.planner.poisson import (
    cdf,
    erfc,
    erlang_b,
    erlang_b_one,
    log_pmf,
    normal_quantile,
    poisson_quantile,
    sample_peaks,
    sf,
)
from serverless_ml.planner.simulator import FunctionProfile, peak_concurrency


def pmf_sum(mu: float, k: int) -> tuple[float, float]:
    """P(X <= k) and P(X > k) summed in log space, term by term."""
    terms = [math.exp(j * math.log(mu) - mu - math.lgamma(j + 1)) for j in range(k + 400)]
    return sum(terms[: k + 1]), sum(terms[k + 1 :])


def erlang_recursion(mu: float, n: int) -> float:
    b = 1.0
    for k in range(1, n + 1):
        b = mu * b / (k + mu * b)
    return b


def test_erfc_and_normal_quantile() -> None:
    x = np.linspace(-5, 5, 101)
    exact = np.array([math.erfc(v) for v in x])
    assert np.allclose(erfc(x), exact, rtol=2e-7, atol=0)
    assert normal_quantile(np.array([0.975]))[0] == pytest.approx(1.959963985, abs=1e-8)
    u = np.linspace(1e-6, 1 - 1e-6, 999)
    assert np.all(np.diff(normal_quantile(u)) > 0)


@pytest.mark.parametrize("mu", [1e-4, 0.3, 4.0, 39.0, 41.0, 150.0, 2500.0])
def test_pmf_cdf_and_tail_match_plain_sums(mu: float) -> None:
    sigma = math.sqrt(mu)
    ks = sorted({0, 1, 2, 5, 39, 40, 41, *(max(0, round(mu + z * sigma)) for z in (-3, 0, 3, 6))})
    for k in ks:
        below, above = pmf_sum(mu, k)
        want = k * math.log(mu) - mu - math.lgamma(k + 1)
        assert log_pmf(np.array([k]), np.array([mu]))[0] == pytest.approx(want, abs=1e-8)
        assert cdf(np.array([k]), np.array([mu]))[0] == pytest.approx(below, abs=1e-6)
        if above > 1e-250:  # the tail is computed directly: relative accuracy far out
            assert sf(np.array([k]), np.array([mu]))[0] == pytest.approx(above, rel=0.02)


def test_huge_means_stay_finite_and_normal() -> None:
    mu = 1e15
    z = np.array([-3.0, 0.0, 3.0])
    k = np.round(mu + z * math.sqrt(mu))
    p = log_pmf(k, np.full(3, mu))
    normal = -(z**2) / 2 - 0.5 * math.log(2 * math.pi * mu)
    assert np.allclose(p, normal, atol=1e-3)
    assert np.allclose(cdf(k, np.full(3, mu)), [0.00135, 0.5, 0.99865], atol=2e-4)


@settings(max_examples=200, deadline=None)
@given(st.floats(0.01, 3000.0), st.integers(0, 400))
def test_erlang_b_equals_its_recursion(mu: float, n: int) -> None:
    want = erlang_recursion(mu, n)
    assert erlang_b_one(mu, n) == pytest.approx(want, rel=2e-3, abs=1e-12)
    assert erlang_b(np.array([mu]), np.array([n]))[0] == pytest.approx(want, rel=2e-3, abs=1e-12)


def test_erlang_b_edges() -> None:
    assert erlang_b_one(0.0, 0) == 1.0 and erlang_b_one(0.0, 3) == 0.0
    assert erlang_b_one(5.0, 0) == 1.0
    overloaded = erlang_b_one(1e12, 10**9)  # a pool far below demand turns ~all away
    assert overloaded == pytest.approx(1 - 1e-3, rel=1e-6)


@pytest.mark.parametrize("mu", [0.05, 2.0, 30.0, 400.0, 1e6])
def test_poisson_quantile_inverts_the_cdf(mu: float) -> None:
    u = np.linspace(0.01, 0.99, 41)
    k = poisson_quantile(np.full(len(u), mu), u).astype(np.float64)
    assert np.all(cdf(k, np.full(len(u), mu)) >= u - 2e-3)
    assert np.all(cdf(k - 1, np.full(len(u), mu)) <= u + 2e-3)


@pytest.mark.parametrize(
    ("per_minute", "duration_ms"), [(100, 500), (1000, 200), (10_000, 50), (30_000, 100)]
)
def test_sampled_peaks_match_the_exact_per_minute_peaks(
    per_minute: int, duration_ms: float
) -> None:
    rng = np.random.default_rng(1)
    minutes = 600
    t = user_arrivals(np.full(minutes, per_minute), rng=rng)
    exact = peak_concurrency(t, FunctionProfile(duration_ms=duration_ms), minutes)[1:]
    d = duration_ms / 1000.0
    mu = per_minute / 60.0 * d
    drawn = sample_peaks(
        np.full(minutes, mu), np.full(minutes, float(per_minute)), np.full(minutes, 1 + 60 / d),
        rng.random(minutes),
    )  # fmt: skip
    for q in (0.1, 0.5, 0.9, 0.99):
        assert abs(np.quantile(drawn, q) - np.quantile(exact, q)) <= 1 + 0.03 * mu
