"""Tensor methods of the reductions (`tinygrad_nd/ops/reduce.py`, `statistics.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..registry import apply
from ._args import Axis, pick_axis

if TYPE_CHECKING:
    from ..tensor import Tensor


class ReductionMethods:
    """Mixed into `tinygrad_nd.Tensor`."""

    __slots__ = ()

    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """Sum over `axis` (all axes when None).

        Parameters
        ----------
        axis : int or tuple of int, optional
            The axes reduced (negative count from the end); all when None.
        keepdims : bool, default False
            Keep the reduced axes with size 1.
        dim : int or tuple of int, optional
            PyTorch's name for `axis` (keyword only; give one of the two).
        """
        return apply("sum", self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None) -> Tensor:
        """Mean over `axis` (all axes when None).

        Parameters
        ----------
        axis : int or tuple of int, optional
            The axes reduced (negative count from the end); all when None.
        keepdims : bool, default False
            Keep the reduced axes with size 1.
        dim : int or tuple of int, optional
            PyTorch's name for `axis` (keyword only; give one of the two).
        """
        return apply("mean", self, axis=pick_axis(axis, dim), keepdims=keepdims)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Axis = None,
            keepdims: bool | None = None) -> Any:
        """Maximum: numpy's spelling returns values, PyTorch's `dim` returns (values, indices).

        * `t.max()` and `t.max(axis=..., keepdims=...)` (numpy's `amax`; `axis` may be
          a tuple): the values only; tied maxima share the gradient equally (as `amax`).
        * `t.max(dim)` or `t.max(dim=d, keepdim=...)` (PyTorch): a named tuple
          `(values, indices)` like `torch.return_types.max`; the gradient goes to the
          index returned (the first maximum).
        * `t.max(other)` with a Tensor: the elementwise maximum, as `torch.max(a, b)`.

        Parameters
        ----------
        dim : int, tuple of int or Tensor, optional
            An int: `(values, indices)` along it; a tuple or None: the values over those (all)
            axes; a Tensor: the elementwise maximum with it.
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        axis : int or tuple of int, optional
            numpy's spelling: the values only, over these axes (keyword only).
        keepdims : bool, optional
            numpy's name for `keepdim` (keyword only; wins when given).

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> t = tg.Tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> t.max(axis=1).tolist(), t.max(1).indices.tolist(), t.max().item()
        ([5.0, 7.0], [1, 0], 7.0)
        """
        return _extremum(self, "max", dim, keepdim, axis, keepdims)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Axis = None,
            keepdims: bool | None = None) -> Any:
        """Minimum, with `max`'s rule: `axis=` (or nothing) returns values, `dim`
        (keyword or a positional int) returns `(values, indices)`, a Tensor is elementwise.

        Parameters
        ----------
        dim : int, tuple of int or Tensor, optional
            As for `max`: an int gives `(values, indices)`, a tuple or None the values, a Tensor
            the elementwise minimum.
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        axis : int or tuple of int, optional
            numpy's spelling: the values only, over these axes (keyword only).
        keepdims : bool, optional
            numpy's name for `keepdim` (keyword only; wins when given).

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> t = tg.Tensor([[1.0, 5.0], [7.0, 2.0]])
        >>> t.min(axis=0).tolist(), t.min(dim=0).indices.tolist()
        ([1.0, 2.0], [0, 1])
        """
        return _extremum(self, "min", dim, keepdim, axis, keepdims)

    def amax(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """Maximum over `dim` (all dims when None or `()`); ties share the gradient.

        Parameters
        ----------
        dim : int or tuple of int, optional
            The axes reduced; all when None (or `()`).
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        axis : int or tuple of int, optional
            numpy's name for `dim` (keyword only; give one of the two).
        keepdims : bool, optional
            numpy's name for `keepdim` (keyword only; wins when given).

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> tg.Tensor([[1.0, 5.0], [7.0, 2.0]]).amax(dim=0).tolist()
        [7.0, 5.0]
        """
        return apply("max", self, axis=_reduce_axis(dim, axis),
                     keepdims=_keep(keepdim, keepdims))

    def amin(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """Minimum over `dim` (all dims when None or `()`); ties share the gradient.

        Parameters
        ----------
        dim : int or tuple of int, optional
            The axes reduced; all when None (or `()`).
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        axis : int or tuple of int, optional
            numpy's name for `dim` (keyword only; give one of the two).
        keepdims : bool, optional
            numpy's name for `keepdim` (keyword only; wins when given).
        """
        return apply("min", self, axis=_reduce_axis(dim, axis),
                     keepdims=_keep(keepdim, keepdims))

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: float | None = None, *,
            dim: Axis = None, correction: float | None = None) -> Tensor:
        """Variance over `axis`: divisor `n - ddof`, numpy's `ddof` or PyTorch's
        `correction` (0 by default, unlike PyTorch's 1). With `n - ddof <= 0`: `inf`, or
        `nan` for 0/0, as PyTorch (see `tinygrad_nd.statistics`).

        Parameters
        ----------
        axis : int or tuple of int, optional
            The axes reduced (negative count from the end); all when None.
        keepdims : bool, default False
            Keep the reduced axes with size 1.
        ddof : float, optional
            Delta degrees of freedom: the divisor is `n - ddof` (0 by default).
        dim : int or tuple of int, optional
            PyTorch's name for `axis` (keyword only; give one of the two).
        correction : float, optional
            PyTorch's name for `ddof` (keyword only; give one of the two).

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> round(tg.Tensor([1.0, 2.0, 4.0]).var(correction=1).item(), 4)
        2.3333
        """
        from ..statistics import variance

        return variance(self, pick_axis(axis, dim), keepdims, ddof, correction)

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: float | None = None, *,
            dim: Axis = None, correction: float | None = None) -> Tensor:
        """Standard deviation: `sqrt(var)`, with the same arguments (gradient 0 where it is 0,
        as in PyTorch).

        Parameters
        ----------
        axis : int or tuple of int, optional
            The axes reduced (negative count from the end); all when None.
        keepdims : bool, default False
            Keep the reduced axes with size 1.
        ddof : float, optional
            Delta degrees of freedom: the divisor is `n - ddof` (0 by default).
        dim : int or tuple of int, optional
            PyTorch's name for `axis` (keyword only; give one of the two).
        correction : float, optional
            PyTorch's name for `ddof` (keyword only; give one of the two).
        """
        from ..statistics import standard_deviation

        return standard_deviation(self, pick_axis(axis, dim), keepdims, ddof, correction)

    def argmax(self, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None) -> Tensor:
        """Index of the (first) maximum along `dim`, of the flattened tensor when None
        (int64, no gradient).

        Parameters
        ----------
        dim : int, optional
            The axis searched; the flattened tensor when None.
        keepdim : bool, default False
            Keep that axis with size 1.
        axis : int, optional
            numpy's name for `dim` (keyword only; give one of the two).
        """
        from ..ops.sort import arg_extremum

        return arg_extremum("argmax", self, pick_axis(axis, dim), keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False, *,
               axis: int | None = None) -> Tensor:
        """Index of the (first) minimum along `dim`, of the flattened tensor when None
        (int64, no gradient).

        Parameters
        ----------
        dim : int, optional
            The axis searched; the flattened tensor when None.
        keepdim : bool, default False
            Keep that axis with size 1.
        axis : int, optional
            numpy's name for `dim` (keyword only; give one of the two).
        """
        from ..ops.sort import arg_extremum

        return arg_extremum("argmin", self, pick_axis(axis, dim), keepdim)

    def any(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
            keepdims: bool | None = None) -> Tensor:
        """Whether any element is nonzero along `dim` (all dims when None): a bool tensor,
        as in PyTorch; `bool(t.any())` and `if t.any():` work on the 0-d result.

        Parameters
        ----------
        dim : int or tuple of int, optional
            The axes reduced; all when None (or `()`).
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        axis : int or tuple of int, optional
            numpy's name for `dim` (keyword only; give one of the two).
        keepdims : bool, optional
            numpy's name for `keepdim` (keyword only; wins when given).

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> t = tg.Tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> bool(t.any()), t.any(dim=1).tolist()
        (True, [True, False])
        """
        return _logical(self, np.any, dim, keepdim, axis, keepdims)

    def all(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
            keepdims: bool | None = None) -> Tensor:
        """Whether all elements are nonzero along `dim` (all dims when None): a bool tensor.

        Parameters
        ----------
        dim : int or tuple of int, optional
            The axes reduced; all when None (or `()`).
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        axis : int or tuple of int, optional
            numpy's name for `dim` (keyword only; give one of the two).
        keepdims : bool, optional
            numpy's name for `keepdim` (keyword only; wins when given).

        Examples
        --------
        >>> import tinygrad_nd as tg
        >>> tg.Tensor([[0.0, 1.0], [2.0, 3.0]]).all(dim=1).tolist()
        [False, True]
        """
        return _logical(self, np.all, dim, keepdim, axis, keepdims)

    # ---- scans ----
    def cumsum(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        """Cumulative sum along `dim`.

        Parameters
        ----------
        dim : int
            The axis scanned (required, by this name or `axis`).
        axis : int, optional
            numpy's name for `dim` (keyword only).
        """
        from ..ops.scan import cumsum

        return cumsum(self, _required_dim("cumsum", axis, dim))

    def cumprod(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        """Cumulative product along `dim` (gradient exact with zeros).

        Parameters
        ----------
        dim : int
            The axis scanned (required, by this name or `axis`).
        axis : int, optional
            numpy's name for `dim` (keyword only).
        """
        from ..ops.scan import cumprod

        return cumprod(self, _required_dim("cumprod", axis, dim))

    def logcumsumexp(self, dim: int | None = None, *, axis: int | None = None) -> Tensor:
        """`log(cumsum(exp(x)))` along `dim`, without overflow or underflow.

        Parameters
        ----------
        dim : int
            The axis scanned (required, by this name or `axis`).
        axis : int, optional
            numpy's name for `dim` (keyword only).
        """
        from ..ops.scan import logcumsumexp

        return logcumsumexp(self, _required_dim("logcumsumexp", axis, dim))

    # ---- products, norms ----
    def prod(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
             keepdims: bool | None = None) -> Tensor:
        """Product over `dim` (all dims when None); the gradient is exact with zeros.

        Parameters
        ----------
        dim : int or tuple of int, optional
            The axes reduced; all when None (or `()`).
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        axis : int or tuple of int, optional
            numpy's name for `dim` (keyword only; give one of the two).
        keepdims : bool, optional
            numpy's name for `keepdim` (keyword only; wins when given).
        """
        from ..ops.reduce import prod

        return prod(self, pick_axis(axis, dim), _keep(keepdim, keepdims))

    def logsumexp(self, dim: Axis = None, keepdim: bool = False, *, axis: Axis = None,
                  keepdims: bool | None = None) -> Tensor:
        """`log(sum(exp(x)))` over `dim` (all dims when None), stable for any |x|.

        Parameters
        ----------
        dim : int or tuple of int, optional
            The axes reduced; all when None (or `()`).
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        axis : int or tuple of int, optional
            numpy's name for `dim` (keyword only; give one of the two).
        keepdims : bool, optional
            numpy's name for `keepdim` (keyword only; wins when given).
        """
        from ..ops.reduce import logsumexp

        return logsumexp(self, pick_axis(axis, dim), _keep(keepdim, keepdims))

    def norm(self, p: float | str | None = "fro", dim: Axis = None,
             keepdim: bool = False) -> Tensor:
        """Vector p-norm over `dim` (all dims when None), PyTorch's `Tensor.norm`:
        `p` is a number, `inf`, `-inf`, or `"fro"` (= 2 over the elements).

        Parameters
        ----------
        p : float, "fro" or None, default "fro"
            The order: a number, inf or -inf; "fro" or None for 2 over the elements.
        dim : int or tuple of int, optional
            The axes reduced; all when None.
        keepdim : bool, default False
            Keep the reduced axes with size 1.
        """
        from ..ops.reduce import norm

        return norm(self, p, dim, keepdim)

    # ---- selections with indices ----
    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
        """(values, indices) sorted along `dim` (stable; see `tinygrad_nd.sort`).

        Parameters
        ----------
        dim : int, default -1
            The axis sorted.
        descending : bool, default False
            Largest first.
        stable : bool, default False
            Accepted for PyTorch's signature: the sort is always stable (keyword only).
        """
        from ..ops.sort import sort

        return sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, *,
                stable: bool = False) -> Tensor:
        """Indices that sort along `dim` (int64, no gradient).

        Parameters
        ----------
        dim : int, default -1
            The axis sorted.
        descending : bool, default False
            Largest first.
        stable : bool, default False
            Accepted for PyTorch's signature: the sort is always stable (keyword only).
        """
        return self.sort(dim, descending, stable=stable).indices

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """(values, indices) of the `k` largest (or smallest) along `dim`.

        Parameters
        ----------
        k : int
            How many values.
        dim : int, default -1
            The axis searched.
        largest : bool, default True
            The k largest (else the k smallest).
        sorted : bool, default True
            Accepted for PyTorch's signature: the values always come in order.
        """
        from ..ops.sort import topk

        return topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        """(values, indices) of the `k`-th smallest along `dim` (`k` from 1).

        Parameters
        ----------
        k : int
            Which value, counting from 1 (the smallest).
        dim : int, default -1
            The axis searched.
        keepdim : bool, default False
            Keep that axis with size 1.
        """
        from ..ops.sort import kthvalue

        return kthvalue(self, k, dim, keepdim)

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """Lower median: a 0-d tensor without `dim`, else (values, indices) along it.

        Parameters
        ----------
        dim : int, optional
            The axis; all elements when None.
        keepdim : bool, default False
            With `dim`, keep that axis with size 1.
        """
        from ..ops.sort import median

        return median(self, dim, keepdim)


def _keep(keepdim: bool, keepdims: bool | None) -> bool:
    """PyTorch's `keepdim` or numpy's `keepdims`."""
    return bool(keepdim if keepdims is None else keepdims)


def _reduce_axis(dim: Axis, axis: Axis) -> Axis:
    """`dim` or its alias `axis`; PyTorch's `dim=()` means every dim."""
    picked = pick_axis(axis, dim)
    return None if isinstance(picked, (tuple, list)) and len(picked) == 0 else picked


def _required_dim(op: str, axis: int | None, dim: int | None) -> int:
    picked = pick_axis(axis, dim)
    if picked is None:
        raise TypeError(f"{op}: missing the dim to scan along (dim=)")
    return picked  # type: ignore[return-value]


def _extremum(x: Any, name: str, dim: Any, keepdim: bool, axis: Axis,
              keepdims: bool | None) -> Any:
    """The dispatch documented on `ReductionMethods.max`."""
    from ..tensor import Tensor

    if isinstance(dim, Tensor):
        return x.maximum(dim) if name == "max" else x.minimum(dim)
    if dim is None or isinstance(dim, (tuple, list)):  # numpy's spelling: values only
        return apply(name, x, axis=_reduce_axis(dim, axis), keepdims=_keep(keepdim, keepdims))
    if axis is not None:
        raise TypeError(f"{name}: pass either axis= or its alias dim=, not both")
    from ..ops import sort

    along = sort.max_along if name == "max" else sort.min_along
    return along(x, dim, _keep(keepdim, keepdims))


def _logical(x: Any, reduce: Any, dim: Axis, keepdim: bool, axis: Axis,
             keepdims: bool | None) -> Tensor:
    from ..ops._util import const, normalize_axes

    name = reduce.__name__
    axes = normalize_axes(_reduce_axis(dim, axis), x.ndim, name)
    return const(np.asarray(reduce(x.data, axis=axes, keepdims=_keep(keepdim, keepdims))))
