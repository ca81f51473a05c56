"""How BatchNorm rescues a deep sigmoid net, measured with the autograd.

The tempting story, "BatchNorm keeps sigma'(z) away from 0", is not what happens at
initialisation: the mean slope sigma'(z) is about the same with and without it. What changes
is the backward pass *through* the normalisation, z = gamma (u - mean(u)) / std(u) + beta:
the gradient reaching u is divided by the batch standard deviation of u, which is small for
Nielsen's N(0, 1/n_in) weights, so every BatchNorm layer multiplies the gradient by a gain
well above 1 and undoes much of sigma''s shrinkage.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import engine, nn
from ..autograd import enable_grad
from ..diagnostics.layers import activation_slope
from ..tensor import Tensor
from .common import build_net


def _keep_inputs(modules: list[nn.Module]) -> tuple[list[Any], list[Tensor]]:
    """Forward hooks that keep each module's input tensor (in call order): (handles, inputs)."""
    inputs: list[Tensor] = []

    def hook(module: nn.Module, args: tuple[Any, ...], out: Tensor) -> None:
        inputs.append(args[0])

    return [m.register_forward_hook(hook) for m in modules], inputs


def backward_factors(model: nn.Module, x: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    """One forward/backward pass of softmax cross-entropy at `model`'s current weights.

    Returns, per hidden layer l (input side first): `mean_slope`, the mean of f'(z^l) over
    the batch and units, taken from the autograd; `delta`, ||dC/dz^l|| at the activation's
    input; and, when the net has BatchNorm, `bn_gain` = ||dC/du^l|| / ||dC/dz^l|| (u: the
    Linear's output, the normalisation's input), the factor by which the backward through
    the normalisation scales the gradient, with `inv_std`, the mean over units of
    1/std_batch(u), the part of that factor the division by the batch std explains.

    Parameters
    ----------
    model : nn.Module
        A net of Linear, (optionally) BatchNorm1d and activation modules, e.g. from
        `common.build_net(..., output=None)`; its weights are not changed.
    x : ndarray, shape (n, 784)
        A batch of images.
    y : ndarray of int, shape (n,)
        Their labels (class indices).
    """
    activations = [m for m in model.modules() if isinstance(m, nn.Activation)]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    handles, act_in = _keep_inputs(activations)
    bn_handles, bn_in = _keep_inputs(norms)
    try:
        with enable_grad():
            loss = nn.functional.cross_entropy(model(Tensor(x)), y)
    finally:
        for h in handles + bn_handles:
            h.remove()
    grads = engine.grad(loss, act_in + bn_in, allow_unused=True)
    delta = [float(np.linalg.norm(g.data)) for g in grads[:len(act_in)]]
    out: dict[str, list[float]] = {
        "mean_slope": [float(activation_slope(a, z.data).mean())
                       for a, z in zip(activations, act_in)],
        "delta": delta}
    if norms:
        out["bn_gain"] = [float(np.linalg.norm(g.data)) / d
                          for g, d in zip(grads[len(act_in):], delta)]
        out["inv_std"] = [float(np.mean(1.0 / np.sqrt(u.data.astype(np.float64).var(axis=0)
                                                      + bn.eps)))
                          for u, bn in zip(bn_in, norms)]
    return out


def batchnorm_mechanism(x: np.ndarray, y: np.ndarray, hidden: int = 5, width: int = 30,
                        seeds: tuple[int, ...] = (0, 1, 2)) -> dict[str, Any]:
    """The same sigmoid net [784, width x hidden, 10] (same initial weights) with and without
    BatchNorm, at initialisation, averaged over `seeds`: the mean slope sigma'(z) per layer,
    the per-layer gain of ||dC/dz|| (`layer_gain`, ||delta^l|| / ||delta^(l+1)||, l = 1..
    hidden-1), the first/last hidden ratio, and BatchNorm's backward gain per layer.

    Parameters
    ----------
    x : ndarray, shape (n, 784)
        The batch both nets see (the book's 1,000 training images, say).
    y : ndarray of int, shape (n,)
        Their labels.
    hidden : int, default 5
        Number of hidden sigmoid layers.
    width : int, default 30
        Neurons per hidden layer.
    seeds : tuple of int, default (0, 1, 2)
        The initialisations averaged over (seed k gives both nets the same weights).

    Examples
    --------
    >>> from tinygrad_nd import data
    >>> (x, y), _ = (s.arrays for s in data.mnist_5k(split=(200, 0)))
    >>> m = batchnorm_mechanism(x, y, hidden=3, seeds=(0,))
    >>> m["batchnorm"]["bn_gain"][0] > 1 > m["plain"]["layer_gain"][0]
    True
    """
    sizes = [784] + [width] * hidden + [10]
    result: dict[str, Any] = {}
    for key, batchnorm in (("plain", False), ("batchnorm", True)):
        runs = [backward_factors(build_net(sizes, output=None, seed=seed, batchnorm=batchnorm),
                                 x, y) for seed in seeds]
        mean = {k: np.mean([r[k] for r in runs], axis=0) for k in runs[0]}
        delta = np.array([r["delta"] for r in runs])
        result[key] = {
            **{k: v.tolist() for k, v in mean.items() if k != "delta"},
            "layer_gain": np.exp(np.log(delta[:, :-1] / delta[:, 1:]).mean(axis=0)).tolist(),
            "first_over_last": float(np.exp(np.log(delta[:, 0] / delta[:, -1]).mean())),
            "overall_slope": float(np.mean(mean["mean_slope"]))}
    return result
