"""Losses over a class axis, as PyTorch: `nll_loss` (of log-probabilities) and
`cross_entropy` (of logits), with class-index or class-probability targets, per-class
weights, `ignore_index` and label smoothing; the target checks they share.

Re-exported by `tinygrad_nd.nn.functional`; the losses whose target has the input's shape
are in `loss_functional`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..functional import _real_in
from ..ops._util import check_class_indices
from ..registry import apply
from ..tensor import Tensor
from .loss_functional import REDUCTIONS, _as_target, _check_same_shape, _reduce


def _class_indices(target: Any, n: int, classes: int, op: str) -> np.ndarray:
    idx = target.data if isinstance(target, Tensor) else np.asarray(target)
    if idx.dtype.kind not in "iu":
        raise TypeError(_not_indices(op, idx.dtype))
    if idx.shape != (n,):
        raise ValueError(f"{op}: expected {n} class indices (shape ({n},)), got shape "
                         f"{idx.shape}")
    check_class_indices(idx, classes, op)
    return idx


def _not_indices(op: str, dtype: np.dtype) -> str:
    hint = "; for class probabilities pass an (N, C) float array" if dtype.kind == "f" else ""
    return f"{op}: class-index targets must be integers, got {dtype}{hint}"


def _class_weight(weight: Any, classes: int, dtype: np.dtype, op: str) -> np.ndarray | None:
    """A per-class rescaling weight as a constant array of shape (C,), or None."""
    if weight is None:
        return None
    if isinstance(weight, Tensor):
        if weight.requires_grad:
            raise ValueError(f"{op}: weight is not differentiable here; pass a tensor without "
                             "requires_grad (e.g. detach() it)")
        weight = weight.data
    weight = np.asarray(weight, dtype=dtype)
    if weight.shape != (classes,):
        raise ValueError(f"{op}: weight must have shape ({classes},), one value per class, got "
                         f"{weight.shape}")
    return weight


def _rows_of_classes(input: Tensor, op: str) -> Tensor:
    """(N, C) or (N, C, d1, ...) or (C,) scores as (M, C) rows, the class axis last."""
    if input.ndim == 0:
        raise ValueError(f"{op}: expected (N, C), (N, C, d1, ...) or (C,) input, got a 0-d "
                         "tensor")
    if input.ndim == 1:
        return input.reshape(1, -1)
    if input.ndim == 2:
        return input
    moved = input.permute((0,) + tuple(range(2, input.ndim)) + (1,))
    return moved.reshape(-1, input.shape[1])


def _target_shape(input: Tensor) -> tuple[int, ...]:
    """The shape of class-index targets (and of `reduction="none"` losses) for `input`."""
    return () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]


def _class_targets(input: Tensor, target: Any, ignore_index: int,
                   op: str) -> tuple[np.ndarray, np.ndarray]:
    """Flat class indices (ignored ones replaced by 0, so they index safely) and the mask
    of the kept ones, checked against `input`'s number of classes."""
    idx = target.data if isinstance(target, Tensor) else np.asarray(target)
    if idx.dtype.kind not in "iu":
        raise TypeError(_not_indices(op, idx.dtype))
    expected = _target_shape(input)
    if idx.shape != expected:
        raise ValueError(f"{op}: expected {int(np.prod(expected))} class indices (shape "
                         f"{expected}) for input of shape {input.shape}, got shape {idx.shape}")
    idx = idx.reshape(-1)
    keep = idx != ignore_index
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    _class_indices(idx[keep], int(keep.sum()), classes, op)  # range check of the kept ones
    return np.where(keep, idx, 0), keep


def _weighted_nll(rows: Tensor, idx: np.ndarray, keep: np.ndarray,
                  weight: np.ndarray | None) -> tuple[Tensor, np.ndarray]:
    """Per-row `-w[t] * rows[t]` (0 for ignored rows) and the per-row weights `w[t]`."""
    w = keep.astype(rows.dtype) if weight is None else weight[idx] * keep
    return -rows[np.arange(len(idx)), idx] * Tensor._make(w, None), w


def _reduce_weighted(loss: Tensor, w: np.ndarray, reduction: str, shape: tuple[int, ...],
                     op: str) -> Tensor:
    """PyTorch's class-index reductions: `"mean"` divides by the summed weights of the kept
    targets (NaN when there are none, as PyTorch), not by their count."""
    if reduction == "mean":
        return loss.sum() / Tensor._make(np.asarray(w.sum(), dtype=loss.dtype), None)
    return _reduce(loss.reshape(shape), reduction, op)


def nll_loss(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities, as PyTorch.

    `input` is (N, C), (N, C, d1, ...) or (C,); `target` holds class indices of shape
    (N,), (N, d1, ...) or (). `weight` (C,) rescales each class; targets equal to
    `ignore_index` contribute nothing, and `"mean"` divides by the summed weights of
    the remaining targets.

    Parameters
    ----------
    input : Tensor
        Log-probabilities, (N, C), (N, C, d1, ...) or (C,).
    target : Tensor or array-like of int
        Class indices in [0, C), shape (N,), (N, d1, ...) or ().
    weight : array-like or Tensor, shape (C,), optional
        A rescaling weight per class; none by default.
    ignore_index : int, default -100
        Targets equal to it contribute nothing (class-index targets only).
    reduction : {"mean", "sum", "none"}, default "mean"
        Average (over the summed weights of the kept targets) or sum the losses, or
        return one loss per target (the target's shape).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> logp = tg.Tensor([[-1.0, -2.0], [-3.0, -4.0]])
    >>> F.nll_loss(logp, [0, 1], weight=[1.0, 3.0]).item()   # (1 + 3 * 4) / (1 + 3)
    3.25
    >>> F.nll_loss(logp, [0, -100]).item()
    1.0
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"nll_loss: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    rows = _rows_of_classes(input, "nll_loss")
    idx, keep = _class_targets(input, target, ignore_index, "nll_loss")
    loss, w = _weighted_nll(rows, idx, keep,
                            _class_weight(weight, rows.shape[1], input.dtype, "nll_loss"))
    return _reduce_weighted(loss, w, reduction, _target_shape(input), "nll_loss")


def cross_entropy(input: Tensor, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits, stable for any logit size, as PyTorch.

    `input` is (N, C), (N, C, d1, ...) or (C,). `target` is either class indices
    (integers, shape (N,), (N, d1, ...) or ()) or class probabilities of `input`'s shape
    (floats). `weight` (C,) rescales each class, targets equal to `ignore_index` are
    skipped (class indices only), and `label_smoothing` mixes the target with the uniform
    distribution. With class indices, `"mean"` divides by the summed weights of the kept
    targets, for the smoothing term too (PyTorch's convention). The plain case, (N, C)
    logits with class indices and nothing else, runs as one fused op.

    Parameters
    ----------
    input : Tensor
        Logits (unnormalised), (N, C), (N, C, d1, ...) or (C,).
    target : Tensor or array-like
        Class indices (integers in [0, C), shape (N,), (N, d1, ...) or ()) or class
        probabilities (floats, the input's shape).
    weight : array-like or Tensor, shape (C,), optional
        A rescaling weight per class; none by default.
    ignore_index : int, default -100
        Targets equal to it contribute nothing (class-index targets only).
    reduction : {"mean", "sum", "none"}, default "mean"
        Average (over the summed weights of the kept targets, for class indices) or sum
        the losses, or return one loss per sample (the input's shape without axis C).
    label_smoothing : float, default 0.0
        In [0, 1]: the target becomes (1 - label_smoothing) target + label_smoothing / C.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> round(F.cross_entropy(tg.zeros(2, 4), [1, 3]).item(), 4)   # log 4
    1.3863
    >>> round(F.cross_entropy(tg.zeros(2, 4), [1, -100], label_smoothing=0.1).item(), 4)
    1.3863
    """
    op = "cross_entropy"
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if (weight is None and label_smoothing == 0.0 and reduction == "mean" and input.ndim == 2
            and target_array.dtype.kind in "iu" and target_array.shape == input.shape[:1]
            and not 0 <= ignore_index < input.shape[1]):
        # The common case as one fused op (it runs every training step). The op checks its
        # labels itself (once); a label outside the classes may still be an ignore_index,
        # which the general path below handles, or names as out of range.
        try:
            return apply("cross_entropy", input, Tensor._make(target_array, None))
        except ValueError:
            pass
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    smoothing = _real_in(label_smoothing, "label_smoothing", op, 0.0, 1.0, closed=True)
    rows = _rows_of_classes(input, op)
    classes = rows.shape[1]
    class_weight = _class_weight(weight, classes, input.dtype, op)
    if target_array.dtype.kind == "f":
        return _cross_entropy_probabilities(input, rows, target, class_weight, reduction,
                                            smoothing)
    idx, keep = _class_targets(input, target_array, ignore_index, op)
    logp = rows.log_softmax(axis=1)
    loss, w = _weighted_nll(logp, idx, keep, class_weight)
    out = _reduce_weighted(loss, w, reduction, _target_shape(input), op)
    if smoothing == 0.0:
        return out
    per_class = logp if class_weight is None else logp * Tensor._make(class_weight, None)
    smooth = -per_class.sum(axis=1) * Tensor._make(keep.astype(input.dtype), None)
    if reduction == "mean":
        kept = Tensor._make(np.asarray(w.sum(), dtype=input.dtype), None)
        smooth_out = smooth.sum() / kept
    else:
        smooth_out = _reduce(smooth.reshape(_target_shape(input)), reduction, op)
    return out * (1.0 - smoothing) + smooth_out * (smoothing / classes)


def _cross_entropy_probabilities(input: Tensor, rows: Tensor, target: Any,
                                 class_weight: np.ndarray | None, reduction: str,
                                 smoothing: float) -> Tensor:
    """Cross-entropy against class probabilities; `"mean"` divides by the number of
    rows (not by weights), as PyTorch."""
    op = "cross_entropy"
    target_array = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target_array.ndim != input.ndim:
        raise TypeError(_not_indices(op, target_array.dtype))  # (N,) floats: mistyped labels
    probs = _as_target(target)
    _check_same_shape(input, probs, op)
    probs_rows = _rows_of_classes(probs, op)
    if smoothing:
        probs_rows = probs_rows * (1.0 - smoothing) + smoothing / rows.shape[1]
    if class_weight is not None:
        probs_rows = probs_rows * Tensor._make(class_weight, None)
    loss = -(rows.log_softmax(axis=1) * probs_rows).sum(axis=1)
    return _reduce(loss.reshape(_target_shape(input)), reduction, op)
