"""Greedy layer-wise pre-training with stacked autoencoders (Hinton et al. 2006 with RBMs;
Bengio et al. 2007 with autoencoders), the first remedy the deep-learning revival used.

Each hidden layer in turn learns to reconstruct its own input (the previous layer's
activations, or the pixels for the first one) through a throw-away decoder; its weights then
start the supervised fine-tuning instead of random ones. The early layers thus begin with
features that carry information about the image, so the small gradients that reach them
during fine-tuning do not have to build those features from noise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import data, nn, optim
from ..autograd import no_grad
from ..factories import Generator
from ..tensor import Tensor
from .common import nielsen_cross_entropy, progress


def hidden_layers(model: nn.Sequential) -> list[tuple[nn.Linear, nn.Module]]:
    """(Linear, activation) of every hidden layer of a plain :func:`build_net` net."""
    layers = list(model)
    linears = [i for i, m in enumerate(layers) if isinstance(m, nn.Linear)]
    pairs = []
    for i in linears[:-1]:
        if i + 1 >= len(layers) or not isinstance(layers[i + 1], nn.Activation):
            raise ValueError(f"pretrain_autoencoders: hidden Linear {i} is followed by "
                             f"{type(layers[i + 1]).__name__ if i + 1 < len(layers) else 'nothing'}"
                             ", expected an activation (plain Linear/activation nets only)")
        pairs.append((layers[i], layers[i + 1]))
    return pairs


def pretrain_autoencoders(model: nn.Sequential, x: np.ndarray, epochs: int = 1,
                          batch_size: int = 10, lr: float = 0.01, seed: int = 0,
                          ) -> list[float]:
    """Pre-train ``model``'s hidden layers in place, greedily, as sigmoid autoencoders.

    Layer l's encoder is the model's own Linear and activation; its decoder, a fresh
    ``Linear(width, n_in)`` followed by a sigmoid, is discarded afterwards. Each autoencoder
    minimises the cross-entropy between its input (in [0, 1]: pixels or sigmoid outputs) and
    its reconstruction, for ``epochs`` passes of Adam(``lr``) over ``x`` (no labels), on the
    codes of the layers already trained. Returns the reconstruction loss of each layer at the
    end of its training.

    Examples
    --------
    >>> from tinygrad_nd import data
    >>> from tinygrad_nd.experiments.common import build_net
    >>> (x, _), _ = (s.arrays for s in data.mnist_5k(split=(200, 0)))
    >>> net = build_net([784, 20, 20, 10], output=None)
    >>> losses = pretrain_autoencoders(net, x, epochs=1)
    >>> len(losses)
    2
    """
    codes = np.asarray(x, dtype=np.float32)
    losses = []
    for depth, (linear, activation) in enumerate(hidden_layers(model), start=1):
        decoder = nn.Linear(linear.out_features, linear.in_features, init="nielsen",
                            generator=Generator(seed + 1000 * depth))
        opt = optim.Adam([*linear.parameters(), *decoder.parameters()], lr=lr)
        loader = data.DataLoader(data.TensorDataset(codes), batch_size, shuffle=True,
                                 seed=seed + depth)
        loss = float("nan")
        for _ in progress(range(epochs), desc=f"pre-training layer {depth}", unit="epoch"):
            for (batch,) in loader:
                recon = decoder(activation(linear(batch))).sigmoid()
                step_loss = nielsen_cross_entropy(recon, batch)
                opt.zero_grad()
                step_loss.backward()
                opt.step()
                loss = float(step_loss.item())
        losses.append(loss)
        with no_grad():
            codes = activation(linear(Tensor(codes))).data
    return losses


def pretraining_summary(losses: list[float]) -> dict[str, Any]:
    """The per-layer reconstruction losses as a results entry."""
    return {"reconstruction_loss": [float(v) for v in losses]}
