"""Activation functions of `torch.nn.functional` (re-exported by
`tinygrad_nd.nn.functional`): thin, validated calls of the registered ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor


def _dim(dim: Any, op: str) -> int:
    """A dimension argument: an int (not a bool), else a TypeError naming `op`."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, (bool, np.bool_)):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} {dim!r}")
    return int(dim)


def check_gelu_approximate(approximate: Any, op: str = "gelu") -> str:
    """`approximate` is "none" (exact, erf) or "tanh", as in PyTorch.

    Parameters
    ----------
    approximate : str
        The value to check.
    op : str, default "gelu"
        The calling function, named in the error (a ValueError for any other value).
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"{op}: approximate must be 'none' or 'tanh', got {approximate!r}")
    return str(approximate)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit x Phi(x): exact (erf) by default, or the tanh approximation.

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    approximate : {"none", "tanh"}, default "none"
        "none": x Phi(x) with the exact erf; "tanh": PyTorch's tanh approximation.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> f"{F.gelu(tg.Tensor([1.0])).item():.4f}", f"{F.gelu(tg.Tensor([1.0]), 'tanh').item():.4f}"
    ('0.8413', '0.8412')
    """
    return x.gelu(check_gelu_approximate(approximate))


def relu6(x: Tensor) -> Tensor:
    """min(max(x, 0), 6).

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.relu6(tg.Tensor([-1.0, 3.0, 9.0])).tolist()
    [0.0, 3.0, 6.0]
    """
    return x.relu6()


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clamped into [min_val, max_val] (gradient 0 at both kinks).

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    min_val : float, default -1.0
        The lower bound.
    max_val : float, default 1.0
        The upper bound, at least `min_val`.
    """
    return x.hardtanh(min_val, max_val)


def hardsigmoid(x: Tensor) -> Tensor:
    """min(max(x + 3, 0), 6) / 6.

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    """
    return x.hardsigmoid()


def hardswish(x: Tensor) -> Tensor:
    """x * hardsigmoid(x).

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    """
    return x.hardswish()


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (swish).

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.silu(tg.Tensor([0.0, -1e4, 1e4])).tolist()
    [0.0, -0.0, 10000.0]
    """
    return x.silu()


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x)).

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    """
    return x.mish()


def softsign(x: Tensor) -> Tensor:
    """x / (1 + |x|).

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    """
    return x.softsign()


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, `alpha * (e**x - 1)` otherwise.

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    alpha : float, default 1.0
        The negative branch's limit -alpha as x -> -inf.
    """
    return x.elu(alpha)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, `alpha * (e**(x/alpha) - 1)` otherwise; alpha must not be 0.

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    alpha : float, default 1.0
        The negative branch's scale; not 0.
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return x.celu(alpha)


def selu(x: Tensor) -> Tensor:
    """Scaled ELU with the self-normalising constants (Klambauer et al., 2017).

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    """
    return x.selu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, `negative_slope * x` otherwise.

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    negative_slope : float, default 0.01
        The slope for x <= 0.
    """
    return x.leaky_relu(negative_slope)


def softplus(x: Tensor, beta: float = 1.0) -> Tensor:
    """log(1 + e**(beta x)) / beta, without overflow; beta must not be 0.

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    beta : float, default 1.0
        Sharpness: larger beta approaches relu; not 0.
    """
    if beta == 0:
        raise ValueError("softplus: beta must not be 0 (it divides the result)")
    return x.softplus(beta)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for every finite x.

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.logsigmoid(tg.Tensor([-1e4, 1e4])).tolist()
    [-10000.0, -0.0]
    """
    return x.logsigmoid()


def threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    """x where x > threshold, else `value`.

    Parameters
    ----------
    x : Tensor
        The input, any shape; the function applies elementwise.
    threshold : float
        Entries at or below it are replaced.
    value : float
        What they are replaced by.
    """
    return x.threshold(threshold, value)


def softmin(x: Tensor, dim: int = -1) -> Tensor:
    """softmax(-x) along `dim`.

    Parameters
    ----------
    x : Tensor
        The input.
    dim : int, default -1
        The axis the result sums to 1 along.
    """
    return x.softmin(_dim(dim, "softmin"))


def glu(x: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: `a * sigmoid(b)` for the halves a, b of x along `dim`.

    Parameters
    ----------
    x : Tensor
        The input; its size along `dim` must be even.
    dim : int, default -1
        The axis split into the halves a (first) and b (second); the result is half as long
        there.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> from tinygrad_nd.nn import functional as F
    >>> F.glu(tg.Tensor([[2.0, 4.0, 0.0, 0.0]])).tolist()
    [[1.0, 2.0]]
    """
    dim = _dim(dim, "glu")
    if x.ndim == 0:
        raise ValueError("glu: expected a tensor with at least one dimension, got a 0-d one")
    if not -x.ndim <= dim < x.ndim:
        raise IndexError(f"glu: dim {dim} is out of range for a tensor of shape {x.shape}")
    size = x.shape[dim]
    if size % 2:
        raise ValueError(f"glu: halving dimension {dim} must have an even size, got {size} "
                         f"(shape {x.shape})")
    lead = (slice(None),) * (dim % x.ndim)
    return x[lead + (slice(0, size // 2),)] * x[lead + (slice(size // 2, size),)].sigmoid()
