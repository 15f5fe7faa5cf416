"""TreeEnsembleClassifier / TreeEnsembleRegressor -> flat node tables and one loop per ensemble.

Every tree of an ensemble lives in the same tables (feature, threshold, true child, false child),
so a tree of any depth is walked by a ``while`` loop: no recursion, no nested ``if`` blocks
that Python's parser limits. A child index below zero is a leaf: ``~index`` into the leaf table,
whose entries are ``(target, weight)`` pairs. Comparisons see float32 inputs against the
model's own (float32 or float64) thresholds, as onnxruntime's do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx

from serverless_ml.models.compiler.emit import (
    Context,
    Translation,
    number,
    numbers,
    refuse,
    transform_of,
    tuple_literal,
)
from serverless_ml.models.compiler.graph import attributes
from serverless_ml.models.errors import UNSUPPORTED_GRAPH, ModelError

MODES = {
    "BRANCH_LEQ": "LEQ",
    "BRANCH_LT": "LT",
    "BRANCH_GTE": "GTE",
    "BRANCH_GT": "GT",
    "BRANCH_EQ": "EQ",
    "BRANCH_NEQ": "NEQ",
}
_TESTS = {
    "LEQ": "value <= threshold[node]",
    "LT": "value < threshold[node]",
    "GTE": "value >= threshold[node]",
    "GT": "value > threshold[node]",
    "EQ": "value == threshold[node]",
    "NEQ": "value != threshold[node]",
}
AGGREGATES = {"SUM": "SUM", "AVERAGE": "AVERAGE", "MIN": "MIN", "MAX": "MAX"}


@dataclass(frozen=True, slots=True)
class Tables:
    """An ensemble flattened: branch nodes, leaves as (target, weight) pairs, one root per tree."""

    feature: list[int]
    threshold: list[float]
    true: list[int]
    false: list[int]
    mode: list[str]
    missing: list[int]
    roots: list[int]
    leaves: list[list[tuple[int, float]]]
    leaf_targets_by_tree: list[set[int]]


def _values(attrs: dict[str, Any], name: str) -> list[Any]:
    """A list attribute, or its ``*_as_tensor`` twin, or [] when absent."""
    if name in attrs:
        return list(attrs[name])
    tensor = attrs.get(f"{name}_as_tensor")
    return [] if tensor is None else np.asarray(tensor).ravel().tolist()


def flatten(node: onnx.NodeProto, weight_prefix: str, n_features: int) -> Tables:
    """The node's trees as tables (SML510 for a malformed or unsupported tree)."""
    attrs = attributes(node)
    tree_ids = _values(attrs, "nodes_treeids")
    node_ids = _values(attrs, "nodes_nodeids")
    features = _values(attrs, "nodes_featureids")
    modes = _values(attrs, "nodes_modes")
    thresholds = _values(attrs, "nodes_values")
    trues = _values(attrs, "nodes_truenodeids")
    falses = _values(attrs, "nodes_falsenodeids")
    missing = _values(attrs, "nodes_missing_value_tracks_true") or [0] * len(tree_ids)
    count = len(tree_ids)
    lengths = {len(x) for x in (node_ids, features, modes, thresholds, trues, falses, missing)}
    if lengths != {count} or not count:
        raise refuse(node, "the nodes_* attributes differ in length or are empty")
    position = {
        (int(t), int(n)): i for i, (t, n) in enumerate(zip(tree_ids, node_ids, strict=True))
    }
    if len(position) != count:
        raise refuse(node, "two nodes share a (tree id, node id)")
    branch_index: dict[int, int] = {}
    leaf_index: dict[int, int] = {}
    for i, mode in enumerate(modes):
        if mode == "LEAF":
            leaf_index[i] = len(leaf_index)
        elif mode in MODES:
            if not 0 <= int(features[i]) < n_features:
                raise refuse(node, f"node reads feature {features[i]} of {n_features}")
            branch_index[i] = len(branch_index)
        else:
            raise refuse(node, f"node mode {mode!r} (BRANCH_MEMBER needs the TreeEnsemble op)")

    def child(i: int, node_id: Any) -> int:
        target = position.get((int(tree_ids[i]), int(node_id)))
        if target is None:
            raise refuse(node, f"tree {tree_ids[i]} has no node {node_id}")
        return branch_index[target] if target in branch_index else ~leaf_index[target]

    tables = Tables(
        feature=[], threshold=[], true=[], false=[], mode=[], missing=[], roots=[],
        leaves=[[] for _ in leaf_index], leaf_targets_by_tree=[],
    )  # fmt: skip
    children: dict[int, set[int]] = defaultdict(set)
    for i in branch_index:
        tables.feature.append(int(features[i]))
        tables.threshold.append(float(thresholds[i]))
        tables.true.append(child(i, trues[i]))
        tables.false.append(child(i, falses[i]))
        tables.mode.append(MODES[modes[i]])
        tables.missing.append(1 if missing[i] else 0)
        children[int(tree_ids[i])].update(
            (
                position[(int(tree_ids[i]), int(trues[i]))],
                position[(int(tree_ids[i]), int(falses[i]))],
            )
        )
    trees: dict[int, list[int]] = defaultdict(list)
    for i, tree in enumerate(tree_ids):
        trees[int(tree)].append(i)
    for tree, members in trees.items():
        roots = [i for i in members if i not in children[tree]]
        if len(roots) != 1:
            raise refuse(node, f"tree {tree} has {len(roots)} root nodes, not 1")
        (root,) = roots
        tables.roots.append(branch_index[root] if root in branch_index else ~leaf_index[root])
    _attach_weights(node, attrs, weight_prefix, position, leaf_index, tables)
    for members in trees.values():
        # The targets a tree scores, if every leaf of it scores the same ones; else {-1}: which
        # targets have a score then depends on the row (tracked while walking).
        sets = {
            frozenset(t for t, _ in tables.leaves[leaf_index[i]])
            for i in members
            if i in leaf_index
        }
        tables.leaf_targets_by_tree.append(set(sets.pop()) if len(sets) == 1 else {-1})
    return tables


def _attach_weights(
    node: onnx.NodeProto,
    attrs: dict[str, Any],
    prefix: str,
    position: dict[tuple[int, int], int],
    leaf_index: dict[int, int],
    tables: Tables,
) -> None:
    id_name = "class_ids" if prefix == "class" else "target_ids"
    trees, nodes = _values(attrs, f"{prefix}_treeids"), _values(attrs, f"{prefix}_nodeids")
    targets, weights = _values(attrs, id_name), _values(attrs, f"{prefix}_weights")
    if not len(trees) == len(nodes) == len(targets) == len(weights):
        raise refuse(node, f"the {prefix}_* attributes differ in length")
    for tree, node_id, target, weight in zip(trees, nodes, targets, weights, strict=True):
        where = position.get((int(tree), int(node_id)))
        if where is None or where not in leaf_index:
            raise refuse(node, f"a weight is attached to tree {tree} node {node_id}, not a leaf")
        tables.leaves[leaf_index[where]].append((int(target), float(weight)))


def _test(tables: Tables) -> str:
    modes = set(tables.mode)
    test = _TESTS[modes.pop()] if len(modes) == 1 else "branch(mode[node], value, threshold[node])"
    if any(tables.missing):
        test = f"({test} or (value != value and missing[node]))"
    return test


def _accumulate(aggregate: str, dynamic: bool) -> list[str]:
    if aggregate in ("MIN", "MAX"):
        better = "<" if aggregate == "MIN" else ">"
        return [
            f"if not has[target] or weight {better} scores[target]:",
            "    scores[target] = weight",
            "has[target] = True",
        ]
    return ["scores[target] += weight", *(["has[target] = True"] if dynamic else [])]


def _ensemble_source(p: str, tables: Tables, width: int, aggregate: str, finish: str) -> str:
    """The tables as tuples and the function that walks them for one row ``x``."""
    static = {-1} not in tables.leaf_targets_by_tree and aggregate in ("SUM", "AVERAGE")
    scored = set().union(*tables.leaf_targets_by_tree) if static else set()
    if scored - set(range(width)):
        raise ModelError(UNSUPPORTED_GRAPH, f"a leaf weighs target {max(scored)} of {width}")
    names = ["feature", "threshold", "true", "false", "leaves"]
    lines = [
        f"{p}FEATURE = {numbers(tables.feature)}",
        f"{p}THRESHOLD = {numbers(tables.threshold)}",
        f"{p}TRUE = {numbers(tables.true)}",
        f"{p}FALSE = {numbers(tables.false)}",
        f"{p}ROOTS = {numbers(tables.roots)}",
        f"{p}LEAVES = "
        + tuple_literal(
            tuple_literal((f"({t}, {number(w)})" for t, w in leaf), 0).replace("\n", "")
            for leaf in tables.leaves
        ),
    ]
    if len(set(tables.mode)) > 1:
        lines.append(f"{p}MODE = {tuple_literal(tables.mode)}")
        names.append("mode")
    if any(tables.missing):
        lines.append(f"{p}MISSING = {numbers(tables.missing)}")
        names.append("missing")
    if static:
        lines.append(f"{p}HAS = {tuple_literal(str(k in scored) for k in range(width))}")
    body = [
        f"def {p.lower()}ensemble(x: list[float]) -> list[float]:",
        f"    {', '.join(names)} = {', '.join(p + name.upper() for name in names)}",
        f"    scores = [0.0] * {width}",
        *([] if static else [f"    has = [False] * {width}"]),
        f"    for node in {p}ROOTS:",
        "        while node >= 0:",
        "            value = x[feature[node]]",
        f"            node = true[node] if {_test(tables)} else false[node]",
        "        for target, weight in leaves[~node]:",
        *(f"            {line}" for line in _accumulate(aggregate, not static)),
        f"    return {finish.format(has=f'{p}HAS' if static else 'has')}",
    ]
    return "\n".join(lines) + "\n\n\n" + "\n".join(body)


def classifier(node: onnx.NodeProto, context: Context) -> Translation:
    attrs = attributes(node)
    labels = attrs.get("classlabels_int64s") or attrs.get("classlabels_strings") or []
    n_classes = len(labels)
    if n_classes < 2:
        raise refuse(node, f"{n_classes} class labels; a classifier needs two or more")
    if len(node.output) > 1 and node.output[1] == "":
        raise refuse(node, "no scores output")
    (source,) = node.input
    tables = flatten(node, "class", context.width(source))
    weights = _values(attrs, "class_weights")
    base = _values(attrs, "base_values")
    binary_case = n_classes == 2 and len(set(_values(attrs, "class_ids"))) == 1
    all_positive = all(weight >= 0 for weight in weights)
    p = context.prefix
    finish = (
        f"finish_tree_classifier(scores, {{has}}, {p}BASE, {n_classes}, {binary_case}, "
        f"{all_positive}, {transform_of(node, attrs)})"
    )
    return _translation(node, context, tables, base, n_classes, "SUM", finish)


def regressor(node: onnx.NodeProto, context: Context) -> Translation:
    attrs = attributes(node)
    n_targets = int(attrs.get("n_targets", 1))
    aggregate = attrs.get("aggregate_function", "SUM")
    if aggregate not in AGGREGATES:
        raise refuse(node, f"aggregate_function {aggregate!r}")
    (source,) = node.input
    tables = flatten(node, "target", context.width(source))
    base = _values(attrs, "base_values")
    p = context.prefix
    finish = (
        f"finish_tree_regressor(scores, {{has}}, {p}BASE, {AGGREGATES[aggregate]}, "
        f"{len(tables.roots)}, {transform_of(node, attrs)})"
    )
    return _translation(node, context, tables, base, n_targets, aggregate, finish)


def _translation(
    node: onnx.NodeProto,
    context: Context,
    tables: Tables,
    base: list[float],
    width: int,
    aggregate: str,
    finish: str,
) -> Translation:
    """The ensemble's base values, tables and walk, called on the node's input row."""
    p = context.prefix
    return Translation(
        definitions=f"{p}BASE = {numbers(base)}\n"
        + _ensemble_source(p, tables, width, aggregate, finish),
        expression=f"{p.lower()}ensemble({context.variable(node.input[0])})",
        width=width,
        summary=(
            f"{node.op_type}: {len(tables.roots)} trees, {len(tables.feature)} branch nodes, "
            f"{len(tables.leaves)} leaves"
        ),
    )
