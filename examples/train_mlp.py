"""Train the book's [784, 30, 10] sigmoid network with cross-entropy.

Uses full Fashion-MNIST when installed (``apt-get install dataset-fashion-mnist``), else the
5,000 MNIST digits embedded in the package. Try ``--dataset digits --epochs 10``.
"""

from __future__ import annotations

import argparse
import sys

import tinygrad_nd as tg
from tinygrad_nd import data, nn, optim


def load(name: str, limit: int | None, flatten: bool):
    """(train, test, label) for 'fashion', 'digits' or 'auto' (Fashion-MNIST if present)."""
    if name in ("auto", "fashion"):
        try:
            train, test = data.fashion_mnist(flatten=flatten)
            label = "Fashion-MNIST"
        except FileNotFoundError:
            if name == "fashion":
                raise
            name = "digits"
    if name == "digits":
        train, test = data.mnist_5k(split=(4000, 1000), flatten=flatten)
        label = "embedded MNIST digits (4000/1000)"
    if limit:
        train, test = train.subset(range(min(limit, len(train)))), test.subset(
            range(min(limit, len(test))))
    return train, test, label


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["auto", "fashion", "digits"], default="auto")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--limit", type=int, default=None, help="use only this many examples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    tg.manual_seed(args.seed)
    train, test, label = load(args.dataset, args.limit, flatten=True)
    model = nn.Sequential(nn.Linear(784, 30, init="nielsen"), nn.Sigmoid(),
                          nn.Linear(30, 10, init="nielsen"))
    opt = optim.SGD(model.parameters(), lr=args.lr, weight_decay=5.0 / len(train))
    print(f"{label}: {len(train)} train / {len(test)} test\n{model}")
    history = tg.fit(model, nn.functional.cross_entropy, opt,
                     data.DataLoader(train, args.batch_size, shuffle=True, seed=args.seed),
                     epochs=args.epochs, val=test, progress=sys.stderr.isatty())
    return report(history)


def report(history: tg.History) -> float:
    """Print one line per epoch; return the final test accuracy."""
    for epoch, (loss, acc) in enumerate(zip(history.loss, history.val_accuracy), 1):
        print(f"epoch {epoch}: train loss {loss:.4f}  test accuracy {acc:.2%}")
    return history.val_accuracy[-1]


if __name__ == "__main__":
    main()
