"""The digits model: a small convolutional network trained in numpy on scikit-learn's digits.

``build(out_dir)`` splits ``load_digits()`` (1797 8x8 images, values 0..16) into stratified
train / validation / test sets from a fixed seed, trains the network below in float64 numpy
(im2col convolutions, Adam, seeded mini-batch shuffling, a fixed number of epochs, part of each
batch resampled at a random scale and sub-pixel shift so re-framed uploads score like the
originals; the weights of the epoch with the best validation accuracy are kept), writes it as ONNX by hand, optimizes it
offline at ORT_ENABLE_EXTENDED, checks it against the numpy forward pass on the test set (SML501)
and reports test accuracy and a confusion summary in the card.

Network: conv 3x3 x8 (pad 1) -> ReLU -> maxpool 2 -> conv 3x3 x16 (pad 1) -> ReLU -> maxpool 2
-> dense 10 -> softmax; 1898 parameters, ~9 KB of ONNX (ORT fuses each Conv+Relu into a
com.microsoft FusedConv, so the committed file needs onnxruntime). Input ``image`` float32 [n, 1, 8, 8]
scaled like ``load_digits().images / 16`` (ink bright, 0..1); output ``probabilities`` [n, 10].

Determinism: every random draw comes from ``numpy.random.default_rng`` seeded from ``SEED`` and
the matrix products run on one BLAS thread (``threadpool_limits``, scoped to training), so two
builds on one machine write the same bytes. A CPU whose BLAS kernels sum in another order may
train slightly different weights: ``build-models --check`` then reports SML505.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from serverless_ml.models import onnx_export
from serverless_ml.models.errors import (
    ARTIFACT_TOO_LARGE,
    BAD_CONVERSION,
    PARITY_FAILED,
    ModelError,
)
from serverless_ml.models.fraud_model import write_card

NAME: Final = "digits-cnn"
VERSION: Final = "1.0.0"
SEED: Final = 20260301
CLASSES: Final = tuple(str(digit) for digit in range(10))
SIDE: Final = 8
PIXEL_MAX: Final = 16.0  # load_digits() counts the inked pixels of 4x4 blocks: 0..16
TEST_FRACTION: Final = 0.20
VALIDATION_FRACTION: Final = 0.15
CONV1_FILTERS: Final = 8
CONV2_FILTERS: Final = 16
KERNEL: Final = 3
EPOCHS: Final = 60
BATCH_SIZE: Final = 32
LEARNING_RATE: Final = 0.003
BETA1: Final = 0.9
BETA2: Final = 0.999
ADAM_EPSILON: Final = 1e-8
WEIGHT_DECAY: Final = 1e-3  # L2 on the weights (not the biases), added to the gradient
# Augmentation: this share of each batch is resampled (bilinear) at a random scale and sub-pixel
# shift, then rescaled to a peak of 1.0, as uploads are after re-framing.
JITTER_SHARE: Final = 0.7
JITTER_SCALE: Final = 0.15  # scale drawn from [0.85, 1.15]
JITTER_SHIFT: Final = 0.75  # shift in pixels drawn from [-0.75, 0.75] on each axis
INPUT_NAME: Final = "image"
OUTPUT_NAME: Final = onnx_export.OUTPUT_NAME
MAX_ARTIFACT_BYTES: Final = 1024 * 1024
TOP_CONFUSED_PAIRS: Final = 5
MODEL_FILE: Final = "model.onnx"
CARD_FILE: Final = "model_card.json"
INPUT_NORMALIZATION: Final = (
    "grayscale 8x8, ink bright, values scaled to 0..1 like load_digits()/16 "
    "(image = load_digits().images / 16, as float32 [n, 1, 8, 8])"
)

Params = dict[str, np.ndarray]
PARAM_NAMES: Final = ("conv1_w", "conv1_b", "conv2_w", "conv2_b", "dense_w", "dense_b")


@dataclass(frozen=True, slots=True)
class Digits:
    """All of ``load_digits()``: images float64 [n, 1, 8, 8] in 0..1, labels int64."""

    images: np.ndarray
    labels: np.ndarray


@dataclass(frozen=True, slots=True)
class Trained:
    params: Params
    best_epoch: int
    validation_accuracy: float
    final_train_loss: float


@functools.lru_cache(maxsize=1)
def load_data() -> Digits:
    """``load_digits()`` scaled to the model's input range; arrays read-only."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    images = (np.asarray(raw.images, dtype=np.float64) / PIXEL_MAX).reshape(-1, 1, SIDE, SIDE)
    labels = np.asarray(raw.target, dtype=np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return Digits(images=images, labels=labels)


def split_indices(labels: np.ndarray, *, seed: int = SEED) -> dict[str, np.ndarray]:
    """Stratified train / validation / test indices (sorted), the same every call for ``seed``."""
    rng = np.random.default_rng([seed, 0])
    parts: dict[str, list[np.ndarray]] = {"train": [], "validation": [], "test": []}
    for digit in range(len(CLASSES)):
        members = rng.permutation(np.flatnonzero(labels == digit))
        n_test = round(len(members) * TEST_FRACTION)
        n_validation = round(len(members) * VALIDATION_FRACTION)
        parts["test"].append(members[:n_test])
        parts["validation"].append(members[n_test : n_test + n_validation])
        parts["train"].append(members[n_test + n_validation :])
    return {name: np.sort(np.concatenate(chunks)) for name, chunks in parts.items()}


def init_params(rng: np.random.Generator) -> Params:
    """He-normal weights, zero biases."""
    fan1, fan2, fan3 = KERNEL * KERNEL, CONV1_FILTERS * KERNEL * KERNEL, CONV2_FILTERS * 4
    return {
        "conv1_w": rng.normal(0.0, np.sqrt(2.0 / fan1), (CONV1_FILTERS, 1, KERNEL, KERNEL)),
        "conv1_b": np.zeros(CONV1_FILTERS),
        "conv2_w": rng.normal(0.0, np.sqrt(2.0 / fan2), (CONV2_FILTERS, CONV1_FILTERS, 3, 3)),
        "conv2_b": np.zeros(CONV2_FILTERS),
        "dense_w": rng.normal(0.0, np.sqrt(1.0 / fan3), (len(CLASSES), fan3)),
        "dense_b": np.zeros(len(CLASSES)),
    }


def parameter_count(params: Params) -> int:
    return sum(int(params[name].size) for name in PARAM_NAMES)


# --- layers ---------------------------------------------------------------------------------------


def _im2col(x: np.ndarray) -> np.ndarray:
    """[n, c, h, w] -> [n*h*w, c*9]: each output position's padded 3x3 window, (c, kh, kw)."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (KERNEL, KERNEL), axis=(2, 3))
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * KERNEL * KERNEL)


def _conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """3x3 convolution, stride 1, pad 1: output [n, f, h, w] and the im2col matrix."""
    n, _, h, w = x.shape
    cols = _im2col(x)
    out = cols @ weight.reshape(len(weight), -1).T + bias
    return out.reshape(n, h, w, len(weight)).transpose(0, 3, 1, 2), cols


def _conv_backward(
    grad: np.ndarray, cols: np.ndarray, weight: np.ndarray, input_shape: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of weight, bias and input of ``_conv`` given the output gradient."""
    n, c, h, w = input_shape
    flat = grad.transpose(0, 2, 3, 1).reshape(-1, len(weight))
    d_weight = (flat.T @ cols).reshape(weight.shape)
    d_cols = (flat @ weight.reshape(len(weight), -1)).reshape(n, h, w, c, KERNEL, KERNEL)
    d_padded = np.zeros((n, c, h + 2, w + 2))
    for i in range(KERNEL):
        for j in range(KERNEL):
            d_padded[:, :, i : i + h, j : j + w] += d_cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return d_weight, flat.sum(axis=0), d_padded[:, :, 1:-1, 1:-1]


def _pool(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2x2 max pooling, stride 2: output and the argmax of each window (for the backward pass)."""
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    blocks = blocks.reshape(n, c, h // 2, w // 2, 4)
    winners = blocks.argmax(axis=-1)[..., None]
    return np.take_along_axis(blocks, winners, axis=-1)[..., 0], winners


def _pool_backward(grad: np.ndarray, winners: np.ndarray) -> np.ndarray:
    n, c, h2, w2 = grad.shape
    blocks = np.zeros((n, c, h2, w2, 4))
    np.put_along_axis(blocks, winners, grad[..., None], axis=-1)
    blocks = blocks.reshape(n, c, h2, w2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return blocks.reshape(n, c, h2 * 2, w2 * 2)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))


def forward(params: Params, images: np.ndarray) -> np.ndarray:
    """Class probabilities [n, 10] (float64) for images [n, 1, 8, 8] in 0..1."""
    x = np.asarray(images, dtype=np.float64)
    hidden1, _ = _pool(np.maximum(_conv(x, params["conv1_w"], params["conv1_b"])[0], 0.0))
    hidden2, _ = _pool(np.maximum(_conv(hidden1, params["conv2_w"], params["conv2_b"])[0], 0.0))
    flat = hidden2.reshape(len(x), -1)
    return _softmax(flat @ params["dense_w"].T + params["dense_b"])


def loss_and_gradients(
    params: Params, images: np.ndarray, labels: np.ndarray
) -> tuple[float, Params]:
    """Mean softmax cross-entropy of a batch and its gradient for every parameter."""
    n = len(images)
    z1, cols1 = _conv(images, params["conv1_w"], params["conv1_b"])
    p1, winners1 = _pool(np.maximum(z1, 0.0))
    z2, cols2 = _conv(p1, params["conv2_w"], params["conv2_b"])
    p2, winners2 = _pool(np.maximum(z2, 0.0))
    flat = p2.reshape(n, -1)
    probabilities = _softmax(flat @ params["dense_w"].T + params["dense_b"])
    loss = -float(np.mean(np.log(probabilities[np.arange(n), labels] + 1e-300)))
    d_logits = probabilities
    d_logits[np.arange(n), labels] -= 1.0
    d_logits /= n
    grads: Params = {"dense_w": d_logits.T @ flat, "dense_b": d_logits.sum(axis=0)}
    d_z2 = _pool_backward((d_logits @ params["dense_w"]).reshape(p2.shape), winners2) * (z2 > 0)
    grads["conv2_w"], grads["conv2_b"], d_p1 = _conv_backward(
        d_z2, cols2, params["conv2_w"], p1.shape
    )
    d_z1 = _pool_backward(d_p1, winners1) * (z1 > 0)
    grads["conv1_w"], grads["conv1_b"], _ = _conv_backward(
        d_z1, cols1, params["conv1_w"], images.shape
    )
    return loss, grads


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(probabilities.argmax(axis=1) == labels))


# --- training ------------------------------------------------------------------------------------


def jitter(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image resampled (bilinear, zeros outside) at a random scale about its center and a
    random sub-pixel shift, then divided by its peak."""
    n = len(images)
    scale = rng.uniform(1.0 - JITTER_SCALE, 1.0 + JITTER_SCALE, (n, 1))
    shift = rng.uniform(-JITTER_SHIFT, JITTER_SHIFT, (n, 2))
    centered = np.arange(SIDE) + 0.5 - SIDE / 2
    padded = np.pad(images[:, 0], ((0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, SIDE, SIDE))
    ys = centered / scale + SIDE / 2 - 0.5 - shift[:, :1]
    xs = centered / scale + SIDE / 2 - 0.5 - shift[:, 1:]
    y0, x0 = np.floor(ys).astype(np.int64), np.floor(xs).astype(np.int64)
    wy, wx = ys - y0, xs - x0
    rows = np.arange(n)[:, None, None]
    for dy, weight_y in ((0, 1.0 - wy), (1, wy)):
        for dx, weight_x in ((0, 1.0 - wx), (1, wx)):
            yi = np.clip(y0 + dy + 1, 0, SIDE + 1)[:, :, None]
            xi = np.clip(x0 + dx + 1, 0, SIDE + 1)[:, None, :]
            out += weight_y[:, :, None] * weight_x[:, None, :] * padded[rows, yi, xi]
    peak = out.max(axis=(1, 2), keepdims=True)
    return (out / np.where(peak > 0, peak, 1.0))[:, None]


def train(data: Digits, splits: dict[str, np.ndarray], *, seed: int = SEED) -> Trained:
    """Adam on mini-batches for EPOCHS epochs; keep the epoch with the best validation accuracy
    (the earliest on ties). One BLAS thread: the same weights on every run."""
    rng = np.random.default_rng([seed, 1])
    params = init_params(rng)
    moments = {name: np.zeros_like(value) for name, value in params.items()}
    squares = {name: np.zeros_like(value) for name, value in params.items()}
    x_train, y_train = data.images[splits["train"]], data.labels[splits["train"]]
    x_val, y_val = data.images[splits["validation"]], data.labels[splits["validation"]]
    best = (-1.0, 0, {name: value.copy() for name, value in params.items()})
    step, epoch_loss = 0, 0.0
    with threadpool_limits(limits=1):
        for epoch in range(1, EPOCHS + 1):
            order = rng.permutation(len(y_train))
            losses = []
            for start in range(0, len(order), BATCH_SIZE):
                batch = order[start : start + BATCH_SIZE]
                images = x_train[batch].copy()
                chosen = rng.random(len(batch)) < JITTER_SHARE
                images[chosen] = jitter(images[chosen], rng)
                loss, grads = loss_and_gradients(params, images, y_train[batch])
                losses.append(loss * len(batch))
                step += 1
                for name, grad in grads.items():
                    if name.endswith("_w"):
                        grad += WEIGHT_DECAY * params[name]
                    moments[name] = BETA1 * moments[name] + (1.0 - BETA1) * grad
                    squares[name] = BETA2 * squares[name] + (1.0 - BETA2) * grad * grad
                    corrected = moments[name] / (1.0 - BETA1**step)
                    scale = np.sqrt(squares[name] / (1.0 - BETA2**step)) + ADAM_EPSILON
                    params[name] = params[name] - LEARNING_RATE * corrected / scale
            epoch_loss = float(np.sum(losses)) / len(y_train)
            validation = accuracy(forward(params, x_val), y_val)
            if validation > best[0]:
                best = (validation, epoch, {name: value.copy() for name, value in params.items()})
    return Trained(
        params=best[2], best_epoch=best[1], validation_accuracy=best[0], final_train_loss=epoch_loss
    )


def as_float32(params: Params) -> Params:
    """The weights as exported (float32), widened back to float64 for the numpy forward pass."""
    return {name: value.astype(np.float32).astype(np.float64) for name, value in params.items()}


# --- ONNX ----------------------------------------------------------------------------------------


def to_onnx(params: Params) -> onnx.ModelProto:
    """The network as an ONNX graph (float32 weights), built node by node."""
    conv: dict[str, Any] = {
        "kernel_shape": [KERNEL, KERNEL],
        "pads": [1, 1, 1, 1],
        "strides": [1, 1],
    }
    pool: dict[str, Any] = {"kernel_shape": [2, 2], "strides": [2, 2]}
    nodes = [
        helper.make_node("Conv", [INPUT_NAME, "conv1_w", "conv1_b"], ["conv1"], **conv),
        helper.make_node("Relu", ["conv1"], ["relu1"]),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], **pool),
        helper.make_node("Conv", ["pool1", "conv2_w", "conv2_b"], ["conv2"], **conv),
        helper.make_node("Relu", ["conv2"], ["relu2"]),
        helper.make_node("MaxPool", ["relu2"], ["pool2"], **pool),
        helper.make_node("Flatten", ["pool2"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "dense_w", "dense_b"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], [OUTPUT_NAME], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "digits_cnn",
        [helper.make_tensor_value_info(INPUT_NAME, onnx.TensorProto.FLOAT, [None, 1, SIDE, SIDE])],
        [helper.make_tensor_value_info(OUTPUT_NAME, onnx.TensorProto.FLOAT, [None, len(CLASSES)])],
        initializer=[
            numpy_helper.from_array(np.ascontiguousarray(params[name], np.float32), name)
            for name in PARAM_NAMES
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", onnx_export.MAIN_OPSET)],
        producer_name="serverless-ml",
    )
    model.ir_version = 8
    metadata = {
        "name": NAME,
        "version": VERSION,
        "classes": ",".join(CLASSES),
        "input_normalization": INPUT_NORMALIZATION,
    }
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)
    if [i.name for i in model.graph.input] != [INPUT_NAME] or [
        o.name for o in model.graph.output
    ] != [OUTPUT_NAME]:
        raise ModelError(BAD_CONVERSION, f"expected input {INPUT_NAME!r}, output {OUTPUT_NAME!r}")
    return model


def predict(scorer: ort.InferenceSession, images: np.ndarray) -> np.ndarray:
    """``probabilities`` for images [n, 1, 8, 8] (cast to float32)."""
    (result,) = scorer.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(images, np.float32)})
    return np.asarray(result, dtype=np.float32)


def optimized_nodes(path: Path) -> list[str]:
    """The op types of the written graph, in order (``domain.op`` outside the default domain)."""
    graph = onnx.load(str(path)).graph
    return [f"{node.domain}.{node.op_type}" if node.domain else node.op_type for node in graph.node]


# --- evaluation ----------------------------------------------------------------------------------


def confusion_summary(labels: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Confusion matrix (rows = true digit), per-class recall (None without support), and the
    most confused pairs."""
    n_classes = len(CLASSES)
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    support = matrix.sum(axis=1)
    off_diagonal = [
        (int(matrix[t, p]), t, p)
        for t in range(n_classes)
        for p in range(n_classes)
        if t != p and matrix[t, p] > 0
    ]
    off_diagonal.sort(key=lambda item: (-item[0], item[1], item[2]))
    return {
        "per_class_recall": {
            CLASSES[c]: round(float(matrix[c, c] / support[c]), 6) if support[c] else None
            for c in range(n_classes)
        },
        "per_class_support": {CLASSES[c]: int(support[c]) for c in range(n_classes)},
        "most_confused": [
            {"true": CLASSES[t], "predicted": CLASSES[p], "count": count}
            for count, t, p in off_diagonal[:TOP_CONFUSED_PAIRS]
        ],
        "matrix": matrix.tolist(),
    }


def library_versions() -> dict[str, str]:
    import sklearn

    return {
        "scikit-learn": sklearn.__version__,
        "onnxruntime": ort.__version__,
        "onnx": onnx.__version__,
        "numpy": np.__version__,
    }


def build(out_dir: Path, *, seed: int = SEED) -> dict[str, Any]:
    """Split, train, export, optimize and check; write the model and card; return the card."""
    data = load_data()
    splits = split_indices(data.labels, seed=seed)
    trained = train(data, splits, seed=seed)
    converted = to_onnx(trained.params)
    opsets = onnx_export.opset_versions(converted)
    test_x, test_y = data.images[splits["test"]], data.labels[splits["test"]]
    with tempfile.TemporaryDirectory(prefix="sml-digits-") as scratch:
        staged = Path(scratch) / MODEL_FILE
        onnx_export.optimize(
            converted, staged, check_rows=test_x, input_name=INPUT_NAME, output_name=OUTPUT_NAME
        )
        size = staged.stat().st_size
        if size > MAX_ARTIFACT_BYTES:
            raise ModelError(
                ARTIFACT_TOO_LARGE, f"{MODEL_FILE} is {size} bytes (> {MAX_ARTIFACT_BYTES})"
            )
        scorer = onnx_export.session(staged)
        served = predict(scorer, test_x)
        reference = forward(as_float32(trained.params), test_x.astype(np.float32))
        difference = onnx_export.max_abs_diff(reference, served)
        if difference > onnx_export.PARITY_TOLERANCE:
            raise ModelError(
                PARITY_FAILED,
                f"ONNX probabilities differ from the numpy forward pass by {difference:.3g} "
                f"(> {onnx_export.PARITY_TOLERANCE:g}) on {len(test_y)} test images",
            )
        validation_x = data.images[splits["validation"]]
        validation_y = data.labels[splits["validation"]]
        card = {
            "name": NAME,
            "version": VERSION,
            "task": "classify one 8x8 grayscale image of a handwritten digit (10 classes)",
            "classes": list(CLASSES),
            "input_name": INPUT_NAME,
            "output_name": OUTPUT_NAME,
            "input": f"{INPUT_NAME} [n, 1, {SIDE}, {SIDE}] float32",
            "input_shape": [None, 1, SIDE, SIDE],
            "input_normalization": INPUT_NORMALIZATION,
            "output": (
                f"{OUTPUT_NAME} [n, {len(CLASSES)}] float32: softmax probabilities, column i "
                "is the digit classes[i]"
            ),
            "opset": opsets["ai.onnx"],
            "opset_imports": opsets,
            "onnxruntime_optimization": onnx_export.OPTIMIZATION,
            "optimized_nodes": optimized_nodes(staged),
            "metrics": {
                "split": "test",
                "n_test": len(test_y),
                "accuracy": round(accuracy(served, test_y), 6),
                "validation_accuracy": round(
                    accuracy(predict(scorer, validation_x), validation_y), 6
                ),
                "confusion": confusion_summary(test_y, served.argmax(axis=1)),
                "scored_by": "the optimized ONNX model (onnxruntime, one thread)",
            },
            "parity": {
                "max_abs_diff": float(f"{difference:.3g}"),
                "n": len(test_y),
                "tolerance": onnx_export.PARITY_TOLERANCE,
                "reference": "numpy forward pass with the exported float32 weights on the test split",
            },
            "training": {
                "dataset": "sklearn.datasets.load_digits",
                "seed": seed,
                "split": {
                    "method": (
                        "stratified: per digit, a numpy default_rng([seed, 0]) permutation; first "
                        f"{TEST_FRACTION:.0%} test, next {VALIDATION_FRACTION:.0%} validation, "
                        "rest train (indices into load_digits() order)"
                    ),
                    "n_train": len(splits["train"]),
                    "n_validation": len(splits["validation"]),
                    "n_test": len(splits["test"]),
                    "test_indices": [int(i) for i in splits["test"]],
                },
                "architecture": (
                    f"conv3x3x{CONV1_FILTERS} pad1 -> relu -> maxpool2 -> conv3x3x{CONV2_FILTERS} "
                    "pad1 -> relu -> maxpool2 -> flatten -> dense10 -> softmax"
                ),
                "parameter_count": parameter_count(trained.params),
                "implementation": "numpy float64, im2col convolutions, one BLAS thread",
                "loss": "softmax cross-entropy",
                "optimizer": {
                    "name": "adam",
                    "learning_rate": LEARNING_RATE,
                    "beta1": BETA1,
                    "beta2": BETA2,
                    "epsilon": ADAM_EPSILON,
                    "weight_decay_l2": WEIGHT_DECAY,
                },
                "epochs": EPOCHS,
                "batch_size": BATCH_SIZE,
                "augmentation": {
                    "share_of_each_batch": JITTER_SHARE,
                    "scale": [1.0 - JITTER_SCALE, 1.0 + JITTER_SCALE],
                    "shift_pixels": [-JITTER_SHIFT, JITTER_SHIFT],
                    "how": "bilinear resampling about the center, then rescaled to a peak of 1.0",
                },
                "init": "He normal weights, zero biases, default_rng([seed, 1])",
                "selected_epoch": trained.best_epoch,
                "selection": "the epoch with the best validation accuracy (earliest on ties)",
                "final_train_loss": round(trained.final_train_loss, 6),
            },
            "size_bytes": size,
            "sha256": onnx_export.file_sha256(staged),
            "libraries": library_versions(),
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staged, out_dir / MODEL_FILE)
    write_card(out_dir / CARD_FILE, card)
    return card
