"""PyTorch's elementwise math functions (`torch.sin` ... `torch.remainder`): thin front
ends to the registered ops in `tinygrad_nd/ops/math.py` and `ops/elementwise.py`, through
the Tensor methods. Exported as `tinygrad_nd.<name>` and re-exported by `functional.py`.
"""

from __future__ import annotations

from typing import Any

from .tensor import Tensor


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def sin(x: Any) -> Tensor:
    """Elementwise sine.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.sin(tg.Tensor([0.0])).tolist()
    [0.0]
    """
    return _tensor(x).sin()


def cos(x: Any) -> Tensor:
    """Elementwise cosine (`tg.cos(tg.zeros(1))` is `[1.0]`).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).cos()


def tan(x: Any) -> Tensor:
    """Elementwise tangent.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).tan()


def asin(x: Any) -> Tensor:
    """Elementwise inverse sine (nan outside [-1, 1]).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).asin()


def acos(x: Any) -> Tensor:
    """Elementwise inverse cosine (nan outside [-1, 1]).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).acos()


def atan(x: Any) -> Tensor:
    """Elementwise inverse tangent.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).atan()


def atan2(input: Any, other: Any) -> Tensor:
    """Angle of the point (other, input) in (-pi, pi], elementwise and broadcast.

    Parameters
    ----------
    input : Tensor or array-like
        The y coordinates.
    other : Tensor, array-like or number
        The x coordinates; broadcast with `input`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> f"{tg.atan2(tg.Tensor([1.0]), tg.Tensor([-1.0])).item():.4f}"   # 3 pi / 4
    '2.3562'
    """
    return _tensor(input).atan2(other)


def sinh(x: Any) -> Tensor:
    """Elementwise hyperbolic sine.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).sinh()


def cosh(x: Any) -> Tensor:
    """Elementwise hyperbolic cosine.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).cosh()


def asinh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic sine.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).asinh()


def acosh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic cosine (nan below 1).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).acosh()


def atanh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic tangent.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).atanh()


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def log2(x: Any) -> Tensor:
    """Elementwise base-2 logarithm (`tg.log2(tg.Tensor([8.0]))` is `[3.0]`).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).log2()


def log10(x: Any) -> Tensor:
    """Elementwise base-10 logarithm.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).log10()


def log1p(x: Any) -> Tensor:
    """log(1 + x), accurate for small x.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).log1p()


def exp2(x: Any) -> Tensor:
    """Elementwise 2**x.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).exp2()


def expm1(x: Any) -> Tensor:
    """e**x - 1, accurate for small x.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).expm1()


def rsqrt(x: Any) -> Tensor:
    """Elementwise 1 / sqrt(x).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).rsqrt()


def square(x: Any) -> Tensor:
    """Elementwise x**2.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).square()


def reciprocal(x: Any) -> Tensor:
    """Elementwise 1 / x.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).reciprocal()


def erf(x: Any) -> Tensor:
    """Elementwise error function, 2/sqrt(pi) * integral of e**(-t**2) from 0 to x.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> f"{tg.erf(tg.Tensor([1.0], dtype=tg.float64)).item():.6f}"
    '0.842701'
    """
    return _tensor(x).erf()


def floor(x: Any) -> Tensor:
    """Largest integer <= x (gradient 0).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).floor()


def ceil(x: Any) -> Tensor:
    """Smallest integer >= x (gradient 0).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).ceil()


def trunc(x: Any) -> Tensor:
    """x rounded toward 0 (gradient 0).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).trunc()


fix = trunc


def round(x: Any, *, decimals: int = 0) -> Tensor:
    """x rounded to `decimals` places, halves to even, as PyTorch (gradient 0).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    decimals : int, default 0
        Decimal places kept (negative: round to tens, hundreds...); keyword only.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.round(tg.Tensor([0.5, 1.5, 2.5])).tolist()
    [0.0, 2.0, 2.0]
    """
    return _tensor(x).round(decimals)


def sign(x: Any) -> Tensor:
    """-1, 0 or 1 by the sign of x (gradient 0).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).sign()


def frac(x: Any) -> Tensor:
    """x - trunc(x), with the sign of x (gradient 1).

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    """
    return _tensor(x).frac()


def clamp(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """Clamp into `[min, max]`; bounds may be numbers or tensors that broadcast.

    Parameters
    ----------
    x : Tensor or array-like
        The input, any shape (a non-Tensor is converted).
    min : number or Tensor, optional
        Lower bound (no lower bound when None); a tensor broadcasts.
    max : number or Tensor, optional
        Upper bound (no upper bound when None); a tensor broadcasts.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.clamp(tg.Tensor([-2.0, 0.5, 3.0]), min=tg.Tensor([-1.0, 1.0, -1.0]), max=2.0).tolist()
    [-1.0, 1.0, 2.0]
    """
    return _tensor(x).clip(min, max)


clip = clamp


def lerp(input: Any, end: Any, weight: Any) -> Tensor:
    """`input + weight * (end - input)`; `weight` is a number or a tensor.

    Parameters
    ----------
    input : Tensor or array-like
        The start values.
    end : Tensor, array-like or number
        The end values; broadcast with `input`.
    weight : number or Tensor
        The interpolation weight (0: `input`, 1: `end`); a tensor broadcasts.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.lerp(tg.zeros(2), tg.ones(2), 0.25).tolist()
    [0.25, 0.25]
    """
    return _tensor(input).lerp(end, weight)


def hypot(input: Any, other: Any) -> Tensor:
    """sqrt(input**2 + other**2) elementwise, without overflow.

    Parameters
    ----------
    input : Tensor or array-like
        The first operand.
    other : Tensor, array-like or number
        The second operand; broadcast with `input`.
    """
    return _tensor(input).hypot(other)


def fmod(input: Any, other: Any) -> Tensor:
    """Remainder with the sign of `input` (C's fmod).

    Parameters
    ----------
    input : Tensor or array-like
        The dividend.
    other : Tensor, array-like or number
        The divisor; broadcast with `input`.

    Examples
    --------
    >>> import tinygrad_nd as tg
    >>> tg.fmod(tg.Tensor([-3.0, 3.0]), 2.0).tolist(), tg.remainder(tg.Tensor([-3.0]), 2.0).tolist()
    ([-1.0, 1.0], [1.0])
    """
    return _tensor(input).fmod(other)


def remainder(input: Any, other: Any) -> Tensor:
    """Remainder with the sign of `other` (Python's %).

    Parameters
    ----------
    input : Tensor or array-like
        The dividend.
    other : Tensor, array-like or number
        The divisor; broadcast with `input`.
    """
    return _tensor(input).remainder(other)
