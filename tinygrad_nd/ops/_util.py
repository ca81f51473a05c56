"""Small helpers shared by op definitions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from ..fpstate import Ignoring
from ..tensor import Tensor
from .blocked_gemm import matmul_in_blocks

F = TypeVar("F", bound=Callable[..., Any])


def quiet(**kinds: str) -> Callable[[F], F]:
    """Decorator: run an op's forward under `np.errstate(**kinds)`.

    For the floating-point events an op produces on purpose, where PyTorch returns the same
    IEEE value silently (log 0 = -inf, e**1e4 = inf, sqrt(-1) = nan): numpy would warn.
    Only the op that produces them is wrapped (never the engine's hot `apply`). Forwards
    only: every backward runs inside the engine's walk, which is already under
    `np.errstate` (see `engine.run_backward`).
    """
    return Ignoring(**kinds)


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def class_indices_in_range(idx: np.ndarray, classes: int) -> bool:
    """Whether every integer index is in [0, classes), in one pass: viewed as unsigned,
    negative indices become huge, so the maximum alone finds one out of range at either end
    (this check runs on every training step)."""
    unsigned = idx if idx.dtype.kind == "u" else idx.view(_UNSIGNED[idx.dtype.itemsize])
    return not idx.size or bool(unsigned.max() < classes)


def check_class_indices(idx: np.ndarray, classes: int, op: str) -> None:
    """Raise a ValueError naming `op` unless every integer index is in [0, classes)."""
    if not class_indices_in_range(idx, classes):
        bad = idx[(idx < 0) | (idx >= classes)][0]
        raise ValueError(f"{op}: target class {int(bad)} is out of range for {classes} classes")


def const(array: Any) -> Tensor:
    """A constant (no-grad) tensor around `array`: masks, indices, scale factors."""
    return Tensor._make(np.asarray(array), None)


def permute(x: Any, axes: tuple[int, ...]) -> Any:
    """Reorder the axes of an array (a view) or of a Tensor (the recorded op): part of the
    vocabulary that op backwards share between first-order and recorded passes."""
    return x.transpose(axes) if isinstance(x, np.ndarray) else x.permute(axes)


def mm(a: Any, b: Any) -> Any:
    """`a @ b` of arrays (at least 2-D: cut into blocks for BLAS's small-matrix kernels, see
    `blocked_gemm`) or of Tensors (the recorded `matmul`): part of the backward vocabulary."""
    if isinstance(a, np.ndarray) and a.ndim >= 2 and b.ndim >= 2:
        return matmul_in_blocks(a, b)
    return a @ b


def swap_last(x: Any) -> Any:
    """Swap the last two axes of an array (a view) or of a Tensor (the recorded op)."""
    return permute(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


def normalize_axes(axis: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Turn `axis` (None, int or sequence, possibly negative) into sorted positive axes."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and 0 <= axis < ndim:  # the common case, fast
        return (axis,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            # AxisError is both numpy's ValueError and PyTorch's IndexError for this case.
            raise np.exceptions.AxisError(f"{op}: axis {a} is out of range for a tensor with "
                                          f"{ndim} dims")
        out.append(int(a) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def reduce_keepdims(ufunc: np.ufunc, x: np.ndarray, axis: int) -> np.ndarray:
    """`ufunc.reduce(x, axis, keepdims=True)`, quicker over a short last axis of a 2-D array.

    numpy reduces a short last axis one row at a time, while reducing the transposed copy
    along its first axis runs across all rows at once, an order of magnitude faster for a
    handful of columns (measured in docs/performance.md). Softmax and cross-entropy over a
    few classes are exactly that case.
    """
    if x.ndim == 2 and axis in (1, -1) and x.shape[1] <= 32 and x.shape[0] >= 4 * x.shape[1]:
        return ufunc.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    return ufunc.reduce(x, axis=axis, keepdims=True)
