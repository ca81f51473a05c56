"""The ``tinygrad-nd`` command: the chapter-5 experiments from the shell.

Every experiment's options are generated from the fields of its config dataclass, so a new
setting appears on the command line without editing this file.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
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


def _builtin_models() -> dict[str, Callable[[], tuple[Any, ...]]]:
    """name -> () -> (model, input, loss_fn, target), on embedded digits."""
    from . import data, nn
    from .experiments.common import build_net, nielsen_cross_entropy, one_hot
    from .tensor import Tensor

    def digits(n: int, flatten: bool = True) -> tuple[Any, Any]:
        train, _ = data.mnist_5k(split=(n, 0), flatten=flatten)
        return train.arrays

    def deep_sigmoid() -> tuple[Any, ...]:
        x, y = digits(100)
        return (build_net([784, 30, 30, 30, 30, 10]), x, nielsen_cross_entropy,
                Tensor(one_hot(y)))

    def mlp() -> tuple[Any, ...]:
        x, y = digits(100)
        return (nn.Sequential(nn.Linear(784, 30), nn.Sigmoid(), nn.Linear(30, 10)), x,
                nn.functional.cross_entropy, y)

    def cnn() -> tuple[Any, ...]:
        x, y = digits(16, flatten=False)
        model = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(256, 10))
        return model, x, nn.functional.cross_entropy, y

    def residual() -> tuple[Any, ...]:
        x, y = digits(100)
        return (build_net([784, 30, 30, 30, 10], residual=True, output=None), x,
                nn.functional.cross_entropy, y)

    return {"deep-sigmoid": deep_sigmoid, "mlp": mlp, "cnn": cnn, "residual": residual}


def _load_model(source: str) -> tuple[Any, ...]:
    """A built-in model name, or a Python file defining ``model`` and ``example_input``
    (optionally ``loss_fn`` and ``target``)."""
    builtins = _builtin_models()
    if source in builtins:
        return builtins[source]()
    import runpy

    try:
        namespace = runpy.run_path(source, run_name="tinygrad_nd_graph")
    except FileNotFoundError:
        raise FileNotFoundError(f"{source!r} is neither a file nor a built-in model "
                                f"({', '.join(builtins)})") from None
    missing = [k for k in ("model", "example_input") if k not in namespace]
    if missing:
        raise FileNotFoundError(f"{source} must define {' and '.join(missing)}")
    return (namespace["model"], namespace["example_input"], namespace.get("loss_fn"),
            namespace.get("target"))


def _graph(args: argparse.Namespace) -> None:
    from . import viz

    model, x, loss_fn, target = _load_model(args.model)
    graph = viz.draw_model(model, x, loss_fn, target, show_grads=not args.no_grads,
                           collapse=args.collapse, max_nodes=args.max_nodes)
    out = Path(args.out)
    if out.suffix == ".dot":
        out.write_text(graph.source)
    else:
        graph.render(out.with_suffix(""), format=out.suffix.lstrip(".") or "svg", cleanup=True)
    print(f"graph: {out}")


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
    p = sub.add_parser("graph", help="draw a model's computation graph, coloured by gradient",
                       description="Draw the graph of a built-in model (deep-sigmoid, mlp, "
                       "cnn, residual) or of a Python file defining `model` and "
                       "`example_input` (optionally `loss_fn` and `target`).")
    p.add_argument("model", help="built-in model name or path to a .py file")
    p.add_argument("--out", default="graph.svg", help="output file: .svg, .png, .pdf or .dot")
    p.add_argument("--collapse", action="store_true", help="one node per module")
    p.add_argument("--no-grads", action="store_true", help="do not colour by gradient norm")
    p.add_argument("--max-nodes", type=int, default=None)
    p.set_defaults(run=_graph)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tinygrad-nd`` console script."""
    namespace = build_parser().parse_args(argv)
    args = vars(namespace)
    command = args.pop("command")
    try:
        if "run" in args:
            args.pop("run")(namespace)
        else:
            config, run, _ = EXPERIMENTS[command]
            out = args.pop("out")
            run(out, config(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in args.items()}))
    except (FileNotFoundError, ConnectionError, RuntimeError) as e:
        print(f"tinygrad-nd {command}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
