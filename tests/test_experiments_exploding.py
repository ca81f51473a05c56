"""The exploding report's numbers: the chain's closed form, the slope window, the report."""

import numpy as np
import pytest

from tinygrad_nd import Tensor
from tinygrad_nd.experiments import ExplodingConfig, exploding_chain, run_exploding
from tinygrad_nd.experiments.common import load_images
from tinygrad_nd.experiments.exploding import _closed_form_text
from tinygrad_nd.experiments.exploding_remedies import train_wide
from tinygrad_nd.experiments.slope_window import (
    slope_curves,
    window_study,
    window_width,
    window_width_formula,
)


@pytest.mark.parametrize("length", [1, 3, 6])
def test_chain_is_w_over_4_to_the_l_minus_j_over_8(length):
    chain = exploding_chain(length, weight=100.0, x=0.5, y=0.0)
    j = np.arange(1, length + 1)
    expected = (100.0 / 4) ** (length - j) / 8
    np.testing.assert_allclose(chain["closed_form"], expected, rtol=1e-12)
    np.testing.assert_allclose(chain["measured"], expected, rtol=1e-9)
    assert _closed_form_text(0.0) == "(w/4)^(L-j)/8"
    assert _closed_form_text(1.0) == "(w/4)^(L-j)/8"  # |a_L - y| = 1/2 again
    assert _closed_form_text(0.25) == "(w/4)^(L-j)/16"


def test_slopes_peak_at_a_quarter_and_one():
    z = np.linspace(-5, 5, 1001)
    curves = slope_curves(z)
    assert curves["sigmoid"].max() == pytest.approx(0.25) and z[curves["sigmoid"].argmax()] == 0
    assert curves["tanh"].max() == pytest.approx(1.0)
    assert np.all(curves["sigmoid"] <= 0.25 + 1e-12)


def test_slope_window_is_empty_below_4_and_narrows_beyond_its_peak():
    for w in (0.5, 1.0, 2.0, 3.0, 3.99):
        assert window_width(w) == 0.0 and window_width_formula(w) == 0.0
    for w in (4.5, 6.9, 10.0, 100.0, 1000.0):
        assert window_width(w) == pytest.approx(window_width_formula(w), abs=2e-4)
    study = window_study(np.geomspace(1, 1000, 61))
    assert 6 < study["peak_weight"] < 8 and study["peak_width"] == pytest.approx(0.448, abs=2e-3)
    beyond = study["measured"][study["weights"] > study["peak_weight"]]
    assert np.all(np.diff(beyond) < 0) and beyond[-1] < 0.02
    assert window_width(-10.0) == window_width(10.0)


def test_report_explains_itself_and_labels_the_chain_right(tmp_path):
    results = run_exploding(tmp_path, ExplodingConfig(steps=2), verbose=False)
    report = (tmp_path / "report.md").read_text()
    sections = [line for line in report.splitlines() if line.startswith("## ")]
    assert sections[0] == "## What this shows"
    assert sections[-1] == "## How this differs from the book"
    assert "(w/4)^(L-j)/8" in report and "(w/4)^(L-j)/2" not in report
    assert {"slopes.png", "slope_window.png", "chain.png", "wide_remedies.png"} <= {
        p.name for p in tmp_path.iterdir()}
    assert "How a weight penalty acts" in report
    assert set(results["wide"]["runs"]["N(0, 0.26²)"]) == {"no remedy", "clipping", "L2", "L1"}
    assert results["window"]["peak_width"] == pytest.approx(0.448, abs=2e-3)


def test_weight_penalties_shrink_the_weights_and_the_per_layer_gain():
    xs, ys, _, _, _ = load_images("digits", 200, 0)
    runs = {remedy: train_wide([784, 30, 30, 30, 10], 0.5, remedy, Tensor(xs), ys, steps=60,
                               lr=0.05, clip=1.0, l2=0.3, l1=0.1)
            for remedy in ("no remedy", "L2", "L1")}
    plain = runs["no remedy"]
    for run in runs.values():
        assert not run["diverged"] and len(run["loss"]) == 60
        # same initial weights, and the recorded gradient is the loss's alone (no penalty)
        assert run["grad_norm"][0] == pytest.approx(plain["grad_norm"][0], rel=1e-6)
        assert run["first_over_last"][0] == pytest.approx(plain["first_over_last"][0])
    assert plain["first_over_last"][0] > 2  # the gradient grows towards the input
    for remedy in ("L2", "L1"):
        shrunk = runs[remedy]["weight_norm"][-1] / plain["weight_norm"][-1]
        gain = np.mean(runs[remedy]["first_over_last"][30:]) / np.mean(
            plain["first_over_last"][30:])
        assert shrunk < 0.7 and gain < 0.6, (remedy, shrunk, gain)


def test_train_wide_names_an_unknown_remedy():
    x = Tensor(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="train_wide: remedy must be one of"):
        train_wide([4, 3, 3, 2], 0.5, "L3", x, np.zeros(2, dtype=int), steps=1, lr=0.1,
                   clip=1.0, l2=0.0, l1=0.0)
