"""Pooling, unpooling, adaptive pooling and interpolation of every rank against PyTorch:
ceil_mode, count_include_pad, dilation, return_indices, coordinate rules, layers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_nd as tg
from tinygrad_nd import nn
from tinygrad_nd.nn import functional as NF
from tinygrad_nd.testing.strategies import pool_configs

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _pair(x):
    return tg.Tensor(x, dtype=np.float64, requires_grad=True), torch.tensor(x, requires_grad=True)


def _check(ours, theirs, tx, px, rtol=1e-12):
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=1e-12)
    g = np.random.default_rng(2).standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(tx.grad.data, px.grad.numpy(), rtol=rtol, atol=1e-12)


@settings(max_examples=60)
@given(config=pool_configs(), seed=st.integers(0, 2**16))
def test_max_pool_of_every_rank_matches_torch_with_indices(config, seed):
    x = np.random.default_rng(seed).permutation(np.prod(config["x_shape"])).reshape(
        config["x_shape"]) * 0.1  # distinct values: no ties
    tx, px = _pair(x)
    dims = x.ndim - 2
    args = dict(kernel_size=config["kernel_size"], stride=config["stride"],
                padding=config["padding"], dilation=config["dilation"],
                ceil_mode=config["ceil_mode"], return_indices=True)
    (ours, idx), (theirs, tidx) = (getattr(NF, f"max_pool{dims}d")(tx, **args),
                                   getattr(F, f"max_pool{dims}d")(px, **args))
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    assert idx.dtype == np.int64 and not idx.requires_grad
    _check(ours, theirs, tx, px)


@settings(max_examples=60)
@given(config=pool_configs(dilated=False), seed=st.integers(0, 2**16))
def test_avg_pool_of_every_rank_matches_torch(config, seed):
    tx, px = _pair(np.random.default_rng(seed).standard_normal(config["x_shape"]))
    dims = tx.ndim - 2
    args = dict(kernel_size=config["kernel_size"], stride=config["stride"],
                padding=config["padding"], ceil_mode=config["ceil_mode"],
                count_include_pad=config["count_include_pad"])
    _check(getattr(NF, f"avg_pool{dims}d")(tx, **args),
           getattr(F, f"avg_pool{dims}d")(px, **args), tx, px)


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("kernel, stride, padding",
                         [(2, None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))])
def test_pooling_matches_torch_at_a_realistic_size(pool, kernel, stride, padding):
    tx, px = _pair(np.random.default_rng(1).standard_normal((2, 3, 8, 7)))
    _check(getattr(tg, pool)(tx, kernel, stride, padding),
           getattr(F, pool)(px, kernel, stride, padding), tx, px)


def test_max_pool_routes_gradient_to_the_argmax_and_avg_spreads_it():
    x = tg.Tensor([[[[1.0, 4.0], [2.0, 3.0]]]], requires_grad=True)
    tg.max_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]
    x.grad = None
    tg.avg_pool2d(x, 2).sum().backward()
    assert x.grad.tolist() == [[[[0.25, 0.25], [0.25, 0.25]]]]


def test_max_pool_ties_go_to_the_first_position_as_in_torch():
    x = np.zeros((1, 1, 4, 4))
    tx, px = _pair(x)
    _check(NF.max_pool2d(tx, 3, 1, 1), F.max_pool2d(px, 3, 1, 1), tx, px)


def test_a_window_of_padding_only_sends_its_gradient_nowhere():
    """A dilated window can cover padding only: its maximum is -inf, as PyTorch's, and its
    gradient is dropped (PyTorch writes it into the next channel's first pixel)."""
    x = tg.Tensor(np.array([[[[1.0]], [[2.0]]]]), requires_grad=True)
    y = NF.max_pool2d(x, (1, 2), 1, (0, 1), (1, 2))
    assert np.isneginf(y.data).all()
    y.sum().backward()
    assert x.grad.tolist() == [[[[0.0]], [[0.0]]]]


@pytest.mark.parametrize("fn, shape, kwargs", [
    ("max_pool1d", (0, 2, 6), {"kernel_size": 2, "ceil_mode": True}),
    ("max_pool3d", (0, 2, 4, 4, 4), {"kernel_size": 2}),
    ("avg_pool1d", (0, 3, 5), {"kernel_size": 2, "padding": 1, "count_include_pad": False}),
    ("avg_pool3d", (0, 1, 3, 3, 3), {"kernel_size": 2, "ceil_mode": True}),
    ("adaptive_avg_pool2d", (0, 2, 5, 7), {"output_size": 3}),
    ("adaptive_max_pool2d", (0, 2, 5, 7), {"output_size": (2, 3)}),
    ("interpolate", (0, 2, 3, 4), {"scale_factor": 2, "mode": "bilinear"}),
])
def test_empty_batches_match_torch(fn, shape, kwargs):
    tx, px = _pair(np.zeros(shape))
    ours, theirs = getattr(NF, fn)(tx, **kwargs), getattr(F, fn)(px, **kwargs)
    assert ours.shape == tuple(theirs.shape)
    _check(ours, theirs, tx, px)


@pytest.mark.parametrize("kernel, stride, padding, output_size", [
    (2, None, 0, None), (3, 2, 1, (8, 8)), (2, 2, 0, (9, 9)), ((3, 2), (2, 1), (1, 0), (8, 8))])
def test_max_unpool2d_inverts_max_pool2d_as_torch(kernel, stride, padding, output_size):
    x = np.random.default_rng(3).standard_normal((2, 3, 8, 8))
    pooled, idx = F.max_pool2d(torch.tensor(x), kernel, stride, padding, return_indices=True)
    tp, pp = _pair(pooled.numpy())
    ours = NF.max_unpool2d(tp, tg.Tensor(idx.numpy()), kernel, stride, padding, output_size)
    theirs = F.max_unpool2d(pp, idx, kernel, stride, padding, output_size)
    _check(ours, theirs, tp, pp)
    # the indices of our own max_pool2d are as good
    _, our_idx = NF.max_pool2d(tg.Tensor(x), kernel, stride, padding, return_indices=True)
    np.testing.assert_array_equal(our_idx.data, idx.numpy())


def test_max_unpool_checks_its_indices():
    with pytest.raises(ValueError, match=r"max_unpool2d: indices must lie in \[0, 16\)"):
        NF.max_unpool2d(tg.ones(1, 1, 2, 2), np.full((1, 1, 2, 2), 16), 2)
    with pytest.raises(ValueError, match="max_unpool1d: indices must be integers"):
        NF.max_unpool1d(tg.ones(1, 1, 2), np.zeros((1, 1, 2)), 2)


@pytest.mark.parametrize("fn", ["adaptive_avg_pool1d", "adaptive_avg_pool2d",
                                "adaptive_max_pool2d"])
@pytest.mark.parametrize("size, out", [((7,), 3), ((10,), 4), ((5,), 5), ((3,), 7),
                                       ((7, 5), (3, 2)), ((6, 9), (4, None)), ((4, 4), 1)])
def test_adaptive_pools_match_torch(fn, size, out):
    dims = 1 if fn.endswith("1d") else 2
    if len(size) != dims:
        size = (size * 2)[:dims]
        out = out if not isinstance(out, tuple) else out[0]
    x = np.random.default_rng(4).standard_normal((2, 3, *size))
    tx, px = _pair(x)
    ours, theirs = getattr(NF, fn)(tx, out), getattr(F, fn)(px, out)
    _check(ours, theirs, tx, px)
    if fn == "adaptive_max_pool2d":
        _, idx = NF.adaptive_max_pool2d(tg.Tensor(x), out, return_indices=True)
        np.testing.assert_array_equal(idx.data, F.adaptive_max_pool2d(
            torch.tensor(x), out, return_indices=True)[1].numpy())


INTERPOLATIONS = [  # input shape, keyword arguments
    ((2, 3, 5), dict(size=9)),
    ((2, 3, 5), dict(scale_factor=1.7)),
    ((1, 2, 4, 6), dict(scale_factor=(2, 0.5))),
    ((1, 2, 7, 3), dict(size=(3, 8))),
    ((1, 1, 3, 3, 4), dict(scale_factor=2)),
    ((1, 2, 5, 4), dict(scale_factor=2.5, recompute_scale_factor=True)),
]


@pytest.mark.parametrize("shape, kwargs", INTERPOLATIONS)
@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("linear", False),
                                                 ("linear", True)])
def test_interpolate_matches_torch(shape, kwargs, mode, align_corners):
    if mode == "linear":
        mode = {3: "linear", 4: "bilinear", 5: "trilinear"}[len(shape)]
    tx, px = _pair(np.random.default_rng(5).standard_normal(shape))
    _check(NF.interpolate(tx, mode=mode, align_corners=align_corners, **kwargs),
           F.interpolate(px, mode=mode, align_corners=align_corners, **kwargs), tx, px)


@pytest.mark.parametrize("call, error, match", [
    (lambda: NF.interpolate(tg.ones(1, 1, 4), size=3, scale_factor=2), ValueError,
     "interpolate: give exactly one of size and scale_factor"),
    (lambda: NF.interpolate(tg.ones(1, 1, 4), size=3, mode="bilinear"), ValueError,
     "interpolate: mode 'bilinear' does not take an input of shape"),
    (lambda: NF.interpolate(tg.ones(1, 1, 4), size=3, align_corners=True), ValueError,
     "interpolate: align_corners can only be set with the linear modes"),
    (lambda: NF.interpolate(tg.ones(1, 1, 4), scale_factor=-1), ValueError,
     "interpolate: scale_factor must be a positive number"),
    (lambda: NF.interpolate(tg.ones(1, 1, 4), size=2, mode="bicubic"), ValueError,
     "interpolate: mode must be one of"),
    (lambda: NF.max_pool3d(tg.ones(1, 1, 4, 4), 2), ValueError,
     r"max_pool3d: expected input \(N, C, D, H, W\)"),
    (lambda: NF.avg_pool1d(tg.ones(1, 1, 4), 2, ceil_mode=1), TypeError,
     "avg_pool1d: ceil_mode must be a bool"),
    (lambda: NF.max_pool1d(tg.ones(1, 1, 4), 3, dilation=2), ValueError,
     r"max_pool1d: kernel \(3,\) \(dilation \(2,\)\) is larger than the padded input"),
    (lambda: NF.adaptive_avg_pool2d(tg.ones(1, 1, 4, 4), (2, 0)), ValueError,
     "adaptive_avg_pool2d: output_size must be an int >= 1"),
    (lambda: nn.MaxPool3d(2, padding=2), ValueError, "MaxPool3d: padding"),
    (lambda: nn.AvgPool1d((2, 2)), TypeError, "AvgPool1d: kernel_size must be an int or a"),
    (lambda: nn.Upsample(), ValueError, "Upsample: give exactly one of size and scale_factor"),
])
def test_bad_arguments_name_the_function(call, error, match):
    with pytest.raises(error, match=match):
        call()


LAYERS = [  # ours, PyTorch's, input shape
    (lambda: nn.MaxPool1d(3, 2, 1, ceil_mode=True), lambda: torch.nn.MaxPool1d(3, 2, 1,
                                                                               ceil_mode=True),
     (2, 3, 10)),
    (lambda: nn.MaxPool3d(2, dilation=(1, 2, 1)), lambda: torch.nn.MaxPool3d(2, dilation=(1, 2, 1)),
     (1, 2, 4, 6, 4)),
    (lambda: nn.AvgPool1d(3, 2, 1, count_include_pad=False),
     lambda: torch.nn.AvgPool1d(3, 2, 1, count_include_pad=False), (2, 3, 9)),
    (lambda: nn.AvgPool2d(3, 2, 1, ceil_mode=True),
     lambda: torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True), (2, 3, 8, 8)),
    (lambda: nn.AvgPool3d((2, 1, 2)), lambda: torch.nn.AvgPool3d((2, 1, 2)), (1, 2, 4, 3, 4)),
    (lambda: nn.AdaptiveAvgPool2d((3, None)), lambda: torch.nn.AdaptiveAvgPool2d((3, None)),
     (2, 3, 7, 5)),
    (lambda: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
     lambda: torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
     (1, 2, 3, 4)),
    (lambda: nn.Upsample(size=(5, 7)), lambda: torch.nn.Upsample(size=(5, 7)), (1, 2, 3, 4)),
]


@pytest.mark.parametrize("ours, theirs, x_shape", LAYERS)
def test_pooling_layers_match_torch(ours, theirs, x_shape):
    tx, px = _pair(np.random.default_rng(6).standard_normal(x_shape))
    layer = ours()
    assert not layer.state_dict()
    _check(layer(tx), theirs()(px), tx, px)


def test_max_pool_layer_returns_indices_like_torch():
    x = np.random.default_rng(7).standard_normal((1, 2, 6, 6))
    out, idx = nn.MaxPool2d(2, return_indices=True)(tg.Tensor(x))
    t_out, t_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(idx.data, t_idx.numpy())
    np.testing.assert_allclose(out.data, t_out.numpy(), rtol=1e-6)
