"""Nielsen's network2 API on the autograd, checked against the book's backprop equations."""

import numpy as np
import pytest

from tinygrad_nd import data
from tinygrad_nd.network2 import CrossEntropyCost, Network, QuadraticCost, load, vectorized_result


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def book_backprop(weights, biases, x, y, cost):
    """The four fundamental equations (BP1-BP4), written out in numpy as in the book."""
    activation, activations, zs = x, [x], []
    for b, w in zip(biases, weights):
        z = w @ activation + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    delta = cost.delta(zs[-1], activations[-1], y)                       # BP1
    nabla_b[-1], nabla_w[-1] = delta, delta @ activations[-2].T          # BP3, BP4
    for layer in range(2, len(weights) + 1):
        sp = sigmoid(zs[-layer]) * (1 - sigmoid(zs[-layer]))
        delta = (weights[-layer + 1].T @ delta) * sp                     # BP2
        nabla_b[-layer], nabla_w[-layer] = delta, delta @ activations[-layer - 1].T
    return nabla_b, nabla_w


@pytest.mark.parametrize("cost", [CrossEntropyCost, QuadraticCost])
def test_autograd_backprop_equals_the_four_equations(cost):
    train, _ = data.mnist_5k(split=(3, 0))
    net = Network([784, 30, 20, 10], cost=cost, seed=1)
    for x, label in zip(*train.arrays):
        x = x.reshape(784, 1).astype(np.float64)
        y = vectorized_result(int(label))
        ours_b, ours_w = net.backprop(x, y)
        book_b, book_w = book_backprop(net.weights, net.biases, x, y, cost)
        for a, b in zip(ours_b + ours_w, book_b + book_w):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sgd_learns_and_returns_the_four_monitoring_lists(tmp_path):
    train, test = data.mnist_5k(split=(1000, 200))
    training = [(x.reshape(784, 1), vectorized_result(int(y))) for x, y in zip(*train.arrays)]
    evaluation = [(x.reshape(784, 1), int(y)) for x, y in zip(*test.arrays)]
    net = Network([784, 30, 10])
    ec, ea, tc, ta = net.SGD(training, 3, 10, 0.5, lmbda=5.0, evaluation_data=evaluation,
                             monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                             monitor_training_cost=True, monitor_training_accuracy=True)
    assert len(ec) == len(ea) == len(tc) == len(ta) == 3
    assert ea[-1] > 150 and tc[-1] < tc[0]
    net.save(str(tmp_path / "net.json"))
    again = load(str(tmp_path / "net.json"))
    assert again.accuracy(evaluation) == ea[-1] and again.cost is CrossEntropyCost
    np.testing.assert_allclose(again.feedforward(training[0][0]), net.feedforward(training[0][0]))


def test_initialisers_have_the_book_spreads():
    net = Network([784, 100, 10], seed=0)
    assert abs(net.weights[0].std() - 1 / np.sqrt(784)) < 0.002
    net.large_weight_initializer()
    assert abs(net.weights[0].std() - 1.0) < 0.02 and abs(net.biases[0].std() - 1.0) < 0.2


def test_network2_imports_first_in_a_fresh_process():
    """network2 once imported experiments, whose foundations import network2: a cycle that
    failed only when network2 was the first module imported."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import tinygrad_nd.network2"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
