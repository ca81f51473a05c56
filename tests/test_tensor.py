"""Tensor construction, factories, numpy interop, indexing, shapes and error messages."""

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import Tensor


def test_construction_from_list_scalar_array_and_tensor():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(3.0).shape == () and Tensor(3.0).item() == 3.0
    assert Tensor(np.arange(3)).dtype == np.int64
    assert Tensor(np.zeros(2), dtype=np.float64).dtype == np.float64
    a = Tensor([1.0])
    b = Tensor(a)
    b.data[0] = 5.0
    assert a.item() == 1.0  # copied from a Tensor
    assert np.asarray(Tensor([[1.0, 2.0]])).shape == (1, 2)


def test_default_dtype_can_be_float64():
    tg.set_default_dtype(np.float64)
    assert Tensor([1.0]).dtype == np.float64 and tg.randn(2).dtype == np.float64
    tg.set_default_dtype(np.float32)
    with pytest.raises(TypeError, match="floating"):
        tg.set_default_dtype(np.int32)


def test_properties_and_conversions():
    t = tg.ones(2, 3)
    assert (t.shape, t.ndim, t.size, t.is_leaf, t.dtype) == ((2, 3), 2, 6, True, np.float32)
    assert t.double().dtype == np.float64 and t.long().dtype == np.int64
    assert not (t * 2).detach().requires_grad
    with pytest.raises(ValueError, match="only one-element"):
        t.item()
    assert "requires_grad=True" in repr(tg.ones(1, requires_grad=True))
    assert "op=mul" in repr(tg.ones(1, requires_grad=True) * 2)


def test_factories_and_seeded_generators():
    assert tg.zeros(2, 3).tolist() == [[0.0] * 3] * 2
    assert tg.ones((2,)).tolist() == [1.0, 1.0]
    assert tg.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert tg.arange(3).tolist() == [0, 1, 2] and tg.arange(0.0, 1.0, 0.5).dtype == np.float32
    assert tg.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    t = tg.randn(3, 4)
    assert tg.zeros_like(t).shape == t.shape and tg.ones_like(t).dtype == t.dtype
    assert tg.rand_like(t).shape == (3, 4) and tg.randn_like(t).shape == (3, 4)
    a = tg.randn(5, generator=tg.Generator(42))
    b = tg.randn(5, generator=tg.Generator(42))
    np.testing.assert_array_equal(a.data, b.data)
    tg.manual_seed(3)
    c = tg.rand(4)
    tg.manual_seed(3)
    np.testing.assert_array_equal(c.data, tg.rand(4).data)
    r = tg.rand(1000)
    assert 0.0 <= r.data.min() and r.data.max() < 1.0


def test_integer_array_indexing_with_repeats_accumulates_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def test_indexing_with_slices_none_ellipsis_and_tensors():
    x = tg.arange(24.0).reshape(2, 3, 4)
    assert x[..., 1].shape == (2, 3)
    assert x[None, 0, 1:, ::2].shape == (1, 2, 2)
    assert x[Tensor([1, 0])].shape == (2, 3, 4)
    rows, cols = Tensor([0, 1]), Tensor([2, 0])
    np.testing.assert_array_equal(x[0][rows, cols].data, x.data[0][[0, 1], [2, 0]])


def test_broadcasting_reductions_give_input_shaped_grads():
    x = Tensor(np.ones((3, 1)), requires_grad=True)
    y = Tensor(np.ones((1, 4)), requires_grad=True)
    ((x * y).sum(axis=0, keepdims=True) * tg.arange(4.0)).mean().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (1, 4)
    np.testing.assert_allclose(x.grad.data, np.full((3, 1), (0 + 1 + 2 + 3) / 4))


def test_reductions_with_axis_dim_alias_and_keepdims():
    x = tg.arange(6.0).reshape(2, 3)
    assert x.sum(dim=1).tolist() == [3.0, 12.0]
    assert x.max(axis=0, keepdims=True).shape == (1, 3)
    assert x.min().item() == 0.0
    np.testing.assert_allclose(x.var(axis=1).data, np.var(x.data, axis=1))
    np.testing.assert_allclose(x.std(ddof=1).data, np.std(x.data, ddof=1), rtol=1e-6)
    with pytest.raises(ValueError, match="sum: axis 2 is out of range"):
        x.sum(axis=2)


def test_max_ties_share_the_gradient():
    x = Tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5])


def test_shape_ops():
    x = tg.arange(6.0).reshape(2, 3)
    assert x.T.shape == (3, 2) and x.permute(1, 0).shape == (3, 2)
    assert x.unsqueeze(0).shape == (1, 2, 3) and x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.unsqueeze(1).squeeze().shape == (2, 3) and x.flatten().shape == (6,)
    assert x.view(3, 2).shape == (3, 2) and x.reshape(-1, 1).shape == (6, 1)
    assert x[:, :1].expand(2, 5).shape == (2, 5) and x.broadcast_to((4, 2, 3)).shape == (4, 2, 3)
    assert tg.cat([x, x], axis=1).shape == (2, 6) and tg.stack([x, x]).shape == (2, 2, 3)
    assert [p.shape for p in x.split([1, 2], axis=1)] == [(2, 1), (2, 2)]
    assert x.pad(((1, 0), (0, 2))).shape == (3, 5)
    assert x.mT.shape == (3, 2)


def test_where_maximum_minimum_clip():
    x = Tensor([-1.0, 0.5, 2.0], requires_grad=True)
    y = tg.where(x > 0, x * 2, x.minimum(0.0)) + tg.maximum(x, 0.0) + x.clip(-0.5, 1.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0, 4.0, 3.0])


def test_matmul_1d_and_batched_cases():
    a, b = tg.randn(3), tg.randn(3)
    assert (a @ b).shape == ()
    m = tg.randn(2, 4, 3)
    assert (m @ a).shape == (2, 4) and (tg.randn(4) @ m).shape == (2, 3)
    assert (m @ tg.randn(3, 5)).shape == (2, 4, 5)


@pytest.mark.parametrize("fn, message", [
    (lambda: tg.ones(2, 3) @ tg.ones(2, 3), r"matmul: shapes \(2, 3\) and \(2, 3\) are not"),
    (lambda: tg.ones(2, 3) + tg.ones(4), r"add: .*\(input shapes \(2, 3\), \(4,\)\)"),
    (lambda: tg.ones(2, 3).reshape(4), r"reshape: cannot reshape a tensor of shape \(2, 3\)"),
    (lambda: tg.cat([tg.ones(2, 3), tg.ones(3, 2)]), r"cat: .*shapes \[\(2, 3\), \(3, 2\)\]"),
    (lambda: tg.conv2d(tg.ones(1, 3, 5, 5), tg.ones(4, 2, 3, 3)),
     r"conv2d: weight of shape \(4, 2, 3, 3\) expects 2 input channels"),
    (lambda: tg.conv2d(tg.ones(1, 1, 2, 2), tg.ones(1, 1, 3, 3)), r"conv2d: kernel .*does not fit"),
    (lambda: tg.conv2d(tg.ones(1, 5, 5), tg.ones(1, 1, 3, 3)), r"conv2d: expected input \(N, C"),
    (lambda: tg.max_pool2d(tg.ones(1, 1, 4, 4), 2, padding=2), r"max_pool2d: padding"),
    (lambda: tg.ones(2).expand(3), r"expand: cannot broadcast a tensor of shape \(2,\)"),
])
def test_errors_name_the_op_and_the_shapes(fn, message):
    with pytest.raises(ValueError, match=message):
        fn()


def test_comparisons_return_bool_tensors_without_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad and m.tolist() == [False, True]
    assert (x == 1.0).tolist() == [True, False] and x in {x}


def test_setitem_and_in_place_methods_bump_version():
    t = tg.zeros(3)
    t[1] = 5.0
    t.add_(1.0).mul_(2.0)
    assert t.tolist() == [2.0, 12.0, 2.0] and t._version[0] == 3
    t.zero_()
    assert t.tolist() == [0.0, 0.0, 0.0]


def test_pytorch_dim_alias_everywhere_it_applies():
    x = tg.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(x.softmax(dim=0).data, x.softmax(axis=0).data)
    np.testing.assert_allclose(x.log_softmax(dim=1).data, x.log_softmax(1).data)
    assert x.unsqueeze(dim=1).shape == (2, 1, 3) and x.squeeze(dim=0).shape == (2, 3)
    assert x.mean(dim=1).tolist() == [1.0, 4.0]
    with pytest.raises(TypeError, match="either axis= or its alias dim="):
        x.sum(axis=0, dim=1)
