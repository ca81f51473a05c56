"""Binary cross-entropies at the extremes, against PyTorch: no NaN from 0/0, exact kinks and tails.

``binary_cross_entropy(sigmoid(z), t)`` used to compute its gradient as 0/0 once a float32
sigmoid rounded to exactly 0 or 1 (|z| past ~17 or ~88), and ``..._with_logits`` dropped the
kinks of relu/abs at z = 0 and the log1p tail; both are now fused ops.
"""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_nd as tg
import tinygrad_nd.nn as nn
import tinygrad_nd.nn.functional as F
from tinygrad_nd.network2 import CrossEntropyCost, Network

torch = pytest.importorskip("torch")
TF = torch.nn.functional

EXTREME_LOGITS = [-1e4, -89.0, -88.0, -17.0, 0.0, 17.0, 88.0, 89.0, 1e4]


def _ours(fn, z, t, **kw):
    x = tg.Tensor(np.asarray(z), dtype=np.asarray(z).dtype, requires_grad=True)
    loss = fn(x, np.asarray(t), reduction="none", **kw)
    (g,) = tg.grad(loss.sum(), [x])
    return loss.data, g.data


def _theirs(fn, z, t, **kw):
    x = torch.tensor(np.asarray(z), requires_grad=True)
    loss = fn(x, torch.tensor(np.asarray(t)), reduction="none", **kw)
    (g,) = torch.autograd.grad(loss.sum(), [x])
    return loss.detach().numpy(), g.numpy()


def _assert_same(ours, theirs, rtol=1e-5, atol=1e-30):
    for a, b in zip(ours, theirs):
        assert np.isfinite(a).all() == np.isfinite(b).all()
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("target", [0.0, 1.0, 0.25])
def test_bce_of_sigmoid_at_extreme_float32_logits_is_finite_and_matches_torch(target):
    z = np.array(EXTREME_LOGITS, dtype=np.float32)
    t = np.full_like(z, target)
    ours = _ours(lambda x, t, **kw: F.binary_cross_entropy(x.sigmoid(), t, **kw), z, t)
    theirs = _theirs(lambda x, t, **kw: TF.binary_cross_entropy(x.sigmoid(), t, **kw), z, t)
    assert np.isfinite(ours[0]).all() and np.isfinite(ours[1]).all()
    _assert_same(ours, theirs)


@pytest.mark.parametrize("target", [0.0, 1.0, 0.25])
def test_bce_with_logits_at_extreme_float32_logits_matches_torch(target):
    z = np.array(EXTREME_LOGITS, dtype=np.float32)
    t = np.full_like(z, target)
    ours = _ours(F.binary_cross_entropy_with_logits, z, t)
    theirs = _theirs(TF.binary_cross_entropy_with_logits, z, t)
    assert np.isfinite(ours[0]).all() and np.isfinite(ours[1]).all()
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-37)
    # The loss is exact to float32 rounding: PyTorch computes (1 - t) z - log_sigmoid(z),
    # which loses the tail for t = 0 and z << 0 (0 instead of 4.1e-8 at z = -17), so compare
    # with the float64 value, and with PyTorch to its own absolute accuracy.
    z64 = z.astype(np.float64)
    exact = np.maximum(z64, 0) - z64 * target + np.log1p(np.exp(-np.abs(z64)))
    np.testing.assert_allclose(ours[0], exact, rtol=1e-6, atol=1e-45)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-7)


def test_logistic_regression_on_separable_float32_data_stays_finite_and_tracks_torch():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 3, (64, 2)).astype(np.float32)
    t = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    w, b = tg.zeros(2, requires_grad=True), tg.zeros(1, requires_grad=True)
    tw, tb = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    xs, txs, tts = tg.Tensor(x), torch.tensor(x), torch.tensor(t)
    largest_logit = 0.0
    for _ in range(1000):
        loss = F.binary_cross_entropy((xs @ w + b).sigmoid(), t)
        gw, gb = tg.grad(loss, [w, b])
        tloss = TF.binary_cross_entropy(torch.sigmoid(txs @ tw + tb), tts)
        tgw, tgb = torch.autograd.grad(tloss, [tw, tb])
        assert np.isfinite(gw.data).all() and np.isfinite(gb.data).all()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-4)
        np.testing.assert_allclose(gw.data, tgw.numpy(), rtol=1e-3, atol=1e-7)
        with tg.no_grad():
            w.sub_(gw, alpha=1.0)
            b.sub_(gb, alpha=1.0)
        with torch.no_grad():
            tw -= tgw
            tb -= tgb
        largest_logit = max(largest_logit, float(np.abs(x @ w.data + b.data).max()))
    assert largest_logit > 17.5  # sigmoids did round to exactly 1: the case that made NaN
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-4)


def test_bce_with_logits_gradient_at_zero_logit_is_sigmoid_minus_target():
    # A zero-initialised output layer starts exactly at the kinks of relu and abs.
    z = tg.Tensor(np.zeros(2, np.float32), requires_grad=True)
    F.binary_cross_entropy_with_logits(z, np.array([0.0, 1.0], np.float32),
                                       reduction="sum").backward()
    np.testing.assert_array_equal(z.grad.data, [0.5, -0.5])


def test_bce_with_logits_keeps_the_log1p_tail():
    loss = F.binary_cross_entropy_with_logits(tg.Tensor([20.0, -20.0]), [1.0, 0.0],
                                              reduction="none")
    np.testing.assert_allclose(loss.data, np.log1p(np.exp(-20.0)), rtol=1e-6)


@given(z=st.floats(-1e4, 1e4, width=32), t=st.floats(0, 1, width=32),
       w=st.sampled_from([None, 0.5, 3.0]))
@example(z=0.0, t=1.0, w=None).via("zero logit")
@example(z=-1e4, t=1.0, w=3.0).via("large positive-weighted loss")
def test_bce_with_logits_matches_torch_in_float32_everywhere(z, t, w):
    z_arr, t_arr = np.array([z], np.float32), np.array([t], np.float32)
    kw = {} if w is None else {"pos_weight": np.array([w], np.float32)}
    tkw = {} if w is None else {"pos_weight": torch.tensor([w])}
    ours = _ours(F.binary_cross_entropy_with_logits, z_arr, t_arr, **kw)
    theirs = _theirs(TF.binary_cross_entropy_with_logits, z_arr, t_arr, **tkw)
    # (absolute slack: PyTorch's loss is a difference of numbers up to 1e4 in float32)
    _assert_same(ours, theirs, rtol=1e-5, atol=1e-6 * max(1.0, abs(z)))


def test_weight_and_pos_weight_match_torch_forward_and_backward():
    rng = np.random.default_rng(3)
    z, t = rng.normal(0, 4, (5, 3)), (rng.random((5, 3)) < 0.5).astype(np.float64)
    weight, pos_weight = rng.random((5, 1)) + 0.5, np.array([0.5, 1.0, 4.0])
    x = tg.Tensor(z, dtype=np.float64, requires_grad=True)
    tx = torch.tensor(z, requires_grad=True)
    cases = [
        (nn.BCEWithLogitsLoss(weight=weight, pos_weight=pos_weight)(x, t),
         torch.nn.BCEWithLogitsLoss(weight=torch.tensor(weight),
                                    pos_weight=torch.tensor(pos_weight))(tx, torch.tensor(t))),
        (nn.BCELoss(reduction="sum", weight=weight)(x.sigmoid(), t),
         torch.nn.BCELoss(reduction="sum", weight=torch.tensor(weight))(tx.sigmoid(),
                                                                      torch.tensor(t))),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
        (g,) = tg.grad(ours, [x])
        (tgrad,) = torch.autograd.grad(theirs, [tx])
        np.testing.assert_allclose(g.data, tgrad.numpy(), rtol=1e-10)


def test_target_gradients_match_torch():
    p, t = np.array([0.3, 0.01, 0.97]), np.array([0.2, 0.5, 0.9])
    for ours_fn, their_fn, x in [
        (F.binary_cross_entropy, TF.binary_cross_entropy, p),
        (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, p * 8 - 4),
    ]:
        xt, tt = tg.Tensor(x, dtype=np.float64), tg.Tensor(t, dtype=np.float64,
                                                            requires_grad=True)
        (g,) = tg.grad(ours_fn(xt, tt, reduction="sum"), [tt])
        their_t = torch.tensor(t, requires_grad=True)
        (tgrad,) = torch.autograd.grad(their_fn(torch.tensor(x), their_t, reduction="sum"),
                                       [their_t])
        np.testing.assert_allclose(g.data, tgrad.numpy(), rtol=1e-10)


def test_bce_target_gradient_at_saturated_probability_is_the_clamped_one():
    # PyTorch gives +-inf here; the loss it differentiates is clamped at -100, so the
    # derivative of what was computed is log(1-p) - log(p) with both logs clamped: finite.
    t = tg.Tensor([0.5, 0.5], dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(F.binary_cross_entropy(tg.Tensor([0.0, 1.0], dtype=np.float64), t,
                                          reduction="sum"), [t])
    np.testing.assert_array_equal(g.data, [100.0, -100.0])


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_bce_refuses_probabilities_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input probabilities must lie "
                                         r"in \[0, 1\]"):
        F.binary_cross_entropy(tg.Tensor([0.5, bad]), [1.0, 0.0])


def test_pos_weight_that_requires_grad_or_does_not_broadcast_is_refused():
    z = tg.Tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match="pos_weight is not differentiable"):
        F.binary_cross_entropy_with_logits(z, np.ones((2, 3)),
                                           pos_weight=tg.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(2,\) does not broadcast"):
        F.binary_cross_entropy_with_logits(z, np.ones((2, 3)), pos_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) does not broadcast"):
        F.binary_cross_entropy(z.sigmoid(), np.ones((2, 3)), weight=np.ones(4))


def test_trainable_weight_gets_its_gradient():
    w = tg.Tensor([2.0, 3.0], dtype=np.float64, requires_grad=True)
    z = tg.Tensor([0.0, 0.0], dtype=np.float64)
    (g,) = tg.grad(F.binary_cross_entropy_with_logits(z, [1.0, 0.0], weight=w,
                                                      reduction="sum"), [w])
    np.testing.assert_allclose(g.data, [np.log(2.0)] * 2)


def test_nielsen_cross_entropy_cost_has_finite_gradients_when_the_output_saturates():
    # float64 sigmoids round to exactly 1 past z ~ 37: the book's cost then gave NaN.
    net = Network([2, 2], cost=CrossEntropyCost, seed=0)
    with tg.no_grad():
        net.model[0].weight.fill_(30.0)
    x, y = np.ones((2, 1)), np.array([[1.0], [0.0]])
    nabla_b, nabla_w = net.backprop(x, y)
    assert all(np.isfinite(a).all() for a in nabla_b + nabla_w)
    a = tg.Tensor([[1.0, 1.0]], dtype=np.float64, requires_grad=True)
    (g,) = tg.grad(CrossEntropyCost.fn(a, tg.Tensor([[1.0, 0.0]], dtype=np.float64)), [a])
    np.testing.assert_array_equal(g.data, [[0.0, 1e12]])  # PyTorch's (p - y) / max(p(1-p), eps)


def test_backward_through_hot_ops_with_inf_values_warns_nothing():
    """PyTorch propagates inf/nan gradients silently; numpy would warn in mul/add/sum."""
    import warnings

    import tinygrad_nd as tg

    x = tg.Tensor([np.inf, -np.inf, 0.0], requires_grad=True)
    w = tg.Tensor([2.0, 3.0, np.inf], requires_grad=True)
    with np.errstate(invalid="ignore"):  # (0 * inf in the forward: numpy's warning, kept
        y = (x * w).sum()               # off the hot mul; this test is about the backward)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.backward(tg.Tensor(np.float32(np.inf)))  # inf * 0 and inf - inf inside: nan, silent
    assert not np.isfinite(x.grad.data).all() and not np.isfinite(w.grad.data).all()
