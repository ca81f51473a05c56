"""Chapter 5 reproduced: the speed of learning ||delta^l|| of each hidden layer of sigmoid nets.

Setup (Nielsen, "Neural Networks and Deep Learning", ch. 5): nets [784, 30 x k, 10] for
k = 2, 3, 4 hidden layers, sigmoid everywhere, network2's cross-entropy cost, weights
N(0, 1/n_in), biases N(0, 1). `||delta^l||` is the length of dC/db^l for the cost averaged
over 1,000 training images: first at initialisation (over several seeds), then once per epoch
of full-batch gradient descent (eta = 0.1, lambda = 5.0 in the book's L2 form), over several
seeds. The report then takes the measurement apart (`.vanishing_at_init`), adds
saturation (`.saturation`) and draws a sigmoid net beside a healthy one
(`.vanishing_figures`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim
from ..autograd import no_grad
from ..diagnostics import GradientMonitor
from ..tensor import Tensor
from .common import (
    Report,
    accuracy,
    build_net,
    finish,
    load_images,
    nielsen_cross_entropy,
    one_hot,
    progress,
    train_step,
)
from .saturation import saturation_sections
from .snapshots import vanishing_page
from .vanishing_at_init import at_init_sections, hidden_activity
from .vanishing_figures import NIELSEN_AT_INIT, graph_comparison, init_figure, training_figure


@dataclass
class VanishingConfig:
    """Settings of `run_vanishing` (defaults: the book's).

    Attributes
    ----------
    depths : tuple of int, default (2, 3, 4)
        Numbers of hidden layers compared.
    width : int, default 30
        Neurons per hidden layer (the book's 30).
    images : int, default 1000
        Training images, used as one full batch (the book's 1,000).
    seeds : int, default 5
        Initialisations (seeds 0..seeds-1) averaged for the speeds at initialisation.
    epochs : int, default 500
        Epochs of full-batch gradient descent (the book's 500).
    eta : float, default 0.1
        The learning rate (the book's 0.1).
    lmbda : float, default 5.0
        network2's L2 strength, as weight decay eta lmbda / n (the book's 5.0).
    dataset : {"digits", "fashion", "mnist"}, default "digits"
        Where the images come from.
    seed : int, default 0
        Seed of the data and of the first training run.
    train_seeds : int, default 3
        Training runs per depth (seeds seed..seed+train_seeds-1).
    saturation_steps : int, default 1000
        Mini-batch steps of the saturation section (0 leaves it out).
    """

    depths: tuple[int, ...] = (2, 3, 4)
    width: int = 30
    images: int = 1000
    seeds: int = 5
    epochs: int = 500
    eta: float = 0.1
    lmbda: float = 5.0
    dataset: str = "digits"
    seed: int = 0
    train_seeds: int = 3
    saturation_steps: int = 1000


def nielsen_optimizer(model: Any, eta: float, lmbda: float, n: int) -> optim.SGD:
    """network2's update: weights decay by (1 - eta*lmbda/n), biases are not regularised.

    Parameters
    ----------
    model : Module
        The net; parameters whose names end in "weight" are decayed, the others not.
    eta : float
        The learning rate.
    lmbda : float
        network2's L2 strength lambda.
    n : int
        The number of training images (the decay per step is eta lmbda / n).
    """
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if not name.endswith("weight")]
    return optim.SGD([{"params": weights, "weight_decay": lmbda / n},
                      {"params": biases, "weight_decay": 0.0}], lr=eta)


def speeds_at_init(sizes: list[int], x: Tensor, y: Tensor, seed: int,
                   **net: Any) -> np.ndarray:
    """||dC/db^l|| of every hidden layer for a freshly initialised net (`net`: options of
    `build_net`, e.g. `activation="relu", init="kaiming_normal"`).

    Parameters
    ----------
    sizes : list of int
        Layer sizes, e.g. `[784, 30, 30, 10]`.
    x : Tensor
        A batch of images (n, 784).
    y : Tensor
        Their one-hot targets (n, 10), as `nielsen_cross_entropy` takes.
    seed : int
        Seed of the initial weights.
    **net
        Options of `build_net`.
    """
    model = build_net(sizes, seed=seed, **net)
    with GradientMonitor(model) as monitor:
        nielsen_cross_entropy(model(x), y).backward()
    return monitor.history["bias_grad"][0, :-1]


def train_full_batch(sizes: list[int], x: Tensor, y: Tensor, cfg: VanishingConfig,
                     seed: int) -> tuple[np.ndarray, Any]:
    """Per-epoch ||delta^l|| of the hidden layers over `cfg.epochs` of full-batch GD.

    Parameters
    ----------
    sizes : list of int
        Layer sizes, e.g. `[784, 30, 30, 10]`.
    x : Tensor
        All training images (n, 784), one batch.
    y : Tensor
        Their one-hot targets (n, 10).
    cfg : VanishingConfig
        For `epochs`, `eta` and `lmbda`.
    seed : int
        Seed of the initial weights.
    """
    model = build_net(sizes, seed=seed)
    opt = nielsen_optimizer(model, cfg.eta, cfg.lmbda, len(x))
    with GradientMonitor(model) as monitor:
        for _ in progress(range(cfg.epochs), desc=f"{len(sizes) - 2} hidden layers, seed {seed}",
                          unit="epoch"):
            train_step(model, nielsen_cross_entropy, opt, x, y)
    return monitor.history["bias_grad"][:, :-1], model


def epoch_ranges(mask: np.ndarray) -> list[tuple[int, int]]:
    """The runs of consecutive True entries of `mask` as (first, last) epochs, 1-based.

    Parameters
    ----------
    mask : ndarray of bool, shape (epochs,)
        One entry per epoch, epoch 1 first.

    Examples
    --------
    >>> epoch_ranges(np.array([False, True, True, False, True]))
    [(2, 3), (5, 5)]
    """
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=int), [0]]))
    return [(int(a) + 1, int(b)) for a, b in zip(np.nonzero(edges == 1)[0],
                                                  np.nonzero(edges == -1)[0])]


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in ranges) or "never"


def run_vanishing(out: str | Path = "reports/vanishing", cfg: VanishingConfig | None = None,
                  verbose: bool = True) -> dict[str, Any]:
    """Run the experiment, write `report.md` with figures to `out`; return the numbers.

    Parameters
    ----------
    out : str or Path, default "reports/vanishing"
        The folder for `report.md`, `report.html`, `results.json` and the figures (created if
        needed).
    cfg : VanishingConfig, optional
        The settings; `VanishingConfig()` (the book's) by default.
    verbose : bool, default True
        Print the report's tables and its path when done.
    """
    cfg = cfg or VanishingConfig()
    xs, ys, xt, yt, label = load_images(cfg.dataset, cfg.images, seed=cfg.seed)
    x, y = Tensor(xs), Tensor(one_hot(ys))
    deepest = max(cfg.depths)
    report = Report(Path(out), "Why are deep sigmoid nets hard to train? (Nielsen, chapter 5)")
    report.text(f"""
## Setup
Data: the first {cfg.images} training images of {label}. Nets: [784, {cfg.width} x k, 10] for
k in {list(cfg.depths)}, sigmoid in every layer, network2's cross-entropy cost, weights
N(0, 1/n_in), biases N(0, 1): every figure uses these weights unless it says N(0, 1).
‖δˡ‖ is the Euclidean length of ∂C/∂bˡ for the cost averaged over all {cfg.images} images,
measured by the autograd through `tinygrad_nd.diagnostics.GradientMonitor`. Seeds
0..{cfg.seeds - 1} at initialisation; seeds {cfg.seed}..{cfg.seed + cfg.train_seeds - 1} for
training ({cfg.epochs} epochs of full-batch gradient descent, eta={cfg.eta},
lambda={cfg.lmbda}, L2 as (1 - eta*lambda/n) w, n={cfg.images}). Reproduce with
`tinygrad-nd vanishing --epochs {cfg.epochs} --seeds {cfg.seeds} --train-seeds
{cfg.train_seeds} --saturation-steps {cfg.saturation_steps} --dataset {cfg.dataset}`.

## Speed of learning at initialisation
""")
    results: dict[str, Any] = {"config": asdict(cfg), "at_init": {}, "training": {}}
    rows = []
    for k in cfg.depths:
        sizes = [784] + [cfg.width] * k + [10]
        speeds = np.array([speeds_at_init(sizes, x, y, s) for s in range(cfg.seeds)])
        mean, std = speeds.mean(axis=0), speeds.std(axis=0)
        results["at_init"][k] = {"mean": mean.tolist(), "std": std.tolist(),
                                 "first_over_last": float((speeds[:, 0] / speeds[:, -1]).mean())}
        book = NIELSEN_AT_INIT.get(k)
        rows.append([f"{k} hidden", ", ".join(f"{m:.3f}±{s:.3f}" for m, s in zip(mean, std)),
                     ", ".join(map(str, book)) if book else "-",
                     f"{results['at_init'][k]['first_over_last']:.3f}"])
    text = report.table(["net", "‖δˡ‖ at init, layer 1..k (mean±sd over seeds)",
                         "Nielsen (book)", "first/last"], rows)
    report.figure(init_figure(results["at_init"], cfg.depths, cfg.seeds), "speed_at_init",
                  "Speed of learning of each hidden layer at initialisation (log scale)")
    analysis = at_init_sections(report, x, y, cfg.width, deepest, cfg.seeds, cfg.seed)
    text += "\n\n" + "\n\n".join(analysis.pop("tables"))
    results.update(analysis)
    sizes = [784] + [cfg.width] * deepest + [10]
    sick = speeds_at_init(sizes, x, y, cfg.seed)
    healthy = speeds_at_init(sizes, x, y, cfg.seed, activation="relu", init="kaiming_normal")
    report.text(f"""
## The gradient drawn on the graph
The same {deepest}-hidden-layer net as a computation graph, one node per layer, each coloured
by the norm of the gradient flowing through it, beside the same net with ReLU units and He's
weights N(0, 2/n_in) (seed {cfg.seed}). Both drawings share one colour scale, so equal colours
mean equal gradients. First/last ‖δˡ‖ ratio: {sick[0] / sick[-1]:.3f} for the sigmoid net,
{healthy[0] / healthy[-1]:.2f} for the ReLU net.
""")
    results["graphs"] = graph_comparison(report, sizes, x, y, cfg.seed)
    results["graphs"]["healthy_first_over_last"] = float(healthy[0] / healthy[-1])
    if cfg.epochs:
        text += "\n\n" + _training_section(report, results, xs, ys, xt, yt, cfg)
        vanishing_page(report, x, y, cfg)  # report.html: the graph recoloured epoch by epoch
    if cfg.saturation_steps:
        results["saturation"] = saturation_sections(report, xs, ys, xt[:500], yt[:500],
                                                    cfg.saturation_steps, cfg.seed)
    _differences(report, results, cfg)
    report.parts.insert(0, _what_this_shows(results, cfg))
    return finish(report, results, text, verbose)


def _what_this_shows(results: dict[str, Any], cfg: VanishingConfig) -> str:
    """The opening paragraph, written from the measured numbers (it goes first, written last)."""
    deepest = max(cfg.depths)
    ratio = results["at_init"][deepest]["first_over_last"]
    per_layer = ratio ** (1 / (deepest - 1)) if deepest > 1 else 1.0
    stuck = [k for k, r in results["training"].items() if r.get("at_chance")]
    training = (f" Trained for {cfg.epochs} epochs, the {_depths_text(stuck)} nets end at "
                "chance accuracy." if stuck else "")
    return f"""## What this shows
In a deep sigmoid net the early hidden layers learn much more slowly than the later ones: at
initialisation the first of {deepest} hidden layers gets {ratio:.3f} of the last one's
gradient, {per_layer:.2f}× per layer, measured with the autograd as Nielsen did. The report
takes that factor apart (what σ' and the weights contribute, under which weights) and shows
that the early layers are slow although they still have everything to learn.{training} A
healthy net (ReLU, He's weights) drawn on the same colour scale keeps its gradient (first/last
{results['graphs']['healthy_first_over_last']:.2f}).
"""


def _training_section(report: Report, results: dict[str, Any], xs: np.ndarray, ys: np.ndarray,
                      xt: np.ndarray, yt: np.ndarray, cfg: VanishingConfig) -> str:
    """Train every depth over `cfg.train_seeds` seeds; add the figure, the table and what
    the numbers say; return the table as text."""
    x, y = Tensor(xs), Tensor(one_hot(ys))
    seeds = range(cfg.seed, cfg.seed + cfg.train_seeds)
    majority = int(np.bincount(ys).argmax())
    chance = {"train": float((ys == majority).mean()), "held_out": float((yt == majority).mean())}
    curves, rows, notes = {}, [], []
    for k in cfg.depths:
        sizes = [784] + [cfg.width] * k + [10]
        runs = []
        for seed in seeds:
            history, model = train_full_batch(sizes, x, y, cfg, seed)
            with no_grad():
                predictions = model(Tensor(xt)).data.argmax(axis=1)
                top = hidden_activity(model, Tensor(xs))[-2][1].data  # last hidden layer
            ratio = history[:, 0] / history[:, -1]
            runs.append({
                "history": history, "first_over_last_min": float(ratio.min()),
                "first_over_last_final": float(ratio[-1]),
                "train_accuracy": accuracy(model, xs, ys), "test_accuracy": accuracy(model, xt, yt),
                "one_answer_share": float(np.bincount(predictions).max() / len(predictions)),
                "top_spread": float(top.std(axis=0).mean()),
                "layer1_faster": epoch_ranges(history[:, 0] > history[:, 1]) if k > 1 else []})
        curves[k] = np.array([r.pop("history") for r in runs])
        results["training"][k] = {"seeds": list(seeds), "runs": runs,
                                  "final_speeds_mean": curves[k][:, -1].mean(axis=0).tolist()}
        stat = {key: np.array([r[key] for r in runs]) for key in
                ("train_accuracy", "test_accuracy", "one_answer_share", "top_spread",
                 "first_over_last_final")}
        rows.append([f"{k} hidden", f"{stat['first_over_last_final'].mean():.4f}",
                     f"{stat['train_accuracy'].mean():.1%}±{stat['train_accuracy'].std():.1%}",
                     f"{stat['test_accuracy'].mean():.1%}±{stat['test_accuracy'].std():.1%}",
                     f"{stat['one_answer_share'].mean():.0%}",
                     f"{stat['top_spread'].mean():.1g}",
                     "; ".join(f"seed {s}: {_ranges_text(r['layer1_faster'])}"
                               for s, r in zip(seeds, runs))])
        at_chance = stat["test_accuracy"].max() < chance["held_out"] + 0.05
        results["training"][k]["at_chance"] = bool(at_chance)
        if at_chance:
            notes.append((k, stat["one_answer_share"].min()))
    report.text(f"""
## During training ({cfg.epochs} epochs, {cfg.train_seeds} seeds)
""")
    report.figure(training_figure(curves, cfg.eta, cfg.lmbda), "speed_during_training",
                  f"Speed of learning per hidden layer over {cfg.epochs} epochs, mean and range "
                  f"over {cfg.train_seeds} seeds (log scale)")
    table = report.table(
        ["net", "final first/last", "train acc", "held-out acc", "held-out images given the "
         "most common answer", "last hidden layer: std across images",
         "epochs where layer 1 is faster than layer 2"], rows)
    faster = [(k, s, rng) for k in cfg.depths for s, r in zip(seeds, results["training"][k]["runs"])
              for rng in r["layer1_faster"]]
    faster_text = ("Layer 1 is never faster than layer 2 in these runs." if not faster else
                   "Layer 1 is faster than layer 2 only in " + "; ".join(
                       f"the {k}-hidden-layer net, seed {s}, epochs {a}-{b}"
                       for k, s, (a, b) in faster)
                   + ": the ordering of the speeds is the rule, not a law.")
    chance_text = "" if not notes else f"""
The {_depths_text([k for k, _ in notes])} nets end at chance accuracy after {cfg.epochs}
full-batch epochs (held-out accuracy within 5 points of always answering the most frequent
training class, digit {majority}: {chance['train']:.1%} of the training images,
{chance['held_out']:.1%} of the held-out ones); each seed of them gives one answer to at least
{min(share for _, share in notes):.0%} of the held-out images. Why: {cfg.epochs}
epochs of full-batch descent are only {cfg.epochs} small steps, and in that time the output
layer learns what it can from an input that barely depends on the image (the last hidden
layer's std across images in the table): the class frequencies. The early layers, which would
have to make that input informative, learn slowest of all.
"""
    report.text(f"""
{faster_text}
{chance_text}""")
    return table


def _depths_text(depths: list[int]) -> str:
    """[2, 3, 4] -> '2-, 3- and 4-hidden-layer'."""
    names = [f"{k}-" for k in depths[:-1]] + [f"{depths[-1]}-hidden-layer"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _differences(report: Report, results: dict[str, Any], cfg: VanishingConfig) -> None:
    """The closing section: how this report's setup and numbers differ from the book's."""
    deepest = max(cfg.depths)
    ours = results["at_init"][deepest]["first_over_last"]
    book = NIELSEN_AT_INIT.get(deepest)
    book_ratio = f" (Nielsen's numbers give {book[0] / book[-1]:.3f})" if book else ""
    report.text(f"""
## How this differs from the book
* Images: the first {cfg.images} of the embedded 5,000-image MNIST subset (Nielsen: the
  first 1,000 of MNIST's 50,000 training images) and our own random nets, so individual
  values differ; the first/last ratio of the {deepest}-hidden-layer net is {ours:.3f}{book_ratio}.
* Seeds: we give mean ± sd over {cfg.seeds} nets at initialisation and the range over
  {cfg.train_seeds} seeds during training; the book shows one run of each.
* The held-out accuracies, the per-layer arithmetic, both weight laws side by side and the
  spread across images are measured here; the book argues them in words.
* The six-neuron bars come from our seed-{cfg.seed} net, not his.
* Glorot & Bengio used 1,000 units per layer, larger data sets and many more updates; we use
  100 units, {cfg.images} images and {cfg.saturation_steps} mini-batch steps with a learning
  rate of our choosing. The quadratic-against-cross-entropy neuron is chapter 3's example
  exactly (w = b = 2, eta = 0.15).
""")


