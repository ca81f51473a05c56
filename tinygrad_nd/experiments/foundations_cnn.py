"""Chapter 6's summary of a convolutional layer, measured on a real layer and a real digit.

Three facts of Nielsen's chapter 6 ("Deep learning"), each computed rather than quoted:

* shared weights: a conv layer of 20 5x5 filters has 20 x (25 + 1) = 520 parameters, a fully
  connected layer from 784 pixels to 30 neurons 784 x 30 + 30 = 23,550;
* backpropagation through the layer: with delta = dC/dz the error of the layer's weighted
  input z = w (x) a + b (a cross-correlation, as in the book's equation (125) and in PyTorch),
  dC/dw = a (x) delta (the cross-correlation of the layer's input with delta; written with a
  true, kernel-flipping convolution * it reads rot180(rot180(a) * delta)) and dC/db = sum delta;
* max-pooling 2x2 shrinks a 24x24 feature map to 12x12 and routes each window's gradient to
  the window's arg-max, zero elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import engine, nn
from ..factories import Generator
from ..nn.conv_functional import max_pool2d
from ..tensor import Tensor

# Nielsen, chapter 6: "20 x 26 = 520 parameters ... 784 x 30 = 23,520 weights, plus an extra 30
# biases, for a total of 23,550 parameters".
BOOK_CONV_PARAMETERS = 520
BOOK_FULLY_CONNECTED_PARAMETERS = 23_550


def parameter_count(module: nn.Module) -> int:
    """Number of scalar parameters of `module`.

    Parameters
    ----------
    module : nn.Module
        Any module; all its parameters (its submodules' included) are counted.

    Examples
    --------
    >>> from tinygrad_nd import nn
    >>> parameter_count(nn.Conv2d(1, 20, 5))
    520
    """
    return int(sum(p.data.size for p in module.parameters()))


def parameter_counts(filters: int = 20, kernel: int = 5, side: int = 28,
                     hidden: int = 30) -> dict[str, int]:
    """Parameters of `Conv2d(1, filters, kernel)` and of `Linear(side**2, hidden)`, counted
    on the library's layers and from the closed forms filters*(kernel**2 + 1) and
    side**2 * hidden + hidden.

    Parameters
    ----------
    filters : int, default 20
        Output channels of the conv layer (the book's 20).
    kernel : int, default 5
        Its square kernel's side (the book's 5).
    side : int, default 28
        The image side: the fully connected layer has side**2 inputs.
    hidden : int, default 30
        The fully connected layer's neurons (the book's 30).
    """
    return {"conv": parameter_count(nn.Conv2d(1, filters, kernel)),
            "conv_formula": filters * (kernel * kernel + 1),
            "fully_connected": parameter_count(nn.Linear(side * side, hidden)),
            "fully_connected_formula": side * side * hidden + hidden}


def cross_correlate(a: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid 2-D cross-correlation of every channel of `a` (C, H, W) with every channel of
    `kernel` (O, h, w): out[o, c, p, q] = sum_ij kernel[o, i, j] a[c, p + i, q + j], plain
    numpy (no autograd), shape (O, C, H - h + 1, W - w + 1).

    Parameters
    ----------
    a : ndarray, shape (C, H, W)
        The input channels.
    kernel : ndarray, shape (O, h, w)
        The kernels, h <= H and w <= W.
    """
    h, w = kernel.shape[-2:]
    windows = np.lib.stride_tricks.sliding_window_view(a, (h, w), axis=(1, 2))
    return np.einsum("cpqij,oij->ocpq", windows, kernel)


def rot180(x: np.ndarray) -> np.ndarray:
    """`x` rotated by 180 degrees in its last two axes.

    Parameters
    ----------
    x : ndarray
        Any array with at least two axes.
    """
    return x[..., ::-1, ::-1]


def convolve(a: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid 2-D *true* convolution (the kernel flipped), per channel as in
    `cross_correlate`: a * k = a (x) rot180(k).

    Parameters
    ----------
    a : ndarray, shape (C, H, W)
        The input channels.
    kernel : ndarray, shape (O, h, w)
        The kernels (flipped before use).
    """
    return cross_correlate(a, rot180(kernel))


def _conv_net(filters: int, kernel: int, seed: int) -> tuple[nn.Conv2d, nn.Linear]:
    """The chapter's first convolutional net, in float64: 28x28 -> conv `filters` x
    `kernel` x `kernel` (sigmoid) -> max-pool 2x2 -> 10 outputs."""
    generator = Generator(seed)
    conv = nn.Conv2d(1, filters, kernel, dtype=np.float64, generator=generator)
    side = (28 - kernel + 1) // 2
    head = nn.Linear(filters * side * side, 10, dtype=np.float64, generator=generator)
    return conv, head


def conv_layer_gradients(image: np.ndarray, label: int, filters: int = 20, kernel: int = 5,
                         seed: int = 0, fd_checks: int = 6) -> dict[str, Any]:
    """Check chapter 6's backpropagation identities on one conv layer and one digit.

    The net is conv (`filters` x `kernel` x `kernel`, sigmoid) -> 2x2 max-pool -> linear
    -> softmax cross-entropy, in float64. The autograd gives delta = dC/dz and dC/dw, dC/db;
    the identities are computed from delta in plain numpy and compared, and `fd_checks`
    weights and biases are also checked by central finite differences.

    Returns the arrays (`input`, `feature_map`, `pooled`) for drawing and the maximal
    absolute errors `weight_error` (a (x) delta), `weight_error_rotated`
    (rot180(rot180(a) * delta)), `unrotated_error` (rot180(a) * delta read without the
    rotation back: large, the convention pitfall), `bias_error` (sum delta) and
    `finite_difference_error` (relative to the largest gradient entry).

    Parameters
    ----------
    image : ndarray
        One 28 x 28 image (any shape with 784 values), pixels in [0, 1].
    label : int
        Its class, 0..9.
    filters : int, default 20
        Output channels of the conv layer.
    kernel : int, default 5
        The side of its square kernel (24 x 24 feature maps for 5).
    seed : int, default 0
        Seed of the initial weights and of the entries checked by finite differences.
    fd_checks : int, default 6
        How many weights and how many biases to check by central differences (step 1e-5).

    Examples
    --------
    >>> import numpy as np
    >>> r = conv_layer_gradients(np.random.default_rng(0).random((28, 28)), 3, filters=2)
    >>> r["weight_error"] < 1e-12 and r["bias_error"] < 1e-12
    True
    """
    image = np.asarray(image, dtype=np.float64).reshape(1, 1, 28, 28)
    conv, head = _conv_net(filters, kernel, seed)
    target = np.array([int(label)])

    def cost_of(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        z = conv(x)
        pooled = max_pool2d(z.sigmoid(), 2)
        return nn.functional.cross_entropy(head(pooled.flatten(1)), target), z, pooled

    cost, z, pooled = cost_of(Tensor(image, dtype=np.float64))
    delta, grad_w, grad_b = (g.numpy() for g in engine.grad(cost, [z, conv.weight, conv.bias]))
    a, d = image[0], delta[0]                        # a: (1, 28, 28), d: (filters, 24, 24)
    formula_w = cross_correlate(a, d)                # (filters, 1, kernel, kernel)
    rotated_w = rot180(convolve(rot180(a), d))
    return {
        "input": image[0, 0], "feature_map": z.sigmoid().numpy()[0], "pooled": pooled.numpy()[0],
        "delta_norm": float(np.linalg.norm(d)),
        "weight_error": float(np.abs(formula_w - grad_w).max()),
        "weight_error_rotated": float(np.abs(rotated_w - grad_w).max()),
        "unrotated_error": float(np.abs(convolve(rot180(a), d) - grad_w).max()),
        "bias_error": float(np.abs(d.sum(axis=(1, 2)) - grad_b).max()),
        "grad_w_max": float(np.abs(grad_w).max()),
        "finite_difference_error": _finite_difference_error(
            cost_of, image, [(conv.weight, grad_w), (conv.bias, grad_b)], fd_checks, seed),
    }


def _finite_difference_error(cost_of: Any, image: np.ndarray,
                             params: list[tuple[Tensor, np.ndarray]], count: int,
                             seed: int, step: float = 1e-5) -> float:
    """Largest error of central differences against the autograd's gradient over `count`
    random entries of each parameter, relative to that parameter's largest gradient entry
    (an entry near 0 has no meaningful relative error of its own)."""
    rng = np.random.default_rng(seed)
    x = Tensor(image, dtype=np.float64)
    worst = 0.0
    for param, grad in params:
        flat = param.data.reshape(-1)                 # a view: writes change the parameter
        for index in rng.choice(flat.size, size=min(count, flat.size), replace=False):
            saved = flat[index]
            flat[index] = saved + step
            up = float(cost_of(x)[0].item())
            flat[index] = saved - step
            down = float(cost_of(x)[0].item())
            flat[index] = saved
            numeric = (up - down) / (2 * step)
            scale = max(float(np.abs(grad).max()), 1e-12)
            worst = max(worst, abs(numeric - float(grad.reshape(-1)[index])) / scale)
    return worst


def max_pool_routing(feature_map: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Pool `feature_map` (C, H, W) 2x2 and check where an upstream gradient goes.

    A random upstream gradient g (C, H/2, W/2) is pulled back through `max_pool2d` by the
    autograd and compared with the rule "g of each window lands on the window's arg-max, zero
    elsewhere" built in numpy.

    Parameters
    ----------
    feature_map : ndarray, shape (C, H, W)
        The maps to pool, with even H and W (e.g. `conv_layer_gradients(...)["feature_map"]`).
    seed : int, default 0
        Seed of the random upstream gradient.

    Examples
    --------
    >>> import numpy as np
    >>> r = max_pool_routing(np.random.default_rng(0).random((2, 24, 24)))
    >>> r["pooled_shape"], r["routing_exact"], r["nonzero_fraction"]
    ((2, 12, 12), True, 0.25)
    """
    c, h, w = feature_map.shape
    x = Tensor(feature_map[None], dtype=np.float64, requires_grad=True)
    pooled = max_pool2d(x, 2)
    g = np.random.default_rng(seed).standard_normal(pooled.shape)
    (grad,) = engine.grad(pooled, x, Tensor(g, dtype=np.float64))
    windows = feature_map.reshape(c, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 2, 4)
    winner = windows.reshape(c, h // 2, w // 2, 4).argmax(axis=-1)   # first max, as PyTorch
    expected = np.zeros((c, h // 2, w // 2, 4))
    np.put_along_axis(expected, winner[..., None], g[0][..., None], axis=-1)
    expected = expected.reshape(c, h // 2, w // 2, 2, 2).transpose(0, 1, 3, 2, 4).reshape(c, h, w)
    got = grad.numpy()[0]
    return {"pooled_shape": tuple(pooled.shape[1:]), "input_shape": (c, h, w),
            "routing_exact": bool(np.array_equal(got, expected)),
            "nonzero_fraction": float(np.count_nonzero(got) / got.size),
            "max_matches_pool": bool(np.array_equal(
                windows.reshape(c, h // 2, w // 2, 4).max(axis=-1), pooled.numpy()[0]))}
