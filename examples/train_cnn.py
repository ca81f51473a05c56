"""Train a small CNN: conv(1->8, 5x5)-relu-maxpool-conv(8->16, 5x5)-relu-maxpool-linear.

Uses full Fashion-MNIST when installed, else the embedded MNIST digits.
"""

from __future__ import annotations

import argparse
import sys

import tinygrad_nd as tg
from tinygrad_nd import data, nn, optim

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from train_mlp import load, report  # noqa: E402


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["auto", "fashion", "digits"], default="auto")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--limit", type=int, default=None, help="use only this many examples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    tg.manual_seed(args.seed)
    train, test, label = load(args.dataset, args.limit, flatten=False)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10))
    print(f"{label}: {len(train)} train / {len(test)} test\n{model}")
    history = tg.fit(model, nn.functional.cross_entropy, optim.Adam(model.parameters(), args.lr),
                     data.DataLoader(train, args.batch_size, shuffle=True, seed=args.seed),
                     epochs=args.epochs, val=test, progress=sys.stderr.isatty())
    return report(history)


if __name__ == "__main__":
    main()
