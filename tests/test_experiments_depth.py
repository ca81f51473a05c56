"""The accuracy-versus-depth experiment: lambda scaled to the data, same seed and batch order."""

import json
from dataclasses import replace

import pytest

from tinygrad_nd.experiments import DepthConfig, run_depth
from tinygrad_nd.experiments.common import load_images
from tinygrad_nd.experiments.depth import scaled_lmbda, train_depth


def test_lambda_is_scaled_so_that_lambda_over_n_is_the_books():
    assert scaled_lmbda(5.0, 50_000) == 5.0
    assert scaled_lmbda(5.0, 1000) / 1000 == pytest.approx(5.0 / 50_000)


def test_four_hidden_layers_learn_well_above_chance_with_scaled_lambda(tmp_path):
    """Failed before: lambda=5 on a few thousand images (12.5x the book's decay per step) left
    the 4-hidden-layer net at chance (10%). Small setting: 2,000 images, eta=0.3, 20 epochs."""
    cfg = DepthConfig(depths=(4,), epochs=20, images=2000, eta=0.3)
    results = run_depth(tmp_path, cfg, verbose=False)
    assert results["lmbda_used"] == pytest.approx(5.0 * 2000 / 50_000)
    assert results["test_images"] == 3000  # every embedded digit not used for training
    assert results["accuracy"][4] > 0.4, results["curves"]
    report = (tmp_path / "report.md").read_text()
    assert report.index("## What this shows") < report.index("## How this differs from the book")
    assert json.loads((tmp_path / "results.json").read_text())["curves"]["4"]
    # The old setting: lambda=5 for 2,000 images, i.e. 125 in the book's units.
    xs, ys, xt, yt, _ = load_images("digits", 2000, n_test=None)
    unscaled = replace(cfg, lmbda=5.0 * 50_000 / 2000, epochs=12)
    assert max(train_depth(4, unscaled, xs, ys, xt, yt)) < 0.15


def test_every_depth_sees_the_same_batches_so_a_rerun_is_identical():
    cfg = DepthConfig(epochs=1, images=300)
    xs, ys, xt, yt, _ = load_images("digits", 300, n_test=None)
    assert len(xt) == 4700
    assert train_depth(2, cfg, xs, ys, xt, yt) == train_depth(2, cfg, xs, ys, xt, yt)
