"""Empty batches and zero-size arrays, forward and backward, against PyTorch.

PyTorch returns empty results for an empty batch, nan for a mean over nothing, and
zero-size gradients; so must we (no ZeroDivisionError, no reshape error, no numpy warning).
"""

import warnings

import numpy as np
import pytest

import tinygrad_nd as tg
import tinygrad_nd.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

NO_CLASSES = np.zeros(0, dtype=np.int64)

# name: (our function of the input tensors, PyTorch's, input shapes)
CASES = {
    "conv2d": (lambda x, w: F.conv2d(x, w), lambda x, w: TF.conv2d(x, w),
               [(0, 3, 5, 5), (2, 3, 3, 3)]),
    "conv2d padded strided": (lambda x, w: F.conv2d(x, w, stride=2, padding=1),
                              lambda x, w: TF.conv2d(x, w, stride=2, padding=1),
                              [(0, 3, 5, 5), (2, 3, 3, 3)]),
    "conv2d grouped, wide": (lambda x, w: F.conv2d(x, w, groups=2),
                             lambda x, w: TF.conv2d(x, w, groups=2),
                             [(0, 4, 20, 20), (2, 2, 3, 3)]),
    "cross_entropy": (lambda x: F.cross_entropy(x, NO_CLASSES),
                      lambda x: TF.cross_entropy(x, torch.tensor(NO_CLASSES)), [(0, 4)]),
    "cross_entropy sum": (lambda x: F.cross_entropy(x, NO_CLASSES, reduction="sum"),
                          lambda x: TF.cross_entropy(x, torch.tensor(NO_CLASSES),
                                                     reduction="sum"), [(0, 4)]),
    "cross_entropy none": (lambda x: F.cross_entropy(x, NO_CLASSES, reduction="none"),
                           lambda x: TF.cross_entropy(x, torch.tensor(NO_CLASSES),
                                                      reduction="none"), [(0, 4)]),
    "cross_entropy on probabilities": (
        lambda x: F.cross_entropy(x, np.zeros((0, 4), np.float32)),
        lambda x: TF.cross_entropy(x, torch.zeros(0, 4)), [(0, 4)]),
    "nll_loss": (lambda x: F.nll_loss(x, NO_CLASSES),
                 lambda x: TF.nll_loss(x, torch.tensor(NO_CLASSES)), [(0, 4)]),
    "mse_loss": (lambda x: F.mse_loss(x, np.zeros((0, 3), np.float32)),
                 lambda x: TF.mse_loss(x, torch.zeros(0, 3)), [(0, 3)]),
    "binary_cross_entropy": (
        lambda x: F.binary_cross_entropy(x.sigmoid(), np.zeros((0, 3), np.float32)),
        lambda x: TF.binary_cross_entropy(x.sigmoid(), torch.zeros(0, 3)), [(0, 3)]),
    "binary_cross_entropy_with_logits": (
        lambda x: F.binary_cross_entropy_with_logits(x, np.zeros((0, 3), np.float32)),
        lambda x: TF.binary_cross_entropy_with_logits(x, torch.zeros(0, 3)), [(0, 3)]),
    "softmax of an empty batch": (lambda x: x.softmax(axis=1),
                                  lambda x: torch.softmax(x, dim=1), [(0, 4)]),
    "softmax over an empty axis": (lambda x: x.softmax(axis=1),
                                   lambda x: torch.softmax(x, dim=1), [(3, 0)]),
    "log_softmax over an empty axis": (lambda x: x.log_softmax(axis=-1),
                                       lambda x: torch.log_softmax(x, dim=-1), [(3, 0)]),
    "log_softmax of an empty batch": (lambda x: x.log_softmax(axis=1),
                                      lambda x: torch.log_softmax(x, dim=1), [(0, 4)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2),
                   [(0, 3, 4, 4)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2),
                   [(0, 3, 4, 4)]),
    "linear": (lambda x, w, b: F.linear(x, w, b), lambda x, w, b: TF.linear(x, w, b),
               [(0, 3), (2, 3), (2,)]),
    "mean of nothing": (lambda x: x.mean(), lambda x: x.mean(), [(0,)]),
    "mean over an empty axis": (lambda x: x.mean(axis=0), lambda x: x.mean(dim=0), [(0, 3)]),
    "mean over an empty axis, kept": (lambda x: x.mean(axis=(0, 2), keepdims=True),
                                      lambda x: x.mean(dim=(0, 2), keepdim=True), [(2, 3, 0)]),
    "mean over a full axis of an empty array": (lambda x: x.mean(axis=1),
                                                lambda x: x.mean(dim=1), [(0, 3)]),
    "sum of nothing": (lambda x: x.sum(), lambda x: x.sum(), [(0, 3)]),
}


@pytest.mark.parametrize("create_graph", [False, True], ids=["first-order", "recorded"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_empty_input_matches_torch_forward_and_backward(name, create_graph):
    ours_fn, theirs_fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ours_fn(*ours)
        upstream = np.ones(out.shape, np.float32)
        grads = tg.grad(out, ours, tg.Tensor(upstream), create_graph=create_graph,
                        allow_unused=True)
    expected = theirs_fn(*theirs)
    want = torch.autograd.grad(expected, theirs, torch.tensor(upstream), allow_unused=True)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float32
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    for t, g, w in zip(ours, grads, want):
        w = np.zeros(t.shape, np.float32) if w is None else w.numpy()
        g = np.zeros(t.shape, np.float32) if g is None else g.data
        assert g.shape == w.shape == t.shape
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


def test_mean_over_nothing_is_nan_with_an_empty_gradient():
    x = tg.zeros(0, 3, requires_grad=True)
    loss = x.mean()
    assert np.isnan(loss.item())
    loss.backward()
    assert x.grad.shape == (0, 3)


def test_softmax_of_an_empty_array_still_refuses_a_bad_axis():
    with pytest.raises(ValueError, match="softmax: axis 4 is out of range"):
        tg.zeros(3, 0).softmax(axis=4)


def test_a_training_step_on_an_empty_batch_leaves_finite_weights_alone():
    # An empty last batch: the loss is nan, as in PyTorch, but no weight receives a
    # gradient element (all are zero, not nan), so nothing is corrupted.
    conv, linear = tg.nn.Conv2d(1, 2, 3), tg.nn.Linear(2, 3)
    loss = F.cross_entropy(linear(conv(tg.zeros(0, 1, 4, 4)).mean(axis=(2, 3)).relu()),
                           NO_CLASSES)
    assert np.isnan(loss.item())
    loss.backward()
    for p in [*conv.parameters(), *linear.parameters()]:
        np.testing.assert_array_equal(p.grad.data, 0.0)
