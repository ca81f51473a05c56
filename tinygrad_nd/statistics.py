"""Variance and standard deviation with numpy's `ddof` or PyTorch's `correction`.

Two small ops live here rather than in the registry because they are only ever reached
through `Tensor.var`/`Tensor.std` and their special cases (tests compare them with PyTorch
in `tests/robustness/test_dtypes_semantics.py`).

The divisor is `n - correction`. When it is 0 or negative there are no degrees of freedom
left; like PyTorch, the divisor is clamped at 0, so the variance is `inf` (`nan` for
0/0) and the gradient `2 (x - mean) g / 0` is `+-inf` (`nan` where `x == mean`),
with one UserWarning and none of numpy's divide-by-zero warnings.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .autograd import Function
from .ops._util import normalize_axes
from .tensor import Tensor


class _VarianceWithoutDof(Function):
    """z = sum((x - mean)**2) / 0;  dz/dx = 2 (x - mean) / 0 (unregistered: only var uses it)"""

    op_name = "var"

    @staticmethod
    def forward(ctx, x, axes, keepdims):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdims = axes, keepdims
        with np.errstate(divide="ignore", invalid="ignore"):
            centred = x - x.mean(axis=axes, keepdims=True)
            return (centred * centred).sum(axis=axes, keepdims=keepdims) / 0.0

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if not ctx.keepdims:
            g = g.reshape(tuple(1 if i in ctx.axes else s for i, s in enumerate(x.shape)))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # Written in arithmetic that runs on arrays and on Tensors alike.
            return (g * (x - x.mean(axis=ctx.axes, keepdims=True)) * float("inf"),)


class _StdFromVariance(Function):
    """z = sqrt(v);  dz/dv = 1 / (2 z), taken as 0 where z == 0 (constant data), as PyTorch's
    std does: the one-sided derivative there is infinite and would turn into nan upstream."""

    op_name = "std"

    @staticmethod
    def forward(ctx, v):
        out = np.sqrt(v)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        zero = (np.asarray(out) == 0).astype(g.dtype)
        return (g / (out * 2 + zero) * (1 - zero),)


def _correction(ddof: float | None, correction: float | None, name: str) -> float:
    if ddof is not None and correction is not None:
        raise TypeError(f"{name}: pass either ddof= (numpy) or correction= (PyTorch), not both")
    value = ddof if ddof is not None else correction
    return 0 if value is None else value


def standard_deviation(x: Tensor, axis: Any, keepdims: bool, ddof: float | None,
                       correction: float | None) -> Tensor:
    """`sqrt(var)` whose gradient is 0 where the deviation is 0 (Tensor.std's body).

    Parameters
    ----------
    x : Tensor
        The input.
    axis : int, tuple of int or None
        The axes to reduce (None: all).
    keepdims : bool
        Keep the reduced axes with size 1.
    ddof : float or None
        numpy's delta degrees of freedom (0 when neither it nor `correction` is given).
    correction : float or None
        PyTorch's name for `ddof` (give one of the two).
    """
    return _StdFromVariance.apply(variance(x, axis, keepdims, ddof, correction, "std"))


def variance(x: Tensor, axis: Any, keepdims: bool, ddof: float | None,
             correction: float | None, name: str = "var") -> Tensor:
    """`sum((x - mean)**2) / (n - correction)` over `axis` (Tensor.var's body).

    Parameters
    ----------
    x : Tensor
        The input.
    axis : int, tuple of int or None
        The axes to reduce (None: all).
    keepdims : bool
        Keep the reduced axes with size 1.
    ddof : float or None
        numpy's delta degrees of freedom (0 when neither it nor `correction` is given).
    correction : float or None
        PyTorch's name for `ddof` (give one of the two).
    name : str
        The calling function, named in errors and warnings.
    """
    corr = _correction(ddof, correction, name)
    axes = normalize_axes(axis, x.ndim, name)
    n = int(np.prod([x.shape[a] for a in axes]))
    if n == 0:
        raise ValueError(f"{name}: cannot compute over zero elements (shape {x.shape}, "
                         f"axis {axis})")
    if n - corr > 0:
        centred = x - x.mean(axes, keepdims=True)
        return (centred * centred).sum(axes, keepdims=keepdims) / (n - corr)
    warnings.warn(f"{name}: no degrees of freedom left (n={n} elements reduced, correction="
                  f"{corr}); the result is inf, or nan where all values are equal, as in PyTorch",
                  UserWarning, stacklevel=3)
    return _VarianceWithoutDof.apply(x, axes=axes, keepdims=keepdims)
