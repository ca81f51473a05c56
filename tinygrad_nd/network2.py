"""Nielsen's ``network2.py`` (Python 3) on top of the autograd engine.

The API follows the book: ``Network(sizes, cost)``, ``default_weight_initializer``,
``large_weight_initializer``, ``feedforward``, ``SGD(...)`` returning the four monitoring
lists, ``accuracy``, ``total_cost``, JSON ``save``/``load``. Data are lists of ``(x, y)``
pairs with column vectors, as in the book: ``x`` of shape (784, 1) and ``y`` one-hot (10, 1)
for training data, an integer label for evaluation data. The difference: ``backprop`` is
the autograd, so readers can point :mod:`tinygrad_nd.diagnostics` at ``net.model``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import autograd, nn
from .experiments.common import build_net
from .factories import Generator
from .tensor import Tensor

Pair = tuple[np.ndarray, Any]


class QuadraticCost:
    """C = 1/2 ||a - y||**2 per example."""

    @staticmethod
    def fn(a: Tensor, y: Tensor) -> Tensor:
        diff = a - y
        return (diff * diff).sum() * 0.5

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Output error (a - y) sigma'(z), for hand-written backprop."""
        return (a - y) * a * (1 - a)


class CrossEntropyCost:
    """C = -sum [y ln a + (1 - y) ln(1 - a)] per example."""

    @staticmethod
    def fn(a: Tensor, y: Tensor) -> Tensor:
        return nn.functional.binary_cross_entropy(a, y, reduction="sum")

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Output error a - y (sigma'(z) cancels)."""
        return a - y


def vectorized_result(j: int) -> np.ndarray:
    """A (10, 1) one-hot column for digit ``j``."""
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def _stack(pairs: Sequence[Pair], one_hot: bool) -> tuple[Tensor, Tensor | np.ndarray]:
    xs = np.hstack([np.asarray(x, dtype=np.float64).reshape(-1, 1) for x, _ in pairs]).T
    if one_hot:
        ys = np.hstack([np.asarray(y, dtype=np.float64).reshape(-1, 1) for _, y in pairs]).T
        return Tensor(xs, dtype=np.float64), Tensor(ys, dtype=np.float64)
    return Tensor(xs, dtype=np.float64), np.array([int(np.argmax(y)) if np.ndim(y) else int(y)
                                                   for _, y in pairs])


class Network:
    """A sigmoid network trained by mini-batch SGD with L2 regularisation, as in the book.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nd.network2 import Network, vectorized_result
    >>> net = Network([4, 3, 2], seed=0)
    >>> data = [(np.ones((4, 1)), vectorized_result(1)[:2])]
    >>> ec, ea, tc, ta = net.SGD(data, 1, 1, 0.5, monitor_training_cost=True)
    >>> len(tc)
    1
    """

    def __init__(self, sizes: list[int], cost: type = CrossEntropyCost, seed: int = 0) -> None:
        self.num_layers = len(sizes)
        self.sizes = list(sizes)
        self.cost = cost
        self.seed = seed
        self.default_weight_initializer()

    def default_weight_initializer(self) -> None:
        """Weights N(0, 1/n_in), biases N(0, 1)."""
        self.model = build_net(self.sizes, init="nielsen", seed=self.seed)
        self._to_float64()

    def large_weight_initializer(self) -> None:
        """Weights and biases N(0, 1) (the book's first, worse choice)."""
        self.model = build_net(self.sizes, init="large", seed=self.seed)
        self._to_float64()

    def _to_float64(self) -> None:
        for p in self.model.parameters():
            p.data = p.data.astype(np.float64)

    @property
    def weights(self) -> list[np.ndarray]:
        """Weight matrices (n_out, n_in), shared with the model."""
        return [m.weight.data for m in self.model if isinstance(m, nn.Linear)]

    @property
    def biases(self) -> list[np.ndarray]:
        """Bias columns (n_out, 1) (views of the model's bias vectors)."""
        return [m.bias.data.reshape(-1, 1) for m in self.model if isinstance(m, nn.Linear)]

    def feedforward(self, a: np.ndarray) -> np.ndarray:
        """Output column for an input column ``a``."""
        with autograd.no_grad():
            return self.model(Tensor(np.asarray(a, dtype=np.float64).reshape(1, -1),
                                     dtype=np.float64)).data.reshape(-1, 1)

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(nabla_b, nabla_w) of the cost for one example, computed by the autograd."""
        xs, ys = _stack([(x, y)], one_hot=True)
        self.model.zero_grad()
        self.cost.fn(self.model(xs), ys).backward()
        layers = [m for m in self.model if isinstance(m, nn.Linear)]
        return ([m.bias.grad.data.reshape(-1, 1) for m in layers],
                [m.weight.grad.data.copy() for m in layers])

    def update_mini_batch(self, mini_batch: Sequence[Pair], eta: float, lmbda: float,
                          n: int) -> None:
        """One step: w <- (1 - eta lmbda / n) w - eta/m sum nabla_w; biases unregularised."""
        xs, ys = _stack(mini_batch, one_hot=True)
        self.model.zero_grad()
        (self.cost.fn(self.model(xs), ys) / len(mini_batch)).backward()
        with autograd.no_grad():
            for m in self.model:
                if isinstance(m, nn.Linear):
                    m.weight.mul_(1 - eta * lmbda / n).sub_(m.weight.grad, alpha=eta)
                    m.bias.sub_(m.bias.grad, alpha=eta)

    def SGD(self, training_data: Sequence[Pair], epochs: int, mini_batch_size: int, eta: float,
            lmbda: float = 0.0, evaluation_data: Sequence[Pair] | None = None,
            monitor_evaluation_cost: bool = False, monitor_evaluation_accuracy: bool = False,
            monitor_training_cost: bool = False, monitor_training_accuracy: bool = False,
            verbose: bool = False) -> tuple[list[float], list[int], list[float], list[int]]:
        """Train; returns (evaluation_cost, evaluation_accuracy, training_cost,
        training_accuracy), each filled per epoch when its ``monitor_*`` flag is set."""
        training_data = list(training_data)
        n = len(training_data)
        rng = Generator(self.seed).rng
        evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = [], [], [], []
        for epoch in range(epochs):
            order = rng.permutation(n)
            shuffled = [training_data[i] for i in order]
            for k in range(0, n, mini_batch_size):
                self.update_mini_batch(shuffled[k:k + mini_batch_size], eta, lmbda, n)
            if monitor_training_cost:
                training_cost.append(self.total_cost(training_data, lmbda))
            if monitor_training_accuracy:
                training_accuracy.append(self.accuracy(training_data, convert=True))
            if evaluation_data is not None and monitor_evaluation_cost:
                evaluation_cost.append(self.total_cost(evaluation_data, lmbda, convert=True))
            if evaluation_data is not None and monitor_evaluation_accuracy:
                evaluation_accuracy.append(self.accuracy(evaluation_data))
            if verbose:
                print(f"Epoch {epoch} training complete", file=sys.stderr)
        return evaluation_cost, evaluation_accuracy, training_cost, training_accuracy

    def accuracy(self, data: Sequence[Pair], convert: bool = False) -> int:
        """Number of inputs classified correctly (``convert``: labels are one-hot columns)."""
        xs, labels = _stack(data, one_hot=False)
        with autograd.no_grad():
            predictions = self.model(xs).data.argmax(axis=1)
        return int((predictions == labels).sum())

    def total_cost(self, data: Sequence[Pair], lmbda: float, convert: bool = False) -> float:
        """Mean cost over ``data`` plus the L2 term lmbda/(2n) sum ||w||**2
        (``convert``: labels are integers and are one-hot encoded first)."""
        data = [(x, vectorized_result(int(y)) if convert else y) for x, y in data]
        xs, ys = _stack(data, one_hot=True)
        with autograd.no_grad():
            cost = float(self.cost.fn(self.model(xs), ys).item()) / len(data)
        return cost + 0.5 * (lmbda / len(data)) * sum(float((w * w).sum()) for w in self.weights)

    def save(self, filename: str) -> None:
        """Save sizes, weights, biases and cost to a JSON file (the book's format)."""
        payload = {"sizes": self.sizes, "weights": [w.tolist() for w in self.weights],
                   "biases": [b.tolist() for b in self.biases], "cost": self.cost.__name__}
        with open(filename, "w") as f:
            json.dump(payload, f)


def load(filename: str) -> Network:
    """Load a network saved with :meth:`Network.save`."""
    with open(filename) as f:
        payload = json.load(f)
    cost = {"CrossEntropyCost": CrossEntropyCost, "QuadraticCost": QuadraticCost}[payload["cost"]]
    net = Network(payload["sizes"], cost=cost)
    layers = [m for m in net.model if isinstance(m, nn.Linear)]
    with autograd.no_grad():
        for m, w, b in zip(layers, payload["weights"], payload["biases"]):
            m.weight.copy_(np.array(w))
            m.bias.copy_(np.array(b).reshape(-1))
    return net
