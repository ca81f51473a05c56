"""Reductions over axes. Backwards broadcast the gradient back over the reduced axes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Function
from ..registry import apply, register_op
from ..tensor import Tensor
from ._util import normalize_axes, permute, quiet
from .movement import Expand

REDUCE_PARAMS = {"keepdims": (False, True)}


def _kept_shape(ctx) -> tuple[int, ...]:
    """The input's shape with the reduced axes kept as 1s."""
    return tuple(1 if i in ctx.axes else s for i, s in enumerate(ctx.shape))


def _spread(ctx, g):
    """Broadcast a reduced gradient back to the input's shape: a fresh array in a first-order
    pass, the recorded expand op on a Tensor."""
    if not ctx.keepdims and g.ndim:  # (a 0-d gradient broadcasts as it is)
        g = g.reshape(_kept_shape(ctx))
    if isinstance(g, Tensor):
        return Expand.apply(g, shape=ctx.shape)
    # A filled array, not np.broadcast_to: a read-only view would be copied anyway before it
    # lands in a leaf's .grad, and this is cheaper (see docs/performance.md).
    spread = np.empty(ctx.shape, dtype=g.dtype)
    spread[...] = g
    return spread


_add_reduce = np.add.reduce


@register_op("sum", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims))
class Sum(Function):
    """z = sum x over axes;  dz/dx = 1 (the gradient is broadcast back)"""

    @staticmethod
    @quiet(invalid="ignore")  # (inf + -inf: nan, silent in PyTorch)
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = normalize_axes(axis, x.ndim, "sum"), keepdims, x.shape
        # (what x.sum does, without its Python-level wrapper)
        return _add_reduce(x, ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        return (_spread(ctx, g),)


@register_op("mean", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims))
class Mean(Function):
    """z = mean x over axes;  dz/dx = 1/n (nan over zero elements, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.axes, ctx.keepdims, ctx.shape = normalize_axes(axis, x.ndim, "mean"), keepdims, x.shape
        count = int(np.prod([x.shape[a] for a in ctx.axes]))
        if count == 0:
            # The mean of nothing is nan, as in PyTorch (numpy would warn "Mean of empty
            # slice"); the gradient, like the input, is empty.
            ctx.scale = np.nan
            total = np.sum(x, axis=ctx.axes, keepdims=keepdims)
            return np.full(np.shape(total), np.nan, dtype=np.result_type(total, np.float16))
        ctx.scale = 1.0 / count
        return np.mean(x, axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        spread = _spread(ctx, g)
        spread *= ctx.scale  # (in place on the fresh array; a new product on Tensors)
        return (spread,)


class _Extremum(Function):
    """Shared forward/backward of max and min; subclasses set `pick`."""

    pick = staticmethod(np.max)

    @staticmethod
    @quiet(invalid="ignore")  # (NaN input: no winner, 0/0 shares, silent in PyTorch)
    def forward(ctx, x, axis=None, keepdims=False):
        name = ctx.function.op_name
        ctx.axes, ctx.keepdims, ctx.shape = normalize_axes(axis, x.ndim, name), keepdims, x.shape
        if x.size == 0:
            raise ValueError(f"{name}: reduction over an empty tensor (shape {x.shape})")
        kept = ctx.function.pick(x, axis=ctx.axes, keepdims=True)
        winners = x == kept
        # Tied extrema share the gradient equally, which is also what central differences see.
        ctx.share = winners / winners.sum(axis=ctx.axes, keepdims=True).astype(x.dtype)
        return kept if keepdims else kept.reshape([s for i, s in enumerate(x.shape)
                                                    if i not in ctx.axes])

    @staticmethod
    def backward(ctx, g):
        spread = _spread(ctx, g)
        spread *= ctx.share  # (in place on the fresh array; a new product on Tensors)
        return (spread,)


@register_op("max", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims))
class Max(_Extremum):
    """z = max x over axes;  dz/dx = 1 at the maximum (shared equally between ties), else 0"""

    pick = staticmethod(np.max)


@register_op("min", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims))
class Min(_Extremum):
    """z = min x over axes;  dz/dx = 1 at the minimum (shared equally between ties), else 0"""

    pick = staticmethod(np.min)


def _reduced(ctx, x, axis, keepdims) -> None:
    """Record a reduction's axes, keepdims and input shape on `ctx`."""
    ctx.axes = normalize_axes(axis, x.ndim, ctx.function.op_name)
    ctx.keepdims, ctx.shape = keepdims, x.shape


def _drop_axes(ctx, kept):
    """A keepdims result reshaped to the requested layout."""
    return kept if ctx.keepdims else kept.reshape([s for i, s in enumerate(ctx.shape)
                                                   if i not in ctx.axes])


def _exclusive_cumprod(x):
    """`[1, x0, x0 x1, ...]` along the last axis (without its last product)."""
    from .scan import Cumprod

    ones = np.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    return np.concatenate([ones, Cumprod.apply(x, axis=x.ndim - 1)[..., :-1]], axis=-1)


def _prod_of_others(x, axes):
    """For each element, the product of the other elements of its reduced group: exclusive
    prefix times exclusive suffix products, so zeros need no division."""
    from .scan import flip

    kept = tuple(i for i in range(x.ndim) if i not in axes)
    moved = permute(x, kept + axes)
    flat = moved.reshape(tuple(x.shape[i] for i in kept) + (-1,))
    last = flat.ndim - 1
    others = _exclusive_cumprod(flat) * flip(_exclusive_cumprod(flip(flat, last)), last)
    return permute(others.reshape(moved.shape), tuple(int(i) for i in np.argsort(kept + axes)))


@register_op("prod", nin=1, shape_rule="reduce", params=REDUCE_PARAMS, domain=(-2.0, 2.0),
             reference=lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims))
class Prod(Function):
    """z = prod x over axes;  dz/dx_i = the product of the other elements (exact with zeros)"""

    @staticmethod
    @quiet(invalid="ignore")  # (0 * inf = nan, silent in PyTorch)
    def forward(ctx, x, axis=None, keepdims=False):
        _reduced(ctx, x, axis, keepdims)
        ctx.save_for_backward(x)
        return np.prod(x, axis=ctx.axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (_spread(ctx, g) * _prod_of_others(x, ctx.axes),)


@register_op("logsumexp", nin=1, shape_rule="reduce", params=REDUCE_PARAMS,
             reference=lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis,
                                                               keepdims=keepdims)))
class LogSumExp(Function):
    """z = log sum e^x over axes;  dz/dx = e^(x - z) (the softmax)"""

    @staticmethod
    @quiet(divide="ignore", invalid="ignore")  # (log 0 = -inf for empty or all -inf, as torch)
    def forward(ctx, x, axis=None, keepdims=False):
        _reduced(ctx, x, axis, keepdims)
        ctx.save_for_backward(x)
        if any(x.shape[a] == 0 for a in ctx.axes):
            shift = np.zeros(_kept_shape(ctx), dtype=x.dtype)
        else:
            # Shifted by the max so exp never overflows (|x| up to float max); an infinite
            # max would make x - max nan, so those groups are left unshifted.
            shift = np.max(x, axis=ctx.axes, keepdims=True)
            shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype, copy=False)
        kept = np.log(np.sum(np.exp(x - shift), axis=ctx.axes, keepdims=True)) + shift
        return _drop_axes(ctx, kept)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        z = LogSumExp.apply(x, axis=ctx.axes, keepdims=True)
        return (_spread(ctx, g) * np.exp(x - z),)


NORM_ORDS = (2, 1, 3, 0.5, np.inf, -np.inf, 0)


@register_op("vector_norm", nin=1, shape_rule="reduce", kinks=(0.0,),
             params={"ord": NORM_ORDS, **REDUCE_PARAMS},
             reference=lambda x, axis, keepdims, ord: _reference_norm(x, axis, keepdims, ord))
class VectorNorm(Function):
    """z = (sum |x|^p)^(1/p) over axes;  dz/dx = sign(x) |x|^(p-1) / z^(p-1) (0 where z = 0);
    p = inf/-inf: sign(x) at the largest/smallest |x| (ties share it); p = 0: 0"""

    @staticmethod
    @quiet(divide="ignore", invalid="ignore")  # (0 ** negative for p < 1, as torch: inf)
    def forward(ctx, x, axis=None, keepdims=False, ord=2):
        _reduced(ctx, x, axis, keepdims)
        ctx.ord = ord
        if ord in (np.inf, -np.inf):
            if x.size == 0:
                raise ValueError(f"vector_norm: ord={ord} over an empty tensor (shape {x.shape})")
            size = np.abs(x)
            kept = (np.max if ord > 0 else np.min)(size, axis=ctx.axes, keepdims=True)
            winners = size == kept
            ctx.share = np.sign(x) * winners / winners.sum(axis=ctx.axes, keepdims=True)
        elif ord == 0:
            kept = np.sum(x != 0, axis=ctx.axes, keepdims=True).astype(x.dtype)
        elif ord == 1:
            ctx.sign = np.sign(x)
            kept = np.sum(np.abs(x), axis=ctx.axes, keepdims=True)
        elif ord == 2:
            ctx.save_for_backward(x)
            kept = np.sqrt(np.sum(x * x, axis=ctx.axes, keepdims=True))
        else:
            ctx.save_for_backward(x)
            ctx.sign = np.sign(x)
            kept = np.sum(np.abs(x) ** ord, axis=ctx.axes, keepdims=True) ** (1.0 / ord)
        return _drop_axes(ctx, kept)

    @staticmethod
    def backward(ctx, g):
        p, spread = ctx.ord, _spread(ctx, g)
        if p in (np.inf, -np.inf):
            return (spread * ctx.share,)
        if p == 0:
            return (spread * 0.0,)
        if p == 1:
            return (spread * ctx.sign,)
        (x,) = ctx.saved_tensors
        z = VectorNorm.apply(x, axis=ctx.axes, keepdims=True, ord=p)
        zero = np.asarray(z) == 0  # (the norm of zeros: gradient 0, as PyTorch)
        safe = np.where(zero, 1.0, z)
        if p == 2:
            share = x / safe
        else:
            # |x| ** (p - 1) is infinite at x = 0 for p < 1: those entries get 0, as PyTorch.
            size = np.where(ctx.sign == 0, 1.0, np.abs(x))
            share = ctx.sign * size ** (p - 1) / safe ** (p - 1)
        return (spread * np.where(zero, 0.0, share),)


def _reference_norm(x, axis, keepdims, ord):
    a = np.abs(x)
    if ord == np.inf:
        return np.max(a, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return np.min(a, axis=axis, keepdims=keepdims)
    if ord == 0:
        return np.count_nonzero(x, axis=axis, keepdims=keepdims).astype(x.dtype)
    return np.sum(a ** ord, axis=axis, keepdims=keepdims) ** (1.0 / ord)


def _floating(x: Tensor, op: str, promote: bool) -> Tensor:
    """`x` if it is floating; an integer or bool `x` converted to the default dtype
    (`promote`, as PyTorch's logsumexp) or refused with a TypeError (as its vector_norm)."""
    if x.dtype.kind == "f":
        return x
    if not promote:
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {x.dtype}")
    from ..dtypes import get_default_dtype

    return x.astype(get_default_dtype())


def prod(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Product over `dim` (all dims when None); the gradient is exact with zeros.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int or tuple of int, optional
        The axes reduced; all when None.
    keepdim : bool, default False
        Keep the reduced axes with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> x = tg.Tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> tg.prod(x).backward(); x.grad.tolist()
    [0.0, 6.0, 0.0]
    """
    return apply("prod", x, axis=dim, keepdims=keepdim)


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """`log(sum(exp(x)))` over `dim` (all dims when None), shifted by the max: exact for
    any |x| (integers promote to the default float dtype, as in PyTorch).

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int or tuple of int, optional
        The axes reduced; all when None.
    keepdim : bool, default False
        Keep the reduced axes with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> round(tg.logsumexp(tg.Tensor([1e4, 1e4], dtype=tg.float64)).item() - 1e4, 4)
    0.6931
    """
    return apply("logsumexp", _floating(x, "logsumexp", True), axis=dim, keepdims=keepdim)


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False) -> Tensor:
    """`(sum |x|**ord)**(1/ord)` over `dim` (all dims when None); `ord` may be `inf`
    (max |x|), `-inf` (min |x|), 0 (the count of nonzeros) or any other number. The gradient
    at a zero norm is 0, as PyTorch's.

    Parameters
    ----------
    x : Tensor
        The input.
    ord : float
        The norm's order.
    dim : int or tuple of int, optional
        The dims to reduce (default: all).
    keepdim : bool
        Keep the reduced dims with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.linalg.vector_norm(tg.Tensor([3.0, -4.0])).item()
    5.0
    >>> tg.linalg.vector_norm(tg.Tensor([3.0, -4.0]), ord=float("inf")).item()
    4.0
    """
    if isinstance(ord, (bool, np.bool_)) or not isinstance(ord, (int, float, np.number)):
        raise TypeError(f"vector_norm: ord must be a number, got {type(ord).__name__} {ord!r}")
    axis = None if isinstance(dim, (tuple, list)) and len(dim) == 0 else dim
    return apply("vector_norm", _floating(x, "vector_norm", False), axis=axis,
                 keepdims=keepdim, ord=float(ord))


def norm(x: Tensor, p: float | str | None = "fro", dim: Any = None,
         keepdim: bool = False) -> Tensor:
    """PyTorch's `torch.norm` for vector norms: `p="fro"` (or None) is the 2-norm of the
    elements over `dim`; a number is `vector_norm`'s `ord`.

    Parameters
    ----------
    x : Tensor
        The input.
    p : float, "fro" or None, default "fro"
        The norm's order: "fro" or None for the 2-norm, a number (inf, -inf too) for
        `vector_norm`'s `ord`; matrix norms are refused.
    dim : int or tuple of int, optional
        The axes reduced; all when None.
    keepdim : bool, default False
        Keep the reduced axes with size 1.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.norm(tg.Tensor([[3.0], [4.0]])).item()
    5.0
    """
    if p is None or p == "fro":
        p = 2
    elif isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported (a matrix norm); use a number, inf, "
                         "-inf or 'fro'")
    return vector_norm(x, p, dim, keepdim)
