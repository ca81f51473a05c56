"""The ``tinygrad-nd`` command: the chapter-5 experiments (and more) from the shell."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

COMMANDS: dict[str, Callable[[argparse.Namespace], object]] = {}


def _vanishing(args: argparse.Namespace) -> object:
    from .experiments.vanishing import VanishingConfig, run_vanishing

    cfg = VanishingConfig(depths=tuple(args.depths), images=args.images, seeds=args.seeds,
                          epochs=args.epochs, dataset=args.dataset, seed=args.seed,
                          eta=args.eta, lmbda=args.lmbda)
    return run_vanishing(args.out, cfg)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per experiment or tool."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-nd",
        description="See why deep nets are hard to train: experiments from chapter 5 of "
                    "Nielsen's 'Neural Networks and Deep Learning', on real digits, offline.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("vanishing", help="speed of learning of each layer of deep sigmoid nets",
                       description="||delta^l|| per hidden layer at initialisation (several "
                       "seeds) and during full-batch training, for 2-4 hidden layers.")
    p.add_argument("--out", default="reports/vanishing", help="report folder")
    p.add_argument("--dataset", choices=["digits", "fashion", "mnist"], default="digits",
                   help="digits: embedded MNIST subset (offline); fashion: Debian's "
                   "Fashion-MNIST; mnist: full MNIST (downloaded)")
    p.add_argument("--depths", type=int, nargs="+", default=[2, 3, 4])
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=500)
    p.add_argument("--eta", type=float, default=0.1)
    p.add_argument("--lmbda", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_vanishing)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tinygrad-nd`` console script."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (FileNotFoundError, ConnectionError) as e:
        print(f"tinygrad-nd {args.command}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
