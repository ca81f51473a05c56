"""``tinygrad-nd foundations``: chapter 3's and chapter 6's numbers, and the command's report."""

import json
import math

import numpy as np
import pytest

from tinygrad_nd import cli, data
from tinygrad_nd.experiments import foundations_cnn as cnn
from tinygrad_nd.experiments import foundations_init as init
from tinygrad_nd.experiments import foundations_overfitting as overfit


def test_z_spread_is_the_books_sqrt_501_and_1_22():
    r = init.book_neuron(neurons=4000, seed=0)
    assert round(r["large"]["theory_sd"], 1) == 22.4 == init.BOOK_Z_SD["large"]
    assert round(r["nielsen"]["theory_sd"], 2) == 1.22 == init.BOOK_Z_SD["nielsen"]
    # 4,000 neurons: the sample sd is within ~1% of the true one; 4% leaves room for any seed
    assert r["large"]["sd"] == pytest.approx(math.sqrt(501), rel=0.04)
    assert r["nielsen"]["sd"] == pytest.approx(math.sqrt(1.5), rel=0.04)


def test_saturated_fraction_follows_the_gaussian_tail():
    r = init.book_neuron(neurons=4000, saturation=4.0, seed=1)
    for stats in r.values():
        assert abs(stats["saturated"] - stats["theory_saturated"]) < 0.02, stats
    assert r["large"]["saturated"] > 0.8 and r["nielsen"]["saturated"] < 0.01
    # the learning slowdown: sigma'(z) averaged over the neurons, ~0.4/22.4 against ~0.19
    assert r["nielsen"]["mean_sigma_prime"] > 5 * r["large"]["mean_sigma_prime"]


def test_real_digits_saturate_with_large_weights_only():
    train, _ = data.mnist_5k(split=(300, 0))
    r = init.digits_hidden_layer(train.arrays[0], saturation=4.0)
    assert r["large"]["saturated"] > 0.5 and r["nielsen"]["saturated"] < 0.01


def test_parameter_counts_are_520_and_23550():
    assert cnn.parameter_counts() == {"conv": 520, "conv_formula": 520,
                                      "fully_connected": 23_550,
                                      "fully_connected_formula": 23_550}
    assert (cnn.BOOK_CONV_PARAMETERS, cnn.BOOK_FULLY_CONNECTED_PARAMETERS) == (520, 23_550)


@pytest.fixture(scope="module")
def conv_on_a_digit():
    train, _ = data.mnist_5k(split=(1, 0), flatten=False)
    x, y = train.arrays
    return cnn.conv_layer_gradients(x[0, 0], int(y[0]), filters=20, seed=0)


def test_conv_gradient_identities_hold_to_1e_6_in_float64(conv_on_a_digit):
    r = conv_on_a_digit
    scale = r["grad_w_max"]
    assert scale > 1e-4                                # a real gradient, not zeros
    assert r["weight_error"] < 1e-6 * scale            # dC/dw = a (x) delta
    assert r["weight_error_rotated"] < 1e-6 * scale    # = rot180(rot180(a) * delta)
    assert r["bias_error"] < 1e-6 * scale              # dC/db = sum delta
    assert r["finite_difference_error"] < 1e-6
    # reading rot180(a) * delta without rotating back is a different, wrong array
    assert r["unrotated_error"] > 0.1 * scale


def test_identity_check_catches_a_wrong_formula():
    a = np.random.default_rng(0).random((1, 6, 6))
    delta = np.random.default_rng(1).random((2, 4, 4))
    right = cnn.cross_correlate(a, delta)
    assert right.shape == (2, 1, 3, 3)
    np.testing.assert_allclose(cnn.rot180(cnn.convolve(cnn.rot180(a), delta)), right)
    assert np.abs(cnn.convolve(a, delta) - right).max() > 1e-3


def test_max_pool_halves_24_to_12_and_routes_the_gradient_to_the_argmax(conv_on_a_digit):
    r = cnn.max_pool_routing(conv_on_a_digit["feature_map"], seed=0)
    assert r["input_shape"] == (20, 24, 24) and r["pooled_shape"] == (20, 12, 12)
    assert r["routing_exact"] and r["max_matches_pool"]
    assert r["nonzero_fraction"] == 0.25


def test_early_stopping_rule():
    stop = overfit.early_stopping([0.5, 0.6, 0.7, 0.65, 0.66, 0.64, 0.9], patience=3)
    assert (stop["stop_epoch"], stop["kept_epoch"], stop["kept_accuracy"]) == (6, 3, 0.7)
    assert stop["best_epoch"] == 7                     # seen only by training on
    never = overfit.early_stopping([0.1, 0.2, 0.3], patience=3)
    assert never["stop_epoch"] is None and never["kept_epoch"] == 3
    with pytest.raises(ValueError, match="early_stopping"):
        overfit.early_stopping([])


def test_overfitting_run_has_an_early_stopping_epoch_and_its_net_is_recovered():
    train, rest = data.mnist_5k(split=(200, 300), seed=0)
    pairs = overfit.network2_data(*train.arrays, one_hot_labels=True)
    validation = overfit.network2_data(*rest.arrays, one_hot_labels=False)
    runs, net = overfit.monitored_training(pairs, validation, [784, 30, 10], 25, 0.5, 0.0,
                                           init="nielsen", seed=0)
    stop = overfit.early_stopping(runs["validation_accuracy"], patience=5)
    assert stop["stop_epoch"] is not None and stop["kept_epoch"] < stop["stop_epoch"] <= 25
    # overfitting: the training cost keeps falling, the training accuracy passes validation's
    assert runs["training_cost"][-1] < runs["training_cost"][stop["kept_epoch"] - 1]
    assert runs["training_accuracy"][-1] > max(runs["validation_accuracy"])
    kept = overfit.retrained(pairs, [784, 30, 10], stop["kept_epoch"], 0.5, 0.0,
                             init="nielsen", seed=0)
    assert kept.accuracy(validation) / len(validation) == stop["kept_accuracy"]
    assert net.accuracy(validation) / len(validation) == runs["validation_accuracy"][-1]


TINY = ["--init-images", "300", "--init-epochs", "2", "--overfit-images", "200",
        "--overfit-epochs", "3", "--dropout-epochs", "2", "--dropout-hidden", "30",
        "--dropout-seeds", "2",
        "--neurons", "500", "--validation-images", "200", "--test-images", "300", "--quiet"]


def test_command_writes_its_report(tmp_path, capsys):
    out = tmp_path / "foundations"
    assert cli.main(["foundations", "--out", str(out), *TINY]) == 0
    report = (out / "report.md").read_text()
    assert report.index("## What this shows") < report.index("## 1.")
    headers = ["## 1.", "## 2.", "## 3.", "## 4.", "## How this differs from the book"]
    positions = [report.index(h) for h in headers]
    assert positions == sorted(positions)
    for png in ("init_z_spread", "init_learning", "overfitting", "dropout", "max_pooling"):
        assert (out / f"{png}.png").stat().st_size > 10_000 and f"({png}.png)" in report
    results = json.loads((out / "results.json").read_text())
    assert results["convolution"]["parameters"]["conv"] == 520
    assert results["sizes"] == {"train": 300, "validation": 200, "test": 300}
    assert "22.4" in report and "520" in report and "23,550" in report
    assert "report:" in capsys.readouterr().out


def test_command_refuses_a_dropout_rate_that_is_not_a_probability(tmp_path, capsys):
    assert cli.main(["foundations", "--out", str(tmp_path), "--dropout", "1.5"]) == 2
    assert "dropout must be a probability" in capsys.readouterr().err
