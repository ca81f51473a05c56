"""Scans along one axis: `cumsum`, `cumprod`, `logcumsumexp`.

Backwards that are sums over the later positions `j >= i` of a pairwise weight `w[i, j]`
(cumprod with zeros, logcumsumexp) build the `(n, n)` weights along the scanned axis: exact
and stable where the O(n) formulas divide by an input (zero) or exponentiate an unbounded
value, at O(n**2) memory per scanned line.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..registry import register_op
from ..tensor import Tensor
from ._util import normalize_axes, permute, quiet


def scan_axis(axis: Any, ndim: int, op: str) -> int:
    """The one axis a scan runs along, as a non-negative int (0-d tensors scan their one
    element, as in PyTorch).

    Parameters
    ----------
    axis : int
        The axis asked for (not a bool).
    ndim : int
        The tensor's number of dims.
    op : str
        The calling function, named in the errors.
    """
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {type(axis).__name__} {axis!r}")
    return normalize_axes(int(axis), ndim, op)[0] if ndim else 0


def flip(x: Any, axis: int) -> Any:
    """Reverse `x` along `axis` (a view of an array, the recorded getitem on a Tensor).

    Parameters
    ----------
    x : ndarray or Tensor
        The input.
    axis : int
        A non-negative axis.
    """
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


def reverse_cumsum(x: Any, axis: int) -> Any:
    """`out[i] = sum_{j >= i} x[j]` along `axis`: the adjoint of cumsum.

    Parameters
    ----------
    x : ndarray or Tensor
        The input.
    axis : int
        A non-negative axis.
    """
    return flip(Cumsum.apply(flip(x, axis), axis=axis), axis)


def _to_last(x: Any, axis: int) -> Any:
    return x if axis == x.ndim - 1 else permute(x, _last_perm(x.ndim, axis))


def _from_last(x: Any, axis: int) -> Any:
    if axis == x.ndim - 1:
        return x
    return permute(x, tuple(int(i) for i in np.argsort(_last_perm(x.ndim, axis))))


def _last_perm(ndim: int, axis: int) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i != axis) + (axis,)


def _later_sum(weights: Any, g: Any, axis: int) -> Any:
    """`out[i] = sum_{j >= i} weights[..., i, j] * g[j]`, with `weights` laid out with the
    scanned axis moved last and its pairs as the two last axes; returned in g's layout."""
    gm = _to_last(g, axis)
    later = np.triu(np.ones((gm.shape[-1],) * 2, dtype=gm.dtype))
    return _from_last((weights * later * gm[..., None, :]).sum(axis=-1), axis)


@register_op("cumsum", nin=1, shape_rule="softmax",
             reference=lambda x, axis: np.cumsum(x, axis=axis))
class Cumsum(Function):
    """y_j = sum_{i<=j} x_i;  dL/dx_i = sum_{j>=i} g_j (a reversed cumsum of g)"""

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = scan_axis(axis, x.ndim, "cumsum")
        return np.cumsum(x, axis=ctx.axis)

    @staticmethod
    def backward(ctx, g):
        return (reverse_cumsum(g, ctx.axis),)


@register_op("cumprod", nin=1, shape_rule="softmax", domain=(-2.0, 2.0),
             reference=lambda x, axis: np.multiply.accumulate(x, axis=axis))
class Cumprod(Function):
    """y_j = prod_{i<=j} x_i;  dL/dx_i = sum_{j>=i} g_j prod_{k<=j, k!=i} x_k (exact with zeros)"""

    @staticmethod
    @quiet(invalid="ignore")  # (0 * inf = nan, silent in PyTorch)
    def forward(ctx, x, axis=0):
        ctx.axis = scan_axis(axis, x.ndim, "cumprod")
        ctx.save_for_backward(x)
        ctx.has_zero = not np.all(x)
        return np.cumprod(x, axis=ctx.axis)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axis = ctx.axis
        if not ctx.has_zero:  # (PyTorch's fast path too: the product over x_i, divided by it)
            return (reverse_cumsum(g * Cumprod.apply(x, axis=axis), axis) / x,)
        # With zeros: the products of the other elements, one scan per left-out position i
        # (x_i replaced by 1), so no division by zero.
        xm = _to_last(x, axis)
        left_out = np.where(np.eye(xm.shape[-1], dtype=bool), 1.0, xm[..., None, :])
        return (_later_sum(Cumprod.apply(left_out, axis=xm.ndim), g, axis),)


@register_op("logcumsumexp", nin=1, shape_rule="softmax",
             reference=lambda x, axis: np.log(np.cumsum(np.exp(x), axis=axis)))
class LogCumSumExp(Function):
    """y_j = log sum_{i<=j} e^(x_i);  dL/dx_i = sum_{j>=i} g_j e^(x_i - y_j)"""

    @staticmethod
    @quiet(invalid="ignore")  # (-inf - -inf inside logaddexp: nan/-inf as in PyTorch)
    def forward(ctx, x, axis=0):
        ctx.axis = scan_axis(axis, x.ndim, "logcumsumexp")
        ctx.save_for_backward(x)
        # logaddexp accumulates pairwise from the running value: no overflow, no underflow of
        # early terms however far below the later ones they are.
        return np.logaddexp.accumulate(x, axis=ctx.axis)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axis = ctx.axis
        xm, ym = _to_last(x, axis), _to_last(LogCumSumExp.apply(x, axis=axis), axis)
        later = np.triu(np.ones((xm.shape[-1],) * 2, dtype=bool))
        # x_i - y_j <= 0 for j >= i (y_j includes x_i), so exp never overflows; the pairs
        # j < i are masked before exp (-inf -> 0), keeping their gradients finite.
        weights = np.exp(np.where(later, xm[..., :, None] - ym[..., None, :], -np.inf))
        return (_later_sum(weights, g, axis),)


def _scan(name: str, x: Tensor, dim: int) -> Tensor:
    """Run scan `name` along `dim`; a 0-d tensor scans as one element."""
    from ..registry import apply

    if name == "logcumsumexp" and x.dtype.kind != "f":
        raise TypeError(f"logcumsumexp: expected a floating-point tensor, got dtype {x.dtype}")
    if x.ndim == 0:
        scan_axis(dim, 0, name)
        return apply(name, x.reshape(1), axis=0).reshape(())
    return apply(name, x, axis=dim)


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Cumulative sum along `dim`.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int
        The axis scanned (negative counts from the end).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.cumsum(tg.Tensor([1.0, 2.0, 3.0]), dim=0).tolist()
    [1.0, 3.0, 6.0]
    """
    return _scan("cumsum", x, dim)


def cumprod(x: Tensor, dim: int) -> Tensor:
    """Cumulative product along `dim`; the gradient is exact with zeros in `x`.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int
        The axis scanned (negative counts from the end).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.cumprod(tg.Tensor([2.0, 0.0, 3.0]), dim=0).tolist()
    [2.0, 0.0, 0.0]
    """
    return _scan("cumprod", x, dim)


def logcumsumexp(x: Tensor, dim: int) -> Tensor:
    """`log(cumsum(exp(x)))` along `dim`, computed without overflow or underflow.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int
        The axis scanned (negative counts from the end).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> y = tg.logcumsumexp(tg.Tensor([1e4, 1e4], dtype=tg.float64), dim=0)
    >>> round(y[1].item() - 1e4, 4)  # log 2
    0.6931
    """
    return _scan("logcumsumexp", x, dim)
