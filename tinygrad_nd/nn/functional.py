"""PyTorch's `torch.nn.functional` in one namespace: `import tinygrad_nd.nn.functional as F`.

Defines the functional forms that have no family of their own (`linear`, `relu`,
`sigmoid`, `tanh`, `dropout`, `batch_norm` and the argument checks the layers share) and
re-exports each family from the file that owns it: losses (`loss_functional`,
`class_loss_functional`), activations (`activation_functional`), convolution and pooling
(`conv_functional`, `sampling`), normalisation, embedding and attention
(`functional_layers`), and the tensor-level functions (`softmax`, `cat`, `pad` ...).
"""

from __future__ import annotations

from typing import Any

from .. import factories
from ..functional import (  # noqa: F401
    _real_in,
    cat,
    log_softmax,
    softmax,
    stack,
    where,
)
from ..ops.fused import check_linear_shapes
from ..registry import apply
from ..reshaping import pad  # noqa: F401  (p14-select: F.pad with PyTorch's order and modes)
from ..side_effects import dropout_mask, update_running_stats
from ..tensor import Tensor
from .class_loss_functional import (  # noqa: F401  (helpers too, importable as before)
    _class_indices,
    _class_targets,
    _class_weight,
    _cross_entropy_probabilities,
    _not_indices,
    _reduce_weighted,
    _rows_of_classes,
    _target_shape,
    _weighted_nll,
    cross_entropy,
    nll_loss,
)
from .conv_functional import (  # noqa: F401
    avg_pool1d,
    avg_pool2d,
    avg_pool3d,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    convolution,
    max_pool1d,
    max_pool2d,
    max_pool3d,
)
from .loss_functional import (  # noqa: F401  (helpers too, importable as before)
    REDUCTIONS,
    _as_target,
    _check_same_shape,
    _constant_weight,
    _float_target,
    _quadratic_then_linear,
    _reduce,
    _weighted,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_similarity,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    mse_loss,
    smooth_l1_loss,
)
from .sampling import (  # noqa: F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    interpolate,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """`x @ weight.T + bias` with a PyTorch-layout (out, in) weight.

    Parameters
    ----------
    x : Tensor, shape (..., in_features)
        The input.
    weight : Tensor, shape (out_features, in_features)
        The weight, PyTorch's layout.
    bias : Tensor, shape (out_features,), optional
        Added to every output row; none by default.
    """
    if bias is not None:
        return apply("linear", x, weight, bias)  # checks the shapes itself
    check_linear_shapes(x.shape, weight.shape)
    return x @ weight.T


def relu(x: Tensor) -> Tensor:
    """max(x, 0).

    Parameters
    ----------
    x : Tensor
        The input, any shape (elementwise).
    """
    return x.relu()


def sigmoid(x: Tensor) -> Tensor:
    """Logistic function.

    Parameters
    ----------
    x : Tensor
        The input, any shape (elementwise).
    """
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent.

    Parameters
    ----------
    x : Tensor
        The input, any shape (elementwise).
    """
    return x.tanh()


def check_probability(p: Any, op: str) -> float:
    """A drop probability: a real number in [0, 1) (1 would divide by zero).

    Parameters
    ----------
    p : float
        The value to check.
    op : str
        The calling function, named in the error (a ValueError outside [0, 1)).
    """
    return _real_in(p, "p", op, 0.0, 1.0)


def check_batch_norm_args(momentum: Any, eps: Any, op: str) -> None:
    """`momentum` in [0, 1] and `eps` > 0 (eps = 0 divides by zero on a constant channel).

    Parameters
    ----------
    momentum : float
        The running-average factor, in [0, 1].
    eps : float
        Added to the variance, > 0.
    op : str
        The calling function, named in the error (a ValueError when either is out of range).
    """
    _real_in(momentum, "momentum", op, 0.0, 1.0, closed=True)
    if _real_in(eps, "eps", op, 0.0) == 0:
        raise ValueError(f"{op}: eps must be positive, got {eps!r}")


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            generator: factories.Generator | None = None) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (inverted
    dropout), so evaluation needs no rescaling.

    Parameters
    ----------
    x : Tensor
        The input, any shape.
    p : float, default 0.5
        Probability of zeroing an element, in [0, 1).
    training : bool, default True
        Drop only in training; otherwise (or with p = 0) return `x` unchanged.
    generator : tinygrad_nd.Generator, optional
        Source of the masks (the default generator otherwise).
    """
    check_probability(p, "dropout")
    if not training or p == 0.0:
        return x
    return x * Tensor._make(dropout_mask(x.shape, p, x.dtype, generator), None)


def batch_norm(x: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = True,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise over every axis but the channel axis 1, as BatchNorm1d/2d do.

    In training, batch statistics are used and the running ones updated in place
    (unbiased variance, PyTorch's convention); in evaluation, the running ones are used.

    Parameters
    ----------
    x : Tensor, shape (N, C, ...)
        The input; in training, more than one value per channel.
    running_mean, running_var : Tensor, shape (C,) or None
        Running statistics, updated in place in training (may be None there) and used in
        evaluation (required there).
    weight : Tensor, shape (C,), optional
        Per-channel scale; none by default.
    bias : Tensor, shape (C,), optional
        Per-channel shift; none by default.
    training : bool, default True
        Use the batch's statistics (and update the running ones) or the running ones.
    momentum : float, default 0.1
        Weight of the batch statistics in the running averages, in [0, 1].
    eps : float, default 1e-5
        Added to the variance before its square root, > 0.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected (N, C, ...) input, got shape {x.shape}")
    check_batch_norm_args(momentum, eps, "batch_norm")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // x.shape[1]
        if count < 2:
            raise ValueError(f"batch_norm: need more than one value per channel in training, "
                             f"got input of shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            update_running_stats(running_mean, running_var, mean.data, var.data, momentum, count)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode needs running statistics")
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (x - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


from .activation_functional import (  # noqa: E402,F401  (PyTorch's F: one namespace)
    celu,
    check_gelu_approximate,
    elu,
    gelu,
    glu,
    hardsigmoid,
    hardswish,
    hardtanh,
    leaky_relu,
    logsigmoid,
    mish,
    relu6,
    selu,
    silu,
    softmin,
    softplus,
    softsign,
    threshold,
)
from .functional_layers import (  # noqa: E402,F401  (PyTorch's names, one namespace)
    embedding,
    group_norm,
    instance_norm,
    layer_norm,
    scaled_dot_product_attention,
)
