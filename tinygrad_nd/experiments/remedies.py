"""Remedies for vanishing gradients, measured on the same deep net: activations, initialisation,
BatchNorm, residual connections, clipping, weight penalties, momentum, Adam, dropout and
layer-wise pre-training, each with its own tuned learning rate and a seed spread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .batchnorm_gain import batchnorm_mechanism
from .common import Report, finish, load_images, progress
from .remedies_report import write_remedies_report
from .remedy_variants import (
    REMEDIES,
    Remedy,
    TrainSettings,
    clip_thresholds,
    geometric_mean,
    train_remedy,
)


@dataclass
class RemediesConfig(TrainSettings):
    """Settings of `run_remedies`: those of `TrainSettings` (`epochs` is the
    equal budget, also the one the learning rates are tuned for) and `long_epochs`, the
    longer budget; `validation` images are held out of `images` to choose each remedy's
    learning rate; the clip thresholds are `clip_fraction` of the baseline's gradients.

    Attributes
    ----------
    hidden : int, default 5
        Hidden layers of the net [784, width x hidden, 10].
    width : int, default 30
        Neurons per hidden layer.
    epochs : int, default 2
        Training epochs of each run.
    batch_size : int, default 10
        Mini-batch size (also of the pre-training).
    l1 : float, default 1e-4
        Strength of the L1 remedy's penalty `l1 * sum |w|` on the weight matrices.
    l2 : float, default 1e-3
        The L2 remedy's weight decay (on the weights, not the biases).
    pretrain_epochs : int, default 2
        Epochs of each layer's autoencoder pre-training.
    pretrain_lr : float, default 0.03
        Adam's learning rate in that pre-training.
    rbm_epochs : int, default 4
        Epochs of each layer's RBM pre-training.
    rbm_lr : float, default 0.1
        Learning rate of its CD-1 updates.
    long_epochs : int, default 6
        The longer training budget, at least `epochs`.
    seeds : int, default 3
        Seeds each remedy is trained from at its tuned learning rate.
    images : int, default 1600
        Training images, `validation` of them held out for tuning.
    validation : int, default 400
        Held-out images that choose each remedy's learning rate.
    clip_fraction : float, default 0.5
        The clip thresholds as this fraction of the baseline's median gradients.
    dataset : {"digits", "fashion", "mnist"}, default "digits"
        Where the images come from.
    seed : int, default 0
        Seed of the data split, the tuning runs and the first of the `seeds`.
    """

    long_epochs: int = 6
    seeds: int = 3
    images: int = 1600
    validation: int = 400
    clip_fraction: float = 0.5
    dataset: str = "digits"
    seed: int = 0


def tune_learning_rate(remedy: Remedy, settings: TrainSettings, fit: tuple[Any, Any],
                       val: tuple[Any, Any], seed: int, pretrained: dict[Any, Any],
                       thresholds: tuple[float, float]) -> tuple[float, dict[float, float]]:
    """Train `remedy` once per learning rate of its grid (seed `seed`, the equal budget)
    and keep the one with the best validation accuracy; returns (lr, {lr: accuracy}), NaN
    for a learning rate whose loss diverged.

    Parameters
    ----------
    remedy : Remedy
        The remedy; its `lr_grid` is tried.
    settings : TrainSettings
        The net, the budget and the penalty strengths.
    fit : (ndarray, ndarray)
        Training images and labels.
    val : (ndarray, ndarray)
        Validation images and labels that choose the learning rate.
    seed : int
        Seed of every tuning run.
    pretrained : dict
        The pre-training cache of `build_remedy_net`, shared across runs.
    thresholds : (float, float)
        (joint norm, element) clip thresholds (`clip_thresholds`).
    """
    scores = {}
    for lr in remedy.lr_grid:
        run = train_remedy(remedy, lr, seed, settings, *fit, *val, pretrained, thresholds)
        scores[lr] = float("nan") if run["diverged"] else run["curve"][-1]
    finite = {lr: s for lr, s in scores.items() if np.isfinite(s)}
    if not finite:
        raise RuntimeError(f"tune_learning_rate: {remedy.name!r} diverged at every learning "
                           f"rate of {remedy.lr_grid}")
    return max(finite, key=finite.get), scores


def evaluate_remedy(remedy: Remedy, lr: float, settings: TrainSettings, fit: tuple[Any, Any],
                    test: tuple[Any, Any], seeds: Sequence[int], pretrained: dict[Any, Any],
                    thresholds: tuple[float, float]) -> dict[str, Any]:
    """Train `remedy` at `lr` from every seed; test accuracy per epoch and the gradient
    statistics, each as a list over seeds.

    Parameters
    ----------
    remedy : Remedy
        The remedy.
    lr : float
        Its (tuned) learning rate.
    settings : TrainSettings
        The net, the budget and the penalty strengths.
    fit : (ndarray, ndarray)
        Training images and labels.
    test : (ndarray, ndarray)
        Test images and labels, measured after every epoch.
    seeds : sequence of int
        The seeds to train from.
    pretrained : dict
        The pre-training cache of `build_remedy_net`, shared across runs.
    thresholds : (float, float)
        (joint norm, element) clip thresholds (`clip_thresholds`).
    """
    runs = [train_remedy(remedy, lr, s, settings, *fit, *test, pretrained, thresholds)
            for s in seeds]
    return {key: [run[key] for run in runs] for key in runs[0]}


def run_remedies(out: str | Path = "reports/remedies", cfg: RemediesConfig | None = None,
                 verbose: bool = True, remedies: Sequence[Remedy] = REMEDIES) -> dict[str, Any]:
    """Tune, train and compare every remedy; write `report.md` with tables and figures.

    Parameters
    ----------
    out : str or Path, default "reports/remedies"
        The folder for `report.md`, `results.json` and the figures (created if needed).
    cfg : RemediesConfig, optional
        The settings; `RemediesConfig()` by default.
    verbose : bool, default True
        Print the report's tables and its path when done.
    remedies : sequence of Remedy, default REMEDIES
        The remedies compared: all of `REMEDIES` by default, a subset for a quicker run
        (the report compares with "sigmoid (baseline)" when it is among them).
    """
    cfg = cfg or RemediesConfig()
    if not 0 < cfg.validation < cfg.images:
        raise ValueError(f"run_remedies: validation must be between 1 and images - 1 "
                         f"({cfg.images - 1}), got {cfg.validation}")
    if cfg.hidden < 2:
        raise ValueError(f"run_remedies: hidden must be at least 2 (the first/last ratio "
                         f"compares two hidden layers), got {cfg.hidden}")
    if cfg.long_epochs < cfg.epochs:
        raise ValueError(f"run_remedies: long_epochs ({cfg.long_epochs}) must be at least "
                         f"epochs ({cfg.epochs}), the equal budget it extends")
    report = Report(Path(out), "Remedies for vanishing gradients")  # (starts the clock)
    xs, ys, xt, yt, label = load_images(cfg.dataset, cfg.images, n_test=None, seed=cfg.seed)
    n_fit = cfg.images - cfg.validation
    fit, val, test = (xs[:n_fit], ys[:n_fit]), (xs[n_fit:], ys[n_fit:]), (xt, yt)
    clip = clip_thresholds(cfg, *fit, seed=cfg.seed, fraction=cfg.clip_fraction)
    short, long = cfg, replace(cfg, epochs=cfg.long_epochs)
    seeds = [cfg.seed + i for i in range(cfg.seeds)]
    results: dict[str, Any] = {"config": asdict(cfg), "clip_norm": clip[0],
                               "clip_value": clip[1], "variants": {}}
    pretrained: dict[Any, Any] = {}
    for remedy in progress(remedies, desc="remedies", unit="remedy"):
        lr, grid = tune_learning_rate(remedy, short, fit, val, cfg.seed, pretrained, clip)
        runs = evaluate_remedy(remedy, lr, long, fit, test, seeds, pretrained, clip)
        curves = np.array(runs["curve"])
        results["variants"][remedy.name] = {
            "lr": lr, "grid": grid, "equal": curves[:, cfg.epochs - 1].tolist(),
            "long": curves[:, -1].tolist(), "curves": curves.tolist(),
            "ratio_init": geometric_mean(runs["ratio_init"]),
            "ratio_train": geometric_mean(runs["ratio_train"]),
            "update_ratio": geometric_mean(runs["update_ratio"]),
            "clipped": float(np.mean(runs["clipped"])),
            "weight_norm": float(np.nanmean(runs["weight_norm"])),
            "diverged": int(np.sum(runs["diverged"]))}
    results["pretraining_loss"] = {f"{kind} seed {seed}": losses
                                   for (kind, seed), (_, losses) in sorted(pretrained.items())}
    results["batchnorm"] = batchnorm_mechanism(fit[0][:1000], fit[1][:1000], cfg.hidden,
                                               cfg.width, tuple(seeds))
    text = write_remedies_report(report, results, cfg, label, len(fit[0]), len(val[0]),
                                 len(xt), remedies)
    return finish(report, results, text, verbose)

