"""numpy functions on Tensors: differentiable where an op exists, an error where a gradient
would be lost.

`np.exp(t)`, `np.tanh(t)`, `np.sum(t, axis=0)`, `np.where(m, t, 0)` and `arr * t`
on a `tinygrad_nd.Tensor` run the registered op and return a Tensor, recorded like
`t.exp()` (numpy's `__array_ufunc__` / `__array_function__` protocols, as in MyGrad).
So one piece of code written with numpy functions runs on plain arrays (numpy's result) and
on Tensors (a recorded result): HIPS autograd's `autograd.numpy` idea without a wrapper
module.

Which numpy calls are differentiable:

* every ufunc that is the `reference` of a registered op (`np.add`, `np.multiply`,
  `np.exp`, `np.tanh`, `np.maximum`, `np.matmul` ...), found in the registry, so an
  op registered later is dispatched too; `np.add.reduce` / `np.maximum.reduce` /
  `np.minimum.reduce` as `sum` / `max` / `min`;
* the array functions in `FUNCTIONS` (`sum mean max min var std reshape transpose
  squeeze expand_dims broadcast_to where concatenate stack clip dot`), with the
  keyword arguments that have a Tensor equivalent.

Anything else computes on the values with numpy and returns numpy's result, unless that
would cut the graph: a floating-point result from a tensor that requires grad (with grad
mode on) raises a `TypeError` naming the function, never a silently wrong gradient.
`np.asarray(t)` and `t.numpy()` still give the values on purpose.

Examples
--------
>>> import numpy as np
>>> import tinygrad_nd as tg
>>> x = tg.Tensor([0.0, 1.0], requires_grad=True)
>>> y = np.exp(x).sum()          # a recorded Tensor, not an ndarray
>>> y.backward(); [round(g, 4) for g in x.grad.tolist()]
[1.0, 2.7183]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd, functional
from .registry import OPS, apply
from .tensor import Tensor


class _NoTensorEquivalent(Exception):
    """A numpy argument that the Tensor version of a function cannot honour."""


# ---- ufuncs -------------------------------------------------------------------------------
_REDUCE_OPS = {np.add: "sum", np.maximum: "max", np.minimum: "min"}
_ufunc_cache: tuple[int, dict[np.ufunc, str]] = (-1, {})


def _ufunc_ops() -> dict[np.ufunc, str]:
    """ufunc -> registered op whose `reference` it is (rebuilt when an op is registered)."""
    global _ufunc_cache
    if _ufunc_cache[0] != len(OPS):
        table = {op.reference: name for name, op in sorted(OPS.items())
                 if isinstance(op.reference, np.ufunc) and op.nin == op.reference.nin}
        _ufunc_cache = (len(OPS), table)
    return _ufunc_cache[1]


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """`Tensor.__array_ufunc__`: run the registered op, or numpy on values when safe.

    Parameters
    ----------
    ufunc : numpy.ufunc
        The ufunc called, e.g. `np.exp`.
    method : str
        How it was called (`"__call__"`, `"reduce"` ...).
    inputs : tuple
        Its positional arguments.
    kwargs : dict
        Its keyword arguments.
    """
    if any(isinstance(o, Tensor) for o in kwargs.get("out", ())):
        raise TypeError(f"np.{ufunc.__name__}(..., out=tensor): numpy cannot write into a "
                        "Tensor; use the in-place Tensor methods (add_, mul_, copy_ ...) "
                        "or assign the result")
    name = _ufunc_ops().get(ufunc) if method == "__call__" else None
    if name is not None and not kwargs:
        if ufunc.nin == 1:
            return apply(name, inputs[0])
        first, second = inputs
        if isinstance(first, Tensor):
            return first._binary(name, second)
        return second._binary(name, first, reverse=True)
    if method == "reduce" and ufunc in _REDUCE_OPS and isinstance(inputs[0], Tensor):
        extra = set(kwargs) - {"axis", "keepdims"}
        if not extra:
            return apply(_REDUCE_OPS[ufunc], inputs[0], axis=kwargs.get("axis", 0),
                         keepdims=kwargs.get("keepdims", False))
    label = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
    return _on_values(label, getattr(ufunc, method), inputs, kwargs)


# ---- array functions ----------------------------------------------------------------------
def _plain(kwargs: dict[str, Any], *names: str) -> None:
    """Refuse numpy-only arguments (`out=`, `dtype=` ...) that are set to a non-default."""
    for name in names:
        if kwargs.get(name) is not None:
            raise _NoTensorEquivalent(name)


def _reduction(method: str) -> Callable[..., Any]:
    def reduce(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
               keepdims: bool = False, **kwargs: Any) -> Any:
        _plain({"dtype": dtype, "out": out, **kwargs}, "dtype", "out", "initial", "where")
        return getattr(_as_tensor(a), method)(axis, keepdims=keepdims)
    return reduce


def _extremum(method: str) -> Callable[..., Any]:
    def reduce(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
               **kwargs: Any) -> Any:
        _plain({"out": out, **kwargs}, "out", "initial", "where")
        # (axis by keyword: a positional int is PyTorch's dim, which returns indices too)
        return getattr(_as_tensor(a), method)(axis=axis, keepdims=keepdims)
    return reduce


def _spread(method: str) -> Callable[..., Any]:
    def reduce(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0,
               keepdims: bool = False, **kwargs: Any) -> Any:
        _plain({"dtype": dtype, "out": out, **kwargs}, "dtype", "out", "where", "mean",
               "correction")
        return getattr(_as_tensor(a), method)(axis, keepdims=keepdims, ddof=ddof)
    return reduce


def _reshape(a: Any, shape: Any = None, order: str = "C", **kwargs: Any) -> Any:
    shape = kwargs.pop("newshape", shape)  # numpy < 2.1 spelling
    if order != "C" or kwargs:
        raise _NoTensorEquivalent("order")
    return _as_tensor(a).reshape(shape)


def _transpose(a: Any, axes: Any = None) -> Any:
    a = _as_tensor(a)
    return a.T if axes is None else a.permute(tuple(axes))


def _squeeze(a: Any, axis: Any = None) -> Any:
    return _as_tensor(a).squeeze(axis)


def _expand_dims(a: Any, axis: int) -> Any:
    if not isinstance(axis, int):
        raise _NoTensorEquivalent("axis")
    return _as_tensor(a).unsqueeze(axis)


def _broadcast_to(array: Any, shape: Any, subok: bool = False) -> Any:
    return _as_tensor(array).broadcast_to(tuple(np.atleast_1d(shape)))


def _where(condition: Any, *xy: Any) -> Any:
    if len(xy) != 2:
        raise _NoTensorEquivalent("x, y")  # np.where(cond) alone: indices, no gradient
    return functional.where(condition, *xy)


def _concatenate(arrays: Any, axis: int | None = 0, out: Any = None, **kwargs: Any) -> Any:
    _plain({"out": out, **kwargs}, "out", "dtype")
    if axis is None:
        raise _NoTensorEquivalent("axis=None")
    return functional.cat([_as_tensor(a) for a in arrays], axis)


def _stack(arrays: Any, axis: int = 0, out: Any = None, **kwargs: Any) -> Any:
    _plain({"out": out, **kwargs}, "out", "dtype")
    return functional.stack([_as_tensor(a) for a in arrays], axis)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kwargs: Any) -> Any:
    lo, hi = kwargs.pop("min", a_min), kwargs.pop("max", a_max)
    _plain({"out": out, **kwargs}, "out", "dtype", "where", "casting")
    if _is_tensor(lo) or _is_tensor(hi) or np.ndim(lo) or np.ndim(hi):
        raise _NoTensorEquivalent("array bounds")
    return _as_tensor(a).clip(lo, hi)


def _dot(a: Any, b: Any, out: Any = None) -> Any:
    _plain({"out": out}, "out")
    if np.ndim(a) > 2 or np.ndim(b) > 2 or np.ndim(a) == 0 or np.ndim(b) == 0:
        raise _NoTensorEquivalent("operands that are not 1-D or 2-D")
    return _as_tensor(a) @ b if _is_tensor(a) else a @ _as_tensor(b)


#: numpy array functions with a differentiable Tensor equivalent.
FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: _reduction("sum"), np.mean: _reduction("mean"),
    np.max: _extremum("max"), np.amax: _extremum("max"),
    np.min: _extremum("min"), np.amin: _extremum("min"),
    np.var: _spread("var"), np.std: _spread("std"),
    np.reshape: _reshape, np.transpose: _transpose, np.squeeze: _squeeze,
    np.expand_dims: _expand_dims, np.broadcast_to: _broadcast_to, np.where: _where,
    np.concatenate: _concatenate, np.stack: _stack, np.clip: _clip, np.dot: _dot,
}


def array_function(func: Callable[..., Any], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    """`Tensor.__array_function__`: the Tensor equivalent, or numpy on values when safe.

    Parameters
    ----------
    func : callable
        The numpy function called, e.g. `np.sum`.
    args : tuple
        Its positional arguments.
    kwargs : dict
        Its keyword arguments.
    """
    handler = FUNCTIONS.get(func)
    if handler is not None:
        try:
            return handler(*args, **kwargs)
        except _NoTensorEquivalent:
            pass
    return _on_values(f"np.{func.__name__}", func, args, kwargs)


# ---- the fallback -------------------------------------------------------------------------
def _is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor)


def _as_tensor(value: Any) -> Any:
    return value if _is_tensor(value) else Tensor(value)


def _values(value: Any, tracked: list[Any]) -> Any:
    """`value` with every Tensor (also inside lists, tuples and dicts) replaced by its array;
    tensors that would need a gradient are appended to `tracked`."""
    if _is_tensor(value):
        if value.requires_grad:
            tracked.append(value)
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(_values(v, tracked) for v in value)
    if isinstance(value, dict):
        return {k: _values(v, tracked) for k, v in value.items()}
    return value


def _has_float_array(result: Any) -> bool:
    """Whether a numpy result (or a tuple/list of them) holds floating-point values."""
    if isinstance(result, (tuple, list)):
        return any(_has_float_array(r) for r in result)
    return isinstance(result, (np.ndarray, np.generic, float)) and np.asarray(
        result).dtype.kind in "fc"


def _on_values(label: str, fn: Callable[..., Any], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Any:
    """Run `fn` on the tensors' values; refuse when that would silently drop a gradient."""
    tracked: list[Any] = []
    result = fn(*_values(args, tracked), **_values(kwargs, tracked))
    if tracked and autograd.is_grad_enabled() and _has_float_array(result):
        shapes = ", ".join(str(t.shape) for t in tracked)
        raise TypeError(
            f"{label} on a Tensor that requires grad (shape {shapes}) has no differentiable "
            "tinygrad_nd equivalent (or not with these arguments), so its result would "
            "silently carry no gradient. Use a Tensor method or registered op instead, or "
            "compute on values explicitly with t.detach().numpy() / under tg.no_grad().")
    return result
