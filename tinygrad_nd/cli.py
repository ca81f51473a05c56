"""The `tinygrad-nd` command: the chapter-5 experiments from the shell.

Every experiment's options are generated from the fields of its config dataclass, so a new
setting appears on the command line without editing this file. Every value is checked by an
argparse `type=` function before any work starts; a bad one gets one line on stderr naming
the option and the value, and exit status 2 (never a traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from .experiments import (
    DepthConfig,
    ExplodingConfig,
    FoundationsConfig,
    RemediesConfig,
    ThroughTimeConfig,
    VanishingConfig,
    run_depth,
    run_exploding,
    run_foundations,
    run_remedies,
    run_through_time,
    run_vanishing,
)
from .experiments.common import set_progress

EXPERIMENTS: dict[str, tuple[type, Callable[..., Any], str]] = {
    "vanishing": (VanishingConfig, run_vanishing,
                  "speed of learning ||delta^l|| of each hidden layer of deep sigmoid nets, at "
                  "initialisation (several seeds) and during 500 epochs of training (several "
                  "seeds), taken apart: per-layer bound vs realised factor, both weight laws, "
                  "spread across images, saturation, a healthy net on the same colour scale"),
    "exploding": (ExplodingConfig, run_exploding,
                  "the w=100 one-neuron chain (25x per layer), the slope window that makes "
                  "large gains rare, and a wide net with large weights: no remedy, gradient "
                  "clipping, L2 and L1 weight penalties"),
    "remedies": (RemediesConfig, run_remedies,
                 "tanh/ReLU/LeakyReLU/ELU with Xavier/He init, BatchNorm (and why it works), "
                 "residual connections, clipping by norm and value, L1/L2, Nesterov momentum, "
                 "Adam, dropout and layer-wise pre-training on the same deep net, each with a "
                 "tuned learning rate, over several seeds"),
    "depth": (DepthConfig, run_depth, "Nielsen's accuracy-versus-depth table (1-4 hidden layers), "
              "lambda scaled to the number of images"),
    "through-time": (ThroughTimeConfig, run_through_time,
                     "vanishing and exploding gradients through time: a tanh RNN against an LSTM "
                     "and a GRU (||dL/dh_t|| against t, accuracy against sequence length, "
                     "gradient clipping)"),
}
EXPERIMENTS["foundations"] = (
    FoundationsConfig, run_foundations,
    "the basics of chapters 3 and 6: N(0,1) against N(0,1/n_in) initialisation, overfitting "
    "and early stopping with network2's monitors, L2, dropout, and the conv layer's parameter "
    "count, gradients and max-pooling")
DATASET_HELP = ("digits: the embedded MNIST subset (offline); fashion: Fashion-MNIST from "
                "Debian's dataset-fashion-mnist; mnist: full MNIST (downloaded once)")


# ---- argument types: each turns the text into a value or says in one line what is wrong --------
def _number(text: str, kind: type, minimum: float | None, strict: bool) -> Any:
    noun = "an integer" if kind is int else "a number"
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        bound = "positive" if strict else "non-negative"
        raise argparse.ArgumentTypeError(f"must be a {bound} {noun.split()[1]}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An int > 0 (epochs, images, batch size, widths...)."""
    return _number(text, int, 0, strict=True)


def non_negative_int(text: str) -> int:
    """An int >= 0 (seeds of generators, epochs where 0 means 'at initialisation only')."""
    return _number(text, int, 0, strict=False)


def positive_float(text: str) -> float:
    """A finite float > 0 (learning rates, clipping thresholds)."""
    return _number(text, float, 0.0, strict=True)


def non_negative_float(text: str) -> float:
    """A finite float >= 0 (regularisation strengths)."""
    return _number(text, float, 0.0, strict=False)


def finite_float(text: str) -> float:
    """Any finite float (weights, inputs, targets)."""
    return _number(text, float, None, strict=False)


def _writable_folder(path: Path, text: str) -> None:
    """Raise ArgumentTypeError (about the option's value `text`) unless `path` is, or can be
    created as, a folder we can write into (checked on the nearest existing ancestor; nothing
    is created here)."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} needs the folder {str(path)!r}, but "
                                         f"{str(probe)!r} is a file")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"{text!r} needs the folder {str(path)!r}, but "
                                         f"{str(probe)!r} is not writable")


def out_folder(text: str) -> str:
    """A report folder that exists or can be created."""
    _writable_folder(Path(text), text)
    return text


GRAPH_FORMATS = (".svg", ".png", ".pdf", ".dot")


def graph_file(text: str) -> str:
    """An output file with a known suffix, in a folder that exists or can be created."""
    path = Path(text)
    if path.suffix not in GRAPH_FORMATS:
        raise argparse.ArgumentTypeError(f"the file must end in one of {', '.join(GRAPH_FORMATS)}"
                                         f", got {text!r}")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
    _writable_folder(path.parent, text)
    return text


# The type of each config field, by name; other fields get one from their default's type.
FIELD_TYPES: dict[str, Callable[[str], Any]] = {
    "seed": non_negative_int, "lmbda": non_negative_float, "l1": non_negative_float,
    "l2": non_negative_float,
    "weight": finite_float, "input_value": finite_float, "target": finite_float,
}
# Where an experiment gives a value a meaning the general rule would refuse.
FIELD_OVERRIDES: dict[tuple[str, str], Callable[[str], Any]] = {
    ("vanishing", "epochs"): non_negative_int,  # 0: only the measurement at initialisation
    ("vanishing", "saturation_steps"): non_negative_int,  # 0: no saturation section
    ("through-time", "gate_bias"): non_negative_float,  # 0: PyTorch's initialisation
    ("through-time", "noise"): non_negative_float,  # 0: silent inputs after the bit
}
# Training images available per dataset (the embedded digits keep at least one for testing).
MAX_IMAGES = {"digits": 4999, "fashion": 60000, "mnist": 60000}


def _field_type(command: str, f: dataclasses.Field) -> Callable[[str], Any]:
    if (command, f.name) in FIELD_OVERRIDES:
        return FIELD_OVERRIDES[command, f.name]
    if f.name in FIELD_TYPES:
        return FIELD_TYPES[f.name]
    default = f.default[0] if isinstance(f.default, tuple) else f.default
    return positive_int if isinstance(default, int) else positive_float


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block): option, value, problem."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_config_options(parser: argparse.ArgumentParser, command: str, config: type) -> None:
    for f in dataclasses.fields(config):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "dataset":
            parser.add_argument(flag, choices=list(MAX_IMAGES), default=f.default,
                                help=DATASET_HELP)
        elif isinstance(f.default, tuple):
            parser.add_argument(flag, type=_field_type(command, f), nargs="+", default=f.default)
        else:
            parser.add_argument(flag, type=_field_type(command, f), default=f.default,
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
    """A built-in model name, or a Python file defining `model` and `example_input`
    (optionally `loss_fn` and `target`)."""
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
    parser = _Parser(
        prog="tinygrad-nd",
        description="See why deep nets are hard to train: the experiments of chapter 5 of "
                    "Nielsen's 'Neural Networks and Deep Learning', on real digits, offline. "
                    "Each writes report.md with PNG figures to --out.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (config, _, help_text) in EXPERIMENTS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--out", type=out_folder, default=f"reports/{name}",
                       help="report folder")
        p.add_argument("--quiet", action="store_true",
                       help="no progress bars (they show only on a terminal anyway)")
        _add_config_options(p, name, config)
    p = sub.add_parser("graph", help="draw a model's computation graph, coloured by gradient",
                       description="Draw the graph of a built-in model (deep-sigmoid, mlp, "
                       "cnn, residual) or of a Python file defining `model` and "
                       "`example_input` (optionally `loss_fn` and `target`).")
    p.add_argument("model", help="built-in model name or path to a .py file")
    p.add_argument("--out", type=graph_file, default="graph.svg",
                   help="output file: .svg, .png, .pdf or .dot")
    p.add_argument("--collapse", action="store_true", help="one node per module")
    p.add_argument("--no-grads", action="store_true", help="do not colour by gradient norm")
    p.add_argument("--max-nodes", type=positive_int, default=None)
    p.set_defaults(run=_graph)
    return parser


def _check_together(parser: argparse.ArgumentParser, namespace: argparse.Namespace) -> None:
    """Checks that involve two options (parser.error exits with status 2)."""
    images, dataset = getattr(namespace, "images", None), getattr(namespace, "dataset", None)
    if images is not None and dataset in MAX_IMAGES and images > MAX_IMAGES[dataset]:
        parser.exit(2, f"{parser.prog} {namespace.command}: error: argument --images: at most "
                       f"{MAX_IMAGES[dataset]} with --dataset {dataset}, got {images}\n")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tinygrad-nd` console script."""
    parser = build_parser()
    namespace = parser.parse_args(argv)
    _check_together(parser, namespace)
    args = vars(namespace)
    command = args.pop("command")
    try:
        if "run" in args:
            args.pop("run")(namespace)
        else:
            config, run, _ = EXPERIMENTS[command]
            out = args.pop("out")
            set_progress(not args.pop("quiet"))
            run(out, config(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in args.items()}))
    except (OSError, RuntimeError, ValueError) as e:  # OSError covers ConnectionError
        print(f"tinygrad-nd {command}: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tinygrad-nd {command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
