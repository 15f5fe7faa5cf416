"""Lambda event filtering, locally: which stream records an event source mapping delivers.

Rules from https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html: a
mapping has up to five (ten on request) patterns, each a JSON object as a string; a record is
delivered when it matches ANY of them, and Lambda discards (checkpoints) the others. A pattern
matches when every one of its fields matches (AND): a nested object descends into the record,
a list of rules matches when any rule does (OR), and ``"$or": [pattern, ...]`` matches when any
of its patterns does. A list in the record matches when any of its elements does. Rules:

- exact values: a string, number, ``true`` / ``false``; ``null`` (the field is null) and
  ``""`` (it is the empty string); strings and numbers never equal each other;
- ``{"prefix": "us-"}``, ``{"suffix": ".png"}``, ``{"equals-ignore-case": "alice"}`` (strings);
- ``{"anything-but": value | [values] | {"prefix": s} | {"suffix": s}}``: a present field whose
  value is none of them (the prefix / suffix forms match strings only);
- ``{"numeric": ["=", 100]}`` or a range ``{"numeric": [">", 10, "<=", 20]}`` (``=``, ``>``,
  ``>=``, ``<``, ``<=``), on JSON numbers only (a DynamoDB ``N`` attribute is a string in the
  record, so numeric rules never match it);
- ``{"exists": true}`` (the field is present and not an object) / ``{"exists": false}``.

A missing field matches only ``{"exists": false}``. A value set to ``OPAQUE`` (Kinesis ``data``
that is not JSON, see with-kinesis-filtering.html) matches nothing, ``exists: false`` included.
A pattern that is not a JSON object, or uses an unknown operator, raises ValueError.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

_NUMERIC_OPS: Final = frozenset({"=", ">", ">=", "<", "<="})
_OPERATORS: Final = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists")


class _Opaque:
    def __repr__(self) -> str:
        return "OPAQUE"


OPAQUE: Final = _Opaque()
"""A field value no rule matches (not even ``exists: false``)."""
_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class EventFilter:
    """A mapping's parsed filter patterns; no patterns means every record is delivered."""

    patterns: tuple[dict[str, Any], ...] = ()

    @classmethod
    def parse(cls, texts: Iterable[str]) -> EventFilter:
        """Patterns as Lambda takes them (JSON strings); ValueError on an invalid one."""
        return cls(tuple(parse_pattern(text, index) for index, text in enumerate(texts, 1)))

    def accepts(self, record: Mapping[str, Any]) -> bool:
        """Whether the mapping delivers ``record`` (its filter view, see ``matches``)."""
        return not self.patterns or any(matches(p, record) for p in self.patterns)


def parse_pattern(text: str, index: int = 1) -> dict[str, Any]:
    """One pattern (a JSON object as a string), validated; ``index`` names it in errors."""
    try:
        pattern = json.loads(text)
    except (TypeError, ValueError) as error:
        raise ValueError(f"filter pattern {index} is not valid JSON ({error}): {text!r}") from None
    if not isinstance(pattern, dict):
        raise ValueError(f"filter pattern {index} must be a JSON object, got {text!r}")
    _check_object(pattern, f"filter pattern {index}")
    return pattern


def _check_object(pattern: Mapping[str, Any], where: str) -> None:
    for key, value in pattern.items():
        path = f"{where}: {key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise ValueError(f"{path} must be a list of at least two patterns")
            for option in value:
                if not isinstance(option, dict):
                    raise ValueError(f"{path} options must be JSON objects, got {option!r}")
                _check_object(option, where)
        elif isinstance(value, dict):
            _check_object(value, path)
        elif isinstance(value, list):
            if not value:
                raise ValueError(f"{path}: an empty list of rules matches nothing")
            for rule in value:
                _check_rule(rule, path)
        else:
            raise ValueError(f"{path} must be a list of rules or an object, got {value!r}")


def _check_rule(rule: Any, path: str) -> None:
    if rule is None or isinstance(rule, str | int | float):
        return
    if not isinstance(rule, dict) or len(rule) != 1:
        raise ValueError(f"{path}: a rule is a value or a one-key operator object, got {rule!r}")
    ((operator, operand),) = rule.items()
    if operator in ("prefix", "suffix", "equals-ignore-case"):
        ok = isinstance(operand, str)
    elif operator == "exists":
        ok = isinstance(operand, bool)
    elif operator == "numeric":
        ok = _valid_numeric(operand)
    elif operator == "anything-but":
        ok = _valid_anything_but(operand)
    else:
        raise ValueError(f"{path}: unknown operator {operator!r} (supported: {_OPERATORS})")
    if not ok:
        raise ValueError(f"{path}: invalid operand for {operator!r}: {operand!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _valid_numeric(operand: Any) -> bool:
    """``[op, n]`` or a range ``[lower op, n, upper op, m]`` (either order) with ``n < m``."""
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        return False
    ops, bounds = operand[0::2], operand[1::2]
    if not all(op in _NUMERIC_OPS for op in ops) or not all(map(_is_number, bounds)):
        return False
    if len(ops) == 1:
        return True
    (low_op, low), (high_op, high) = sorted(zip(ops, bounds, strict=True), key=_is_upper)
    return low_op in (">", ">=") and high_op in ("<", "<=") and low < high


def _is_upper(bound: tuple[str, float]) -> bool:
    return bound[0] in ("<", "<=")


def _valid_anything_but(operand: Any) -> bool:
    if isinstance(operand, dict):
        return (
            len(operand) == 1
            and next(iter(operand)) in ("prefix", "suffix")
            and all(isinstance(v, str) for v in operand.values())
        )
    values = operand if isinstance(operand, list) else [operand]
    return bool(values) and all(v is None or isinstance(v, str | int | float) for v in values)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether ``event`` (a JSON value) matches a parsed ``pattern`` (module docstring)."""
    if event is OPAQUE:
        return False
    fields = event if isinstance(event, Mapping) else {}
    for key, rule in pattern.items():
        if key == "$or":
            if not any(matches(option, event) for option in rule):
                return False
            continue
        value = fields.get(key, _MISSING)
        if isinstance(rule, dict):
            if value is OPAQUE:
                return False
            if isinstance(value, list):
                objects = [v for v in value if isinstance(v, Mapping)]
                if not any(matches(rule, v) for v in objects or [{}]):
                    return False
            elif not matches(rule, value if isinstance(value, Mapping) else {}):
                return False
        elif not _matches_rules(rule, value):
            return False
    return True


def _matches_rules(rules: list[Any], value: Any) -> bool:
    if value is OPAQUE:
        return False
    if value is _MISSING:
        return any(isinstance(r, dict) and r.get("exists") is False for r in rules)
    candidates = value if isinstance(value, list) else [value]
    return any(_leaf(rule, value, v) for rule in rules for v in candidates)


def _leaf(rule: Any, whole: Any, value: Any) -> bool:
    """One rule against one value (``whole``: the field, for ``exists``)."""
    if not isinstance(rule, dict):
        return _equal(rule, value)
    ((operator, operand),) = rule.items()
    if operator == "exists":
        return bool(operand) and not isinstance(whole, Mapping)
    if operator == "numeric":
        return _is_number(value) and _in_range(operand, value)
    if operator == "anything-but":
        return _anything_but(operand, value)
    if not isinstance(value, str):
        return False
    if operator == "prefix":
        return value.startswith(operand)
    if operator == "suffix":
        return value.endswith(operand)
    return bool(value.casefold() == operand.casefold())  # equals-ignore-case


def _equal(expected: Any, value: Any) -> bool:
    if expected is None or value is None:
        return expected is None and value is None
    if isinstance(expected, bool) or isinstance(value, bool):
        return type(expected) is type(value) and expected == value
    if _is_number(expected):
        return _is_number(value) and float(expected) == float(value)
    return isinstance(value, str) and expected == value


def _in_range(operand: list[Any], value: float) -> bool:
    checks = {
        "=": lambda bound: value == bound,
        ">": lambda bound: value > bound,
        ">=": lambda bound: value >= bound,
        "<": lambda bound: value < bound,
        "<=": lambda bound: value <= bound,
    }
    return all(checks[op](bound) for op, bound in zip(operand[0::2], operand[1::2], strict=True))


def _anything_but(operand: Any, value: Any) -> bool:
    if isinstance(operand, dict):
        ((form, text),) = operand.items()
        if not isinstance(value, str):
            return False
        return not (value.startswith(text) if form == "prefix" else value.endswith(text))
    excluded = operand if isinstance(operand, list) else [operand]
    return not any(_equal(e, value) for e in excluded)
