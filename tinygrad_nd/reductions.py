"""PyTorch's module-level reductions that share a name with a Python builtin: `tg.max`,
`tg.min`, `tg.all`, `tg.any`, with `amax`/`amin`/`argmax`/`argmin` beside them.

They live apart from `tinygrad_nd.functional` so that defining them shadows no builtin
that other functions use. Each delegates to the Tensor method of the same name.
"""

from __future__ import annotations

from typing import Any

from .tensor import Tensor

__all__ = ["all", "amax", "amin", "any", "argmax", "argmin", "max", "min"]


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def max(input: Tensor, *args: Any, **kwargs: Any) -> Any:
    """`torch.max`: the maximum of all elements, `(values, indices)` along a `dim`, or
    the elementwise maximum with a second tensor (see `Tensor.max`).

    Parameters
    ----------
    input : Tensor or array-like
        The tensor; further arguments as `Tensor.max`: nothing (all elements), `dim` (and
        `keepdim`) for `(values, indices)`, or a second tensor for the elementwise maximum.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.max(tg.Tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).values.tolist()
    [5.0, 7.0]
    """
    return _tensor(input).max(*args, **kwargs)


def min(input: Tensor, *args: Any, **kwargs: Any) -> Any:
    """`torch.min`: as `max`, for the minimum.

    Parameters
    ----------
    input : Tensor or array-like
        The tensor; further arguments as `Tensor.min` (see `max`).
    """
    return _tensor(input).min(*args, **kwargs)


def amax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Maximum over `dim` (all dims when None or `()`); ties share the gradient equally.

    Parameters
    ----------
    input : Tensor or array-like
        The tensor to reduce.
    dim : int or tuple of int, optional
        The axes to reduce (negative ones count from the end); all when None or `()`.
    keepdim : bool, default False
        Keep the reduced axes with size 1, so the result broadcasts against `input`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.amax(tg.Tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).tolist()
    [5.0, 7.0]
    """
    return _tensor(input).amax(dim, keepdim)


def amin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Minimum over `dim` (all dims when None or `()`); ties share the gradient equally.

    Parameters
    ----------
    input : Tensor or array-like
        The tensor to reduce.
    dim : int or tuple of int, optional
        The axes to reduce (negative ones count from the end); all when None or `()`.
    keepdim : bool, default False
        Keep the reduced axes with size 1, so the result broadcasts against `input`.
    """
    return _tensor(input).amin(dim, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the first maximum along `dim` (of the flattened tensor when None).

    Parameters
    ----------
    input : Tensor or array-like
        The tensor to reduce.
    dim : int, optional
        The axis to search along; the flattened tensor when None.
    keepdim : bool, default False
        Keep that axis with size 1 (with `dim` given).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.argmax(tg.Tensor([[1.0, 5.0], [7.0, 2.0]]), dim=1).tolist()
    [1, 0]
    """
    return _tensor(input).argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the first minimum along `dim` (of the flattened tensor when None).

    Parameters
    ----------
    input : Tensor or array-like
        The tensor to reduce.
    dim : int, optional
        The axis to search along; the flattened tensor when None.
    keepdim : bool, default False
        Keep that axis with size 1 (with `dim` given).
    """
    return _tensor(input).argmin(dim, keepdim)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether all elements are nonzero along `dim` (all dims when None): a bool tensor.

    Parameters
    ----------
    input : Tensor or array-like
        The tensor to reduce.
    dim : int or tuple of int, optional
        The axes to reduce (negative ones count from the end); all when None or `()`.
    keepdim : bool, default False
        Keep the reduced axes with size 1, so the result broadcasts against `input`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> bool(tg.all(tg.Tensor([1.0, 2.0])))
    True
    """
    return _tensor(input).all(dim, keepdim)


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether any element is nonzero along `dim` (all dims when None): a bool tensor.

    Parameters
    ----------
    input : Tensor or array-like
        The tensor to reduce.
    dim : int or tuple of int, optional
        The axes to reduce (negative ones count from the end); all when None or `()`.
    keepdim : bool, default False
        Keep the reduced axes with size 1, so the result broadcasts against `input`.
    """
    return _tensor(input).any(dim, keepdim)
