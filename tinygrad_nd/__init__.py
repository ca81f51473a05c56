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
    avg_pool2d,
    baddbmm,
    bmm,
    cat,
    concatenate,
    conv2d,
    cumprod,
    cumsum,
    einsum,
    kthvalue,
    log_softmax,
    logcumsumexp,
    logsumexp,
    max_pool2d,
    maximum,
    median,
    minimum,
    norm,
    outer,
    prod,
    softmax,
    sort,
    split,
    stack,
    tensordot,
    topk,
    where,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .hooks import RemovableHandle
from .reductions import all, amax, amin, any, argmax, argmin, max, min
from .registry import OPS, register_op, registry
from .tensor import Tensor
from .train import History, evaluate, fit

__version__ = "0.1.0"

# Heavier subpackages load on first use (`tg.viz`, `tg.diagnostics` ...), keeping import fast.
_LAZY = ("diagnostics", "experiments", "network2", "testing", "viz")


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tinygrad_nd' has no attribute {name!r}")

__all__ = [
    "OPS", "Generator", "GradcheckError", "RemovableHandle", "Tensor", "arange", "avg_pool2d",
    "cat", "concatenate", "conv2d", "default_generator", "enable_grad", "eye", "float32",
    "float64", "full", "full_like", "get_default_dtype", "grad", "gradcheck", "gradgradcheck",
    "int64", "is_grad_enabled", "log_softmax", "manual_seed", "max_pool2d", "maximum", "minimum",
    "no_grad", "ones", "ones_like", "rand", "rand_like", "randint", "randn", "randn_like",
    "register_op", "registry", "set_default_dtype", "set_grad_enabled", "softmax", "split",
    "stack", "tensor", "where", "zeros", "zeros_like", "data", "nn", "optim",
    "History", "evaluate", "fit",
    # ---- p14-reduce: reductions, scans, selections, linear algebra ----
    "all", "amax", "amin", "any", "argmax", "argmin", "baddbmm", "bmm", "cumprod", "cumsum",
    "einsum", "kthvalue", "linalg", "logcumsumexp", "logsumexp", "max", "median", "min", "norm",
    "outer", "prod", "sort", "tensordot", "topk",
]
