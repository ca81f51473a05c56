"""The remedies comparison: BatchNorm's real mechanism, pre-training, binding clip thresholds,
and a small end-to-end run of the report."""

import json

import numpy as np
import pytest

from tinygrad_nd import data
from tinygrad_nd.diagnostics import GradientMonitor
from tinygrad_nd.experiments import RemediesConfig, run_remedies
from tinygrad_nd.experiments.batchnorm_gain import batchnorm_mechanism
from tinygrad_nd.experiments.common import build_net
from tinygrad_nd.experiments.remedy_variants import (
    REMEDIES,
    TrainSettings,
    clip_thresholds,
    hidden_speed_columns,
    train_remedy,
)

(X, Y), (X_T, Y_T) = (s.arrays for s in data.mnist_5k(split=(1000, 1000)))
BY_NAME = {r.name: r for r in REMEDIES}


def test_batchnorm_leaves_the_mean_slope_alone_and_multiplies_the_gradient_in_its_backward():
    """Failed before (in words): the report said BatchNorm helps by keeping sigma'(z) away
    from 0. Measured: the mean slope is the same with and without it; the backward through
    the normalisation multiplies ||dC/dz|| by ~1/std of its input, several times per layer."""
    m = batchnorm_mechanism(X[:500], Y[:500], hidden=5, seeds=(0, 1))
    plain, norm = m["plain"], m["batchnorm"]
    assert abs(plain["overall_slope"] - norm["overall_slope"]) < 0.01
    assert all(0.18 < s < 0.25 for s in plain["mean_slope"] + norm["mean_slope"])
    assert min(norm["bn_gain"]) > 2.5
    np.testing.assert_allclose(norm["bn_gain"], norm["inv_std"], rtol=0.25)
    assert max(plain["layer_gain"]) < 0.3 < 0.7 < min(norm["layer_gain"])
    assert plain["first_over_last"] < 0.01 < 0.3 < norm["first_over_last"]


def test_pretraining_beats_random_init_on_the_deep_sigmoid_net():
    """Same net, seeds, fine-tuning budget and learning rate; only the starting weights
    differ (greedy stacked autoencoders against N(0, 1/n_in))."""
    settings = TrainSettings(epochs=2)
    accuracy = {}
    for name in ("sigmoid (baseline)", "sigmoid + AE pre-training",
                 "sigmoid + RBM pre-training"):
        runs = [train_remedy(BY_NAME[name], 0.3, seed, settings, X, Y, X_T, Y_T)
                for seed in (0, 1)]
        accuracy[name] = np.mean([r["curve"][-1] for r in runs])
    assert accuracy["sigmoid (baseline)"] < 0.2, accuracy
    assert accuracy["sigmoid + AE pre-training"] > accuracy["sigmoid (baseline)"] + 0.25, accuracy
    assert accuracy["sigmoid + RBM pre-training"] > accuracy["sigmoid (baseline)"] + 0.2, accuracy


def test_clip_thresholds_bind_and_the_fraction_of_clipped_steps_is_counted():
    settings = TrainSettings(epochs=1)
    norm, value = clip_thresholds(settings, X[:300], Y[:300])
    assert norm > 0 and value > 0
    for name in ("sigmoid + clip norm", "sigmoid + clip value"):
        run = train_remedy(BY_NAME[name], 0.3, 0, settings, X[:300], Y[:300], X_T, Y_T,
                           thresholds=(norm, value))
        assert run["clipped"] > 0.3, (name, run["clipped"])
        with pytest.raises(ValueError, match="needs thresholds"):
            train_remedy(BY_NAME[name], 0.3, 0, settings, X[:30], Y[:30], X_T, Y_T)
    unclipped = train_remedy(BY_NAME["sigmoid (baseline)"], 0.3, 0, settings, X[:300], Y[:300],
                             X_T, Y_T)
    assert unclipped["clipped"] == 0.0


def test_batchnorm_speed_is_read_from_beta_not_from_the_gradient_free_linear_bias():
    net = build_net([784, 30, 30, 10], output=None, batchnorm=True)
    monitor = GradientMonitor(net)
    assert [monitor.layers[i] for i in hidden_speed_columns(monitor)] == [
        "hidden 1 BatchNorm1d", "hidden 2 BatchNorm1d"]
    monitor.remove()


def test_remedies_report_tunes_each_learning_rate_and_reports_seed_spread(tmp_path):
    chosen = [BY_NAME[n] for n in ("sigmoid (baseline)", "ReLU + He", "sigmoid + clip norm",
                                   "sigmoid + AE pre-training", "sigmoid + RBM pre-training")]
    cfg = RemediesConfig(images=500, validation=150, epochs=1, long_epochs=2, seeds=2,
                         pretrain_epochs=1, rbm_epochs=1)
    results = run_remedies(tmp_path, cfg, verbose=False, remedies=chosen)
    for remedy in chosen:
        v = results["variants"][remedy.name]
        assert v["lr"] in remedy.lr_grid and set(v["grid"]) == set(remedy.lr_grid)
        assert len(v["equal"]) == len(v["long"]) == 2 and np.array(v["curves"]).shape == (2, 2)
    assert results["variants"]["sigmoid + clip norm"]["clipped"] > 0
    report = (tmp_path / "report.md").read_text()
    for heading in ("## What this shows", "## Results", "## How BatchNorm helps",
                    "## Layer-wise pre-training", "## How this differs from the book"):
        assert heading in report
    assert report.index("## What this shows") < report.index("## How this differs")
    assert "±" in report and "clipped" in report
    assert {p.name for p in tmp_path.glob("*.png")} == {"remedies.png", "curves.png",
                                                        "pretraining.png", "batchnorm.png"}
    assert json.loads((tmp_path / "results.json").read_text())["clip_norm"] > 0


def test_remedies_config_is_checked():
    with pytest.raises(ValueError, match="validation"):
        run_remedies("unused", RemediesConfig(images=300, validation=300), verbose=False)
    with pytest.raises(ValueError, match="long_epochs"):
        run_remedies("unused", RemediesConfig(epochs=3, long_epochs=2), verbose=False)
    with pytest.raises(ValueError, match="hidden must be at least 2"):
        run_remedies("unused", RemediesConfig(hidden=1), verbose=False)
