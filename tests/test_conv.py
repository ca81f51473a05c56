"""conv2d and pooling against PyTorch at realistic sizes, every hyper-parameter exercised."""

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd.ops import conv as conv_ops

torch = pytest.importorskip("torch")
F = torch.nn.functional

CONV_CASES = [  # x shape, w shape, stride, padding, dilation, groups
    ((2, 3, 9, 9), (4, 3, 3, 3), 1, 0, 1, 1),
    ((2, 3, 9, 8), (4, 3, 3, 2), 2, 1, 1, 1),
    ((1, 4, 10, 10), (6, 2, 3, 3), (1, 2), (2, 1), 2, 2),
    ((3, 4, 7, 7), (4, 1, 5, 5), 1, 2, 1, 4),  # depthwise
    ((2, 1, 28, 28), (8, 1, 5, 5), 1, 0, 1, 1),  # the benchmark CNN's first layer
    ((17, 4, 8, 8), (6, 2, 3, 3), 1, 1, 1, 2),  # images 2 KiB apart: blocked batch-last copies
    ((4, 2, 24, 24), (3, 2, 3, 3), 1, 1, 1, 1),  # channels big enough for per-channel copies
]


@pytest.mark.parametrize("batch_last_max_width", [0, 10**6], ids=["nchw", "batch_last"])
@pytest.mark.parametrize("xs, ws, stride, padding, dilation, groups", CONV_CASES)
def test_conv2d_matches_torch_forward_and_backward(xs, ws, stride, padding, dilation, groups,
                                                   batch_last_max_width, monkeypatch):
    monkeypatch.setattr(conv_ops, "BATCH_LAST_MAX_WIDTH", batch_last_max_width)
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    tx, tw, tb = (tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in (x, w, b))
    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ours = tg.conv2d(tx, tw, tb, stride=stride, padding=padding, dilation=dilation, groups=groups)
    theirs = F.conv2d(px, pw, pb, stride=stride, padding=padding, dilation=dilation,
                      groups=groups)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    for a, t in ((tx, px), (tw, pw), (tb, pb)):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("kernel, stride, padding",
                         [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))])
def test_pooling_matches_torch(pool, kernel, stride, padding):
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 7))
    tx, px = tg.Tensor(x, dtype=np.float64, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = getattr(tg, pool)(tx, kernel, stride, padding)
    theirs = getattr(F, pool)(px, kernel, stride, padding)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(2).standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(tx.grad.data, px.grad.numpy(), rtol=1e-12)


def test_max_pool_routes_gradient_to_the_argmax_and_avg_spreads_it():
    x = tg.Tensor([[[[1.0, 4.0], [2.0, 3.0]]]], requires_grad=True)
    tg.max_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]
    x.grad = None
    tg.avg_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[0.25, 0.25], [0.25, 0.25]]]]


def test_conv_second_derivatives_match_torch():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    tx, tw = (tg.Tensor(a, dtype=np.float64, requires_grad=True) for a in (x, w))
    px, pw = (torch.tensor(a, requires_grad=True) for a in (x, w))
    (gx,) = tg.grad(tg.conv2d(tx, tw, padding=1).tanh().sum(), tx, create_graph=True)
    (gx_t,) = torch.autograd.grad(F.conv2d(px, pw, padding=1).tanh().sum(), px, create_graph=True)
    (gx * gx).sum().backward()
    (gx_t * gx_t).sum().backward()
    np.testing.assert_allclose(tw.grad.data, pw.grad.numpy(), rtol=1e-9)
