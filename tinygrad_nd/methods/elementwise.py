"""Tensor methods of the elementwise math and activation ops (`tinygrad_nd/ops/elementwise.py`,
`ops/activation.py`): one explicit, typed line each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..registry import apply

if TYPE_CHECKING:
    from ..tensor import Tensor


class ElementwiseMethods:
    """Mixed into `tinygrad_nd.Tensor`."""

    __slots__ = ()

    def exp(self) -> Tensor:
        """Elementwise e**x."""
        return apply("exp", self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return apply("log", self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return apply("sqrt", self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (gradient 0 at 0)."""
        return apply("abs", self)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:
        """Clamp values into `[min, max]`; the gradient is 1 inside, 0 outside.

        `min` and `max` may be numbers or tensors (arrays) that broadcast with `self`;
        tensor bounds get gradients where they are the result, as in PyTorch.

        Parameters
        ----------
        min : number, Tensor or array-like, optional
            Lower bound; none when None.
        max : number, Tensor or array-like, optional
            Upper bound; none when None.
        """
        if isinstance(min, np.ndarray | ElementwiseMethods | list) or \
                isinstance(max, np.ndarray | ElementwiseMethods | list):
            return _clamp_to_tensors(self, min, max)
        return apply("clip", self, min=min, max=max)

    clamp = clip

    def sigmoid(self) -> Tensor:
        """Logistic function 1 / (1 + e**-x), computed without overflow."""
        return apply("sigmoid", self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent."""
        return apply("tanh", self)

    def relu(self) -> Tensor:
        """max(x, 0) (gradient 0 at 0)."""
        return apply("relu", self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x for x > 0, `negative_slope * x` otherwise.

        Parameters
        ----------
        negative_slope : float, default 0.01
            The slope for x <= 0.
        """
        return apply("leaky_relu", self, negative_slope=negative_slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        """x for x > 0, `alpha * (e**x - 1)` otherwise.

        Parameters
        ----------
        alpha : float, default 1.0
            The negative branch's limit -alpha as x -> -inf.
        """
        return apply("elu", self, alpha=alpha)

    def softplus(self, beta: float = 1.0) -> Tensor:
        """log(1 + e**(beta x)) / beta, computed without overflow.

        Parameters
        ----------
        beta : float, default 1.0
            Sharpness: larger beta approaches relu; not 0.
        """
        return apply("softplus", self, beta=beta)

    def gelu(self, approximate: str = "none") -> Tensor:
        """Gaussian error linear unit x Phi(x): exact (erf) by default, or its tanh
        approximation with `approximate="tanh"`, as PyTorch.

        Parameters
        ----------
        approximate : {"none", "tanh"}, default "none"
            The exact erf form or PyTorch's tanh approximation.
        """
        return apply("gelu", self, approximate=approximate)

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """exp(x) / sum(exp(x)) along `axis`, shifted by the max for stability.

        Parameters
        ----------
        axis : int, default -1
            The axis the result is normalised along.
        dim : int, optional
            PyTorch's name for `axis` (keyword only; wins when given).
        """
        return apply("softmax", self, axis=axis if dim is None else dim)

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """x - logsumexp(x) along `axis`, stable for |x| up to float max.

        Parameters
        ----------
        axis : int, default -1
            The axis the result is normalised along.
        dim : int, optional
            PyTorch's name for `axis` (keyword only; wins when given).
        """
        return apply("log_softmax", self, axis=axis if dim is None else dim)

    # ---- part "math" of issue #14 ----------------------------------------------------------
    def sin(self) -> Tensor:
        """Elementwise sine."""
        return apply("sin", self)

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        return apply("cos", self)

    def tan(self) -> Tensor:
        """Elementwise tangent."""
        return apply("tan", self)

    def asin(self) -> Tensor:
        """Elementwise inverse sine (nan outside [-1, 1])."""
        return apply("asin", self)

    def acos(self) -> Tensor:
        """Elementwise inverse cosine (nan outside [-1, 1])."""
        return apply("acos", self)

    def atan(self) -> Tensor:
        """Elementwise inverse tangent."""
        return apply("atan", self)

    def atan2(self, other: Any) -> Tensor:
        """Angle of the point (other, self): `atan2(self, other)`, in (-pi, pi].

        Parameters
        ----------
        other : Tensor, array-like or number
            The x coordinates (`self` holds the y); broadcast with `self`.
        """
        return self._binary("atan2", other)  # type: ignore[attr-defined, no-any-return]

    arctan2 = atan2

    def sinh(self) -> Tensor:
        """Elementwise hyperbolic sine."""
        return apply("sinh", self)

    def cosh(self) -> Tensor:
        """Elementwise hyperbolic cosine."""
        return apply("cosh", self)

    def asinh(self) -> Tensor:
        """Elementwise inverse hyperbolic sine."""
        return apply("asinh", self)

    def acosh(self) -> Tensor:
        """Elementwise inverse hyperbolic cosine (nan below 1)."""
        return apply("acosh", self)

    def atanh(self) -> Tensor:
        """Elementwise inverse hyperbolic tangent (+-inf at +-1, nan beyond)."""
        return apply("atanh", self)

    arcsin, arccos, arctan = asin, acos, atan
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def log2(self) -> Tensor:
        """Elementwise base-2 logarithm."""
        return apply("log2", self)

    def log10(self) -> Tensor:
        """Elementwise base-10 logarithm."""
        return apply("log10", self)

    def log1p(self) -> Tensor:
        """log(1 + x), accurate for small x."""
        return apply("log1p", self)

    def exp2(self) -> Tensor:
        """Elementwise 2**x."""
        return apply("exp2", self)

    def expm1(self) -> Tensor:
        """e**x - 1, accurate for small x."""
        return apply("expm1", self)

    def rsqrt(self) -> Tensor:
        """Elementwise 1 / sqrt(x)."""
        return apply("rsqrt", self)

    def square(self) -> Tensor:
        """Elementwise x**2."""
        return apply("square", self)

    def reciprocal(self) -> Tensor:
        """Elementwise 1 / x."""
        return apply("reciprocal", self)

    def erf(self) -> Tensor:
        """Elementwise error function."""
        return apply("erf", self)

    def floor(self) -> Tensor:
        """Largest integer <= x (gradient 0)."""
        return apply("floor", self)

    def ceil(self) -> Tensor:
        """Smallest integer >= x (gradient 0)."""
        return apply("ceil", self)

    def trunc(self) -> Tensor:
        """x rounded toward 0 (gradient 0)."""
        return apply("trunc", self)

    fix = trunc

    def round(self, decimals: int = 0) -> Tensor:
        """x rounded to `decimals` places, halves to even (gradient 0).

        Parameters
        ----------
        decimals : int, default 0
            Decimal places kept (negative: round to tens, hundreds...).
        """
        return apply("round", self, decimals=_int_arg(decimals, "decimals", "round"))

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of x (gradient 0)."""
        return apply("sign", self)

    def frac(self) -> Tensor:
        """x - trunc(x), with the sign of x (gradient 1)."""
        return apply("frac", self)

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """`self + weight * (end - self)`; `weight` is a number or a tensor.

        Parameters
        ----------
        end : Tensor, array-like or number
            The end values; broadcast with `self`.
        weight : number or Tensor
            The interpolation weight (0: `self`, 1: `end`).
        """
        start, end = _common(self, end, "lerp")
        return apply("lerp", start, end, start._operand(weight, "lerp"))

    def hypot(self, other: Any) -> Tensor:
        """sqrt(self**2 + other**2) elementwise, without overflow.

        Parameters
        ----------
        other : Tensor, array-like or number
            The second operand; broadcast with `self`.
        """
        return self._binary("hypot", other)  # type: ignore[attr-defined, no-any-return]

    def fmod(self, other: Any) -> Tensor:
        """Remainder of self / other with the sign of `self` (C's fmod).

        Parameters
        ----------
        other : Tensor, array-like or number
            The divisor; broadcast with `self`.
        """
        return self._binary("fmod", other)  # type: ignore[attr-defined, no-any-return]

    def remainder(self, other: Any) -> Tensor:
        """Remainder of self / other with the sign of `other` (Python's %).

        Parameters
        ----------
        other : Tensor, array-like or number
            The divisor; broadcast with `self`.
        """
        return self._binary("remainder", other)  # type: ignore[attr-defined, no-any-return]

    def relu6(self) -> Tensor:
        """min(max(x, 0), 6) (gradient 0 at both kinks, as PyTorch)."""
        return apply("hardtanh", self, min_val=0.0, max_val=6.0)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        """x clamped into [min_val, max_val] (gradient 0 at both kinks, as PyTorch).

        Parameters
        ----------
        min_val : float, default -1.0
            The lower bound.
        max_val : float, default 1.0
            The upper bound, at least `min_val`.
        """
        return apply("hardtanh", self, min_val=min_val, max_val=max_val)

    def hardsigmoid(self) -> Tensor:
        """min(max(x + 3, 0), 6) / 6."""
        return apply("hardsigmoid", self)

    def hardswish(self) -> Tensor:
        """x min(max(x + 3, 0), 6) / 6."""
        return apply("hardswish", self)

    def silu(self) -> Tensor:
        """x sigmoid(x) (also called swish)."""
        return apply("silu", self)

    def mish(self) -> Tensor:
        """x tanh(softplus(x))."""
        return apply("mish", self)

    def softsign(self) -> Tensor:
        """x / (1 + |x|)."""
        return apply("softsign", self)

    def celu(self, alpha: float = 1.0) -> Tensor:
        """x for x > 0, `alpha * (e**(x/alpha) - 1)` otherwise.

        Parameters
        ----------
        alpha : float, default 1.0
            The negative branch's scale; not 0.
        """
        return apply("celu", self, alpha=alpha)

    def selu(self) -> Tensor:
        """Scaled ELU with the self-normalising constants of Klambauer et al. (2017)."""
        return apply("selu", self)

    def logsigmoid(self) -> Tensor:
        """log(sigmoid(x)) = -softplus(-x), stable for any x."""
        return apply("logsigmoid", self)

    def threshold(self, threshold: float, value: float) -> Tensor:
        """x where x > threshold, else `value`.

        Parameters
        ----------
        threshold : float
            Entries at or below it are replaced.
        value : float
            What they are replaced by.
        """
        return apply("threshold", self, threshold=threshold, value=value)

    def softmin(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        """softmax(-x) along `axis`.

        Parameters
        ----------
        axis : int, default -1
            The axis the result is normalised along.
        dim : int, optional
            PyTorch's name for `axis` (keyword only; wins when given).
        """
        return apply("softmax", -self, axis=axis if dim is None else dim)  # type: ignore[operator]


def _int_arg(value: Any, name: str, op: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool | np.bool_):
        raise TypeError(f"{op}: {name} must be an int, got {type(value).__name__} {value!r}")
    return int(value)


def _common(x: Any, other: Any, op: str) -> tuple[Any, Any]:
    """`x` and `other` as tensors of one dtype (a float one wins over an int one)."""
    other = x._operand(other, op)
    if other.dtype.kind == "f" and x.dtype.kind != "f":
        return other._operand(x, op), other
    return x, other


def _clamp_to_tensors(x: Any, lo: Any, hi: Any) -> Tensor:
    """`clamp` with tensor bounds; a missing bound is an infinite constant."""
    if x.dtype.kind != "f":
        raise TypeError(f"clamp: tensor bounds need a float input, got {x.dtype}")
    lo = x._operand(-np.inf if lo is None else lo, "clamp")
    hi = x._operand(np.inf if hi is None else hi, "clamp")
    return apply("clamp", x, lo, hi)
