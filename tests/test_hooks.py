"""Hook semantics on tensors and modules: order, removal, replacement, context managers."""

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import nn


def test_tensor_hooks_run_in_order_and_can_replace_the_gradient():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(("first", g.tolist())))
    x.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: calls.append(("third", g.tolist())))
    (x * 3).sum().backward()
    assert calls == [("first", [3.0, 3.0]), ("third", [30.0, 30.0])]
    assert x.grad.tolist() == [30.0, 30.0]


def test_hook_on_intermediate_changes_what_flows_upstream():
    x = tg.Tensor([1.0], requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: g * 0)
    (h * 5).sum().backward()
    assert x.grad.tolist() == [0.0]


def test_removed_and_context_managed_hooks_stop_firing():
    x = tg.Tensor([1.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(1))
    handle.remove()
    handle.remove()  # idempotent
    with x.register_hook(lambda g: seen.append(2)):
        x.sum().backward()
    x.sum().backward()
    assert seen == [2]


def test_hook_returning_wrong_shape_is_refused():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: tg.ones(3))
    with pytest.raises(RuntimeError, match="hook on tensor of shape \\(2,\\) returned"):
        x.sum().backward()


def test_retain_grad_keeps_intermediate_gradient():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.retain_grad()
    h.sum().backward()
    assert h.grad.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 4.0]


def test_module_forward_hooks_order_and_replacement():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    order = []
    net[0].register_forward_pre_hook(lambda m, inputs: order.append("pre"))
    net[0].register_forward_hook(lambda m, inputs, out: order.append("post"))
    h = net[1].register_forward_hook(lambda m, inputs, out: out * 0 + 7)
    out = net(tg.ones(1, 2))
    assert order == ["pre", "post"] and out.tolist() == [[7.0, 7.0]]
    h.remove()
    assert net(tg.ones(1, 2)).tolist() != [[7.0, 7.0]]
    net[0].register_forward_pre_hook(lambda m, inputs: (inputs[0] * 0,))
    assert np.allclose(net[0](tg.ones(1, 2)).data, net[0].bias.data)


def test_full_backward_hook_on_sequential_children():
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x = tg.randn(5, 3, requires_grad=True)
    records = {}
    for name, child in net.named_children():
        child.register_full_backward_hook(
            lambda m, gin, gout, name=name: records.__setitem__(name, (gin, gout)))
    net(x).sum().backward()
    assert set(records) == {"0", "1", "2"}
    gin, gout = records["2"]
    np.testing.assert_allclose(gout[0].data, np.ones((5, 2)))
    gin1, gout1 = records["1"]
    np.testing.assert_allclose(gin[0].data, gout1[0].data, rtol=1e-6)  # chain links up
    np.testing.assert_allclose(records["0"][0][0].data, x.grad.data, rtol=1e-6)


def test_full_backward_hook_sees_only_its_own_share_and_can_replace_grad_input():
    layer = nn.Linear(2, 2)
    x = tg.ones(1, 2, requires_grad=True)
    seen = []

    def hook(module, grad_input, grad_output):
        seen.append(grad_input[0].data.copy())
        return (grad_input[0] * 0,)

    layer.register_full_backward_hook(hook)
    (layer(x).sum() + x.sum()).backward()  # x also used outside the module
    assert seen[0].shape == (1, 2)
    np.testing.assert_allclose(x.grad.data, np.ones((1, 2)))  # only the outside path remains


def test_backward_hook_with_input_not_requiring_grad_gets_none():
    layer = nn.Linear(2, 1)
    got = []
    layer.register_full_backward_hook(lambda m, gin, gout: got.append((gin, gout[0].shape)))
    layer(tg.ones(3, 2)).sum().backward()
    assert got == [((None,), (3, 1))]
