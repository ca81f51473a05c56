"""The exploding report's numbers: the chain's closed form, the slope window, the report."""

import numpy as np
import pytest

from tinygrad_nd.experiments import ExplodingConfig, exploding_chain, run_exploding
from tinygrad_nd.experiments.exploding import _closed_form_text
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
    assert {"slopes.png", "slope_window.png", "chain.png"} <= {p.name for p in tmp_path.iterdir()}
    assert results["window"]["peak_width"] == pytest.approx(0.448, abs=2e-3)
