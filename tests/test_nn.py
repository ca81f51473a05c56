"""Modules, layers, initialisers, losses and state dicts."""

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import nn
from tinygrad_nd.nn import functional as F


def mlp():
    return nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))


def test_parameters_names_children_and_modes():
    net = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5), nn.Sequential(nn.Linear(3, 2)))
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias", "2.0.weight",
                                                      "2.0.bias"]
    assert len(list(net.children())) == 3 and len(list(net.modules())) == 5
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    assert net.num_parameters() == 4 * 3 + 3 + 3 * 2 + 2
    assert repr(net).endswith("# 23 parameters") and "(0): Linear(in_features=4" in repr(net)


def test_unknown_attribute_raises_instead_of_returning_none():
    with pytest.raises(AttributeError, match="'Linear' has no attribute 'wieght'"):
        nn.Linear(2, 2).wieght  # noqa: B018


def test_assigning_and_deleting_registered_attributes_keeps_the_registries_in_step():
    lin = nn.Linear(2, 2)
    lin.weight = nn.Parameter(tg.zeros(2, 2))
    assert lin.weight is dict(lin.named_parameters())["weight"]
    lin.weight = tg.ones(2, 2)  # a plain tensor is an attribute, no longer a parameter
    assert [n for n, _ in lin.named_parameters()] == ["bias"]
    del lin.bias
    assert list(lin.named_parameters()) == [] and not hasattr(lin, "bias")
    bn = nn.BatchNorm1d(3)
    bn.running_mean = tg.ones(3)  # assigning to a buffer replaces it, as in PyTorch
    assert dict(bn.named_buffers())["running_mean"] is bn.running_mean


def test_zero_grad_clears_parameter_grads():
    net = mlp()
    net(tg.ones(1, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_state_dict_round_trip_and_atomic_failure():
    a, b = mlp(), mlp()
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    before = {k: v.data.copy() for k, v in b.state_dict().items()}
    bad = a.state_dict()
    bad["2.weight"] = tg.zeros(5, 5)
    with pytest.raises(ValueError, match="'2.weight' has shape \\(5, 5\\)"):
        b.load_state_dict(bad)
    bad = a.state_dict()
    bad["0.weight"] = tg.zeros(3, 4)  # valid, comes first: must not be applied either
    bad["extra"] = tg.zeros(1)
    with pytest.raises(KeyError, match="unexpected keys \\['extra'\\]"):
        b.load_state_dict(bad)
    bad.pop("extra")
    bad["0.bias"] = tg.zeros(3, dtype=np.float64)
    with pytest.raises(TypeError, match="'0.bias' has dtype float64"):
        b.load_state_dict(bad)
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k])


@pytest.mark.parametrize("suffix", [".safetensors", ".npz"])
def test_save_and_load(tmp_path, suffix):
    a, b = mlp(), mlp()
    path = tmp_path / f"net{suffix}"
    a.save(path)
    b.load(path)
    np.testing.assert_array_equal(a[0].weight.data, b[0].weight.data)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_batchnorm_train_and_eval():
    bn = nn.BatchNorm1d(3)
    x = tg.randn(16, 3) * 5 + 2
    y = bn(x)
    np.testing.assert_allclose(y.data.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(y.data.std(axis=0), 1, atol=1e-3)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.data.mean(axis=0), rtol=1e-5)
    bn.eval()
    z = bn(x)
    expected = (x.data - bn.running_mean.data) / np.sqrt(bn.running_var.data + 1e-5)
    np.testing.assert_allclose(z.data, expected, rtol=1e-5)
    assert "running_mean" in bn.state_dict()
    bn2 = nn.BatchNorm2d(2)
    assert bn2(tg.randn(4, 2, 3, 3)).shape == (4, 2, 3, 3)
    with pytest.raises(ValueError, match="BatchNorm2d: expected input with"):
        bn2(tg.randn(4, 3, 3, 3))


def test_batchnorm_gradients_are_right():
    x = tg.Tensor(np.random.default_rng(0).standard_normal((5, 3)), dtype=np.float64,
                  requires_grad=True)
    w = tg.Tensor(np.ones(3) * 1.5, dtype=np.float64, requires_grad=True)
    assert tg.gradcheck(lambda x, w: F.batch_norm(x, None, None, w, None, True), (x, w))


def test_dropout_train_eval_and_scaling():
    d = nn.Dropout(0.5, generator=tg.Generator(0))
    x = tg.ones(1000)
    y = d(x)
    kept = y.data != 0
    assert 400 < kept.sum() < 600 and np.allclose(y.data[kept], 2.0)
    d.eval()
    assert d(x) is x


def test_residual_conv_pool_flatten_shapes():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                        nn.Residual(nn.Conv2d(4, 4, 3, padding=1)), nn.MaxPool2d(2),
                        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 2 * 2, 3), nn.LogSoftmax(1))
    out = net(tg.randn(2, 1, 8, 8))
    assert out.shape == (2, 3)
    np.testing.assert_allclose(np.exp(out.data).sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("scheme, check", [
    ("standard", lambda w, fi, fo: abs(w.std() - 1) < 0.05),
    ("nielsen", lambda w, fi, fo: abs(w.std() - fi ** -0.5) < 0.05 * fi ** -0.5),
    ("xavier_normal", lambda w, fi, fo: abs(w.std() - (2 / (fi + fo)) ** 0.5) < 0.003),
    ("xavier_uniform", lambda w, fi, fo: abs(w).max() <= (6 / (fi + fo)) ** 0.5),
    ("kaiming_normal", lambda w, fi, fo: abs(w.std() - (2 / fi) ** 0.5) < 0.005),
    ("kaiming_uniform", lambda w, fi, fo: abs(w).max() <= (6 / fi) ** 0.5),
    ("pytorch", lambda w, fi, fo: abs(w).max() <= fi ** -0.5),
    ("zeros", lambda w, fi, fo: (w == 0).all()),
])
def test_init_schemes_have_the_documented_spread(scheme, check):
    layer = nn.Linear(400, 300, init=scheme, generator=tg.Generator(0))
    assert check(layer.weight.data, 400, 300)
    if scheme in ("standard", "nielsen"):
        assert abs(layer.bias.data.std() - 1) < 0.15
    with pytest.raises(ValueError, match="unknown scheme"):
        nn.Linear(2, 2, init="bogus")


def test_losses_match_closed_forms():
    logits = tg.Tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], requires_grad=True)
    target = [0, 2]
    logp = logits.data - np.log(np.exp(logits.data).sum(1, keepdims=True))
    expected = -(logp[0, 0] + logp[1, 2]) / 2
    np.testing.assert_allclose(F.cross_entropy(logits, target).item(), expected, rtol=1e-6)
    one_hot = np.eye(3, dtype=np.float32)[target]
    np.testing.assert_allclose(F.cross_entropy(logits, one_hot).item(), expected, rtol=1e-6)
    assert F.cross_entropy(logits, target, reduction="none").shape == (2,)
    p, y = tg.Tensor([0.9, 0.2]), tg.Tensor([1.0, 0.0])
    np.testing.assert_allclose(F.binary_cross_entropy(p, y).item(),
                               -(np.log(0.9) + np.log(0.8)) / 2, rtol=1e-6)
    z = tg.Tensor([2.0, -1.0])
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(z, y).item(),
                               F.binary_cross_entropy(z.sigmoid(), y).item(), rtol=1e-6)
    np.testing.assert_allclose(F.mse_loss(p, y, half=True).item(), (0.01 + 0.04) / 4, rtol=1e-6)
    assert nn.CrossEntropyLoss(reduction="sum")(logits, target).item() == pytest.approx(
        2 * expected, rel=1e-6)


def test_losses_are_stable_at_huge_logits():
    import warnings

    logits = tg.Tensor([[1e4, -1e4], [-1e4, 1e4]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(logits, [1, 1]) + F.binary_cross_entropy_with_logits(
            logits, tg.Tensor([[0.0, 1.0], [1.0, 0.0]]))
        loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad.data).all()


def test_cross_entropy_refuses_bad_labels():
    with pytest.raises(ValueError, match="target class 10 is out of range for 10 classes"):
        F.cross_entropy(tg.zeros(2, 10), [3, 10])
    for dtype in (np.int8, np.int64):  # negative labels, whatever the integer width
        with pytest.raises(ValueError, match="target class -1 is out of range for 10 classes"):
            F.cross_entropy(tg.zeros(2, 10), np.array([3, -1], dtype=dtype))
    with pytest.raises(ValueError, match="target class 200 is out of range"):
        F.cross_entropy(tg.zeros(2, 10), np.array([3, 200], dtype=np.uint8))
    with pytest.raises(ValueError, match="expected 2 class indices"):
        F.cross_entropy(tg.zeros(2, 10), [3, 1, 2])
    with pytest.raises(ValueError, match="linear: input with 5 features"):
        nn.Linear(4, 2)(tg.zeros(3, 5))


def test_clip_grad_norm_and_value_return_pre_clip_size():
    a, b = tg.ones(3, requires_grad=True), tg.ones(4, requires_grad=True)
    (a * 3).sum().backward()
    (b * 4).sum().backward()
    total = nn.utils.clip_grad_norm_([a, b], 1.0)
    assert total == pytest.approx(np.sqrt(9 * 3 + 16 * 4))
    new_norm = np.sqrt((a.grad.data ** 2).sum() + (b.grad.data ** 2).sum())
    assert new_norm == pytest.approx(1.0, rel=1e-4)
    assert nn.utils.clip_grad_value_([a, b], 0.1) == pytest.approx(4 / total, rel=1e-4)
    assert np.abs(b.grad.data).max() <= 0.1


def test_mlp_builds_the_book_net_and_takes_any_activation():
    net = nn.mlp([6, 5, 5, 3], activation="leaky_relu", output="sigmoid", residual=True,
                 batchnorm=True, generator=tg.Generator(0))
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "BatchNorm1d", "LeakyReLU", "Residual", "Linear", "Sigmoid"]
    assert net(tg.randn(4, 6)).shape == (4, 3)
    assert type(nn.mlp([2, 2, 2], activation=nn.Tanh)[1]) is nn.Tanh
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        nn.mlp([2, 2, 2], activation="swishy")
    with pytest.raises(ValueError, match="at least an input and an output"):
        nn.mlp([3])
