"""Nielsen's `network2.py` (Python 3) on top of the autograd engine.

The API follows the book: `Network(sizes, cost)`, `default_weight_initializer`,
`large_weight_initializer`, `feedforward`, `SGD(...)` returning the four monitoring
lists, `accuracy`, `total_cost`, JSON `save`/`load`. Data are lists of `(x, y)`
pairs with column vectors, as in the book: `x` of shape (784, 1) and `y` one-hot (10, 1)
for training data, an integer label for evaluation data. The difference: `backprop` is
the autograd, so readers can point `tinygrad_nd.diagnostics` at `net.model`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import autograd, nn
from ._atomic import atomic_write
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
        """Output error (a - y) sigma'(z), for hand-written backprop.

        Parameters
        ----------
        z : array
            The output layer's weighted inputs.
        a : array
            The output activations, sigmoid(z).
        y : array
            The desired outputs.
        """
        return (a - y) * a * (1 - a)


class CrossEntropyCost:
    """C = -sum [y ln a + (1 - y) ln(1 - a)] per example."""

    @staticmethod
    def fn(a: Tensor, y: Tensor) -> Tensor:
        return nn.functional.binary_cross_entropy(a, y, reduction="sum")

    @staticmethod
    def delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Output error a - y (sigma'(z) cancels).

        Parameters
        ----------
        z : array
            The output layer's weighted inputs.
        a : array
            The output activations, sigmoid(z).
        y : array
            The desired outputs.
        """
        return a - y


def vectorized_result(j: int) -> np.ndarray:
    """A (10, 1) one-hot column for digit `j`.

    Parameters
    ----------
    j : int
        The digit, 0 to 9.
    """
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

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input first, e.g. `[784, 30, 10]`.
    cost : type
        `CrossEntropyCost` or `QuadraticCost`.
    seed : int
        Seed of the initial weights and of the shuffling in `SGD`.

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
        self.model = nn.mlp(self.sizes, "sigmoid", "nielsen", "sigmoid",
                            generator=Generator(self.seed))
        self._to_float64()

    def large_weight_initializer(self) -> None:
        """Weights and biases N(0, 1) (the book's first, worse choice)."""
        self.model = nn.mlp(self.sizes, "sigmoid", "large", "sigmoid",
                            generator=Generator(self.seed))
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
        """Output column for an input column `a`.

        Parameters
        ----------
        a : array
            An input column, (n_in, 1).
        """
        with autograd.no_grad():
            return self.model(Tensor(np.asarray(a, dtype=np.float64).reshape(1, -1),
                                     dtype=np.float64)).data.reshape(-1, 1)

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(nabla_b, nabla_w) of the cost for one example, computed by the autograd.

        Parameters
        ----------
        x : array
            The input column, (n_in, 1).
        y : array
            The desired output column, (n_out, 1).
        """
        xs, ys = _stack([(x, y)], one_hot=True)
        self.model.zero_grad()
        self.cost.fn(self.model(xs), ys).backward()
        layers = [m for m in self.model if isinstance(m, nn.Linear)]
        return ([m.bias.grad.data.reshape(-1, 1) for m in layers],
                [m.weight.grad.data.copy() for m in layers])

    def update_mini_batch(self, mini_batch: Sequence[Pair], eta: float, lmbda: float,
                          n: int) -> None:
        """One step: w <- (1 - eta lmbda / n) w - eta/m sum nabla_w; biases unregularised.

        Parameters
        ----------
        mini_batch : sequence of (x, y) pairs
            Input columns and one-hot output columns; m is its length.
        eta : float
            The learning rate.
        lmbda : float
            The L2 regularisation parameter.
        n : int
            The size of the whole training set (scales the weight decay).
        """
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
        training_accuracy), each filled per epoch when its `monitor_*` flag is set.

        Parameters
        ----------
        training_data : sequence of (x, y) pairs
            Input columns and one-hot output columns.
        epochs : int
            Passes over the training data.
        mini_batch_size : int
            Examples per SGD step.
        eta : float
            The learning rate.
        lmbda : float
            The L2 regularisation parameter.
        evaluation_data : sequence of (x, label) pairs, optional
            Input columns and integer labels (as in the book's validation data).
        monitor_evaluation_cost, monitor_evaluation_accuracy : bool
            Record the cost / correct count on `evaluation_data` after each epoch.
        monitor_training_cost, monitor_training_accuracy : bool
            Record the cost / correct count on `training_data` after each epoch.
        verbose : bool
            Print a line per epoch to stderr.
        """
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
        """Number of inputs classified correctly.

        Parameters
        ----------
        data : sequence of (x, y) pairs
            Input columns and labels.
        convert : bool
            True when the labels are one-hot columns (training data), False for integers.
        """
        xs, labels = _stack(data, one_hot=False)
        with autograd.no_grad():
            predictions = self.model(xs).data.argmax(axis=1)
        return int((predictions == labels).sum())

    def total_cost(self, data: Sequence[Pair], lmbda: float, convert: bool = False) -> float:
        """Mean cost over `data` plus the L2 term lmbda/(2n) sum ||w||**2.

        Parameters
        ----------
        data : sequence of (x, y) pairs
            Input columns and labels.
        lmbda : float
            The L2 regularisation parameter.
        convert : bool
            True when the labels are integers (one-hot encoded first), False for one-hot
            columns.
        """
        data = [(x, vectorized_result(int(y)) if convert else y) for x, y in data]
        xs, ys = _stack(data, one_hot=True)
        with autograd.no_grad():
            cost = float(self.cost.fn(self.model(xs), ys).item()) / len(data)
        return cost + 0.5 * (lmbda / len(data)) * sum(float((w * w).sum()) for w in self.weights)

    def save(self, filename: str) -> None:
        """Save sizes, weights, biases and cost to a JSON file (the book's format), atomically
        (the old file survives any error; see `tinygrad_nd._atomic.atomic_write`).

        Parameters
        ----------
        filename : str
            The JSON file to write.
        """
        payload = {"sizes": self.sizes, "weights": [w.tolist() for w in self.weights],
                   "biases": [b.tolist() for b in self.biases], "cost": self.cost.__name__}
        text = json.dumps(payload)
        with atomic_write(filename, "w") as f:
            f.write(text)


COSTS = {"CrossEntropyCost": CrossEntropyCost, "QuadraticCost": QuadraticCost}


def _checked_payload(filename: str) -> tuple[list[int], type, list[np.ndarray], list[np.ndarray]]:
    """Sizes, cost, weights and biases of a saved network, every shape checked against the
    sizes before a network is built (a crafted `sizes` must not allocate gigabytes)."""
    where = f"network2.load: {filename!r}"
    try:
        with open(filename, encoding="utf-8") as f:
            payload = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{where} is not JSON written by Network.save ({e})") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{where} holds a {type(payload).__name__}, not a saved network")
    for key in ("sizes", "weights", "biases", "cost"):
        if key not in payload:
            raise ValueError(f"{where} is missing {key!r}")
    sizes = payload["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(type(n) is int and n > 0 for n in sizes)):
        raise ValueError(f"{where}: sizes must be a list of positive integers (at least two), "
                         f"got {sizes!r}")
    if payload["cost"] not in COSTS:
        raise ValueError(f"{where}: unknown cost {payload['cost']!r}; expected one of "
                         f"{sorted(COSTS)}")
    layers = len(sizes) - 1
    arrays = {}
    for kind in ("weights", "biases"):
        values = payload[kind]
        if not isinstance(values, list) or len(values) != layers:
            count = len(values) if isinstance(values, list) else type(values).__name__
            noun = "weight matrices" if kind == "weights" else "bias vectors"
            raise ValueError(f"{where}: {count} {noun} for {layers} layers")
        arrays[kind] = []
        for i, (value, n_in, n_out) in enumerate(zip(values, sizes, sizes[1:])):
            want = (n_out, n_in) if kind == "weights" else (n_out, 1)
            try:
                array = np.array(value, dtype=np.float64)
            except (ValueError, TypeError):
                raise ValueError(f"{where}: {kind}[{i}] is not a rectangular array of "
                                 "numbers") from None
            if array.shape != want:
                raise ValueError(f"{where}: {kind}[{i}] has shape {array.shape}; sizes "
                                 f"{sizes} need {want}")
            arrays[kind].append(array)
    return sizes, COSTS[payload["cost"]], arrays["weights"], arrays["biases"]


def load(filename: str) -> Network:
    """Load a network saved with `Network.save`.

    The file is validated before a network is built: every weight and bias must have the
    shape its `sizes` call for and `cost` must name a known cost, else `ValueError`.

    Parameters
    ----------
    filename : str
        A JSON file written by `Network.save`.
    """
    sizes, cost, weights, biases = _checked_payload(filename)
    net = Network(sizes, cost=cost)
    layers = [m for m in net.model if isinstance(m, nn.Linear)]
    with autograd.no_grad():
        for m, w, b in zip(layers, weights, biases):
            m.weight.copy_(w)
            m.bias.copy_(b.reshape(-1))
    return net
