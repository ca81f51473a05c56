"""tinygrad_nd: a small, readable reverse-mode autograd on numpy.

Examples
--------
>>> import numpy as np, tinygrad_nd as tg
>>> x = tg.Tensor(np.ones((4, 3)), requires_grad=True)
>>> w = tg.Tensor(np.ones((3, 2)), requires_grad=True)
>>> (x @ w).sigmoid().log().mean().backward()
>>> w.grad.shape
(3, 2)
"""

import functools

from . import (
    data,
    linalg,
    nn,
    ops,  # noqa: F401  (fills the registry)
    optim,
)
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .dtypes import float32, float64, get_default_dtype, int64, set_default_dtype
from .engine import grad
from .factories import (
    Generator,
    arange,
    default_generator,
    eye,
    full,
    full_like,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from .functional import (
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    baddbmm,
    bmm,
    cat,
    ceil,
    chunk,
    clamp,
    clip,
    concatenate,
    cos,
    cosh,
    cumprod,
    cumsum,
    diag_embed,
    diagonal,
    einsum,
    erf,
    exp2,
    expm1,
    fix,
    flip,
    floor,
    fmod,
    frac,
    gather,
    hypot,
    index_select,
    kthvalue,
    lerp,
    log1p,
    log2,
    log10,
    log_softmax,
    logcumsumexp,
    logsumexp,
    masked_fill,
    masked_select,
    maximum,
    median,
    minimum,
    moveaxis,
    movedim,
    narrow,
    nonzero,
    norm,
    outer,
    prod,
    reciprocal,
    remainder,
    repeat,
    repeat_interleave,
    roll,
    round,
    rsqrt,
    scatter,
    scatter_add,
    scatter_reduce,
    sign,
    sin,
    sinh,
    softmax,
    sort,
    split,
    square,
    stack,
    swapaxes,
    swapdims,
    take_along_dim,
    tan,
    tensordot,
    tile,
    topk,
    tril,
    triu,
    trunc,
    unbind,
    unflatten,
    where,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .hooks import RemovableHandle
from .jit import jit  # a compiled training step (tinygrad_nd/jit.py)
from .nn.functional import (  # layer functions PyTorch also has as torch.<name>
    avg_pool2d,
    celu,
    conv2d,
    gelu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    max_pool2d,
    mish,
    relu6,
    selu,
    silu,
    softmin,
    softsign,
    threshold,
)
from .reductions import all, amax, amin, any, argmax, argmin, max, min
from .registry import OPS, register_op, registry
from .tensor import Tensor
from .threads import (
    apply_default_policy,
    blas_thread_count,
    blas_threads,
    set_blas_threads,
    set_conv_threads,
)
from .train import History, evaluate, fit

__version__ = "0.1.0"

apply_default_policy()  # one BLAS thread for small matrices, unless you chose (see threads.py)

# Heavier subpackages load on first use (`tg.viz`, `tg.diagnostics` ...), keeping import fast.
_LAZY = ("diagnostics", "experiments", "network2", "testing", "viz")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    from .registry import apply, user_facing

    if user_facing(name) is not None:  # a user's registered op: tg.name(x, ...)
        return functools.partial(apply, name)
    raise AttributeError(f"module 'tinygrad_nd' has no attribute {name!r}")

__all__ = [
    "OPS", "Generator", "GradcheckError", "RemovableHandle", "Tensor", "arange", "avg_pool2d",
    "cat", "concatenate", "conv2d", "default_generator", "enable_grad", "eye", "float32",
    "float64", "full", "full_like", "get_default_dtype", "grad", "gradcheck", "gradgradcheck",
    "int64", "is_grad_enabled", "log_softmax", "manual_seed", "max_pool2d", "maximum", "minimum",
    "no_grad", "ones", "ones_like", "rand", "rand_like", "randint", "randn", "randn_like",
    "register_op", "registry", "set_default_dtype", "set_grad_enabled", "softmax", "split",
    "stack", "tensor", "where", "zeros", "zeros_like", "data", "nn", "optim",
    "History", "evaluate", "fit", "blas_thread_count", "blas_threads", "set_blas_threads",
    "set_conv_threads",
    # issue #17: a compiled training step
    "jit",
    # p14-select
    "chunk", "diag_embed", "diagonal", "flip", "gather", "index_select", "masked_fill",
    "masked_select", "moveaxis", "movedim", "narrow", "nonzero", "repeat", "repeat_interleave",
    "roll", "scatter", "scatter_add", "scatter_reduce", "swapaxes", "swapdims", "take_along_dim",
    "tile", "tril", "triu", "unbind", "unflatten",
    # part "math" of issue #14
    "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "asin", "asinh", "atan", "atan2", "atanh", "ceil", "clamp", "clip", "cos", "cosh", "erf",
    "exp2", "expm1", "fix", "floor", "fmod", "frac", "hypot", "lerp", "log1p", "log2", "log10",
    "reciprocal", "remainder", "round", "rsqrt", "sign", "sin", "sinh", "square", "tan",
    "trunc", "celu", "gelu", "glu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid",
    "mish", "relu6", "selu", "silu", "softmin", "softsign", "threshold",
    # ---- p14-reduce: reductions, scans, selections, linear algebra ----
    "all", "amax", "amin", "any", "argmax", "argmin", "baddbmm", "bmm", "cumprod", "cumsum",
    "einsum", "kthvalue", "linalg", "logcumsumexp", "logsumexp", "max", "median", "min", "norm",
    "outer", "prod", "sort", "tensordot", "topk",
]
