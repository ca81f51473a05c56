"""The ``tinygrad-nd`` command: the chapter-5 experiments from the shell.

Every experiment's options are generated from the fields of its config dataclass, so a new
setting appears on the command line without editing this file.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

from .experiments import (
    DepthConfig,
    ExplodingConfig,
    RemediesConfig,
    VanishingConfig,
    run_depth,
    run_exploding,
    run_remedies,
    run_vanishing,
)

EXPERIMENTS: dict[str, tuple[type, Callable[..., Any], str]] = {
    "vanishing": (VanishingConfig, run_vanishing,
                  "speed of learning ||delta^l|| of each hidden layer of deep sigmoid nets, at "
                  "initialisation (several seeds) and during 500 epochs of training"),
    "exploding": (ExplodingConfig, run_exploding,
                  "the w=100 one-neuron chain (25x per layer) and a wide net rescued by "
                  "gradient clipping"),
    "remedies": (RemediesConfig, run_remedies,
                 "ReLU, tanh, Xavier/He init, BatchNorm, residual connections, clipping and "
                 "Adam on the same deep net"),
    "depth": (DepthConfig, run_depth, "Nielsen's accuracy-versus-depth table (1-4 hidden layers)"),
}
DATASET_HELP = ("digits: the embedded MNIST subset (offline); fashion: Fashion-MNIST from "
                "Debian's dataset-fashion-mnist; mnist: full MNIST (downloaded once)")


def _add_config_options(parser: argparse.ArgumentParser, config: type) -> None:
    for f in dataclasses.fields(config):
        flag = "--" + f.name.replace("_", "-")
        if isinstance(f.default, tuple):
            parser.add_argument(flag, type=type(f.default[0]), nargs="+", default=f.default)
        elif f.name == "dataset":
            parser.add_argument(flag, choices=["digits", "fashion", "mnist"], default=f.default,
                                help=DATASET_HELP)
        else:
            parser.add_argument(flag, type=type(f.default), default=f.default,
                                help=f"(default {f.default})")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per experiment."""
    parser = argparse.ArgumentParser(
        prog="tinygrad-nd",
        description="See why deep nets are hard to train: the experiments of chapter 5 of "
                    "Nielsen's 'Neural Networks and Deep Learning', on real digits, offline. "
                    "Each writes report.md with PNG figures to --out.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (config, _, help_text) in EXPERIMENTS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--out", default=f"reports/{name}", help="report folder")
        _add_config_options(p, config)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tinygrad-nd`` console script."""
    args = vars(build_parser().parse_args(argv))
    command, out = args.pop("command"), args.pop("out")
    config, run, _ = EXPERIMENTS[command]
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}
    try:
        run(out, config(**options))
    except (FileNotFoundError, ConnectionError) as e:
        print(f"tinygrad-nd {command}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
