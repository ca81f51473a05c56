"""Chapter 3's overfitting example, L2 regularisation, early stopping and dropout, measured.

Nielsen ("Neural Networks and Deep Learning", ch. 3, "Overfitting and regularization"):
[784, 30, 10] trained by network2 (cross-entropy, eta = 0.5, mini-batch 10,
`large_weight_initializer`) on only 1,000 images for 400 epochs. The cost on the training
data keeps falling while the test accuracy stops improving near epoch 280 (peak 82.27%) and the
test cost rises after epoch ~15; with L2 regularisation lambda = 0.1 the peak is 87.1%. Early
stopping ends training when the accuracy on held-out *validation* data stops improving; the
book suggests the "no-improvement-in-ten-epochs" rule. Dropout (the chapter's other remedy)
has no network2 version, so it is measured with the library's modules on the same data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn, optim
from ..data import DataLoader, TensorDataset
from ..factories import Generator
from ..network2 import Network, vectorized_result
from .common import accuracy, build_net, nielsen_cross_entropy, one_hot, progress

# Nielsen, ch. 3: peak test accuracy over 400 epochs on 1,000 training images.
BOOK_PEAK_ACCURACY = {0.0: 0.8227, 0.1: 0.871}
BOOK_PLATEAU_EPOCH = 280          # "at around epoch 280 the classification accuracy ... stops"
BOOK_TEST_COST_MINIMUM_EPOCH = 15  # "the cost on the test data improves until around epoch 15"
# Nielsen, ch. 3, quoting Hinton et al. 2012 (full MNIST, large nets, dropout and a modified
# form of L2 regularisation): 98.4% -> 98.7% test accuracy.
BOOK_DROPOUT = (0.984, 0.987)


def network2_data(x: np.ndarray, y: np.ndarray, one_hot_labels: bool) -> list[tuple[Any, Any]]:
    """Images (n, 784) and labels as network2's list of (column, label) pairs: one-hot columns
    for training data, integers for evaluation data (the book's format). The columns are
    float64 already, so network2 does not convert them again at every mini-batch.

    Parameters
    ----------
    x : ndarray, shape (n, 784)
        Images, pixels in [0, 1].
    y : ndarray of int, shape (n,)
        Their labels, 0..9.
    one_hot_labels : bool
        True for training data (10 x 1 one-hot columns), False for evaluation data (ints).
    """
    x = np.asarray(x, dtype=np.float64)
    if one_hot_labels:
        return [(xi.reshape(-1, 1), vectorized_result(int(yi))) for xi, yi in zip(x, y)]
    return [(xi.reshape(-1, 1), int(yi)) for xi, yi in zip(x, y)]


def _network(sizes: list[int], init: str, seed: int) -> Network:
    """network2's net with `init`: `"large"` (N(0, 1), the book's choice in this section)
    or `"nielsen"` (its default N(0, 1/n_in))."""
    net = Network(sizes, seed=seed)
    if init == "large":
        net.large_weight_initializer()
    return net


def monitored_training(train: list, validation: list, sizes: list[int], epochs: int, eta: float,
                       lmbda: float, init: str = "large",
                       seed: int = 0) -> tuple[dict[str, list[float]], Network]:
    """network2's SGD (mini-batch 10, cross-entropy) with all four monitors on; returns the
    monitors (accuracies as fractions) and the trained net.

    Parameters
    ----------
    train : list of (ndarray, ndarray)
        network2's training data, (784 x 1 image column, 10 x 1 one-hot label) pairs
        (`network2_data(..., one_hot_labels=True)`).
    validation : list of (ndarray, int)
        network2's evaluation data, (image column, integer label) pairs.
    sizes : list of int
        Layer sizes, e.g. `[784, 30, 10]`.
    epochs : int
        Passes over `train`.
    eta : float
        SGD learning rate (mini-batches of 10).
    lmbda : float
        network2's L2 strength (0 for none).
    init : {"large", "nielsen"}, default "large"
        network2's `large_weight_initializer` (N(0, 1), this section's choice in the book) or
        its default N(0, 1/n_in).
    seed : int, default 0
        Seed of the initial weights and of the batch order.
    """
    net = _network(sizes, init, seed)
    val_cost, val_acc, train_cost, train_acc = net.SGD(
        train, epochs, 10, eta, lmbda=lmbda, evaluation_data=validation,
        monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
        monitor_training_cost=True, monitor_training_accuracy=True)
    return {"validation_cost": val_cost,
            "validation_accuracy": [a / len(validation) for a in val_acc],
            "training_cost": train_cost,
            "training_accuracy": [a / len(train) for a in train_acc]}, net


def retrained(train: list, sizes: list[int], epochs: int, eta: float, lmbda: float,
              init: str = "large", seed: int = 0) -> Network:
    """The net `monitored_training` had after `epochs` epochs, rebuilt: network2's
    batch order depends only on the seed and the monitors draw no random numbers, so the same
    seed and fewer epochs give exactly those weights (how early stopping's kept net is
    recovered without storing a copy every epoch).

    Parameters
    ----------
    train : list of (ndarray, ndarray)
        network2's training data, (784 x 1 image column, 10 x 1 one-hot label) pairs
        (`network2_data(..., one_hot_labels=True)`).
    sizes : list of int
        Layer sizes, e.g. `[784, 30, 10]`.
    epochs : int
        Passes over `train`.
    eta : float
        SGD learning rate (mini-batches of 10).
    lmbda : float
        network2's L2 strength (0 for none).
    init : {"large", "nielsen"}, default "large"
        network2's `large_weight_initializer` (N(0, 1), this section's choice in the book) or
        its default N(0, 1/n_in).
    seed : int, default 0
        Seed of the initial weights and of the batch order.
    """
    net = _network(sizes, init, seed)
    net.SGD(train, epochs, 10, eta, lmbda=lmbda)
    return net


def early_stopping(accuracies: list[float], patience: int = 10) -> dict[str, Any]:
    """Where early stopping ends training, from per-epoch validation accuracies.

    `stop_epoch` is the first epoch (1-based) after which the best accuracy so far has not
    improved for `patience` epochs (the book's "no-improvement-in-ten" rule; `None` if it
    never fires), `kept_epoch` the epoch of the best accuracy up to then (the weights one
    keeps), `best_epoch` the epoch of the best accuracy over the whole run.

    Parameters
    ----------
    accuracies : list of float
        Validation accuracy after each epoch (epoch 1 first); at least one.
    patience : int, default 10
        Epochs without a new best accuracy after which training stops.

    Examples
    --------
    >>> early_stopping([0.5, 0.7, 0.6, 0.7, 0.65], patience=3)["stop_epoch"]
    5
    """
    if not accuracies:
        raise ValueError("early_stopping: no accuracies (train at least one epoch)")
    best, best_at, stop = -np.inf, 0, None
    for epoch, value in enumerate(accuracies, start=1):
        if value > best:
            best, best_at = value, epoch
        elif epoch - best_at >= patience:
            stop = epoch
            break
    overall = int(np.argmax(accuracies)) + 1
    return {"stop_epoch": stop, "kept_epoch": best_at, "kept_accuracy": float(best),
            "best_epoch": overall, "best_accuracy": float(accuracies[overall - 1]),
            "patience": patience}


def _dropout_net(sizes: list[int], p: float, seed: int) -> nn.Sequential:
    """build_net's sigmoid net with `Dropout(p)` after every hidden activation (`p = 0`:
    the plain net, same initial weights)."""
    layers = list(build_net(sizes, seed=seed))
    if p == 0:
        return nn.Sequential(*layers)
    with_dropout: list[nn.Module] = []
    for i, layer in enumerate(layers):
        with_dropout.append(layer)
        if isinstance(layer, nn.Sigmoid) and i < len(layers) - 1:
            with_dropout.append(nn.Dropout(p, generator=Generator(seed + 1)))
    return nn.Sequential(*with_dropout)


def dropout_curves(x: np.ndarray, y: np.ndarray, xv: np.ndarray, yv: np.ndarray,
                   sizes: list[int], epochs: int, eta: float, p: float,
                   seeds: int = 1) -> dict[str, dict[str, list[list[float]]]]:
    """Training and validation accuracy per epoch of the same net trained by SGD (mini-batch
    10, network2's cross-entropy) without and with dropout `p` on its hidden neurons, for
    seeds 0..`seeds`-1: each seed fixes the initial weights and the batch order, shared by
    the two variants. Returns `{"plain"|"dropout": {"training_accuracy": [[per epoch] per
    seed], "validation_accuracy": ...}}`.

    Inverted dropout: kept activations are scaled by 1/(1-p) in training, so the full net is
    used unchanged at evaluation (the book halves the outgoing weights instead; the two are
    equivalent).

    Parameters
    ----------
    x, y : ndarray
        Training images (n, 784) and integer labels (n,).
    xv, yv : ndarray
        Validation images and labels, measured after every epoch.
    sizes : list of int
        Layer sizes of the sigmoid net, e.g. `[784, 100, 10]`.
    epochs : int
        Passes over the training images per run.
    eta : float
        SGD learning rate.
    p : float
        Dropout probability of the hidden neurons in the dropout variant, in [0, 1).
    seeds : int, default 1
        How many seeds (0..seeds-1) each variant is run with.
    """
    train = TensorDataset(x, one_hot(y))
    curves: dict[str, dict[str, list[list[float]]]] = {
        name: {"training_accuracy": [], "validation_accuracy": []}
        for name in ("plain", "dropout")}
    runs = [(seed, rate) for seed in range(seeds) for rate in (0.0, p)]
    for seed, rate in progress(runs, desc="dropout", unit="net"):
        model = _dropout_net(sizes, rate, seed)
        opt = optim.SGD(model.parameters(), lr=eta)
        loader = DataLoader(train, batch_size=10, shuffle=True, seed=seed)
        history = curves["dropout" if rate else "plain"]
        history["training_accuracy"].append([])
        history["validation_accuracy"].append([])
        for _ in range(epochs):
            model.train()
            for xb, yb in loader:
                loss = nielsen_cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            history["training_accuracy"][-1].append(accuracy(model, x, y))
            history["validation_accuracy"][-1].append(accuracy(model, xv, yv))
    return curves
