"""The basics chapter 5 builds on, measured: `tinygrad-nd foundations`.

One report with four parts, each a figure or table and a paragraph, our number next to the
source's:

1. chapter 3's initialisation example: the spread of z for N(0, 1) against N(0, 1/n_in)
   weights (sqrt(501) ~ 22.4 against ~1.22), saturated hidden neurons, and network2's two
   initialisers learning side by side (`foundations_init`);
2. overfitting on 1,000 images with network2's four monitors, L2 regularisation and the
   early-stopping epoch (`foundations_overfitting`);
3. dropout against no dropout on the same net and budget (`foundations_overfitting`);
4. chapter 6's convolutional layer: 520 against 23,550 parameters, dC/dw and dC/db from delta
   checked against the autograd, max-pooling 24 -> 12 and its gradient routing
   (`foundations_cnn`).

The drawings live in `foundations_figures`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import foundations_cnn as cnn
from . import foundations_figures as figures
from . import foundations_init as init
from . import foundations_overfitting as overfit
from .common import Report, finish, load_images, progress
from .depth import standard_error

BOOK_TRAINING_IMAGES = 50_000  # the book's MNIST training split (chapters 3 and 5)
BOOK_LMBDA = 5.0               # chapter 3's lambda for 50,000 images (lambda/n = 1e-4)


@dataclass
class FoundationsConfig:
    """Settings of `run_foundations` (defaults: the book's hyper-parameters on budgets
    that run in about a minute; the report names every difference).

    Attributes
    ----------
    saturation : float, default 4.0
        |z| beyond which a sigmoid neuron counts as saturated.
    neurons : int, default 4000
        Independent neurons drawn for the book's 1,000-input neuron example.
    init_images : int, default 3000
        Training images of the initialisation part (network2, both initialisers).
    init_epochs : int, default 8
        Its epochs.
    init_eta : float, default 0.1
        Its learning rate (the book's 0.1); its lambda is the book's 5.0 scaled to the images.
    overfit_images : int, default 1000
        Training images of the overfitting and dropout parts (the book's 1,000), the first
        of the `init_images`.
    overfit_epochs : int, default 150
        Epochs of the overfitting runs (the book: 400).
    overfit_eta : float, default 0.5
        Learning rate of the overfitting and dropout runs (the book's 0.5).
    lmbda : float, default 0.1
        L2 strength of the regularised overfitting run (the book's 0.1).
    patience : int, default 10
        Early stopping's no-improvement-in-this-many-epochs rule.
    dropout_hidden : int, default 100
        Hidden neurons of the dropout comparison's [784, dropout_hidden, 10] net.
    dropout : float, default 0.5
        The dropout probability, in (0, 1).
    dropout_epochs : int, default 30
        Epochs of each dropout run.
    dropout_seeds : int, default 3
        Seeds (initial weights and batch order) each dropout setting is run with.
    filters : int, default 20
        5 x 5 filters of the convolution part's layer.
    validation_images : int, default 1000
        Held out from the training split, as the book's validation data.
    test_images : int, default 10000
        Test images (for the embedded digits: all that are left).
    dataset : {"digits", "fashion", "mnist"}, default "digits"
        Where the images come from.
    seed : int, default 0
        Seed of the split, the initial weights and the batch order.
    """

    saturation: float = 4.0        # |z| beyond which a sigmoid neuron counts as saturated
    neurons: int = 4000            # independent neurons of the book's 1,000-input example
    init_images: int = 3000
    init_epochs: int = 8
    init_eta: float = 0.1
    overfit_images: int = 1000
    overfit_epochs: int = 150
    overfit_eta: float = 0.5
    lmbda: float = 0.1
    patience: int = 10
    dropout_hidden: int = 100
    dropout: float = 0.5
    dropout_epochs: int = 30
    dropout_seeds: int = 3
    filters: int = 20
    validation_images: int = 1000
    test_images: int = 10000       # all that is left for the embedded digits
    dataset: str = "digits"
    seed: int = 0


def _check(cfg: FoundationsConfig) -> None:
    if not 0.0 < cfg.dropout < 1.0:
        raise ValueError(f"run_foundations: dropout must be a probability in (0, 1), got "
                         f"{cfg.dropout!r}")
    if cfg.overfit_images > cfg.init_images:
        raise ValueError(f"run_foundations: overfit_images ({cfg.overfit_images}) must not "
                         f"exceed init_images ({cfg.init_images}); both use the first images "
                         "of the same training split")
    if cfg.dataset == "digits" and cfg.init_images + cfg.validation_images >= 5000:
        raise ValueError(f"run_foundations: init_images + validation_images = "
                         f"{cfg.init_images + cfg.validation_images} leaves no test image of "
                         "the 5,000 embedded digits")


def _splits(cfg: FoundationsConfig) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """Training, validation (held out from the training split, as the book's
    validation_data) and test images."""
    n = cfg.init_images + cfg.validation_images
    x, y, xt, yt, label = load_images(cfg.dataset, n, cfg.test_images, seed=cfg.seed)
    split = {"train": (x[:cfg.init_images], y[:cfg.init_images]),
             "validation": (x[cfg.init_images:], y[cfg.init_images:]), "test": (xt, yt)}
    return split, label


def run_foundations(out: str | Path = "reports/foundations",
                    cfg: FoundationsConfig | None = None, verbose: bool = True) -> dict[str, Any]:
    """Run the four parts, write `report.md` with figures to `out`; return the numbers.

    Parameters
    ----------
    out : str or Path, default "reports/foundations"
        The folder for `report.md`, `results.json` and the figures (created if needed).
    cfg : FoundationsConfig, optional
        The settings; `FoundationsConfig()` by default.
    verbose : bool, default True
        Print the report's tables and its path when done.
    """
    cfg = cfg or FoundationsConfig()
    _check(cfg)
    data, label = _splits(cfg)
    report = Report(Path(out), "Foundations: initialisation, overfitting, dropout and the "
                               "convolutional layer (Nielsen, chapters 3 and 6)")
    counts = cnn.parameter_counts(cfg.filters)
    report.text(f"""
## What this shows
Chapter 5's vanishing gradient sits on basics that this report measures on {label}. Large
initial weights push a sigmoid neuron's weighted input z far from 0, where σ'(z) is almost 0
and the neuron barely learns; N(0, 1/n_in) weights keep z near 0. A net trained on few images
can memorise them: its training cost keeps falling while its accuracy on unseen images stops
improving, which L2 regularisation, early stopping and dropout are meant to counter. A
convolutional layer shares its weights, so {cfg.filters} 5 × 5 filters need
{counts['fully_connected'] / counts['conv']:.0f}× fewer parameters than a fully connected
layer of 30 neurons, and its gradients are cross-correlations of its input with δ, checked
here against the autograd.
""")
    results: dict[str, Any] = {"config": asdict(cfg), "data": label,
                               "sizes": {k: len(v[1]) for k, v in data.items()}}
    text = [_part_initialisation(report, cfg, data, results),
            _part_overfitting(report, cfg, data, results),
            _part_dropout(report, cfg, data, results),
            _part_convolution(report, cfg, data, results)]
    _differences(report, cfg, results)
    return finish(report, results, "\n\n".join(text), verbose)


def _part_initialisation(report: Report, cfg: FoundationsConfig, data: dict,
                         results: dict[str, Any]) -> str:
    neuron = init.book_neuron(neurons=cfg.neurons, saturation=cfg.saturation, seed=cfg.seed)
    x, y = data["train"]
    digits = init.digits_hidden_layer(x, saturation=cfg.saturation, seed=cfg.seed)
    report.text(f"""
## 1. Initialising the weights (chapter 3)
A hidden neuron with 1,000 inputs, 500 of them on (x = 1): z = Σ w_j x_j + b. We draw
{cfg.neurons} such neurons with `nn.Linear(1000, {cfg.neurons}, init=...)`, network2's two
initialisers, and count a neuron as saturated when |z| > {cfg.saturation:g}
(σ(z) within {1 / (1 + np.exp(cfg.saturation)):.3f} of 0 or 1, σ'(z) <
{float(init.sigmoid_prime(np.array(cfg.saturation))):.3f}, against its maximum 0.25). The
same statistics for the first hidden layer of [784, 30, 10] on {len(x)} real images (every
image × neuron pair is one z) show how far the book's argument carries to real digits, where
{(x > 0).mean():.0%} of the pixels are non-zero and {(x > 0.5).mean():.0%} above 0.5.
""")
    rows = []
    for key in init.INITS:
        n, d = neuron[key], digits[key]
        rows.append([init.INIT_LABELS[key], f"{n['sd']:.2f}", f"{init.BOOK_Z_SD[key]}",
                     f"{n['theory_sd']:.3f}", f"{n['saturated']:.1%}",
                     f"{n['theory_saturated']:.1%}", f"{n['mean_sigma_prime']:.3f}",
                     f"{d['sd']:.2f}", f"{d['saturated']:.1%}", f"{d['mean_sigma_prime']:.3f}"])
    text = report.table(
        ["initialiser", "sd of z (ours)", "book", "theory", "saturated", "Gaussian theory",
         "mean σ'(z)", "digits: sd of z", "digits: saturated", "digits: mean σ'(z)"], rows)
    report.figure(figures.z_histograms(neuron, cfg.saturation), "init_z_spread",
                  "Weighted input z of a 1,000-input neuron with 500 inputs on, for the two "
                  "initialisers, with the Gaussian of the book's formula")
    train = overfit.network2_data(x, y, one_hot_labels=True)
    validation = overfit.network2_data(*data["validation"], one_hot_labels=False)
    lmbda = BOOK_LMBDA * len(x) / BOOK_TRAINING_IMAGES
    curves = init.learning_curves(train, validation, [784, 30, 10], cfg.init_epochs,
                                  cfg.init_eta, lmbda, seed=cfg.seed)
    report.figure(figures.init_learning(curves, len(x)), "init_learning",
                  "Validation accuracy per epoch of network2 from each initialiser")
    report.text(f"""
The learning runs are the book's: network2, [784, 30, 10], cross-entropy, mini-batch 10,
η = {cfg.init_eta:g}, with λ scaled to our {len(x)} images so that λ/n equals the book's
5.0/50,000 (λ = {lmbda:g}), {cfg.init_epochs} epochs, accuracy on {len(validation)}
validation images after every epoch.
""")
    text += "\n\n" + report.table(
        ["initialiser", "after epoch 1 (ours)", "book, after epoch 1", "best (ours)",
         "final (ours)"],
        [[init.INIT_LABELS[k], f"{curves[k][0]:.1%}",
          ("under " if k == "large" else "almost ") + f"{init.BOOK_FIRST_EPOCH[k]:.0%}",
          f"{max(curves[k]):.1%}", f"{curves[k][-1]:.1%}"] for k in init.INITS])
    report.text(f"""
The spread of z matches the book's formula: {neuron['large']['sd']:.1f} against
√501 ≈ 22.4 and {neuron['nielsen']['sd']:.2f} against √(3/2) ≈ 1.22. With N(0, 1) weights
{neuron['large']['saturated']:.0%} of the neurons are saturated and the mean σ'(z) is
{neuron['large']['mean_sigma_prime']:.3f}, {neuron['nielsen']['mean_sigma_prime'] /
neuron['large']['mean_sigma_prime']:.0f}× smaller than with N(0, 1/n_in)
({neuron['nielsen']['mean_sigma_prime']:.3f}): every gradient through such a neuron is scaled
down by that factor, which is the learning slowdown. After one epoch the default initialiser
is at {curves['nielsen'][0]:.1%} and the large one at {curves['large'][0]:.1%}; after
{cfg.init_epochs} epochs they stand at {curves['nielsen'][-1]:.1%} and
{curves['large'][-1]:.1%}.
""")
    results["initialisation"] = {
        "book_neuron": {k: {s: v for s, v in neuron[k].items() if s != "z"} for k in neuron},
        "digits_hidden_layer": {k: {s: v for s, v in digits[k].items() if s != "z"}
                                for k in digits},
        "lmbda": lmbda, "validation_accuracy": curves}
    return text


def _part_overfitting(report: Report, cfg: FoundationsConfig, data: dict,
                      results: dict[str, Any]) -> str:
    x, y = (a[:cfg.overfit_images] for a in data["train"])
    train = overfit.network2_data(x, y, one_hot_labels=True)
    validation = overfit.network2_data(*data["validation"], one_hot_labels=False)
    runs, stops, nets = {}, {}, {}
    for lmbda in progress((0.0, cfg.lmbda), desc="overfitting", unit="run"):
        runs[lmbda], nets[lmbda] = overfit.monitored_training(
            train, validation, [784, 30, 10], cfg.overfit_epochs, cfg.overfit_eta, lmbda,
            seed=cfg.seed)
        stops[lmbda] = overfit.early_stopping(runs[lmbda]["validation_accuracy"], cfg.patience)
    test = overfit.network2_data(*data["test"], one_hot_labels=False)
    final_test = nets[0.0].accuracy(test) / len(test)
    kept = stops[0.0]["kept_epoch"]
    kept_test = (final_test if kept == cfg.overfit_epochs else
                 overfit.retrained(train, [784, 30, 10], kept, cfg.overfit_eta, 0.0,
                                   seed=cfg.seed).accuracy(test) / len(test))
    report.text(f"""
## 2. Overfitting, L2 regularisation and early stopping (chapter 3)
The book's run: network2 [784, 30, 10], `large_weight_initializer`, cross-entropy, η =
{cfg.overfit_eta:g}, mini-batch 10, trained on only {len(x)} images with all four of
network2's monitors on, once without regularisation and once with λ = {cfg.lmbda:g}. The
evaluation data are {len(validation)} validation images held out from the training split;
early stopping watches their accuracy with the no-improvement-in-{cfg.patience} rule.
""")
    report.figure(figures.overfitting(runs, stops, len(x)), "overfitting",
                  "network2's four monitors, without and with L2 regularisation; the dotted "
                  "line is the epoch early stopping keeps in the unregularised run. network2's "
                  "costs include the L2 term λ/(2n) Σw² (n: the images the cost is taken "
                  "over), so the two runs' costs differ by it")
    rows = []
    for lmbda, run in runs.items():
        acc, cost = run["validation_accuracy"], run["validation_cost"]
        peak = max(acc)
        plateau = next(e for e, a in enumerate(acc, start=1) if a >= peak - 0.01)
        stop = stops[lmbda]
        rows.append([f"λ = {lmbda:g}", f"{peak:.1%} (epoch {int(np.argmax(acc)) + 1})",
                     f"{overfit.BOOK_PEAK_ACCURACY.get(lmbda, float('nan')):.2%}",
                     f"{plateau}",
                     f"{int(np.argmin(cost)) + 1}" if lmbda == 0 else "n/a (L2 term)",
                     f"{run['training_accuracy'][-1]:.1%}",
                     f"{stop['stop_epoch'] or 'never'} (keeps {stop['kept_epoch']})"])
    text = report.table(
        ["run", "peak validation accuracy", "book: peak test accuracy",
         "epoch within 1 point of peak (book: ~280)", "epoch of least validation cost "
         "(book: ~15)", "final training accuracy", f"early stop (no improvement in "
         f"{cfg.patience})"], rows)
    unreg, reg = runs[0.0], runs[cfg.lmbda]
    least = int(np.argmin(unreg["validation_cost"])) + 1
    stop = stops[0.0]
    ended = (f"ends the run at epoch {stop['stop_epoch']} and keeps the weights of epoch {kept}"
             if stop["stop_epoch"] else f"never fires in {cfg.overfit_epochs} epochs; the best "
             f"epoch is {kept}")
    if stop["stop_epoch"] and stop["best_epoch"] > stop["stop_epoch"]:
        ended += (f" (training on, the validation accuracy would have reached "
                  f"{stop['best_accuracy']:.1%} at epoch {stop['best_epoch']}, against "
                  f"{stop['kept_accuracy']:.1%} kept: the patience is a judgement call, as the "
                  f"book says)")
    error = standard_error(max(unreg["validation_accuracy"]), len(validation))
    report.text(f"""
Without regularisation the training cost falls from {unreg['training_cost'][0]:.3f} to
{unreg['training_cost'][-1]:.4f} over the {cfg.overfit_epochs} epochs and the training
accuracy reaches {unreg['training_accuracy'][-1]:.1%}, while the validation cost is lowest at
epoch {least} ({unreg['validation_cost'][least - 1]:.3f}; {unreg['validation_cost'][-1]:.3f}
at the end). Early stopping {ended}; on {len(test)} test images, used for no decision, those
weights score {kept_test:.1%}, against {final_test:.1%} after all {cfg.overfit_epochs} epochs.
With λ = {cfg.lmbda:g} the peak validation accuracy is {max(reg['validation_accuracy']):.1%}
against {max(unreg['validation_accuracy']):.1%} without (one accuracy on {len(validation)}
images has a standard error of {error:.1%}; book, on its 10,000 test images
after 400 epochs: {overfit.BOOK_PEAK_ACCURACY[0.1]:.1%} against
{overfit.BOOK_PEAK_ACCURACY[0.0]:.2%}), and the final validation cost
{reg['validation_cost'][-1]:.3f} against {unreg['validation_cost'][-1]:.3f}. The L2 run's
difference is {_verdict(max(reg['validation_accuracy']) - max(unreg['validation_accuracy']),
                        error)}.
""")
    results["overfitting"] = {
        "runs": {str(k): v for k, v in runs.items()},
        "early_stopping": {str(k): v for k, v in stops.items()},
        "test_accuracy_at_kept_epoch": kept_test, "test_accuracy_at_last_epoch": final_test}
    return text


def _part_dropout(report: Report, cfg: FoundationsConfig, data: dict,
                  results: dict[str, Any]) -> str:
    x, y = (a[:cfg.overfit_images] for a in data["train"])
    xv, yv = data["validation"]
    sizes = [784, cfg.dropout_hidden, 10]
    curves = overfit.dropout_curves(x, y, xv, yv, sizes, cfg.dropout_epochs, cfg.overfit_eta,
                                    cfg.dropout, seeds=cfg.dropout_seeds)
    report.text(f"""
## 3. Dropout (chapter 3)
The same {len(x)} images and the same net, plain and with `nn.Dropout({cfg.dropout:g})` on
the hidden neurons: {sizes} sigmoid, N(0, 1/n_in) weights, network2's cross-entropy, SGD
η = {cfg.overfit_eta:g}, mini-batch 10, {cfg.dropout_epochs} epochs, no L2 term, so dropout's
effect stands alone. Seeds 0..{cfg.dropout_seeds - 1}; each seed fixes the initial weights and
the batch order of both variants. Our dropout is inverted (the kept activations are scaled by
1/(1-p) during training, where the book halves the outgoing weights afterwards; the two give
the same net at test time).
""")
    report.figure(figures.dropout(curves, cfg.dropout), "dropout",
                  f"Training (dashed) and validation (solid) accuracy with and without "
                  f"dropout, mean over {cfg.dropout_seeds} seeds (band: ±1 sd)")
    final = {name: {key: np.array([run[-1] for run in runs]) for key, runs in run_set.items()}
             for name, run_set in curves.items()}
    gaps = {name: f["training_accuracy"] - f["validation_accuracy"] for name, f in final.items()}
    rows = [[name, _mean_sd(f["training_accuracy"]), _mean_sd(f["validation_accuracy"]),
             _mean_sd(gaps[name])] for name, f in final.items()]
    text = report.table(["net", "final training accuracy", "final validation accuracy",
                         "gap (training - validation)"], rows)
    gain = final["dropout"]["validation_accuracy"] - final["plain"]["validation_accuracy"]
    error = standard_error(float(final["plain"]["validation_accuracy"].mean()), len(yv))
    report.text(f"""
After {cfg.dropout_epochs} epochs (mean ± sd over {cfg.dropout_seeds} seeds) the gap between
training and validation accuracy is {_mean_sd(gaps['plain'])} without dropout and
{_mean_sd(gaps['dropout'])} with it; per seed, dropout changes the final validation accuracy
by {_mean_sd(gain, signed=True)} (one accuracy on {len(yv)} images has a standard error of
{error:.1%}), {_verdict(float(np.mean(gain)), error)}. The book gives no network2 run for
dropout; it quotes Hinton et al. (2012): on
full MNIST, large nets went from {overfit.BOOK_DROPOUT[0]:.1%} to
{overfit.BOOK_DROPOUT[1]:.1%} test accuracy with dropout and a modified form of L2
regularisation.
""")
    results["dropout"] = {"curves": curves, "validation_gain_per_seed": gain.tolist()}
    return text


def _verdict(difference: float, error: float) -> str:
    """Whether an accuracy difference stands out of the noise of one measurement (two
    standard errors), in words for the report."""
    if abs(difference) < 2 * error:
        return (f"within the noise ({difference:+.1%}, less than 2 standard errors = "
                f"{2 * error:.1%}): on this budget no effect is measurable")
    return (f"beyond the noise ({difference:+.1%}, more than 2 standard errors = "
            f"{2 * error:.1%}): {'an improvement' if difference > 0 else 'a loss'}")


def _mean_sd(values: np.ndarray, signed: bool = False) -> str:
    """'mean ± sd' of accuracies (fractions) as percentages (`signed`: with the mean's sign,
    for differences)."""
    return f"{np.mean(values):{'+' if signed else ''}.1%} ± {np.std(values):.1%}"


def _part_convolution(report: Report, cfg: FoundationsConfig, data: dict,
                      results: dict[str, Any]) -> str:
    counts = cnn.parameter_counts(cfg.filters)
    x, y = data["test"]
    grads = cnn.conv_layer_gradients(x[0].reshape(28, 28), int(y[0]), cfg.filters,
                                     seed=cfg.seed)
    pool = cnn.max_pool_routing(grads["feature_map"], seed=cfg.seed)
    report.text("""
## 4. The convolutional layer (chapter 6)
Shared weights: every one of a feature map's 24 × 24 neurons uses the same 5 × 5 weights and
bias. Counted on the library's layers:
""")
    text = report.table(
        ["layer", "parameters (counted)", "formula", "book"],
        [[f"Conv2d(1, {cfg.filters}, 5)", f"{counts['conv']:,}",
          f"{cfg.filters} × (5 × 5 + 1) = {counts['conv_formula']:,}",
          f"{cnn.BOOK_CONV_PARAMETERS:,}"],
         ["Linear(784, 30)", f"{counts['fully_connected']:,}",
          f"784 × 30 + 30 = {counts['fully_connected_formula']:,}",
          f"{cnn.BOOK_FULLY_CONNECTED_PARAMETERS:,}"]])
    report.text(f"""
The fully connected layer has {counts['fully_connected'] / counts['conv']:.1f}× the
parameters (the book: "about 40 times"). Backpropagation through the conv layer, on the
first test digit (a {int(y[0])}) in float64: the net is Conv2d(1, {cfg.filters}, 5) → sigmoid →
2 × 2 max-pool → Linear → softmax cross-entropy. The autograd gives δ = ∂C/∂z (z the conv
layer's weighted input, {cfg.filters} × 24 × 24) and ∂C/∂w, ∂C/∂b; the identities are then
computed from δ in plain numpy. The layer computes a cross-correlation
z = w ⋆ a + b (the book's equation (125), and PyTorch's convention), so ∂C/∂w is the
cross-correlation a ⋆ δ of the layer's input with δ. Written with a true (kernel-flipping)
convolution, the textbook's "rot180(a) * δ" is the same numbers in rotated order: it must be
rotated back, and read unrotated it is wrong by up to {grads['unrotated_error']:.2g}
(the largest entry of ∂C/∂w is {grads['grad_w_max']:.2g}).
""")
    text += "\n\n" + report.table(
        ["identity", "largest error against the autograd"],
        [["∂C/∂w = a ⋆ δ (cross-correlation)", f"{grads['weight_error']:.1e}"],
         ["∂C/∂w = rot180(rot180(a) * δ) (true convolution)",
          f"{grads['weight_error_rotated']:.1e}"],
         ["∂C/∂b = Σ δ (over the 24 × 24 positions)", f"{grads['bias_error']:.1e}"],
         ["autograd against central differences (relative)",
          f"{grads['finite_difference_error']:.1e}"],
         ["rot180(a) * δ read without rotating back", f"{grads['unrotated_error']:.1e}"]])
    report.figure(figures.pooling(grads, pool), "max_pooling",
                  "A digit, three of its feature maps (24 × 24), the same maps max-pooled "
                  "(12 × 12), and where a pooled map's gradient lands")
    report.text(f"""
Max-pooling 2 × 2 turns each {pool['input_shape'][1]} × {pool['input_shape'][2]} map into
{pool['pooled_shape'][1]} × {pool['pooled_shape'][2]}. Pulling a random upstream gradient
back through it, every window's gradient lands on the window's arg-max and nowhere else
({'exactly, for all ' + str(pool['input_shape'][0]) + ' maps' if pool['routing_exact']
  else 'NOT exactly: a bug'}); {pool['nonzero_fraction']:.0%} of the 24 × 24 entries receive
a gradient, one per window.
""")
    results["convolution"] = {"parameters": counts,
                              "gradients": {k: v for k, v in grads.items()
                                            if not isinstance(v, np.ndarray)},
                              "max_pool": pool}
    return text


def _differences(report: Report, cfg: FoundationsConfig, results: dict[str, Any]) -> None:
    sizes = results["sizes"]
    report.text(f"""
## How this differs from the book
- Data: {results['data']}; {sizes['train']} training, {sizes['validation']} validation and
  {sizes['test']} test images, where the book has 50,000 / 10,000 / 10,000 MNIST images.
- Part 1's learning runs use {sizes['train']} images per epoch for {cfg.init_epochs} epochs
  instead of 50,000 for 30, so our "epoch 1" is {sizes['train'] / BOOK_TRAINING_IMAGES:.0%}
  of the book's and its accuracies are not comparable one to one; λ is scaled so that λ/n is
  the book's. Saturation needs a threshold the book does not give: |z| > {cfg.saturation:g}.
- Part 2 trains {cfg.overfit_epochs} epochs, not 400, and its evaluation data are
  {sizes['validation']} validation images, not the 10,000 test images of the book's figures;
  the early-stopped net is scored on the separate test images.
- Part 3 has no counterpart run in the book (network2 has no dropout); the book's numbers are
  Hinton et al.'s on full MNIST with much larger nets.
- Part 4 checks the gradient of one random (untrained) layer on one digit; the identities do
  not depend on the weights.
""")
