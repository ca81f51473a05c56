"""The vanishing report's numbers: per-layer arithmetic, weight laws, the six-neuron bars, the
spread across images, training at chance, saturation, and a report that explains itself."""

import json

import numpy as np
import pytest

from tinygrad_nd import engine
from tinygrad_nd.experiments import VanishingConfig, run_vanishing
from tinygrad_nd.experiments.common import build_net, load_images, nielsen_cross_entropy, one_hot
from tinygrad_nd.experiments.saturation import (
    cost_slowdown,
    first_epoch_below,
    top_layer_saturation,
)
from tinygrad_nd.experiments.vanishing import epoch_ranges, speeds_at_init, train_full_batch
from tinygrad_nd.experiments.vanishing_at_init import (
    activation_spread,
    bias_gradients,
    layer_arithmetic,
    weight_regimes,
)
from tinygrad_nd.tensor import Tensor

DEEP = [784, 30, 30, 30, 30, 10]


@pytest.fixture(scope="module")
def digits():
    xs, ys, xt, yt, _ = load_images("digits", 1000, seed=0)
    return xs, ys, xt, yt, Tensor(xs), Tensor(one_hot(ys))


def test_bound_holds_and_k_minus_1_factors_give_first_over_last(digits):
    *_, x, y = digits
    rows = layer_arithmetic(build_net(DEEP, seed=0), x, y)
    assert [r["layer"] for r in rows] == [1, 2, 3]  # 4 hidden layers: 3 factors
    for r in rows:
        assert r["realised"] <= r["bound"] * (1 + 1e-6), r
        assert r["bound"] <= r["nielsen_bound"] * (1 + 1e-6)  # sigma' <= 1/4
        assert 0.15 < r["realised"] < 0.3 and 0.4 < r["bound"] < 0.6, r  # the issue's ~0.2, 0.42
        assert r["realised"] == pytest.approx(r["estimate"], rel=0.2)
    speeds = speeds_at_init(DEEP, x, y, seed=0)
    product = np.prod([r["speed_ratio"] for r in rows])
    assert product == pytest.approx(speeds[0] / speeds[-1], rel=1e-4)


def test_unit_weights_shrink_the_gradient_through_saturation(digits):
    *_, x, y = digits
    regimes = weight_regimes(DEEP, x[:300], y[:300], seeds=2)
    big, small = regimes["standard"], regimes["nielsen"]
    assert big["law"] == "N(0, 1)" and small["law"] == "N(0, 1/n_in)"
    assert all(0.03 < s < 0.12 for s in big["mean_slope"]), big   # the 0.05-0.1
    assert all(0.18 < s < 0.23 for s in small["mean_slope"]), small
    assert big["saturated"][0] > 0.3 and max(small["saturated"]) < 0.01


def test_six_neuron_bars_are_the_bias_gradients_and_layer_2_is_faster(digits):
    *_, x, y = digits
    net = build_net([784, 30, 30, 10], seed=0)
    bars = bias_gradients(net, x, y)
    assert [b.shape for b in bars] == [(6,), (6,)]
    linears = [m for m in net.modules() if hasattr(m, "bias") and m.bias is not None]
    full = engine.grad(nielsen_cross_entropy(net(x), y), [m.bias for m in linears[:2]])
    for bar, g in zip(bars, full):
        np.testing.assert_allclose(bar, g.data[:6], rtol=1e-6)
    assert np.linalg.norm(bars[1]) > 2 * np.linalg.norm(bars[0])


def test_random_layers_lose_the_differences_between_images(digits):
    *_, x, _ = digits
    spread = activation_spread(build_net(DEEP, seed=0), x)
    across = [s["a_across_images"] for s in spread]
    assert all(b < a / 2 for a, b in zip(across, across[1:])), across
    assert across[-1] < 0.02 * across[0]
    assert all(s["z_overall"] > 0.5 and s["saturated"] == 0 for s in spread)  # not saturation


def test_deep_nets_end_at_chance_and_layer_1_overtakes_layer_2_in_seed_0(digits):
    """The issue's item 6 on the book's setup: 500 full-batch epochs on 1,000 images."""
    xs, ys, xt, yt, x, y = digits
    cfg = VanishingConfig()
    majority = np.bincount(ys).argmax()
    history, model = train_full_batch([784, 30, 30, 30, 10], x, y, cfg, seed=0)
    predictions = model(Tensor(xt)).data.argmax(axis=1)
    assert np.mean(predictions == majority) > 0.9
    assert abs(np.mean(predictions == yt) - np.mean(yt == majority)) < 0.02
    history, model = train_full_batch([784, 30, 30, 10], x, y, cfg, seed=0)
    assert np.mean(model(Tensor(xt)).data.argmax(axis=1) == yt) > 0.3
    (first, last), = epoch_ranges(history[:, 0] > history[:, 1])
    assert 40 <= first <= 70 and 120 <= last <= 160, (first, last)  # the issue's ~54-139


def test_epoch_ranges_and_first_epoch_below():
    assert epoch_ranges(np.array([True, True, False, True])) == [(1, 2), (4, 4)]
    assert epoch_ranges(np.zeros(3, bool)) == []
    assert first_epoch_below(np.array([0.9, 0.6, 0.4]), 0.5) == 3
    assert first_epoch_below(np.array([0.9]), 0.5) is None


def test_last_hidden_layer_saturates_first(digits):
    xs, ys, xt, yt, *_ = digits
    run = top_layer_saturation(xs, ys, xt[:200], yt[:200], steps=100, every=50)
    assert run["steps"] == [0, 50, 100]
    assert run["mean"][0, -1] > 0.4 and run["mean"][-1, -1] < 0.2
    assert run["mean"][-1, :-1].min() > 0.4


def test_quadratic_cost_learns_slowly_and_deltas_match_chapter_3():
    runs = {cost: cost_slowdown(cost) for cost in ("quadratic", "cross-entropy")}
    for run in runs.values():
        np.testing.assert_allclose(run["delta"], run["formula"], rtol=1e-12, atol=1e-15)
    slow, fast = (first_epoch_below(runs[c]["a"], 0.5) for c in ("quadratic", "cross-entropy"))
    assert fast < 30 and slow > 5 * fast
    with pytest.raises(ValueError, match="cost_slowdown: cost must be"):
        cost_slowdown("hinge")


def test_report_opens_with_what_it_shows_and_closes_with_the_differences(tmp_path):
    cfg = VanishingConfig(images=200, seeds=1, epochs=4, train_seeds=2, saturation_steps=20)
    results = run_vanishing(tmp_path, cfg, verbose=False)
    report = (tmp_path / "report.md").read_text()
    sections = [line for line in report.splitlines() if line.startswith("## ")]
    assert sections[0] == "## What this shows"
    assert sections[-1] == "## How this differs from the book"
    assert "N(0, 1/n_in)" in report and "N(0, 1)" in report
    assert results["factor_product"] == pytest.approx(results["at_init"][4]["first_over_last"],
                                                      rel=1e-4)
    stored = json.loads((tmp_path / "results.json").read_text())
    assert len(stored["training"]["4"]["runs"]) == 2
    assert stored["graphs"]["vmin"] < stored["graphs"]["vmax"]
