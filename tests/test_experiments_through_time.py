"""`tinygrad-nd through-time`: gradients through time of a tanh RNN, an LSTM and a GRU."""

import json

import numpy as np
import pytest

from tinygrad_nd import Tensor, cli, optim
from tinygrad_nd.experiments.recurrent import (
    SequenceClassifier,
    accuracy,
    copy_task,
    spectral_radius,
    state_gradients,
    train,
)


def first_over_last(kind, length, gate_bias=0.0, radius=None, seed=0):
    x, y = copy_task(32, length, np.random.default_rng(seed))
    g = state_gradients(SequenceClassifier(kind, 16, gate_bias, radius, seed=seed), x, y)
    return g[0] / g[-1]


def factor_per_step(kind, gate_bias=0.0, seed=0, length=100):
    return first_over_last(kind, length, gate_bias, seed=seed) ** (1 / length)


@pytest.mark.parametrize("seed", [0, 1])
def test_open_gates_keep_the_first_states_gradient_orders_of_magnitude_above_the_rnns(seed):
    rnn = first_over_last("RNN", 100, seed=seed)
    lstm = first_over_last("LSTM", 100, gate_bias=2.0, seed=seed)
    gru = first_over_last("GRU", 100, gate_bias=2.0, seed=seed)
    assert rnn < 1e-12, rnn  # 100 steps of a factor ~0.6
    assert lstm > 1e6 * rnn and gru > 1e6 * rnn, (rnn, lstm, gru)


def test_gates_at_pytorch_init_lose_the_gradient_about_as_fast_as_the_rnn():
    # the report's claim: the open gate, not the architecture's name, carries the gradient;
    # per step the gated nets keep about sigmoid(gate bias) of it (0.5 at PyTorch's init)
    rnn = factor_per_step("RNN")
    for kind in ("LSTM", "GRU"):
        closed, opened = factor_per_step(kind), factor_per_step(kind, gate_bias=2.0)
        assert abs(closed - rnn) < 0.15 and closed < 0.75, (kind, rnn, closed)
        assert opened > 0.85, (kind, opened)


def test_rnn_gradient_vanishes_below_spectral_radius_one_and_not_above():
    ratios = [first_over_last("RNN", 50, radius=r) for r in (0.5, 1.0, 2.0)]
    assert ratios[0] < 1e-10 and ratios[0] < ratios[1] < ratios[2], ratios
    assert ratios[2] > 0.1, ratios
    model = SequenceClassifier("RNN", 16, radius=2.0)
    assert spectral_radius(model.rnn.weight_hh_l0.data) == pytest.approx(2.0)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_stepped_states_are_the_layers_own_computation(kind):
    # state_gradients steps the layer through hx; the same h_0 fed to the whole sequence at
    # once must give the same gradient, and the read-out the same logits
    x, y = copy_task(5, 7, np.random.default_rng(3))
    model = SequenceClassifier(kind, 6, gate_bias=1.0, seed=2)
    stepped = state_gradients(model, x, y)
    h0 = Tensor(np.zeros((1, 5, 6)), requires_grad=True, dtype=np.float64)
    hx = (h0, Tensor(np.zeros((1, 5, 6)), dtype=np.float64)) if kind == "LSTM" else h0
    out, _ = model.rnn(Tensor(x, dtype=np.float64), hx)
    logits = model.head(out[-1])[:, 0]
    np.testing.assert_allclose(logits.data, model(Tensor(x)).data)
    from tinygrad_nd import nn

    nn.functional.binary_cross_entropy_with_logits(logits, Tensor(y)).backward()
    assert stepped[0] == pytest.approx(np.linalg.norm(h0.grad.data), rel=1e-10)
    assert stepped.shape == (8,) and np.all(stepped > 0)


def test_clipping_bounds_the_update_norm_where_plain_sgd_does_not():
    runs = {}
    for clip in (None, 1.0):
        model = SequenceClassifier("RNN", 16, radius=4.0)
        runs[clip] = train(model, 20, 15, optim.SGD(model.parameters(), lr=0.1),
                           np.random.default_rng(0), clip=clip)
    assert max(runs[1.0]["update_norm"]) <= 0.1 * 1.0 * (1 + 1e-6)
    assert max(runs[None]["update_norm"]) > 0.5  # the exploding case: clipping binds
    assert runs[None]["grad_norm"][0] == runs[1.0]["grad_norm"][0]  # same start, same batch


def test_gated_net_with_open_gate_learns_the_short_copy_task():
    model = SequenceClassifier("GRU", 16, gate_bias=2.0)
    train(model, 10, 150, optim.Adam(model.parameters(), lr=0.01), np.random.default_rng(0))
    assert accuracy(model, 10, np.random.default_rng(1), n=500) > 0.9


def test_lstm_cell_gradients_stop_before_the_copy_the_read_out_ignores():
    x, y = copy_task(8, 20, np.random.default_rng(0))
    lstm = SequenceClassifier("LSTM", 8, gate_bias=2.0)
    cells, states = state_gradients(lstm, x, y, cell=True), state_gradients(lstm, x, y)
    assert cells.shape == (20,) and states.shape == (21,) and np.all(cells > 0)
    # c_1 feeds h_T directly through the open forget gate; h_1 only through the gates
    assert cells[1] > states[1]


def test_bad_arguments_name_the_function():
    with pytest.raises(ValueError, match="state_gradients: cell=True needs an LSTM"):
        state_gradients(SequenceClassifier("GRU", 4), *copy_task(2, 3, np.random.default_rng(0)),
                        cell=True)
    with pytest.raises(ValueError, match="copy_task: length"):
        copy_task(3, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="SequenceClassifier: kind"):
        SequenceClassifier("Transformer")


def test_cli_writes_the_report(tmp_path):
    out = tmp_path / "tt"
    assert cli.main(["through-time", "--out", str(out), "--quiet", "--lengths", "4", "6",
                     "--steps", "3", "--gradient-length", "12", "--seeds", "2",
                     "--clip-steps", "3", "--clip-length", "6"]) == 0
    report = (out / "report.md").read_text()
    assert report.index("## What this shows") < report.index("## 1.")
    assert report.index("## 3.") < report.index("## How this differs from the sources")
    for png in ("gradient_at_init", "radius_scan", "accuracy_vs_length",
                "gradient_after_training", "clipping"):
        assert (out / f"{png}.png").exists() and f"{png}.png" in report
    results = json.loads((out / "results.json").read_text())
    assert len(results["at_init"]["RNN (tanh)"]["curve"]) == 13
    assert set(results["accuracy"]) == {"RNN", "LSTM", "GRU"}
    clipped = results["clipping"]["SGD + clip 1"]
    assert max(clipped["update_norm"]) <= results["config"]["clip_lr"] * 1.0 * (1 + 1e-6)
