"""Losses and gradient utilities against PyTorch: values and gradients (float64) for every
reduction and option, the fused cross-entropy fast path, and clipping edge cases."""

import numpy as np
import pytest
from _parity import assert_close, leaf

import tinygrad_nd as tg
from tinygrad_nd import nn
from tinygrad_nd.nn import functional as F

torch = pytest.importorskip("torch")
T = torch.nn.functional
REDUCTIONS = ["mean", "sum", "none"]
pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides the total loss")


def _check(ours_fn, theirs_fn, arrays, differentiable):
    """Same value and same gradients for the arrays marked differentiable."""
    t_in = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, differentiable)]
    o_in = [leaf(a, d) for a, d in zip(arrays, differentiable)]
    t_out, o_out = theirs_fn(*t_in), ours_fn(*o_in)
    assert o_out.shape == tuple(t_out.shape)
    assert_close(o_out, t_out)
    g = np.random.default_rng(9).standard_normal(o_out.shape)
    (t_out * torch.tensor(g)).sum().backward()
    (o_out * tg.Tensor(g, dtype=np.float64)).sum().backward()
    for o, t, d in zip(o_in, t_in, differentiable):
        if d:
            assert_close(o.grad, t.grad)


RNG = np.random.default_rng(8)
X, Y = RNG.standard_normal((4, 5)) * 2, RNG.standard_normal((4, 5)) * 2
Y[0, :2] = X[0, :2]  # equal pairs: L1's gradient is 0 there, as in PyTorch


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs", [
    ("l1_loss", {}), ("smooth_l1_loss", {"beta": 1.0}), ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}), ("smooth_l1_loss", {"beta": 3.0}),
    ("huber_loss", {"delta": 1.0}), ("huber_loss", {"delta": 0.3}), ("huber_loss", {"delta": 4.0}),
    ("mse_loss", {}),
])
def test_regression_losses_match_torch(name, kwargs, reduction):
    _check(lambda x, y: getattr(F, name)(x, y, reduction=reduction, **kwargs),
           lambda x, y: getattr(T, name)(x, y, reduction=reduction, **kwargs),
           [X, Y], [True, True])


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    logq = np.log(RNG.dirichlet(np.ones(5), 4))
    p = RNG.dirichlet(np.ones(5), 4)
    p[1, 2] = 0.0  # a zero target contributes 0, not nan
    target = np.log(p + 1e-3) if log_target else p
    _check(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
           lambda x, t: T.kl_div(x, t, reduction=reduction, log_target=log_target),
           [logq, target], [True, log_target])


@pytest.mark.parametrize("dim, shapes", [(1, ((4, 5), (4, 5))), (-1, ((2, 3, 4), (1, 4))),
                                         (0, ((3, 2), (3, 2)))])
@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_cosine_similarity_matches_torch(dim, shapes, eps):
    a, b = (RNG.standard_normal(s) for s in shapes)
    _check(lambda x, y: F.cosine_similarity(x, y, dim=dim, eps=eps),
           lambda x, y: T.cosine_similarity(x, y, dim=dim, eps=eps), [a, b], [True, True])
    _check(lambda x, y: nn.CosineSimilarity(dim, eps)(x, y),
           lambda x, y: torch.nn.CosineSimilarity(dim, eps)(x, y), [a, b], [True, True])


def test_cosine_similarity_of_a_zero_vector_is_finite_as_torch():
    _check(lambda x, y: F.cosine_similarity(x, y), lambda x, y: T.cosine_similarity(x, y),
           [np.zeros((2, 3)), np.ones((2, 3))], [True, True])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.7])
def test_margin_ranking_loss_matches_torch(reduction, margin):
    x1, x2 = RNG.standard_normal(6), RNG.standard_normal(6)
    x2[0] = x1[0] + margin  # at the kink: gradient passes, as PyTorch's clamp_min
    y = np.array([1.0, -1, 1, -1, 1, 1])
    _check(lambda a, b, t: F.margin_ranking_loss(a, b, t, margin=margin, reduction=reduction),
           lambda a, b, t: T.margin_ranking_loss(a, b, t, margin=margin, reduction=reduction),
           [x1, x2, y], [True, True, False])


CLASS_CASES = {
    "2d": ((5, 4), (5,)),
    "kdim": ((3, 4, 2, 2), (3, 2, 2)),
    "1d": ((4,), ()),
}


@pytest.mark.parametrize("case", sorted(CLASS_CASES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, 1, -100])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_and_nll_with_class_indices_match_torch(case, reduction, weighted,
                                                              ignore, smoothing):
    x_shape, t_shape = CLASS_CASES[case]
    rng = np.random.default_rng(10)
    x = rng.standard_normal(x_shape) * 3
    target = rng.integers(0, 4, t_shape)
    if ignore is not None and target.ndim:
        target.reshape(-1)[::2] = ignore  # some targets ignored (out of range too: -100)
    kw = {"reduction": reduction}
    if ignore is not None:
        kw["ignore_index"] = ignore
    weight = np.array([0.5, 2.0, 1.0, 3.0]) if weighted else None
    t_kw = dict(kw, weight=None if weight is None else torch.tensor(weight))
    _check(lambda a: F.cross_entropy(a, target, weight=weight, label_smoothing=smoothing, **kw),
           lambda a: T.cross_entropy(a, torch.tensor(target), label_smoothing=smoothing,
                                     **t_kw), [x], [True])
    _check(lambda a: nn.CrossEntropyLoss(weight, label_smoothing=smoothing, **kw)(a, target),
           lambda a: torch.nn.CrossEntropyLoss(label_smoothing=smoothing, **t_kw)(
               a, torch.tensor(target)), [x], [True])
    if smoothing == 0.0:
        _check(lambda a: F.nll_loss(a, target, weight=weight, **kw),
               lambda a: T.nll_loss(a, torch.tensor(target), **t_kw), [x], [True])
        _check(lambda a: nn.NLLLoss(weight, **kw)(a, target),
               lambda a: torch.nn.NLLLoss(**t_kw)(a, torch.tensor(target)), [x], [True])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)])
def test_cross_entropy_with_class_probabilities_matches_torch(reduction, weighted, smoothing,
                                                              shape):
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape)
    probs = np.moveaxis(rng.dirichlet(np.ones(4), (shape[0],) + shape[2:]), -1, 1)
    weight = np.array([0.5, 2.0, 1.0, 3.0]) if weighted else None
    _check(lambda a: F.cross_entropy(a, probs, weight=weight, reduction=reduction,
                                     label_smoothing=smoothing),
           lambda a: T.cross_entropy(a, torch.tensor(probs), reduction=reduction,
                                     weight=None if weight is None else torch.tensor(weight),
                                     label_smoothing=smoothing), [x], [True])


def test_every_target_ignored_gives_nan_as_torch():
    x = leaf(np.zeros((2, 3)))
    assert np.isnan(F.cross_entropy(x, [-100, -100]).item())
    assert np.isnan(F.nll_loss(x, [-100, -100], weight=[1.0, 2.0, 3.0]).item())
    assert F.cross_entropy(x, [-100, -100], reduction="sum").item() == 0.0


def test_plain_cross_entropy_stays_one_fused_op():
    logits = tg.randn(4, 3, requires_grad=True)
    assert F.cross_entropy(logits, [0, 1, 2, 0]).op == "cross_entropy"
    assert F.cross_entropy(logits, [0, 1, 2, -100]).op != "cross_entropy"  # ignored target
    assert F.cross_entropy(logits, [0, 1, 2, 0], label_smoothing=0.1).op != "cross_entropy"


def test_class_losses_reject_bad_weights_and_targets():
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(tg.zeros(2, 3), [0, 1], weight=[1.0, 2.0])
    with pytest.raises(ValueError, match="out of range"):
        F.nll_loss(tg.zeros(2, 3), [0, 3])
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(tg.zeros(2, 3), [0, 1], label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(tg.zeros(2, 3), np.zeros((2, 3)), reduction="batch")
    with pytest.raises(ValueError, match="delta"):
        F.huber_loss(tg.zeros(2), [0.0, 0.0], delta=0.0)


@pytest.mark.parametrize("cls, kwargs", [
    ("L1Loss", {}), ("SmoothL1Loss", {"beta": 0.5}), ("HuberLoss", {"delta": 0.5}),
    ("KLDivLoss", {"reduction": "batchmean"}), ("KLDivLoss", {"log_target": True}),
    ("MSELoss", {"reduction": "sum"}),
])
def test_loss_modules_match_torch(cls, kwargs):
    a, b = np.log(RNG.dirichlet(np.ones(5), 3)), RNG.dirichlet(np.ones(5), 3)
    _check(lambda x, y: getattr(nn, cls)(**kwargs)(x, y),
           lambda x, y: getattr(torch.nn, cls)(**kwargs)(x, y), [a, b], [True, False])


def test_margin_ranking_module_matches_torch():
    a, b, y = RNG.standard_normal(4), RNG.standard_normal(4), np.array([1.0, -1, -1, 1])
    _check(lambda p, q, t: nn.MarginRankingLoss(0.5)(p, q, t),
           lambda p, q, t: torch.nn.MarginRankingLoss(0.5)(p, q, t), [a, b, y],
           [True, True, False])


# ---- nn.utils -----------------------------------------------------------------------------
def _grads_pair(values):
    ours = [leaf(np.ones_like(v)) for v in values]
    theirs = [torch.ones(v.shape, dtype=torch.float64, requires_grad=True) for v in values]
    for o, t, v in zip(ours, theirs, values):
        o.grad, t.grad = tg.Tensor(v, dtype=np.float64), torch.tensor(v)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, float("inf"), 0.0, float("-inf")])
@pytest.mark.parametrize("max_norm", [0.0, 0.5, 100.0])
@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, foreach):
    values = [RNG.standard_normal((3, 2)), RNG.standard_normal(4), np.zeros(2)]
    ours, theirs = _grads_pair(values)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type, foreach=foreach)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, foreach=foreach)
    assert total == pytest.approx(float(expected), rel=1e-12)
    for o, t in zip(ours, theirs):
        assert_close(o.grad, t.grad)


def test_clip_grad_norm_rejects_negative_max_norm_and_nonfinite_norms():
    ours, _ = _grads_pair([np.array([1.0, -2.0])])
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        nn.utils.clip_grad_norm_(ours, -1.0)
    np.testing.assert_array_equal(ours[0].grad.data, [1.0, -2.0])  # untouched, not flipped
    ours, theirs = _grads_pair([np.array([np.inf, 1.0])])
    with pytest.raises(RuntimeError, match="error_if_nonfinite"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch_and_rejects_negative_values():
    values = [RNG.standard_normal((3, 2)) * 3, RNG.standard_normal(4)]
    ours, theirs = _grads_pair(values)
    nn.utils.clip_grad_value_(ours, 0.7, foreach=True)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for o, t in zip(ours, theirs):
        assert_close(o.grad, t.grad)
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        nn.utils.clip_grad_value_(ours, -1.0)


def test_parameters_to_vector_and_back_match_torch():
    theirs = torch.nn.Linear(3, 2).double()
    ours = nn.Linear(3, 2, dtype=np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    vec = nn.utils.parameters_to_vector(ours.parameters())
    assert_close(vec, torch.nn.utils.parameters_to_vector(theirs.parameters()))
    (vec * tg.arange(8, dtype=np.float64)).sum().backward()  # differentiable, as torch's
    assert ours.weight.grad.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    nn.utils.vector_to_parameters(tg.arange(8, dtype=np.float64), ours.parameters())
    assert ours.bias.tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="8"):
        nn.utils.vector_to_parameters(tg.zeros(7), ours.parameters())
    with pytest.raises(TypeError):
        nn.utils.vector_to_parameters(np.zeros(8), ours.parameters())


EDGE_CASES = {
    "l1 empty": (lambda: F.l1_loss(tg.zeros(0, 3), np.zeros((0, 3))),
                 lambda: T.l1_loss(torch.zeros(0, 3), torch.zeros(0, 3))),
    "huber empty": (lambda: F.huber_loss(tg.zeros(0), np.zeros(0)),
                    lambda: T.huber_loss(torch.zeros(0), torch.zeros(0))),
    "kl batchmean empty": (
        lambda: F.kl_div(tg.zeros(0, 3), np.zeros((0, 3)), reduction="batchmean"),
        lambda: T.kl_div(torch.zeros(0, 3), torch.zeros(0, 3), reduction="batchmean")),
    "weighted ce empty": (
        lambda: F.cross_entropy(tg.zeros(0, 3), np.zeros(0, int), weight=[1.0, 2.0, 3.0]),
        lambda: T.cross_entropy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long),
                                weight=torch.tensor([1.0, 2.0, 3.0]))),
    "l1 int target": (lambda: F.l1_loss(tg.zeros(3), np.array([1, 2, 3])),
                      lambda: T.l1_loss(torch.zeros(3), torch.tensor([1, 2, 3]))),
    "l1 0-d": (lambda: F.l1_loss(tg.Tensor(2.0), 1.0),
               lambda: T.l1_loss(torch.tensor(2.0), torch.tensor(1.0))),
    "cosine 1-d": (lambda: F.cosine_similarity(tg.Tensor([1.0, 2]), tg.Tensor([2.0, 1]), dim=0),
                   lambda: T.cosine_similarity(torch.tensor([1.0, 2]), torch.tensor([2.0, 1]),
                                               dim=0)),
    "margin int target": (
        lambda: F.margin_ranking_loss(tg.zeros(2), tg.ones(2), np.array([1, -1])),
        lambda: T.margin_ranking_loss(torch.zeros(2), torch.ones(2), torch.tensor([1, -1]))),
    "ce 1-d probabilities": (
        lambda: F.cross_entropy(tg.zeros(3), np.array([0.2, 0.3, 0.5], np.float32)),
        lambda: T.cross_entropy(torch.zeros(3), torch.tensor([0.2, 0.3, 0.5]))),
    "nll (N, C, d) none": (
        lambda: F.nll_loss(tg.zeros(2, 3, 4), np.zeros((2, 4), int), reduction="none"),
        lambda: T.nll_loss(torch.zeros(2, 3, 4), torch.zeros(2, 4, dtype=torch.long),
                           reduction="none")),
}


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_loss_edge_cases_match_torch_silently(case):
    ours, theirs = EDGE_CASES[case]
    out, expected = ours(), theirs()
    assert out.dtype == np.float32 and out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)
