"""Chapter 3's weight-initialisation example, measured.

Nielsen ("Neural Networks and Deep Learning", ch. 3, "Weight initialization"): a hidden neuron
with 1,000 inputs of which 500 are on (x = 1) and 500 off. With weights and bias N(0, 1) its
weighted input z is a sum of 501 standard normals, sd sqrt(501) ~ 22.4, so |z| is usually large
and the neuron saturated (sigma(z) near 0 or 1, sigma'(z) near 0: it learns slowly). With
weights N(0, 1/n_in) the sd is sqrt(500/1000 + 1) = sqrt(3/2) ~ 1.22. Here the layers are the
library's own `nn.Linear(..., init="large")` and `init="nielsen"` (network2's two
initialisers), on the book's synthetic input and on real digits, and the effect on learning is
network2's `default_weight_initializer` against its `large_weight_initializer`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import nn
from ..factories import Generator
from ..network2 import Network
from ..ops.activation import stable_sigmoid
from ..tensor import Tensor
from .common import progress

INITS = ("large", "nielsen")
INIT_LABELS = {"large": "N(0, 1) weights (large_weight_initializer)",
               "nielsen": "N(0, 1/n_in) weights (default_weight_initializer)"}
# Nielsen, ch. 3: sd of z for the 1,000-input neuron with 500 inputs on.
BOOK_Z_SD = {"large": 22.4, "nielsen": 1.22}
# Nielsen, ch. 3, after the first of 30 epochs on 50,000 images: "under 87 percent" with the
# old initialisation, "almost 93 percent" with the new; both end "somewhat over 96 percent".
BOOK_FIRST_EPOCH = {"large": 0.87, "nielsen": 0.93}


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z)), at most 1/4 (at z = 0).

    Parameters
    ----------
    z : ndarray
        Weighted inputs, any shape.
    """
    s = stable_sigmoid(np.asarray(z, dtype=np.float64))
    return s * (1.0 - s)


def z_theory_sd(init: str, inputs_on: int, n_in: int) -> float:
    """sd of z = sum_j w_j x_j + b for `inputs_on` inputs equal to 1 and the rest 0:
    sqrt(inputs_on * var(w) + var(b)), var(b) = 1, var(w) = 1 (`large`) or 1/n_in.

    Parameters
    ----------
    init : {"large", "nielsen"}
        network2's initialiser: N(0, 1) weights, or N(0, 1/n_in); the bias is N(0, 1) in both.
    inputs_on : int
        How many inputs are 1 (the rest are 0).
    n_in : int
        The neuron's number of inputs.
    """
    weight_variance = 1.0 if init == "large" else 1.0 / n_in
    return math.sqrt(inputs_on * weight_variance + 1.0)


def gaussian_tail(threshold: float, sd: float) -> float:
    """P(|z| > threshold) for z ~ N(0, sd**2).

    Parameters
    ----------
    threshold : float
        The bound on |z| (the saturation threshold), >= 0.
    sd : float
        The Gaussian's standard deviation, > 0.
    """
    return math.erfc(threshold / (sd * math.sqrt(2.0)))


def z_statistics(z: np.ndarray, saturation: float) -> dict[str, float]:
    """sd of z, the fraction of |z| > `saturation` and the mean sigma'(z).

    Parameters
    ----------
    z : ndarray
        Weighted inputs, any shape (all entries pooled).
    saturation : float
        |z| beyond which a sigmoid neuron counts as saturated.
    """
    return {"sd": float(z.std()), "saturated": float((np.abs(z) > saturation).mean()),
            "mean_sigma_prime": float(sigmoid_prime(z).mean())}


def book_neuron(n_in: int = 1000, inputs_on: int = 500, neurons: int = 4000,
                saturation: float = 4.0, seed: int = 0) -> dict[str, dict[str, Any]]:
    """z of `neurons` independent hidden neurons (one `nn.Linear(n_in, neurons)`) for the
    book's input (the first `inputs_on` of `n_in` inputs on), for both initialisers.

    Per initialiser: the measured statistics of `z_statistics`, the theoretical sd and
    saturated fraction, and the z values (for the histogram).

    Parameters
    ----------
    n_in : int, default 1000
        Inputs of each neuron (the book's 1,000).
    inputs_on : int, default 500
        How many of them are 1, the rest 0 (the book's 500).
    neurons : int, default 4000
        Independent neurons drawn (the columns of one Linear layer).
    saturation : float, default 4.0
        |z| beyond which a neuron counts as saturated.
    seed : int, default 0
        Seed of the weights (the same for both initialisers).

    Examples
    --------
    >>> r = book_neuron(neurons=2000)
    >>> round(r["large"]["theory_sd"], 1), round(r["nielsen"]["theory_sd"], 2)
    (22.4, 1.22)
    >>> abs(r["large"]["sd"] / r["large"]["theory_sd"] - 1) < 0.05
    True
    """
    x = np.zeros((1, n_in))
    x[0, :inputs_on] = 1.0
    results = {}
    for init in INITS:
        layer = nn.Linear(n_in, neurons, init=init, generator=Generator(seed), dtype=np.float64)
        z = layer(Tensor(x, dtype=np.float64)).numpy()[0]
        sd = z_theory_sd(init, inputs_on, n_in)
        results[init] = {**z_statistics(z, saturation), "theory_sd": sd,
                         "theory_saturated": gaussian_tail(saturation, sd), "z": z}
    return results


def digits_hidden_layer(x: np.ndarray, hidden: int = 30, saturation: float = 4.0,
                        seed: int = 0) -> dict[str, dict[str, Any]]:
    """The same statistics for the first hidden layer of [784, `hidden`, 10] on real images
    `x` (n, 784): every (image, neuron) pair is one z.

    Parameters
    ----------
    x : ndarray, shape (n, 784)
        Images, pixels in [0, 1].
    hidden : int, default 30
        Neurons of the hidden layer.
    saturation : float, default 4.0
        |z| beyond which a neuron counts as saturated.
    seed : int, default 0
        Seed of the weights (the same for both initialisers).
    """
    results = {}
    for init in INITS:
        layer = nn.Linear(x.shape[1], hidden, init=init, generator=Generator(seed),
                          dtype=np.float64)
        z = layer(Tensor(x, dtype=np.float64)).numpy().ravel()
        results[init] = {**z_statistics(z, saturation), "z": z}
    return results


def learning_curves(train: list, validation: list, sizes: list[int], epochs: int, eta: float,
                    lmbda: float, seed: int = 0) -> dict[str, list[float]]:
    """Validation accuracy (fraction) after each epoch of network2's SGD (mini-batch 10,
    cross-entropy) from each initialiser; `train`/`validation` in network2's format.

    Parameters
    ----------
    train : list of (ndarray, ndarray)
        network2's training data: (784 x 1 image column, 10 x 1 one-hot label) pairs
        (`foundations_overfitting.network2_data(..., one_hot_labels=True)`).
    validation : list of (ndarray, int)
        network2's evaluation data: (image column, integer label) pairs.
    sizes : list of int
        Layer sizes, e.g. `[784, 30, 10]`.
    epochs : int
        Passes over `train`.
    eta : float
        SGD learning rate.
    lmbda : float
        network2's L2 strength (for `len(train)` images).
    seed : int, default 0
        Seed of the initial weights and the batch order (the same for both initialisers).
    """
    curves = {}
    for init in progress(INITS, desc="initialisers", unit="net"):
        net = Network(sizes, seed=seed)
        if init == "large":
            net.large_weight_initializer()
        _, accuracy, _, _ = net.SGD(train, epochs, 10, eta, lmbda=lmbda,
                                    evaluation_data=validation,
                                    monitor_evaluation_accuracy=True)
        curves[init] = [a / len(validation) for a in accuracy]
    return curves
