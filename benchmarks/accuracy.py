"""Accuracy of the same training run in tinygrad_nd and PyTorch (same initial weights, same
batch order, same hyper-parameters): ``python -m benchmarks.accuracy [--epochs N]``."""

from __future__ import annotations

import argparse

import numpy as np

import tinygrad_nd as tg
from tinygrad_nd import data, nn, optim

from .workloads import cnn_params, mlp_params


def datasets(name: str, flatten: bool):
    if name == "digits":
        return data.mnist_5k(split=(4000, 1000), flatten=flatten)
    return data.fashion_mnist(flatten=flatten)


def ours(kind: str, train, test, epochs: int, lr: float, batch: int) -> float:
    if kind == "mlp":
        (w1, b1), (w2, b2) = mlp_params([784, 30, 10])
        model = nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10))
        values = [w1, b1, w2, b2]
    else:
        model = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5),
                              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10))
        values = cnn_params()
    for p, v in zip(model.parameters(), values):
        p.data[...] = v
    opt = optim.SGD(model.parameters(), lr=lr)
    x, y = train.arrays
    for epoch in range(epochs):
        order = np.random.default_rng(epoch).permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            loss = nn.functional.cross_entropy(model(tg.Tensor(x[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return tg.evaluate(model, nn.functional.cross_entropy, test)[1]


def theirs(kind: str, train, test, epochs: int, lr: float, batch: int) -> float:
    import torch

    tnn = torch.nn
    if kind == "mlp":
        model = tnn.Sequential(tnn.Linear(784, 30), tnn.Sigmoid(), tnn.Linear(30, 10))
        values = [v for pair in mlp_params([784, 30, 10]) for v in pair]
    else:
        model = tnn.Sequential(tnn.Conv2d(1, 8, 5), tnn.ReLU(), tnn.MaxPool2d(2),
                               tnn.Conv2d(8, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                               tnn.Linear(256, 10))
        values = cnn_params()
    with torch.no_grad():
        for p, v in zip(model.parameters(), values):
            p.copy_(torch.from_numpy(v))
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = (torch.from_numpy(a) for a in train.arrays)
    for epoch in range(epochs):
        order = torch.from_numpy(np.random.default_rng(epoch).permutation(len(x)))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            loss = tnn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    xt, yt = (torch.from_numpy(a) for a in test.arrays)
    with torch.no_grad():
        return float((model(xt).argmax(1) == yt).float().mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.accuracy", description=__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=["digits", "fashion"])
    args = parser.parse_args(argv)
    print("| data | model | epochs | tinygrad_nd | PyTorch |\n|---|---|---|---|---|")
    for name in args.datasets:
        for kind, lr, batch in (("mlp", 0.5, 10), ("cnn", 0.05, 64)):
            train, test = datasets(name, flatten=kind == "mlp")
            a = ours(kind, train, test, args.epochs, lr, batch)
            b = theirs(kind, train, test, args.epochs, lr, batch)
            print(f"| {name} | {kind} | {args.epochs} | {a:.2%} | {b:.2%} |", flush=True)


if __name__ == "__main__":
    main()
