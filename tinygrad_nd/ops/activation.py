"""Activation functions and the (log-)softmax, each written to be stable for |x| up to 1e4."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..fpstate import Ignoring
from ..registry import register_op
from ._util import normalize_axes, quiet, reduce_keepdims
from .math import Erf, erf_values

GELU_C = float(np.sqrt(2.0 / np.pi))
GELU_A = 0.044715
SQRT_HALF = float(np.sqrt(0.5))
INV_SQRT_2PI = float(1 / np.sqrt(2 * np.pi))


_IGNORE_OVERFLOW = Ignoring(over="ignore")  # (np.errstate, cheaper on this hot path)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e**-x), within a few ulps for every x, in four in-place ufuncs.

    For x below about -88 (float32) e**-x overflows to inf and 1 / (1 + inf) is exactly 0,
    the correctly rounded answer; only that expected overflow warning is silenced. Branching
    on the sign (e**-|x| in both branches) costs twice as much.

    Parameters
    ----------
    x : ndarray
        Any shape; a non-float array is computed in float64.
    """
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    z = np.negative(x, out=np.empty_like(x))  # an array even for 0-d x
    token = _IGNORE_OVERFLOW.enter()
    try:
        np.exp(z, out=z)
    finally:
        _IGNORE_OVERFLOW.exit(token)
    z += 1
    return np.reciprocal(z, out=z)


def sigmoid_vjp(g: np.ndarray, s: np.ndarray) -> np.ndarray:
    """g * s * (1 - s): sigmoid's vector-Jacobian product from its output s.

    Parameters
    ----------
    g : ndarray or Tensor
        The upstream gradient.
    s : ndarray or Tensor
        The sigmoid's output, same shape.
    """
    return g * s * (1 - s)


def tanh_vjp(g: np.ndarray, t: np.ndarray) -> np.ndarray:
    """g * (1 - t**2): tanh's vector-Jacobian product from its output t.

    Parameters
    ----------
    g : ndarray or Tensor
        The upstream gradient.
    t : ndarray or Tensor
        The tanh's output, same shape.
    """
    return g * (1 - t * t)


def _softmax_reference(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class _SlopeProduct(Function):
    """z = g * f'(y) for an activation whose slope f' is a function of its output y.

    Subclasses set `vjp` (the numpy product) and `slope_derivative` (d f'(y) / dy, in
    Tensor ops), which makes the product differentiable again (grad-of-grad).
    """

    vjp = staticmethod(lambda g, y: g)
    slope_derivative = staticmethod(lambda y: y)

    @staticmethod
    def forward(ctx, g, y):
        ctx.save_for_backward(g, y)
        return ctx.function.vjp(g, y)

    @staticmethod
    def backward(ctx, u):
        g, y = ctx.saved_tensors
        need_g, need_y = ctx.needs_input_grad
        fn = ctx.function
        return (fn.apply(u, y) if need_g else None,
                u * g * fn.slope_derivative(y) if need_y else None)


class _OutputSlope(Function):
    """y = f(x) whose derivative is written with y (sigmoid, tanh): the output is saved and
    the vector-Jacobian product is the registered `slope_op`."""

    activate = staticmethod(lambda x: x)
    slope_op: type[_SlopeProduct] = _SlopeProduct

    @staticmethod
    def forward(ctx, x):
        out = ctx.function.activate(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        slope_op = ctx.function.slope_op
        # (on arrays, the product itself: what apply would run, without its Context)
        return (slope_op.vjp(g, y) if type(g) is np.ndarray else slope_op.apply(g, y),)


@register_op("sigmoid_backward", nin=2, adjoint_of="sigmoid", domain=((-3.0, 3.0), (0.01, 0.99)),
             reference=lambda g, s: g * s * (1 - s))
class SigmoidBackward(_SlopeProduct):
    """z = g s (1 - s), sigmoid's vjp as one op;  dz/dg = s (1 - s),  dz/ds = g (1 - 2 s)"""

    vjp = staticmethod(sigmoid_vjp)
    slope_derivative = staticmethod(lambda s: 1 - 2 * s)


@register_op("sigmoid", nin=1, domain=(-8.0, 8.0), reference=lambda x: 1 / (1 + np.exp(-x)))
class Sigmoid(_OutputSlope):
    """s = 1 / (1 + e**-x);  ds/dx = s (1 - s)"""

    activate = staticmethod(stable_sigmoid)
    slope_op = SigmoidBackward


@register_op("tanh_backward", nin=2, adjoint_of="tanh", domain=((-3.0, 3.0), (-0.99, 0.99)),
             reference=lambda g, t: g * (1 - t * t))
class TanhBackward(_SlopeProduct):
    """z = g (1 - t**2), tanh's vjp as one op;  dz/dg = 1 - t**2,  dz/dt = -2 g t"""

    vjp = staticmethod(tanh_vjp)
    slope_derivative = staticmethod(lambda t: t * -2)


@register_op("tanh", nin=1, reference=np.tanh)
class Tanh(_OutputSlope):
    """t = tanh x;  dt/dx = 1 - t**2"""

    activate = staticmethod(np.tanh)
    slope_op = TanhBackward


@register_op("relu", nin=1, kinks=(0.0,), reference=lambda x: np.maximum(x, 0))
class ReLU(Function):
    """z = max(x, 0);  dz/dx = 1 for x > 0, else 0 (0 at the kink, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)  # NaN stays NaN
        ctx.save_for_backward(out)  # x > 0 exactly where out > 0: no mask kept
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        slope = (out > 0).astype(g.dtype)  # a float mask: float * bool casts in a slow loop
        slope *= g  # in place on arrays; on Tensors, Python makes it a new (recorded) product
        return (slope,)


@register_op("leaky_relu", nin=1, kinks=(0.0,), params={"negative_slope": (0.01, 0.2)},
             reference=lambda x, negative_slope: np.where(x > 0, x, negative_slope * x))
class LeakyReLU(Function):
    """z = x for x > 0, else a x;  dz/dx = 1 or a"""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.slope = np.where(x > 0, 1.0, negative_slope).astype(x.dtype)
        return x * ctx.slope

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.slope,)


class _ExponentialLinear(Function):
    """z = s x for x > 0, else s a (e**(i x) - 1);  dz/dx = s, or s a i e**(i x): PyTorch's
    elu with a scale s and an input scale i, shared by elu, celu and selu, whose
    `coefficients` map their own parameters to (a, s, i)."""

    coefficients = staticmethod(lambda alpha=1.0: (alpha, 1.0, 1.0))

    @staticmethod
    def forward(ctx, x, **params):
        alpha, scale, input_scale = ctx.function.coefficients(**params)
        ctx.save_for_backward(x)
        ctx.coefficients = alpha, scale, input_scale
        # expm1 of min(x, 0): no overflow from the branch that where() discards
        neg = np.expm1(np.minimum(x, 0) * input_scale) * (alpha * scale)
        return np.where(x > 0, x if scale == 1 else x * scale, neg).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coefficients
        # e**min(x, 0): the discarded branch never overflows
        slope = np.exp(np.minimum(x, 0) * input_scale) * (alpha * scale * input_scale)
        return (np.where(x > 0, g if scale == 1 else g * scale, g * slope),)


@register_op("elu", nin=1, kinks=(0.0,), params={"alpha": (1.0, 0.5)},
             reference=lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)))
class ELU(_ExponentialLinear):
    """z = x for x > 0, else a (e**x - 1);  dz/dx = 1 or a e**x"""

    coefficients = staticmethod(lambda alpha=1.0: (alpha, 1.0, 1.0))


@register_op("celu", nin=1, kinks=(0.0,), params={"alpha": (1.0, 0.5, 2.0)},
             reference=lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x / alpha)))
class CELU(_ExponentialLinear):
    """z = x for x > 0, else a (e**(x/a) - 1);  dz/dx = 1 or e**(x/a)"""

    coefficients = staticmethod(lambda alpha=1.0: (alpha, 1.0, 1.0 / alpha))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


@register_op("selu", nin=1, kinks=(0.0,),
             reference=lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)))
class SELU(_ExponentialLinear):
    """z = s x for x > 0, else s a (e**x - 1) (fixed a, s);  dz/dx = s or s a e**x"""

    coefficients = staticmethod(lambda: (SELU_ALPHA, SELU_SCALE, 1.0))


@register_op("softplus", nin=1, params={"beta": (1.0, 2.0)},
             reference=lambda x, beta: np.log1p(np.exp(beta * x)) / beta)
class Softplus(Function):
    """z = log(1 + e**(b x)) / b;  dz/dx = sigmoid(b x)"""

    @staticmethod
    @quiet(invalid="ignore")  # (logaddexp(0, nan)), silent in PyTorch
    def forward(ctx, x, beta=1.0):
        ctx.save_for_backward(x)
        ctx.beta = beta
        return (np.logaddexp(0, beta * x) / beta).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * Sigmoid.apply(x * ctx.beta),)


def _gelu_reference(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(GELU_C * (x + GELU_A * x**3)))
    return 0.5 * x * (1 + erf_values(np.asarray(x) / np.sqrt(2.0)))


@register_op("gelu", nin=1, params={"approximate": ("none", "tanh")}, reference=_gelu_reference)
class GELU(Function):
    """z = x Phi(x);  dz/dx = Phi(x) + x phi(x) (exact, erf), or with approximate="tanh"
    z = x/2 (1 + t), t = tanh(c (x + a x**3)), dz/dx = (1+t)/2 + x/2 (1-t**2) c (1+3a x**2)"""

    @staticmethod
    @quiet(invalid="ignore")  # (inf * 0 at x = -inf: nan, silent in PyTorch)
    def forward(ctx, x, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(GELU_C * (x + GELU_A * x**3)))
        # (erf is the costly part: kept for a first-order backward, recomputed as the erf
        # op only when the backward is recorded)
        ctx.erf = erf_values(x * SQRT_HALF)
        return x * 0.5 * (1 + ctx.erf)  # PyTorch's order of operations

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        x2 = x * x
        if ctx.approximate == "none":
            erf = ctx.erf if isinstance(x, np.ndarray) else Erf.apply(x * SQRT_HALF)
            cdf = (erf + 1) * 0.5
            return (g * (cdf + x * np.exp(x2 * -0.5) * INV_SQRT_2PI),)
        t = np.tanh(x * (1 + x2 * GELU_A) * GELU_C)
        return (g * ((1 + t) * 0.5 + x * (1 - t * t) * (0.5 * GELU_C) * (1 + x2 * (3 * GELU_A))),)


class _Normalize(Function):
    """Shared forward of softmax and log-softmax: subclasses set `values(x, axis)` for a
    non-empty input; the output is what both backwards are written with."""

    values = staticmethod(lambda x, axis: x)

    @staticmethod
    def forward(ctx, x, axis=-1):
        ctx.axis = axis
        if x.size == 0:  # nothing to normalise (a max over an empty axis would raise)
            normalize_axes(axis, x.ndim, ctx.function.op_name)  # (still refuse a bad axis)
            out = x.copy()
        else:
            out = ctx.function.values(x, axis)
        ctx.save_for_backward(out)
        return out


def _softmax_values(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - reduce_keepdims(np.maximum, x, axis))  # shift: e**x never overflows
    return e / reduce_keepdims(np.add, e, axis)


def _log_softmax_values(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - reduce_keepdims(np.maximum, x, axis)
    return shifted - np.log(reduce_keepdims(np.add, np.exp(shifted), axis))


@register_op("softmax", nin=1, shape_rule="softmax", reference=_softmax_reference)
class Softmax(_Normalize):
    """s = e**x / sum e**x;  vjp: s (g - sum(g s))"""

    values = staticmethod(_softmax_values)

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return (s * (g - (g * s).sum(axis=ctx.axis, keepdims=True)),)


@register_op("log_softmax", nin=1, shape_rule="softmax",
             reference=lambda x, axis: np.log(_softmax_reference(x, axis)))
class LogSoftmax(_Normalize):
    """y = x - logsumexp x;  vjp: g - e**y sum g"""

    values = staticmethod(_log_softmax_values)

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return (g - np.exp(y) * g.sum(axis=ctx.axis, keepdims=True),)


# ---- part "math" of issue #14: more activations -------------------------------------------
def _mask(x, test):
    """A float mask of `test(values of x)`: a constant in both backward vocabularies."""
    values = x if isinstance(x, np.ndarray) else x.data
    return test(values).astype(values.dtype)


@register_op("hardtanh", nin=1, kinks=(-1.0, -0.5, 1.0, 2.0),
             params={"min_val": (-1.0, -0.5), "max_val": (1.0, 2.0)},
             reference=lambda x, min_val, max_val: np.clip(x, min_val, max_val))
class Hardtanh(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 for lo < x < hi, else 0 (0 at both kinks, as
    PyTorch's hardtanh and relu6, unlike clamp)"""

    @staticmethod
    def forward(ctx, x, min_val=-1.0, max_val=1.0):
        if min_val > max_val:  # (np.clip would return max_val everywhere)
            raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                             f"({max_val})")
        ctx.inside = ((x > min_val) & (x < max_val)).astype(x.dtype)
        return np.clip(x, min_val, max_val)

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.inside,)


@register_op("hardsigmoid", nin=1, domain=(-5.0, 5.0), kinks=(-3.0, 3.0),
             reference=lambda x: np.clip(x + 3, 0, 6) / 6)
class Hardsigmoid(Function):
    """z = min(max(x + 3, 0), 6) / 6;  dz/dx = 1/6 for -3 < x < 3, else 0"""

    @staticmethod
    def forward(ctx, x):
        ctx.slope = (((x > -3) & (x < 3)) / 6).astype(x.dtype)
        return np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.slope,)


@register_op("hardswish", nin=1, domain=(-5.0, 5.0), kinks=(-3.0, 3.0),
             reference=lambda x: x * np.clip(x + 3, 0, 6) / 6)
class Hardswish(Function):
    """z = x min(max(x + 3, 0), 6) / 6;  dz/dx = 0 up to -3, x/3 + 1/2 below 3, then 1"""

    @staticmethod
    @quiet(invalid="ignore")  # (-inf * 0 at x = -inf: nan, as PyTorch)
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # (x/3 + 1/2) on the middle piece, recorded; the choice of piece is a constant
        v = x if isinstance(x, np.ndarray) else x.data
        # (the outer pieces at the kinks -3 and 3, as PyTorch)
        return (g * np.where(v <= -3, 0.0, np.where(v < 3, x / 3 + 0.5, 1.0)),)


@register_op("silu", nin=1, domain=(-6.0, 6.0), reference=lambda x: x / (1 + np.exp(-x)))
class SiLU(Function):
    """z = x sigmoid(x);  dz/dx = s (1 + x (1 - s)), s = sigmoid(x)"""

    @staticmethod
    @quiet(invalid="ignore")  # (-inf * 0 at x = -inf: nan, as PyTorch)
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * stable_sigmoid(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = Sigmoid.apply(x)
        return (g * s * (1 + x * (1 - s)),)


@register_op("mish", nin=1, domain=(-6.0, 6.0),
             reference=lambda x: x * np.tanh(np.log1p(np.exp(x))))
class Mish(Function):
    """z = x tanh(softplus x);  dz/dx = t + x sigmoid(x) (1 - t**2), t = tanh(softplus x)"""

    @staticmethod
    @quiet(invalid="ignore")  # (-inf * 0 at x = -inf: nan, as PyTorch)
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * np.tanh(np.logaddexp(0, x).astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        t = np.tanh(Softplus.apply(x))  # softplus, not log(1 + e**x): no overflow
        return (g * (t + x * Sigmoid.apply(x) * (1 - t * t)),)


@register_op("softsign", nin=1, kinks=(0.0,), reference=lambda x: x / (1 + np.abs(x)))
class Softsign(Function):
    """z = x / (1 + |x|);  dz/dx = 1 / (1 + |x|)**2"""

    @staticmethod
    @quiet(invalid="ignore")  # (inf / inf at |x| = inf: nan, as PyTorch)
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.abs(x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = 1 + np.abs(x)
        # nan where the forward is (inf / inf at |x| = inf), as PyTorch
        return (np.where(_mask(x, np.isinf) > 0, np.nan, g / (d * d)),)


@register_op("logsigmoid", nin=1, domain=(-8.0, 8.0),
             reference=lambda x: -np.log1p(np.exp(-x)))
class LogSigmoid(Function):
    """z = log sigmoid(x) = -softplus(-x);  dz/dx = sigmoid(-x)"""

    @staticmethod
    @quiet(invalid="ignore")  # (logaddexp(0, nan)), silent in PyTorch
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return -np.logaddexp(0, -x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g * Sigmoid.apply(-x),)  # 1 - sigmoid(x) would round to 0 for x > 17


@register_op("threshold", nin=1, kinks=(0.5, -1.0),
             params={"threshold": (0.5, -1.0), "value": (0.0, 2.0)},
             reference=lambda x, threshold, value: np.where(x <= threshold, value, x))
class Threshold(Function):
    """z = value for x <= threshold, else x;  dz/dx = 0 for x <= threshold, else 1"""

    @staticmethod
    def forward(ctx, x, threshold, value):
        below = x <= threshold  # (not x > threshold: nan stays nan, as PyTorch)
        ctx.above = (~below).astype(x.dtype)
        return np.where(below, np.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.above,)
