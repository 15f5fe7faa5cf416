"""The fixed part of every compiled model module: float32 rounding and ONNX Runtime's post-transforms.

This file is valid, tested Python and is copied verbatim (below the marker line) into each module
the compiler writes, so it may import nothing but the standard library and must not recurse.
Each function mirrors the onnxruntime CPU kernel it names (onnxruntime/core/providers/cpu/ml:
``ml_common.h``, ``tree_ensemble_aggregator.h``, ``linearclassifier.cc``, ``normalizer.cc``),
including its corner cases, so that compiled predictions equal onnxruntime's within 1e-5.
Arithmetic runs in float64 and every operator's result is rounded to float32, as onnxruntime
stores it; sums inside an operator stay in float64 (within float32's rounding of onnxruntime's).
"""

# --- prelude: copied into compiled modules from here on ------------------------------------------
from array import array
from collections.abc import Iterable, Sequence
from math import copysign, exp, log, sqrt
from math import pow as _pow

INF = float("inf")
NAN = float("nan")
NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO, PROBIT = range(5)
SUM, AVERAGE, MIN, MAX = range(4)
LEQ, LT, GTE, GT, EQ, NEQ = range(6)
_SQRT2 = 1.4142135381698608  # float32(1.41421356), onnxruntime's ml_sqrt2
_ERF_A = 0.14699999988079071  # float32(0.147)
_PI = 3.141590118408203  # float32(3.14159)


def as_float32(values: Iterable[float]) -> list[float]:
    """The values rounded to float32, as a list of Python floats (NaN stays NaN)."""
    return array("f", values).tolist()


def branch(mode: int, value: float, threshold: float) -> bool:
    """Whether a node of ``mode`` sends ``value`` to its true child (NaN compares false)."""
    if mode == LEQ:
        return value <= threshold
    if mode == LT:
        return value < threshold
    if mode == GTE:
        return value >= threshold
    if mode == GT:
        return value > threshold
    if mode == EQ:
        return value == threshold
    return value != threshold


def logistic(value: float) -> float:
    """onnxruntime's ComputeLogistic: 1 / (1 + e^-|v|), mirrored for negative v."""
    positive = 1.0 / (1.0 + exp(-abs(value)))
    return 1.0 - positive if value < 0 else positive


def _f32(value: float) -> float:
    return array("f", (value,))[0]


def probit(value: float) -> float:
    """onnxruntime's ComputeProbit: sqrt(2) * ErfInv(2v - 1), with its ErfInv approximation
    evaluated step by step in float32 (as onnxruntime does: float64 differs by up to 2e-4)."""
    x = _f32(2.0 * _f32(value) - 1.0)
    sign = -1.0 if x < 0 else 1.0
    x = _f32(_f32(1.0 - x) * _f32(1.0 + x))
    if x < 0.0 or x != x:  # outside (0, 1): C's log gives NaN
        return NAN
    if x == 0.0:
        return sign * INF
    ln = _f32(log(x))
    v = _f32(_f32(2.0 / _f32(_PI * _ERF_A)) + _f32(0.5 * ln))
    v2 = _f32(_f32(1.0 / _ERF_A) * ln)
    v3 = _f32(-v + _f32(sqrt(_f32(_f32(v * v) - v2))))
    return _f32(_SQRT2 * _f32(sign * _f32(sqrt(v3))))


def softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [exp(score - top) for score in scores]
    total = sum(exps)
    return [value / total for value in exps]


def softmax_zero(scores: Sequence[float]) -> list[float]:
    """Softmax that leaves (near-)zero scores at zero, as onnxruntime's ComputeSoftmaxZero."""
    top = max(scores)
    scale = exp(-top)
    out: list[float] = []
    total = 0.0
    for score in scores:
        if score > 1e-7 or score < -1e-7:
            value = exp(score - top)
            total += value
            out.append(value)
        else:
            out.append(score * scale)
    return [value / total for value in out]


def transform_all(scores: Sequence[float], transform: int) -> list[float]:
    """A post-transform over two or more scores (onnxruntime's write_scores, size >= 2)."""
    if transform == LOGISTIC:
        return [logistic(score) for score in scores]
    if transform == SOFTMAX:
        return softmax(scores)
    if transform == SOFTMAX_ZERO:
        return softmax_zero(scores)
    if transform == PROBIT:
        return [probit(score) for score in scores]
    return list(scores)


def transform_one(score: float, transform: int, second_class: int) -> list[float]:
    """A post-transform over one score, adding the other class's score as onnxruntime does:
    ``second_class`` 0-3 -> [logistic(-s), logistic(s)] under LOGISTIC; otherwise 0/1 (all
    weights positive) -> [1 - s, s] and 2/3 (mixed weights) -> [-s, s]; -1 -> [s].
    PROBIT gives [probit(s)]."""
    if transform == PROBIT:
        return [probit(score)]
    if second_class in (0, 1, 2, 3) and transform == LOGISTIC:
        return [logistic(-score), logistic(score)]
    if second_class in (0, 1):
        return [1.0 - score, score]
    if second_class in (2, 3):
        return [-score, score]
    return [score]


def finish_tree_classifier(
    scores: list[float],
    has: Sequence[bool],
    base: Sequence[float],
    n_classes: int,
    binary_case: bool,
    all_positive: bool,
    transform: int,
) -> list[float]:
    """Class scores of a TreeEnsembleClassifier from its per-class sums (TreeAggregatorClassifier)."""
    scores = list(scores)
    flags = list(has)
    if n_classes > 2:
        for k, value in enumerate(base):
            if flags[k]:
                scores[k] += value
            else:
                scores[k] = value
                flags[k] = True
        return transform_all(scores, transform)
    second_class = -1
    if len(base) == 2:
        if flags[1]:
            scores[1] = base[1] + scores[0]
            scores[0] = -scores[1]
        else:
            scores[1] += base[1]
            scores[0] += base[0]
    elif len(base) == 1:
        scores[0] += base[0]
        if not flags[1]:
            scores.pop()
    elif not base:
        second_class = 3
        if not flags[1]:
            scores.pop()
    positive = scores[1] if len(scores) == 2 and flags[1] else scores[0] if flags[0] else 0.0
    if binary_case and all_positive:
        second_class = 0 if positive > 0.5 else 1
    elif binary_case:
        second_class = 2 if positive > 0 else 3
    if len(scores) >= 2:  # a class no leaf scored is written as 0 (onnxruntime's ScoreValue)
        return transform_all(
            [s if f else 0.0 for s, f in zip(scores, flags, strict=True)], transform
        )
    return transform_one(scores[0], transform, second_class)


def finish_tree_regressor(
    scores: Sequence[float],
    has: Sequence[bool],
    base: Sequence[float],
    aggregate: int,
    n_trees: int,
    transform: int,
) -> list[float]:
    """Targets of a TreeEnsembleRegressor from its per-target aggregates (TreeAggregator*)."""
    if len(scores) == 1:  # onnxruntime's one-output path: only PROBIT applies
        score = scores[0]
        origin = base[0] if len(base) == 1 else 0.0
        if aggregate == AVERAGE:
            score = score / n_trees + origin
        elif aggregate == SUM:
            score = score + origin
        else:
            score = score + origin if has[0] else origin
        return [probit(score)] if transform == PROBIT else [score]
    use_base = len(base) == len(scores)
    out: list[float] = []
    for k, score in enumerate(scores):
        if not has[k]:  # no leaf scored it: written as 0 (onnxruntime's ScoreValue)
            out.append(0.0)
            continue
        if aggregate == AVERAGE:
            score = score / n_trees
        out.append(score + base[k] if use_base else score)
    return transform_all(out, transform)


def linear(
    x: Sequence[float], coefficients: Sequence[Sequence[float]], intercepts: Sequence[float]
) -> list[float]:
    """x . coefficients^T + intercepts, one row of coefficients per target."""
    return [
        sum(c * v for c, v in zip(row, x, strict=True)) + intercept
        for row, intercept in zip(coefficients, intercepts, strict=True)
    ]


def finish_linear(scores: Sequence[float], transform: int, second_class: int) -> list[float]:
    """LinearClassifier / LinearRegressor scores after onnxruntime's batched_update_scores_inplace."""
    if len(scores) > 1:
        return transform_all(scores, transform)
    if transform == PROBIT:
        return [probit(scores[0])]
    if second_class >= 0:
        return transform_one(scores[0], transform, second_class)
    return list(scores)


def normalize(x: Sequence[float], norm: str) -> list[float]:
    """onnxruntime's Normalizer: divide by the row's MAX, L1 or L2 norm (unchanged if it is 0)."""
    if norm == "MAX":
        divisor = max(x)
    elif norm == "L1":
        divisor = sum(abs(v) for v in x)
    else:
        squares = sum(v * v for v in x)
        if squares == 0.0:
            return list(x)
        return [(-1.0 if v < 0 else 1.0) * sqrt(v * v / squares) for v in x]
    if divisor == 0.0:
        return list(x)
    return [v / divisor for v in x]


def power(base: float, exponent: float) -> float:
    """base ** exponent as C's pow: NaN outside the real domain, inf on overflow."""
    try:
        return _pow(base, exponent)
    except ValueError:
        return NAN
    except OverflowError:
        return INF


def divide(numerator: float, denominator: float) -> float:
    """numerator / denominator as IEEE 754: x / 0 is a signed inf, 0 / 0 is NaN."""
    if denominator == 0.0:
        if numerator == 0.0 or numerator != numerator:
            return NAN
        return copysign(INF, numerator) * copysign(1.0, denominator)
    return numerator / denominator


def broadcast(values: Sequence[float], size: int) -> Sequence[float]:
    """A constant broadcast to ``size`` values (a scalar or one value per column)."""
    return [values[0]] * size if len(values) == 1 else values
