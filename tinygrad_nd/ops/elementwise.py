"""Elementwise arithmetic and math ops. Broadcasting is undone by the engine, not here."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..registry import register_op
from ._util import quiet

# Floating-point events these ops produce on purpose (inf from x/0 and e**1e4, nan from 0/0
# and sqrt(-1)), which PyTorch returns silently; numpy would warn (see `quiet`).
INF_NAN = dict(divide="ignore", invalid="ignore", over="ignore")

POSITIVE = (0.2, 3.0)  # keeps log/sqrt/pow away from their singularity at 0


@register_op("add", nin=2, reference=np.add)
class Add(Function):
    """z = x + y;  dz/dx = 1,  dz/dy = 1"""

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


@register_op("sub", nin=2, reference=np.subtract)
class Sub(Function):
    """z = x - y;  dz/dx = 1,  dz/dy = -1"""

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


@register_op("mul", nin=2, reference=np.multiply)
class Mul(Function):
    """z = x * y;  dz/dx = y,  dz/dy = x"""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (g * y if need_x else None), (g * x if need_y else None)


@register_op("div", nin=2, domain=((-3.0, 3.0), (0.5, 3.0)), reference=np.divide)
class Div(Function):
    """z = x / y;  dz/dx = 1/y,  dz/dy = -x/y**2"""

    @staticmethod
    @quiet(**INF_NAN)
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = g / y if need_x else None
        gy = -g * x / (y * y) if need_y else None
        return gx, gy


@register_op("pow", nin=2, domain=(POSITIVE, (-2.0, 2.0)), reference=np.power)
class Pow(Function):
    """z = x ** y;  dz/dx = y x**(y-1),  dz/dy = z log x"""

    @staticmethod
    @quiet(**INF_NAN)
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.power(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = g * y * x ** (y - 1) if need_x else None
        gy = None
        if need_y:  # (only then: x may be negative otherwise)
            gy = g * x ** y * np.log(x)
            # 0**y log 0 is 0 * -inf = nan, but z = 0**y is flat in y for y > 0 (and 1 at
            # y = 0): a gradient of 0 there, as in PyTorch.
            zero_base = (np.asarray(x) == 0) & (np.asarray(y) >= 0)
            if zero_base.any():
                gy = np.where(zero_base, 0, gy)
        return gx, gy


@register_op("neg", nin=1, reference=np.negative)
class Neg(Function):
    """z = -x;  dz/dx = -1"""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return (-g,)


class _FromOutput(Function):
    """y = f(x) whose slope is written with y alone (exp, sqrt): only the output is saved.
    Subclasses set `f` and `slope(y)` (in the vocabulary shared by arrays and Tensors)."""

    f = staticmethod(np.positive)
    slope = staticmethod(lambda y: 1.0)

    @staticmethod
    @quiet(**INF_NAN)  # (e**1e4 = inf, sqrt(-1) = nan: IEEE values, silent in PyTorch)
    def forward(ctx, x):
        out = ctx.function.f(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return (g * ctx.function.slope(out),)


@register_op("exp", nin=1, reference=np.exp)
class Exp(_FromOutput):
    """z = e**x;  dz/dx = z"""

    f = staticmethod(np.exp)
    slope = staticmethod(lambda z: z)


@register_op("log", nin=1, domain=(1e-3, 1e3), reference=np.log)
class Log(Function):
    """z = log x;  dz/dx = 1/x"""

    @staticmethod
    @quiet(divide="ignore", invalid="ignore")
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / x,)


@register_op("sqrt", nin=1, domain=POSITIVE, reference=np.sqrt)
class Sqrt(_FromOutput):
    """z = sqrt x;  dz/dx = 1 / (2 z)"""

    f = staticmethod(np.sqrt)
    slope = staticmethod(lambda z: 1 / (z * 2))


@register_op("abs", nin=1, kinks=(0.0,), reference=np.abs)
class Abs(Function):
    """z = |x|;  dz/dx = sign x (0 at the kink x = 0, as in PyTorch)"""

    @staticmethod
    def forward(ctx, x):
        ctx.sign = np.sign(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.sign,)


@register_op("clip", nin=1, kinks=(-0.5, 0.5), params={"min": (-0.5, None), "max": (0.5,)},
             reference=lambda x, min, max: np.clip(x, min, max))
class Clip(Function):
    """z = min(max(x, lo), hi);  dz/dx = 1 for lo <= x <= hi, else 0"""

    @staticmethod
    def forward(ctx, x, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        inside = np.ones(x.shape, dtype=bool)
        if min is not None:
            inside &= x >= min
        if max is not None:
            inside &= x <= max
        ctx.inside = inside
        return np.clip(x, min, max)

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.inside.astype(g.dtype),)


class _Extremum(Function):
    """Shared forward/backward of maximum and minimum; subclasses set `wins`."""

    wins = staticmethod(np.greater)
    pick = staticmethod(np.maximum)

    @staticmethod
    def forward(ctx, x, y):
        # Fraction of the gradient that goes to x: 1 where it wins, 1/2 on ties.
        fn = ctx.function
        ctx.share = np.where(x == y, 0.5, fn.wins(x, y)).astype(np.result_type(x, y))
        return fn.pick(x, y)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.share, g * (1 - ctx.share)


@register_op("maximum", nin=2, reference=np.maximum)
class Maximum(_Extremum):
    """z = max(x, y);  dz/dx = 1 where x > y, 1/2 on ties (PyTorch's choice), else 0"""

    wins = staticmethod(np.greater)
    pick = staticmethod(np.maximum)


@register_op("minimum", nin=2, reference=np.minimum)
class Minimum(_Extremum):
    """z = min(x, y);  dz/dx = 1 where x < y, 1/2 on ties, else 0"""

    wins = staticmethod(np.less)
    pick = staticmethod(np.minimum)


@register_op("where", nin=3, shape_rule="where", differentiable=(False, True, True),
             reference=np.where)
class Where(Function):
    """z = x if cond else y;  dz/dx = cond,  dz/dy = not cond"""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.cond = cond
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        _, need_x, need_y = ctx.needs_input_grad
        return (None,
                np.where(ctx.cond, g, 0) if need_x else None,
                np.where(ctx.cond, 0, g) if need_y else None)


@register_op("cast", nin=1, params={"dtype": (np.dtype(np.float64),)},
             reference=lambda x, dtype: x.astype(dtype))
class Cast(Function):
    """z = x converted to another float dtype;  dz/dx = 1 (converted back)"""

    @staticmethod
    @quiet(over="ignore")  # float64 -> float32 past 3.4e38 is inf, as in PyTorch
    def forward(ctx, x, dtype):
        ctx.input_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return (g.astype(ctx.input_dtype),)


# ---- part "math" of issue #14: clamp with tensor bounds, lerp, hypot, fmod, remainder -------
@register_op("clamp", nin=3, reference=lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi))
class Clamp(Function):
    """z = min(max(x, lo), hi) with tensor bounds;  dz/dx = [lo <= x <= hi],
    dz/dlo = [x < lo < hi],  dz/dhi = [x > hi or hi < lo] (PyTorch's masks)"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        # numpy's clip is min(max(x, lo), hi): hi wins where the bounds cross, as in PyTorch
        ctx.save_for_backward(x, lo, hi)
        return np.minimum(np.maximum(x, lo), hi)

    @staticmethod
    def backward(ctx, g):
        # only masks are taken from x and the bounds: constants in both passes
        x, lo, hi = (a if isinstance(a, np.ndarray) else a.data for a in ctx.saved_tensors)
        need_x, need_lo, need_hi = ctx.needs_input_grad
        return (np.where((x >= lo) & (x <= hi), g, 0) if need_x else None,
                np.where((x < lo) & (lo < hi), g, 0) if need_lo else None,
                np.where((x > hi) | (hi < lo), g, 0) if need_hi else None)


@register_op("lerp", nin=3, reference=lambda a, b, w: a + w * (b - a))
class Lerp(Function):
    """z = a + w (b - a);  dz/da = 1 - w,  dz/db = w,  dz/dw = b - a"""

    @staticmethod
    @quiet(**INF_NAN)  # (inf - inf: nan, as PyTorch)
    def forward(ctx, a, b, w):
        ctx.save_for_backward(a, b, w)
        # PyTorch's two-sided form: exactly b at w = 1, and as accurate near either end
        diff = b - a
        return np.where(np.abs(w) < 0.5, a + w * diff, b - diff * (1 - w))

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        need_a, need_b, need_w = ctx.needs_input_grad
        return (g * (1 - w) if need_a else None, g * w if need_b else None,
                g * (b - a) if need_w else None)


@register_op("hypot", nin=2, domain=((-3.0, 3.0), (0.5, 3.0)), reference=np.hypot)
class Hypot(Function):
    """z = sqrt(x**2 + y**2) (without overflow);  dz/dx = x / z,  dz/dy = y / z"""

    @staticmethod
    def forward(ctx, x, y):
        out = np.hypot(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, z = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        scale = g / z
        return (scale * x if need_x else None), (scale * y if need_y else None)


class _Modulo(Function):
    """Shared forward/backward of fmod and remainder: z = x - q y with q = `quotient(x/y)`
    rounded (trunc for fmod, floor for remainder); dz/dx = 1, dz/dy = -q."""

    mod = staticmethod(np.fmod)
    quotient = staticmethod(np.trunc)

    @staticmethod
    @quiet(**INF_NAN)  # (x mod 0 = nan, as PyTorch for floats)
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.function.mod(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        return (g if need_x else None), (-g * ctx.function.quotient(x / y) if need_y else None)


@register_op("fmod", nin=2, shape_rule="quotient", reference=np.fmod)
class Fmod(_Modulo):
    """z = x - trunc(x/y) y (the sign of x, C's fmod);  dz/dx = 1,  dz/dy = -trunc(x/y)"""

    mod = staticmethod(np.fmod)
    quotient = staticmethod(np.trunc)


@register_op("remainder", nin=2, shape_rule="quotient", reference=np.remainder)
class Remainder(_Modulo):
    """z = x - floor(x/y) y (the sign of y, Python's %);  dz/dx = 1,  dz/dy = -floor(x/y)"""

    mod = staticmethod(np.remainder)
    quotient = staticmethod(np.floor)
