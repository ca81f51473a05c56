"""Greedy layer-wise pre-training with stacked autoencoders (Hinton et al. 2006 with RBMs;
Bengio et al. 2007 with autoencoders), the first remedy the deep-learning revival used.

Each hidden layer in turn learns to reconstruct its own input (the previous layer's
activations, or the pixels for the first one) through a throw-away decoder; its weights then
start the supervised fine-tuning instead of random ones. The early layers thus begin with
features that carry information about the image, so the small gradients that reach them
during fine-tuning do not have to build those features from noise.
"""

from __future__ import annotations

import numpy as np

from .. import data, nn, optim
from ..autograd import no_grad
from ..factories import Generator
from ..ops.activation import stable_sigmoid
from ..tensor import Tensor
from .common import nielsen_cross_entropy, progress


def hidden_layers(model: nn.Sequential) -> list[tuple[nn.Linear, nn.Module]]:
    """(Linear, activation) of every hidden layer of a plain `build_net` net.

    Parameters
    ----------
    model : nn.Sequential
        A net of alternating Linear and activation modules (`build_net`), output layer last.
    """
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
    """Pre-train `model`'s hidden layers in place, greedily, as sigmoid autoencoders.

    Layer l's encoder is the model's own Linear and activation; its decoder, a fresh
    `Linear(width, n_in)` followed by a sigmoid, is discarded afterwards. Each autoencoder
    minimises the cross-entropy between its input (in [0, 1]: pixels or sigmoid outputs) and
    its reconstruction, for `epochs` passes of Adam(`lr`) over `x` (no labels), on the
    codes of the layers already trained. Returns the reconstruction loss of each layer at the
    end of its training.

    Parameters
    ----------
    model : nn.Sequential
        A plain Linear/activation net (`build_net(..., output=None)`); its hidden layers'
        weights and biases are changed in place, the output layer is left alone.
    x : ndarray, shape (n, n_in)
        Unlabelled inputs in [0, 1] (pixels).
    epochs : int, default 1
        Passes over `x` for each layer's autoencoder.
    batch_size : int, default 10
        Mini-batch size.
    lr : float, default 0.01
        Adam's learning rate.
    seed : int, default 0
        Seed of the decoders' initial weights and of the batch order (per layer).

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


def pretrain_rbms(model: nn.Sequential, x: np.ndarray, epochs: int = 1, batch_size: int = 10,
                  lr: float = 0.05, seed: int = 0) -> list[float]:
    """Pre-train `model`'s sigmoid hidden layers in place as a stack of restricted Boltzmann
    machines, each trained with one step of contrastive divergence (CD-1, Hinton 2002/2006).

    CD-1 is not the gradient of a loss the autograd could differentiate, so the updates are
    written out: with p(h|v) = sigmoid(v W + c) and p(v|h) = sigmoid(h W^T + b),
    `dW = (v0^T p(h|v0) - v1^T p(h|v1)) / m` where v1 is the mean reconstruction of a
    sampled h0. Layer l's RBM is trained on the (mean) codes of the layers below; its W and c
    become the Linear's weight and bias. Returns each layer's mean squared reconstruction
    error at the end of its training.

    Parameters
    ----------
    model : nn.Sequential
        A plain Linear/sigmoid net (`build_net(..., output=None)`); each hidden layer's RBM
        starts from the Linear's current weights (visible and hidden biases from 0), and its
        weights and hidden biases are written back in place. The output layer is left alone.
    x : ndarray, shape (n, n_in)
        Unlabelled inputs in [0, 1] (pixels), the visible units of the first RBM.
    epochs : int, default 1
        Passes over the data for each layer's RBM.
    batch_size : int, default 10
        Mini-batch size.
    lr : float, default 0.05
        Learning rate of the CD-1 updates.
    seed : int, default 0
        Seed of the batch order and of the sampled hidden units.

    Examples
    --------
    >>> from tinygrad_nd import data
    >>> from tinygrad_nd.experiments.common import build_net
    >>> (x, _), _ = (s.arrays for s in data.mnist_5k(split=(200, 0)))
    >>> errors = pretrain_rbms(build_net([784, 20, 20, 10], output=None), x)
    >>> len(errors), all(0 < e < 0.25 for e in errors)
    (2, True)
    """
    rng = np.random.default_rng(seed)
    codes = np.asarray(x, dtype=np.float64)
    errors = []
    for linear, activation in hidden_layers(model):
        if not isinstance(activation, nn.Sigmoid):
            raise ValueError(f"pretrain_rbms: RBM units are sigmoid, got "
                             f"{type(activation).__name__}")
        w = linear.weight.data.T.astype(np.float64)           # (n_in, n_hidden)
        c = np.zeros(w.shape[1])
        b = np.zeros(w.shape[0])
        error = float("nan")
        for _ in progress(range(epochs), desc="RBM pre-training", unit="epoch"):
            order = rng.permutation(len(codes))
            for start in range(0, len(codes), batch_size):
                v0 = codes[order[start:start + batch_size]]
                h0 = stable_sigmoid(v0 @ w + c)
                v1 = stable_sigmoid((rng.random(h0.shape) < h0) @ w.T + b)
                h1 = stable_sigmoid(v1 @ w + c)
                m = len(v0)
                w += lr * (v0.T @ h0 - v1.T @ h1) / m
                c += lr * (h0 - h1).mean(axis=0)
                b += lr * (v0 - v1).mean(axis=0)
                error = float(((v0 - v1) ** 2).mean())
        errors.append(error)
        with no_grad():
            linear.weight.data[...] = w.T
            linear.bias.data[...] = c
        codes = stable_sigmoid(codes @ w + c)
    return errors
