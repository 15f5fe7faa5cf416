"""Poisson arithmetic for the aggregate simulator, vectorized in numpy alone (no scipy).

- ``log_pmf`` / ``cdf`` / ``sf``: exact sums for small counts; Stirling's series and Peizer and
  Pratt's normal approximation for large ones (the tail is computed directly, not as 1 - cdf).
- ``erlang_b``: the share of requests a pool of ``n`` environments turns away when ``mu`` are
  in flight on average (Erlang's loss formula; it holds for any duration distribution).
- ``sample_peaks``: the most requests in flight at an arrival within a span of ``L`` seconds,
  drawn from Alm's (1983) approximation of the Poisson scan statistic::

      P(peak >= k) ~ 1 - F(k-1; mu) * exp(-(1 - mu/k) * lam * L * p(k-1; mu)),  mu = lam * w

  (``lam * p(k-1)`` is the rate at which arrivals find k-1 in flight; ``1 - mu/k`` discounts
  the clumps of such crossings). Checked against the exact simulator in the tests.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

SMALL = 100.0  # means up to this use an integer grid of levels and exact sums
_BINS = (2.0, 15.0, SMALL)  # grids per range of means
_EXACT_K = 40  # counts below this sum the pmf exactly in ``cdf``
_GRID = 64  # levels evaluated per span when the mean is large
_OVERLOAD = 0.8  # Erlang B by its series below n = 0.8 mu (Peizer-Pratt's tail is too far out)
_SERIES_TERMS = 200  # 0.8^200 < 1e-19
_LOG_FACT = np.array([math.lgamma(k + 1.0) for k in range(_EXACT_K + 2)])
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def erfc(x: Floats) -> Floats:
    """Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7)."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (
        1.00002368
        + t
        * (
            0.37409196
            + t
            * (
                0.09678418
                + t
                * (
                    -0.18628806
                    + t
                    * (
                        0.27886807
                        + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))
                    )
                )
            )
        )
    )
    ans = t * np.exp(-z * z + poly)
    return np.where(x >= 0, ans, 2.0 - ans)


def log_pmf(k: Floats, mu: Floats) -> Floats:
    """log P(X = k) for X ~ Poisson(mu), k >= 0 (real k above ``_EXACT_K``); -inf when mu = 0, k > 0."""
    k, mu = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(mu, dtype=np.float64))
    out = np.full(k.shape, -np.inf)
    pos = mu > 0
    small = pos & (k <= _EXACT_K)
    if small.any():
        ks = k[small]
        out[small] = ks * np.log(mu[small]) - mu[small] - _LOG_FACT[ks.astype(np.int64)]
    big = pos & ~small
    if big.any():
        kb, mb = k[big], mu[big]
        # k log(mu/k) + k - mu - log(2 pi k)/2 - 1/(12k) + 1/(360k^3), stable for mu ~ k ~ 1e15
        out[big] = (
            (kb - mb)
            - kb * np.log1p((kb - mb) / mb)
            - _HALF_LOG_2PI
            - 0.5 * np.log(kb)
            - 1.0 / (12.0 * kb)
            + 1.0 / (360.0 * kb**3)
        )
    out[(mu <= 0) & (k == 0)] = 0.0
    return out


def _peizer_pratt(k: Floats, mu: Floats) -> Floats:
    """z with P(X <= k) ~ Phi(z) (Peizer and Pratt, 1968; relative tail error < 0.3% for
    k >= 40): z = (k + 2/3 - mu + 0.02/(k+1)) * sqrt((1 + g(s)) / mu), s = (k + 1/2) / mu."""
    s = (k + 0.5) / mu
    delta = s - 1.0
    near = np.abs(delta) < 1e-2
    safe = np.where(near, 2.0, s)
    g = np.where(
        near,
        delta * (-1.0 / 3.0 + delta * (1.0 / 6.0 + delta * (-0.1 + delta / 15.0))),
        (1.0 - safe * safe + 2.0 * safe * np.log(safe)) / np.where(near, 1.0, delta * delta),
    )
    return (k + 2.0 / 3.0 - mu + 0.02 / (k + 1.0)) * np.sqrt((1.0 + g) / mu)


def _exact_sums(k: Floats, mu: Floats) -> tuple[Floats, Floats]:
    """P(X <= k) and P(X > k) summed term by term, for integer 0 <= k < 40."""
    j = np.arange(_EXACT_K + 120, dtype=np.float64)
    terms = np.exp(log_pmf(j[None, :], mu[:, None]))
    below = j[None, :] <= k[:, None]
    low = np.minimum(1.0, np.where(below, terms, 0.0).sum(axis=1))
    high = np.where(below, 0.0, terms).sum(axis=1)
    return low, np.where(low < 0.5, 1.0 - low, np.minimum(high, 1.0))


def cdf(k: Floats, mu: Floats) -> Floats:
    """P(X <= k) for X ~ Poisson(mu); k below 0 gives 0."""
    return _cdf_sf(k, mu)[0]


def sf(k: Floats, mu: Floats) -> Floats:
    """P(X > k), accurate in the far tail (not 1 - cdf)."""
    return _cdf_sf(k, mu)[1]


def _cdf_sf(k: Floats, mu: Floats) -> tuple[Floats, Floats]:
    k, mu = np.broadcast_arrays(np.asarray(k, dtype=np.float64), np.asarray(mu, dtype=np.float64))
    k = np.floor(k)
    low, high = np.zeros(k.shape), np.ones(k.shape)
    exact = (k >= 0) & (k < _EXACT_K)
    if exact.any():
        low[exact], high[exact] = _exact_sums(k[exact], mu[exact])
    big = (k >= _EXACT_K) & (mu > 0)
    if big.any():
        z = _peizer_pratt(k[big], mu[big]) / math.sqrt(2.0)
        low[big], high[big] = 0.5 * erfc(-z), 0.5 * erfc(z)
    none = (k >= 0) & (mu <= 0)
    low[none], high[none] = 1.0, 0.0
    return low, high


def _log_phi(z: Floats) -> Floats:
    """log Phi(z), with the asymptotic series far in the lower tail."""
    far = z < -35.0
    zs = np.where(far, -1.0, z)
    near_part = np.log(np.maximum(0.5 * erfc(-zs / math.sqrt(2.0)), 1e-320))
    zf = np.where(far, z, -40.0)
    far_part = -0.5 * zf * zf - np.log(-zf) - _HALF_LOG_2PI + np.log1p(-1.0 / zf**2 + 3.0 / zf**4)
    return np.where(far, far_part, near_part)


def erlang_b(mu: Floats, n: Ints) -> Floats:
    """Share of arrivals finding all ``n`` environments busy when ``mu`` are in flight on average
    (Erlang's loss formula p(n)/F(n), by its recursion up to 40, in logs above)."""
    mu, n = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(n, dtype=np.int64))
    out = np.ones(mu.shape)
    small = n <= _EXACT_K
    if small.any():
        ms, ns = mu[small], n[small]
        b = np.ones(ms.shape)
        res = np.where(ns == 0, 1.0, 0.0)
        for step in range(1, int(ns.max(initial=0)) + 1):
            b = ms * b / (step + ms * b)
            res = np.where(ns == step, b, res)
        out[small] = res
    over = ~small & (mu > 0) & (n < _OVERLOAD * mu)
    if over.any():  # 1/B = sum_j n!/(n-j)! / mu^j: terms shrink by n/mu < 0.8 or faster
        ratio, left = n[over] / mu[over], n[over].astype(np.float64)
        inverse, term = np.ones(ratio.shape), np.ones(ratio.shape)
        mo = mu[over]
        for j in range(_SERIES_TERMS):
            term = term * np.maximum(left - j, 0.0) / mo
            inverse += term
            if j % 8 == 7 and not (term > 1e-17 * inverse).any():
                break
        out[over] = 1.0 / inverse
    big = ~small & (mu > 0) & ~over
    if big.any():
        nb, mb = n[big].astype(np.float64), mu[big]
        out[big] = np.exp(log_pmf(nb, mb) - _log_phi(_peizer_pratt(nb, mb)))
    return np.where(mu > 0, np.minimum(out, 1.0), np.where(n == 0, 1.0, 0.0))


def erlang_b_one(mu: float, n: int) -> float:
    """``erlang_b`` for one pool, without numpy's per-call overhead."""
    if mu <= 0.0:
        return 1.0 if n == 0 else 0.0
    if n <= _EXACT_K:
        b = 1.0
        for step in range(1, n + 1):
            b = mu * b / (step + mu * b)
        return b
    if n < _OVERLOAD * mu:
        inverse = term = 1.0
        for j in range(_SERIES_TERMS):
            term *= max(n - j, 0) / mu
            inverse += term
            if term < 1e-17 * inverse:
                break
        return 1.0 / inverse
    k = float(n)
    log_p = (
        (k - mu)
        - k * math.log1p((k - mu) / mu)
        - _HALF_LOG_2PI
        - 0.5 * math.log(k)
        - 1.0 / (12.0 * k)
        + 1.0 / (360.0 * k**3)
    )
    s = (k + 0.5) / mu
    delta = s - 1.0
    if abs(delta) < 1e-2:
        g = delta * (-1.0 / 3.0 + delta * (1.0 / 6.0 + delta * (-0.1 + delta / 15.0)))
    else:
        g = (1.0 - s * s + 2.0 * s * math.log(s)) / (delta * delta)
    z = (k + 2.0 / 3.0 - mu + 0.02 / (k + 1.0)) * math.sqrt((1.0 + g) / mu)
    if z < -35.0:
        log_phi = -0.5 * z * z - math.log(-z) - _HALF_LOG_2PI + math.log1p(-1 / z**2 + 3 / z**4)
    else:
        log_phi = math.log(max(0.5 * math.erfc(-z / math.sqrt(2.0)), 1e-320))
    return min(1.0, math.exp(min(0.0, log_p - log_phi)))


def normal_quantile(u: Floats) -> Floats:
    """z with Phi(z) = u, 0 < u < 1 (Acklam's rational approximation, relative error 1e-9)."""
    a = (-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690,
         -30.66479806614716, 2.506628277459239)  # fmt: skip
    b = (-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972,
         -13.28068155288572)  # fmt: skip
    c = (-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
         4.374664141464968, 2.938163982698783)  # fmt: skip
    d = (0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416)
    u = np.clip(np.asarray(u, dtype=np.float64), 1e-300, 1.0 - 1e-16)
    low = np.minimum(u, 1.0 - u)
    q = np.sqrt(-2.0 * np.log(low))
    tail = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
        (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0
    )
    tail = np.where(u < 0.5, tail, -tail)
    r = (u - 0.5) ** 2
    mid = (
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
        * (u - 0.5)
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    )
    return np.where(np.abs(u - 0.5) <= 0.47575, mid, tail)


def poisson_quantile(mu: Floats, u: Floats) -> Ints:
    """The smallest k with P(X <= k) >= u for X ~ Poisson(mu): exact sums for means up to
    ``SMALL``, Cornish-Fisher (normal plus skew) above."""
    mu, u = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(u, dtype=np.float64))
    out = np.zeros(mu.shape, dtype=np.int64)
    small = (mu > 0) & (mu <= SMALL)
    if small.any():
        keys, inverse = np.unique(mu[small], return_inverse=True)
        top = math.ceil(keys.max() + 10.0 * math.sqrt(keys.max() + 1.0) + 12.0)
        j = np.arange(top, dtype=np.float64)
        below = np.cumsum(np.exp(log_pmf(j[None, :], keys[:, None])), axis=1)
        out[small] = (below[inverse.ravel()] < u[small][:, None]).sum(axis=1)
    big = mu > SMALL
    if big.any():
        z = normal_quantile(u[big])
        m = mu[big]
        k = m + np.sqrt(m) * z + (z * z - 1.0) / 6.0 - 0.5 + 0.5  # continuity: P(X <= k)
        out[big] = np.clip(np.rint(k), 0.0, 2.0**62).astype(np.int64)
    return out


def _tail(
    below: Floats,
    above: Floats,
    pmf: Floats,
    k: Floats,
    mu: Floats,
    lam_span: Floats,
    windows: Floats,
) -> Floats:
    """P(peak >= k) from F(k-1), P(X > k-1) and p(k-1): the larger of Alm's approximation and
    the chance that one of ``windows`` disjoint windows holds k (Alm's declumping undercounts
    near the mean), made non-increasing in k (the last axis)."""
    declump = np.clip(1.0 - mu / np.maximum(k, 1e-300), 0.0, 1.0)
    alm = above + below * -np.expm1(-declump * pmf * lam_span)  # 1 - F e^-x, stable when small
    disjoint = -np.expm1(windows * np.log1p(-np.minimum(above, 1.0 - 1e-16)))
    tail = np.maximum(alm, disjoint)
    return np.maximum.accumulate(tail[..., ::-1], axis=-1)[..., ::-1]


def peak_tail(k: Floats, mu: Floats, lam_span: Floats, windows: Floats) -> Floats:
    """P(peak >= k) on a grid of levels ``k`` (last axis, ascending); see the module docstring."""
    below, above = _cdf_sf(k - 1.0, mu)
    pmf = np.exp(log_pmf(np.maximum(k - 1.0, 0.0), mu))
    return _tail(below, above, pmf, k, mu, lam_span, windows)


def sample_peaks(mu: Floats, lam_span: Floats, windows: Floats, u: Floats) -> Ints:
    """One draw (upper quantile ``u``) of the peak per span: ``mu`` requests in flight on average,
    arrivals at ``lam_span`` per span, ``windows`` = 1 + span / duration. At least 1.

    The distribution is computed once per distinct (mu, lam_span, windows): a function's
    minutes with the same count share it.
    """
    mu, lam_span, windows, u = np.broadcast_arrays(
        np.asarray(mu, dtype=np.float64),
        np.asarray(lam_span, dtype=np.float64),
        np.asarray(windows, dtype=np.float64),
        np.asarray(u, dtype=np.float64),
    )
    out = np.ones(mu.shape, dtype=np.int64)
    if not mu.size:
        return out
    keys, inverse = np.unique(np.stack([mu, lam_span, windows]), axis=1, return_inverse=True)
    inverse = inverse.ravel()
    mu_k, lam_k, win_k = keys
    low = 0.0
    for high in _BINS:  # an integer grid per range of means, as wide as that range needs
        sel = (mu_k > low) & (mu_k <= high) if low else (mu_k <= high)
        low = high
        if not sel.any():
            continue
        ms, ls, ws = mu_k[sel], lam_k[sel], win_k[sel]
        top = math.ceil(high + 10.0 * math.sqrt(high + 1.0) + 12.0)
        j = np.arange(top + 12, dtype=np.float64)
        pmf = np.exp(log_pmf(j[None, :], ms[:, None]))
        below = np.minimum(1.0, np.cumsum(pmf, axis=1))[:, :top]  # F(k-1) for k = 1..top
        above = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1][:, 1 : top + 1]  # P(X > k-1)
        k = j[None, 1 : top + 1]
        tail = _tail(below, above, pmf[:, :top], k, ms[:, None], ls[:, None], ws[:, None])
        row = np.full(len(keys[0]), -1)
        row[np.flatnonzero(sel)] = np.arange(int(sel.sum()))
        slots = np.flatnonzero(row[inverse] >= 0)
        out[slots] = np.maximum(1, (tail[row[inverse[slots]]] >= u[slots, None]).sum(axis=1))
    big_k = mu_k > SMALL
    if big_k.any():
        mb, lb, wb = mu_k[big_k], lam_k[big_k], win_k[big_k]
        z_top = np.sqrt(2.0 * np.log(np.maximum(lb, 2.0))) + 4.0
        frac = np.linspace(0.0, 1.0, _GRID)
        z = -4.0 + frac[None, :] * (z_top[:, None] + 4.0)
        k = np.maximum(1.0, np.round(mb[:, None] + np.sqrt(mb)[:, None] * z))
        tail_k = peak_tail(k, mb[:, None], lb[:, None], wb[:, None])
        row = np.full(len(keys[0]), -1)
        row[np.flatnonzero(big_k)] = np.arange(int(big_k.sum()))
        slots = np.flatnonzero(row[inverse] >= 0)
        rows = row[inverse[slots]]
        tail, grid, ub = tail_k[rows], k[rows], u[slots]
        j = np.clip((tail >= ub[:, None]).sum(axis=1) - 1, 0, _GRID - 2)
        at = np.arange(len(slots))
        g0, g1 = tail[at, j], tail[at, j + 1]
        k0, k1 = grid[at, j], grid[at, j + 1]
        share = np.clip((g0 - ub) / np.maximum(g0 - g1, 1e-300), 0.0, 1.0)
        top = np.clip(np.floor(k0 + share * (k1 - k0)), 1.0, 2.0**62)  # int64-safe
        out[slots] = top.astype(np.int64)
    return out
