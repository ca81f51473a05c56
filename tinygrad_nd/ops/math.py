"""Transcendental, log-family and rounding ops: trigonometric and hyperbolic functions and
their inverses, log2/log10/log1p/exp2/expm1, rsqrt/square/reciprocal, erf, and the
piecewise-constant floor/ceil/trunc/round/sign/frac.

Most are one class each over a shared `_Unary` base: the forward is a numpy ufunc and
the backward multiplies by a slope written in the shared array/Tensor vocabulary, so
`np.cos(x)` in `sin`'s backward is the `cos` op when the backward is recorded.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd import Function
from ..registry import register_op
from ._util import quiet
from .elementwise import INF_NAN, POSITIVE

# Values near the singularities of asin/acos/atanh (+-1) and acosh (1) make central
# differences unreliable; these keep the generic tests inside the smooth part.
OPEN_UNIT = (-0.9, 0.9)
ABOVE_ONE = (1.2, 3.0)
INTEGERS = tuple(float(k) for k in range(-3, 4))
HALVES = tuple(k + 0.5 for k in range(-4, 4))
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
LN2, LN10 = math.log(2.0), math.log(10.0)

_erf_object = np.frompyfunc(math.erf, 1, 1)


def erf_values(x: np.ndarray) -> np.ndarray:
    """The error function of each element (libm's `erf` through `math.erf`: correctly
    rounded to within an ulp in float64), in the input's float dtype.

    Parameters
    ----------
    x : ndarray
        Any shape; a non-float array is computed in float64.
    """
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    return np.asarray(_erf_object(x), dtype=np.float64).astype(dtype, copy=False)


def zeros_like_grad(g: Any) -> Any:
    """The zero gradient of a piecewise-constant op, shaped like `g`: zeros on arrays, and
    on Tensors a recorded `where(False, g, 0)` (0 even where g is inf or nan, as PyTorch).

    Parameters
    ----------
    g : ndarray or Tensor
        The upstream gradient (an array in first-order passes, a Tensor when recording).
    """
    if isinstance(g, np.ndarray):
        return np.zeros_like(g)
    return np.where(np.zeros(g.shape, dtype=bool), g, 0.0)


class _Unary(Function):
    """y = f(x) with dy/dx = `slope(x, y)`. Subclasses set `f` (a numpy function) and
    `slope` (in the vocabulary shared by arrays and Tensors)."""

    f = staticmethod(np.positive)
    slope = staticmethod(lambda x, y: 1.0)

    @staticmethod
    @quiet(**INF_NAN)  # (IEEE results outside the domain: log2(-1) = nan, as PyTorch)
    def forward(ctx, x):
        y = ctx.function.f(x)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return (g * ctx.function.slope(x, y),)


class _PiecewiseConstant(Function):
    """y = f(x) constant between jumps;  dy/dx = 0 (zeros, as PyTorch)."""

    f = staticmethod(np.floor)

    @staticmethod
    def forward(ctx, x, **params):
        out = ctx.function.f(x, **params)
        # integers stay integers, as in PyTorch (np.floor would make them float64)
        return out if x.dtype.kind == "f" else out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return (zeros_like_grad(g),)


# ---- trigonometric ------------------------------------------------------------------------
@register_op("sin", nin=1, reference=np.sin)
class Sin(_Unary):
    """y = sin x;  dy/dx = cos x"""

    f = staticmethod(np.sin)
    slope = staticmethod(lambda x, y: np.cos(x))


@register_op("cos", nin=1, reference=np.cos)
class Cos(_Unary):
    """y = cos x;  dy/dx = -sin x"""

    f = staticmethod(np.cos)
    slope = staticmethod(lambda x, y: -np.sin(x))


@register_op("tan", nin=1, domain=(-1.2, 1.2), reference=np.tan)
class Tan(_Unary):
    """y = tan x;  dy/dx = 1 + y**2"""

    f = staticmethod(np.tan)
    slope = staticmethod(lambda x, y: 1 + y * y)


@register_op("asin", nin=1, domain=OPEN_UNIT, reference=np.arcsin)
class Asin(_Unary):
    """y = asin x;  dy/dx = 1 / sqrt(1 - x**2)"""

    f = staticmethod(np.arcsin)
    slope = staticmethod(lambda x, y: 1 / np.sqrt(1 - x * x))


@register_op("acos", nin=1, domain=OPEN_UNIT, reference=np.arccos)
class Acos(_Unary):
    """y = acos x;  dy/dx = -1 / sqrt(1 - x**2)"""

    f = staticmethod(np.arccos)
    slope = staticmethod(lambda x, y: -1 / np.sqrt(1 - x * x))


@register_op("atan", nin=1, reference=np.arctan)
class Atan(_Unary):
    """y = atan x;  dy/dx = 1 / (1 + x**2)"""

    f = staticmethod(np.arctan)
    slope = staticmethod(lambda x, y: 1 / (1 + x * x))


@register_op("atan2", nin=2, domain=((-3.0, 3.0), (0.5, 3.0)), reference=np.arctan2)
class Atan2(Function):
    """z = atan2(y, x);  dz/dy = x / (x**2 + y**2),  dz/dx = -y / (x**2 + y**2) (0 at 0)"""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        need_y, need_x = ctx.needs_input_grad
        r2 = x * x + y * y
        scale = g / r2
        # 0 at the origin, where the angle is undefined, as PyTorch (not 0/0 = nan)
        origin = (r2 if isinstance(r2, np.ndarray) else r2.data) == 0
        return (np.where(origin, 0.0, scale * x) if need_y else None,
                np.where(origin, 0.0, -scale * y) if need_x else None)


# ---- hyperbolic ---------------------------------------------------------------------------
@register_op("sinh", nin=1, reference=np.sinh)
class Sinh(_Unary):
    """y = sinh x;  dy/dx = cosh x"""

    f = staticmethod(np.sinh)
    slope = staticmethod(lambda x, y: np.cosh(x))


@register_op("cosh", nin=1, reference=np.cosh)
class Cosh(_Unary):
    """y = cosh x;  dy/dx = sinh x"""

    f = staticmethod(np.cosh)
    slope = staticmethod(lambda x, y: np.sinh(x))


@register_op("asinh", nin=1, reference=np.arcsinh)
class Asinh(_Unary):
    """y = asinh x;  dy/dx = 1 / sqrt(x**2 + 1)"""

    f = staticmethod(np.arcsinh)
    slope = staticmethod(lambda x, y: 1 / np.sqrt(x * x + 1))


@register_op("acosh", nin=1, domain=ABOVE_ONE, reference=np.arccosh)
class Acosh(_Unary):
    """y = acosh x;  dy/dx = 1 / sqrt(x**2 - 1)"""

    f = staticmethod(np.arccosh)
    # (PyTorch's formula, also outside the domain: finite for x < -1, where acosh is nan)
    slope = staticmethod(lambda x, y: 1 / np.sqrt(x * x - 1))


@register_op("atanh", nin=1, domain=OPEN_UNIT, reference=np.arctanh)
class Atanh(_Unary):
    """y = atanh x;  dy/dx = 1 / (1 - x**2)"""

    f = staticmethod(np.arctanh)
    slope = staticmethod(lambda x, y: 1 / (1 - x * x))


# ---- logarithms, exponentials and powers --------------------------------------------------
@register_op("log2", nin=1, domain=(1e-3, 1e3), reference=np.log2)
class Log2(_Unary):
    """y = log2 x;  dy/dx = 1 / (x ln 2)"""

    f = staticmethod(np.log2)
    slope = staticmethod(lambda x, y: 1 / (x * LN2))


@register_op("log10", nin=1, domain=(1e-3, 1e3), reference=np.log10)
class Log10(_Unary):
    """y = log10 x;  dy/dx = 1 / (x ln 10)"""

    f = staticmethod(np.log10)
    slope = staticmethod(lambda x, y: 1 / (x * LN10))


@register_op("log1p", nin=1, domain=(-0.8, 3.0), reference=np.log1p)
class Log1p(_Unary):
    """y = log(1 + x);  dy/dx = 1 / (1 + x)"""

    f = staticmethod(np.log1p)
    slope = staticmethod(lambda x, y: 1 / (x + 1))


@register_op("exp2", nin=1, reference=np.exp2)
class Exp2(_Unary):
    """y = 2**x;  dy/dx = y ln 2"""

    f = staticmethod(np.exp2)
    slope = staticmethod(lambda x, y: y * LN2)


@register_op("expm1", nin=1, reference=np.expm1)
class Expm1(_Unary):
    """y = e**x - 1;  dy/dx = y + 1"""

    f = staticmethod(np.expm1)
    slope = staticmethod(lambda x, y: y + 1)


@register_op("rsqrt", nin=1, domain=POSITIVE, reference=lambda x: 1 / np.sqrt(x))
class Rsqrt(_Unary):
    """y = 1 / sqrt x;  dy/dx = -y**3 / 2"""

    f = staticmethod(lambda x: np.reciprocal(np.sqrt(x)))
    slope = staticmethod(lambda x, y: y * y * y * -0.5)


@register_op("square", nin=1, reference=np.square)
class Square(_Unary):
    """y = x**2;  dy/dx = 2 x"""

    f = staticmethod(np.square)
    slope = staticmethod(lambda x, y: x * 2)


@register_op("reciprocal", nin=1, domain=POSITIVE, reference=np.reciprocal)
class Reciprocal(_Unary):
    """y = 1 / x;  dy/dx = -y**2"""

    f = staticmethod(np.reciprocal)
    slope = staticmethod(lambda x, y: -(y * y))


@register_op("erf", nin=1, reference=lambda x: erf_values(np.asarray(x)))
class Erf(_Unary):
    """y = erf x;  dy/dx = 2 / sqrt(pi) e**(-x**2)"""

    f = staticmethod(erf_values)
    slope = staticmethod(lambda x, y: np.exp(-(x * x)) * TWO_OVER_SQRT_PI)


# ---- rounding (piecewise constant: zero gradient, as PyTorch) -----------------------------
@register_op("floor", nin=1, kinks=INTEGERS, reference=np.floor)
class Floor(_PiecewiseConstant):
    """y = floor x;  dy/dx = 0"""

    f = staticmethod(np.floor)


@register_op("ceil", nin=1, kinks=INTEGERS, reference=np.ceil)
class Ceil(_PiecewiseConstant):
    """y = ceil x;  dy/dx = 0"""

    f = staticmethod(np.ceil)


@register_op("trunc", nin=1, kinks=INTEGERS, reference=np.trunc)
class Trunc(_PiecewiseConstant):
    """y = trunc x (toward 0);  dy/dx = 0"""

    f = staticmethod(np.trunc)


# (decimals=1 jumps every 0.1, too densely for the generic tests' kink avoidance: it is
# checked against PyTorch in tests/test_math_ops.py)
@register_op("round", nin=1, params={"decimals": (0, -1)}, kinks=HALVES,
             reference=lambda x, decimals: np.round(x, decimals))
class Round(_PiecewiseConstant):
    """y = x rounded to `decimals` places, halves to even;  dy/dx = 0"""

    @staticmethod
    def forward(ctx, x, decimals=0):
        # numpy's rounding is PyTorch's: x * 10**d (or x / 10**-d) rounded half to even
        # with rint, then scaled back, in the input's dtype.
        return np.round(x, decimals)


def _sign(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1; 0 for nan, as PyTorch's (x > 0) - (x < 0) (numpy's sign gives nan)."""
    if x.dtype.kind == "b":
        return x.copy()
    return ((x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)).astype(x.dtype, copy=False)


@register_op("sign", nin=1, kinks=(0.0,), reference=np.sign)
class Sign(_PiecewiseConstant):
    """y = sign x (-1, 0 or 1; 0 for nan, as PyTorch);  dy/dx = 0"""

    f = staticmethod(_sign)


@register_op("frac", nin=1, kinks=INTEGERS, reference=lambda x: x - np.trunc(x))
class Frac(Function):
    """y = x - trunc x (keeps the sign of x);  dy/dx = 1"""

    @staticmethod
    @quiet(invalid="ignore")  # (inf - inf = nan, as PyTorch)
    def forward(ctx, x):
        return x - np.trunc(x)

    @staticmethod
    def backward(ctx, g):
        return (g,)
