"""Shared pieces of the chapter-5 experiments: Nielsen's networks, data, and report writing."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import data, nn
from .._atomic import atomic_write
from ..diagnostics import display
from ..factories import Generator
from ..tensor import Tensor

# Progress bars of long runs (tqdm, on stderr and only on a terminal); `--quiet` turns them off.
_progress_enabled = True


def set_progress(enabled: bool) -> None:
    """Show (the default) or hide the progress bars of the experiments' long loops."""
    global _progress_enabled
    _progress_enabled = enabled


def progress(iterable: Any, total: int | None = None, desc: str = "", unit: str = "it") -> Any:
    """`iterable` with a tqdm progress bar on stderr (only on a terminal, never in logs)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, leave=False, file=sys.stderr,
                disable=None if _progress_enabled else True)


def build_net(sizes: list[int], activation: str = "sigmoid", init: str = "nielsen",
              output: str | None = "sigmoid", seed: int = 0, batchnorm: bool = False,
              residual: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """The book's fully connected net (network2.py): `tinygrad_nd.nn.mlp` with Nielsen's
    defaults (sigmoid units, N(0, 1/n_in) weights, a sigmoid output layer) and a seed;
    `dropout > 0` puts a `Dropout` after every hidden activation (masks drawn from a
    generator seeded with `seed`)."""
    net = nn.mlp(sizes, activation, init, output, batchnorm=batchnorm, residual=residual,
                 generator=Generator(seed))
    if not dropout:
        return net
    if residual:
        raise ValueError("build_net: dropout with residual=True is not supported (the "
                         "activations sit inside the residual blocks)")
    masks, layers = Generator(seed + 1), list(net)
    last_linear = max(i for i, m in enumerate(layers) if isinstance(m, nn.Linear))
    with_dropout: list[nn.Module] = []
    for i, module in enumerate(layers):
        with_dropout.append(module)
        if isinstance(module, nn.Activation) and i < last_linear:
            with_dropout.append(nn.Dropout(dropout, generator=masks))
    return nn.Sequential(*with_dropout)


def one_hot(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """Rows of the identity, float32."""
    return np.eye(classes, dtype=np.float32)[labels]


def nielsen_cross_entropy(a: Tensor, y: Tensor) -> Tensor:
    """network2's CrossEntropyCost: sum over output units of -[y ln a + (1-y) ln(1-a)],
    averaged over the examples."""
    return nn.functional.binary_cross_entropy(a, y, reduction="sum") / a.shape[0]


def load_images(dataset: str, n_train: int, n_test: int | None = 1000,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """(x_train, y_train, x_test, y_test, description) with flat float32 images.

    `n_test=None` takes the whole test split: the 10,000 test images of MNIST and
    Fashion-MNIST, or every embedded digit not used for training (5,000 - `n_train`)."""
    if dataset == "digits":
        if n_test is None or n_train + n_test > 5000:
            n_test = 5000 - n_train
        train, test = data.mnist_5k(split=(n_train, n_test), seed=seed)
        label = "embedded MNIST digits (mnist-5k)"
    elif dataset in ("fashion", "mnist"):
        train, test = data.fashion_mnist() if dataset == "fashion" else data.mnist()
        n_test = len(test) if n_test is None else min(n_test, len(test))
        train, test = train.subset(range(n_train)), test.subset(range(n_test))
        label = "Fashion-MNIST" if dataset == "fashion" else "MNIST"
    else:
        raise ValueError(f"unknown dataset {dataset!r}; expected digits, fashion or mnist")
    (x, y), (xt, yt) = train.arrays, test.arrays
    return x, y, xt, yt, label


def train_step(model: nn.Module, loss_fn: Any, optimizer: Any, x: Tensor, y: Any,
               clip: float | None = None) -> float:
    """One step of the explicit loop (optionally with gradient-norm clipping); the loss."""
    return float(_step(model, loss_fn, optimizer, x, y, clip).item())


def compiled_train_step(model: nn.Module, loss_fn: Any, optimizer: Any) -> Any:
    """`train_step` without clipping, compiled by `tinygrad_nd.jit`: `step(x, y)`
    returns the loss Tensor; replayed steps end bit-identical to eager ones."""
    from ..jit import jit

    return jit(lambda x, y: _step(model, loss_fn, optimizer, x, y, None))


def _step(model: nn.Module, loss_fn: Any, optimizer: Any, x: Tensor, y: Any,
          clip: float | None) -> Tensor:
    loss = loss_fn(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    if clip is not None:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction of correct arg-max predictions."""
    from ..autograd import no_grad

    with no_grad():
        was = model.training
        model.eval()
        out = model(Tensor(x))
        model.train(was)
    return float((out.data.argmax(axis=1) == y).mean())


@dataclass
class Report:
    """A Markdown report with PNG figures, written to a folder."""

    folder: Path
    title: str
    parts: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def text(self, markdown: str) -> None:
        """Add a paragraph."""
        self.parts.append(markdown.strip() + "\n")

    def table(self, headers: list[str], rows: list[list[Any]]) -> str:
        """Add a table and return it as plain text (for printing). Cells must not contain
        `|`, Markdown's column separator (write norms as ‖x‖)."""
        for cell in [*headers, *(c for row in rows for c in row)]:
            if "|" in str(cell):
                raise ValueError(f"Report.table: cell {cell!r} contains '|', which would split "
                                 "the Markdown column; use ‖ for norms")
        md = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        md += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        self.parts.append("\n".join(md) + "\n")
        widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
        return "\n".join("  ".join(str(c).rjust(w) for c, w in zip(row, widths))
                         for row in [headers, *rows])

    def figure(self, fig: Any, name: str, caption: str) -> Path:
        """Save a matplotlib figure as `name`.png and embed it."""
        import matplotlib.pyplot as plt

        path = self.folder / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.parts.append(f"![{caption}]({path.name})\n\n*{caption}*\n")
        return path

    def image(self, path: Path, caption: str) -> None:
        """Embed an image file that already lies in the folder."""
        self.parts.append(f"![{caption}]({Path(path).name})\n\n*{caption}*\n")

    def write(self, results: dict[str, Any] | None = None) -> Path:
        """Write `report.md` (and `results.json` when given); returns the report path."""
        path = self.folder / "report.md"
        with atomic_write(path, "w") as f:
            f.write(f"# {self.title}\n\n" + "\n".join(self.parts))
        if results is not None:
            text = json.dumps(results, indent=2, default=float)
            with atomic_write(self.folder / "results.json", "w") as f:
                f.write(text)
        return path


def finish(report: Report, results: dict[str, Any], text: str, verbose: bool) -> dict[str, Any]:
    """Add the run time, write the report and results, print the tables; return results."""
    report.text(f"Run time: {time.perf_counter() - report.started:.1f} s.")
    path = report.write(results)
    results["report"] = str(path)
    if verbose:
        print(text)
        print(f"\nreport: {path}")
    return results


def pyplot():
    """matplotlib.pyplot, off-screen unless a backend is chosen already (Jupyter's inline)."""
    return display.pyplot()


def epoch_axis(ax: Any, epochs: int | None = None) -> None:
    """Integer epoch ticks on the x axis, spanning epochs 1..`epochs` when given."""
    from matplotlib.ticker import MaxNLocator

    if epochs is not None:
        ax.set_xlim(0.5, epochs + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")


def accuracy_axes(ax: Any, chance: float = 0.1, percent: bool = True,
                  epochs: int | None = None) -> None:
    """Finish an accuracy-per-epoch plot: a dotted line at the chance level (labelled, so a
    curve that sits on it reads as "learnt nothing"), integer epoch ticks, axis labels.

    `percent`: the plotted values are percentages (else fractions, whose ticks are written
    as percentages); `epochs`: the x axis spans epochs 1..`epochs` (with a half-epoch margin).
    """
    scale = 100 if percent else 1
    ax.axhline(scale * chance, color="gray", linestyle=":",
               label=f"chance ({100 * chance:.3g}%)")
    if not percent:
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    epoch_axis(ax, epochs)
    ax.set_ylabel("accuracy (%)" if percent else "accuracy")
    ax.grid(True, alpha=0.3)
