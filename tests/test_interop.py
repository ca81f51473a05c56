"""tinygrad_nd <-> PyTorch: to_torch/from_torch build the same model (outputs, gradients of
parameters and inputs equal to 1e-5, float64), round trips are exact, state dicts load with
strict=True both ways (in memory and through safetensors files), and a layer without a twin
is refused with its name and path."""

import sys

import numpy as np
import pytest
from _parity import assert_close, flatten_outputs, weighted_sum

import tinygrad_nd as tg
from tinygrad_nd import interop, nn

torch = pytest.importorskip("torch")

F64 = {"ours": {"dtype": np.float64}, "torch": {"dtype": torch.float64}}
RNG = np.random.default_rng(0)


def normal(*shape):
    return RNG.standard_normal(shape)


def indices(*shape):
    return RNG.integers(0, 6, shape)


def layer(build, *inputs, train=False):
    """A catalogue entry: ``build(lib, **dtype)`` for lib = tinygrad_nd.nn or torch.nn."""
    return build, inputs, train


# One entry per supported layer (and a few settings that change the state dict or the math).
LAYERS = {
    "Linear": layer(lambda L, **k: L.Linear(4, 3, **k), normal(2, 4)),
    "Linear-nobias": layer(lambda L, **k: L.Linear(4, 3, bias=False, **k), normal(2, 4)),
    "Conv1d": layer(lambda L, **k: L.Conv1d(2, 3, 3, stride=2, padding=1, **k), normal(2, 2, 7)),
    "Conv2d": layer(lambda L, **k: L.Conv2d(2, 4, 3, padding=1, groups=2, **k),
                    normal(2, 2, 5, 5)),
    "Conv3d": layer(lambda L, **k: L.Conv3d(1, 2, 2, dilation=1, **k), normal(1, 1, 3, 4, 3)),
    "ConvTranspose1d": layer(lambda L, **k: L.ConvTranspose1d(2, 3, 3, stride=2, **k),
                             normal(2, 2, 4)),
    "ConvTranspose2d": layer(lambda L, **k: L.ConvTranspose2d(2, 2, 3, stride=2, padding=1,
                                                              output_padding=1, **k),
                             normal(1, 2, 3, 3)),
    "ConvTranspose3d": layer(lambda L, **k: L.ConvTranspose3d(1, 2, 2, stride=2, **k),
                             normal(1, 1, 2, 2, 2)),
    "BatchNorm1d-train": layer(lambda L, **k: L.BatchNorm1d(3, **k), normal(5, 3), train=True),
    "BatchNorm1d-eval": layer(lambda L, **k: L.BatchNorm1d(3, momentum=None, **k),
                              normal(5, 3, 2)),
    "BatchNorm2d-train": layer(lambda L, **k: L.BatchNorm2d(2, **k), normal(3, 2, 2, 2),
                               train=True),
    "BatchNorm3d-noaffine": layer(lambda L, **k: L.BatchNorm3d(2, affine=False, **k),
                                  normal(2, 2, 2, 2, 2), train=True),
    "BatchNorm2d-nostats": layer(lambda L, **k: L.BatchNorm2d(2, track_running_stats=False,
                                                             **k), normal(3, 2, 2, 2)),
    "InstanceNorm1d": layer(lambda L, **k: L.InstanceNorm1d(3, affine=True, **k),
                            normal(2, 3, 5)),
    "InstanceNorm2d": layer(lambda L, **k: L.InstanceNorm2d(2, track_running_stats=True, **k),
                            normal(2, 2, 3, 3), train=True),
    "InstanceNorm1d-cumulative": layer(lambda L, **k: L.InstanceNorm1d(
        2, momentum=None, track_running_stats=True, **k), normal(3, 2, 4), train=True),
    "LayerNorm": layer(lambda L, **k: L.LayerNorm((3, 4), **k), normal(2, 3, 4)),
    "LayerNorm-nobias": layer(lambda L, **k: L.LayerNorm(4, bias=False, **k), normal(2, 4)),
    "GroupNorm": layer(lambda L, **k: L.GroupNorm(2, 4, **k), normal(2, 4, 3)),
    "Embedding": layer(lambda L, **k: L.Embedding(6, 3, padding_idx=1, **k), indices(2, 4)),
    "RNN": layer(lambda L, **k: L.RNN(3, 4, num_layers=2, nonlinearity="relu", **k),
                 normal(5, 2, 3)),
    "LSTM": layer(lambda L, **k: L.LSTM(3, 4, bidirectional=True, batch_first=True, **k),
                  normal(2, 5, 3)),
    "LSTM-proj": layer(lambda L, **k: L.LSTM(3, 4, proj_size=2, **k), normal(4, 3)),
    "GRU": layer(lambda L, **k: L.GRU(3, 4, bias=False, **k), normal(5, 2, 3)),
    "RNNCell": layer(lambda L, **k: L.RNNCell(3, 4, nonlinearity="tanh", **k), normal(2, 3)),
    "LSTMCell": layer(lambda L, **k: L.LSTMCell(3, 4, **k), normal(2, 3)),
    "GRUCell": layer(lambda L, **k: L.GRUCell(3, 4, **k), normal(2, 3)),
    "MultiheadAttention": layer(lambda L, **k: L.MultiheadAttention(4, 2, batch_first=True,
                                                                    **k),
                                normal(2, 3, 4), normal(2, 5, 4), normal(2, 5, 4)),
    "MultiheadAttention-kvdim": layer(lambda L, **k: L.MultiheadAttention(4, 2, kdim=3, vdim=2,
                                                                          bias=False, **k),
                                      normal(3, 2, 4), normal(5, 2, 3), normal(5, 2, 2)),
    "MaxPool1d": layer(lambda L, **k: L.MaxPool1d(2), normal(1, 2, 6)),
    "MaxPool2d": layer(lambda L, **k: L.MaxPool2d(3, stride=2, ceil_mode=True),
                       normal(1, 2, 6, 6)),
    "MaxPool3d": layer(lambda L, **k: L.MaxPool3d(2), normal(1, 1, 4, 4, 2)),
    "AvgPool1d": layer(lambda L, **k: L.AvgPool1d(3, stride=1, padding=1), normal(1, 2, 5)),
    "AvgPool2d": layer(lambda L, **k: L.AvgPool2d(2, padding=1, count_include_pad=False),
                       normal(1, 2, 5, 5)),
    "AvgPool3d": layer(lambda L, **k: L.AvgPool3d(2), normal(1, 1, 4, 2, 2)),
    "AdaptiveAvgPool2d": layer(lambda L, **k: L.AdaptiveAvgPool2d((2, 3)), normal(1, 2, 5, 7)),
    "Upsample": layer(lambda L, **k: L.Upsample(scale_factor=2, mode="bilinear",
                                                 align_corners=False), normal(1, 1, 3, 4)),
    "Dropout-eval": layer(lambda L, **k: L.Dropout(0.3), normal(3, 4)),
    "Flatten": layer(lambda L, **k: L.Flatten(), normal(2, 3, 4)),
    "Unflatten": layer(lambda L, **k: L.Unflatten(1, (2, 3)), normal(2, 6)),
    "Identity": layer(lambda L, **k: L.Identity(), normal(2, 3)),
    **{name: layer(lambda L, name=name, **k: getattr(L, name)(), normal(3, 4))
       for name in ("Sigmoid", "Tanh", "ReLU", "ReLU6", "Hardsigmoid", "Hardswish", "SiLU",
                    "Mish", "SELU", "Softsign", "LogSigmoid", "GLU")},
    **{name: layer(lambda L, name=name, **k: getattr(L, name)(dim=1), normal(3, 4))
       for name in ("Softmax", "LogSoftmax", "Softmin")},
    "GELU-tanh": layer(lambda L, **k: L.GELU(approximate="tanh"), normal(3, 4)),
    "LeakyReLU": layer(lambda L, **k: L.LeakyReLU(0.2), normal(3, 4)),
    "ELU": layer(lambda L, **k: L.ELU(0.5), normal(3, 4)),
    "CELU": layer(lambda L, **k: L.CELU(2.0), normal(3, 4)),
    "Softplus": layer(lambda L, **k: L.Softplus(beta=2.0), normal(3, 4)),
    "Softmax-dim0": layer(lambda L, **k: L.Softmax(dim=0), normal(3, 4)),
    "Hardtanh": layer(lambda L, **k: L.Hardtanh(-0.5, 0.7), normal(3, 4)),
    "Threshold": layer(lambda L, **k: L.Threshold(0.1, -2.0), normal(3, 4)),
    "MSELoss": layer(lambda L, **k: L.MSELoss(), normal(3, 4), normal(3, 4)),
    "L1Loss": layer(lambda L, **k: L.L1Loss(reduction="sum"), normal(3, 4), normal(3, 4)),
    "SmoothL1Loss": layer(lambda L, **k: L.SmoothL1Loss(beta=0.5), normal(3, 4), normal(3, 4)),
    "HuberLoss": layer(lambda L, **k: L.HuberLoss(reduction="none", delta=0.5), normal(3, 4),
                       normal(3, 4)),
    "KLDivLoss": layer(lambda L, **k: L.KLDivLoss(reduction="batchmean", log_target=True),
                       normal(3, 4), normal(3, 4)),
    "MarginRankingLoss": layer(lambda L, **k: L.MarginRankingLoss(margin=0.3), normal(5),
                               normal(5), np.sign(normal(5))),
    "BCELoss": layer(lambda L, **k: L.BCELoss(weight=_weight(L, 4)), RNG.uniform(0.1, 0.9, (3, 4)),
                     RNG.uniform(0, 1, (3, 4))),
    "BCEWithLogitsLoss": layer(lambda L, **k: L.BCEWithLogitsLoss(
        weight=_weight(L, 4), pos_weight=_weight(L, 4) * 2), normal(3, 4),
        RNG.uniform(0, 1, (3, 4))),
    "NLLLoss": layer(lambda L, **k: L.NLLLoss(weight=_weight(L, 6), ignore_index=2),
                     normal(5, 6), indices(5)),
    "CrossEntropyLoss": layer(lambda L, **k: L.CrossEntropyLoss(label_smoothing=0.1),
                              normal(5, 6), indices(5)),
    "CrossEntropyLoss-weight": layer(lambda L, **k: L.CrossEntropyLoss(_weight(L, 6)),
                                     normal(5, 6), indices(5)),
    "CosineSimilarity": layer(lambda L, **k: L.CosineSimilarity(dim=1), normal(3, 4),
                              normal(3, 4)),
}
def _weight(L, n):
    """A float64 rescaling weight of ``n`` values, as the library ``L`` takes it."""
    values = np.linspace(0.5, 2.0, n)
    return torch.tensor(values) if L is torch.nn else tg.Tensor(values, dtype=np.float64)


def compare(ours, theirs, arrays):
    """Same outputs, parameter gradients and input gradients, under one random upstream."""
    t_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    o_in = [tg.Tensor(a, dtype=a.dtype, requires_grad=a.dtype.kind == "f") for a in arrays]
    t_out = flatten_outputs(theirs(*t_in))
    o_out = flatten_outputs(ours(*o_in))
    assert len(t_out) == len(o_out) > 0
    upstream = [np.random.default_rng(1).standard_normal(tuple(t.shape)) for t in t_out]
    for o, t in zip(o_out, t_out):
        assert o.shape == tuple(t.shape)
        assert_close(o, t)
    if not any(t.requires_grad for t in t_out):
        return
    weighted_sum(t_out, upstream, torch.tensor).backward()
    weighted_sum(o_out, upstream, lambda g: tg.Tensor(g, dtype=np.float64)).backward()
    o_params, t_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert o_params.keys() == t_params.keys()
    for name, p in o_params.items():
        assert (p.grad is None) == (t_params[name].grad is None), name
        if p.grad is not None:
            assert_close(p.grad, t_params[name].grad)
    for o, t in zip(o_in, t_in):
        if t.requires_grad:
            assert_close(o.grad, t.grad)
    for key, value in interop.state_dict_from_torch(theirs).items():  # running statistics
        assert_close(ours.state_dict()[key], value)


def _randomise(theirs):
    """Weights away from PyTorch's ones/zeros defaults, running statistics set."""
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.rand(p.shape, generator=gen, dtype=p.dtype) + 0.5)
        for b in theirs.buffers():
            if b.is_floating_point():
                b.copy_(torch.rand(b.shape, generator=gen, dtype=b.dtype) + 0.5)
    return theirs


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_to_torch_matches_outputs_and_gradients(case):
    build, arrays, train = LAYERS[case]
    ours = build(nn, **F64["ours"]).train(train)
    theirs = interop.to_torch(ours)
    assert type(theirs) is getattr(torch.nn, type(ours).__name__)
    assert theirs.training == train
    compare(ours, theirs, arrays)


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_from_torch_matches_outputs_and_gradients(case):
    build, arrays, train = LAYERS[case]
    theirs = _randomise(build(torch.nn, **F64["torch"])).train(train)
    ours = interop.from_torch(theirs)
    assert type(ours) is getattr(nn, type(theirs).__name__)
    assert ours.training == train
    compare(ours, theirs, arrays)


def test_catalogue_covers_every_supported_layer():
    tested = {type(build(nn)).__name__ for build, _, _ in LAYERS.values()}
    containers = {"Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"}
    assert tested | containers == set(interop.SUPPORTED)


# ---- composite models ----------------------------------------------------------------------
def mlp_with_batchnorm(L, **k):
    return L.Sequential(L.Linear(6, 8, **k), L.BatchNorm1d(8, **k), L.Sigmoid(),
                        L.Linear(8, 8, **k), L.BatchNorm1d(8, **k), L.ReLU(), L.Dropout(0.0),
                        L.Linear(8, 3, **k))


def cnn(L, **k):
    return L.Sequential(L.Conv2d(1, 4, 3, padding=1, **k), L.BatchNorm2d(4, **k), L.ReLU(),
                        L.MaxPool2d(2), L.Conv2d(4, 6, 3, **k), L.Tanh(), L.Flatten(),
                        L.Linear(6, 5, **k), L.LogSoftmax(dim=1))


class LastStep(nn.Module):
    """A user-defined module: no twin in PyTorch."""

    def forward(self, x):
        return x[0][:, -1]


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("model", [mlp_with_batchnorm, cnn])
def test_composite_models_match_both_ways(model, train):
    x = normal(4, 6) if model is mlp_with_batchnorm else normal(3, 1, 6, 6)
    ours = model(nn, dtype=np.float64).train(train)
    theirs = interop.to_torch(ours)
    for _ in range(2):  # the second step sees the running statistics the first one moved
        compare(ours, theirs, [x])
        ours.zero_grad()
        theirs.zero_grad()
    theirs = _randomise(model(torch.nn, dtype=torch.float64)).train(train)
    compare(interop.from_torch(theirs), theirs, [x])


def test_lstm_model_matches_both_ways():
    ours = nn.ModuleDict({"rnn": nn.LSTM(3, 5, num_layers=2, dtype=np.float64),
                          "head": nn.Linear(5, 2, dtype=np.float64)})
    theirs = interop.to_torch(ours)
    x = normal(6, 2, 3)

    def run(model, x):
        out, (h, c) = model["rnn"](x)
        return model["head"](out[-1]), c

    t_x = torch.tensor(x, requires_grad=True)
    o_x = tg.Tensor(x, dtype=np.float64, requires_grad=True)
    (t_y, t_c), (o_y, o_c) = run(theirs, t_x), run(ours, o_x)
    assert_close(o_y, t_y)
    assert_close(o_c, t_c)
    (t_y.square().sum() + t_c.sum()).backward()
    (o_y.square().sum() + o_c.sum()).backward()
    assert_close(o_x.grad, t_x.grad)
    for (name, p), (t_name, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == t_name
        assert_close(p.grad, tp.grad)
    back = interop.from_torch(theirs)
    assert_close(run(back, o_x.detach())[0], t_y)


# ---- round trips, dtypes, modes, frozen parameters -----------------------------------------
def test_round_trip_is_identical():
    ours = nn.Sequential(
        nn.Conv1d(2, 3, 3, dtype=np.float64), nn.BatchNorm1d(3, dtype=np.float64), nn.GELU(),
        nn.Flatten(), nn.ModuleList([nn.Linear(15, 4), nn.LayerNorm(4)]),
        nn.ParameterList([tg.zeros(2), nn.Parameter(np.ones(3))]),
        nn.ParameterDict({"scale": tg.ones(1)}),
        nn.Embedding.from_pretrained(np.eye(3, dtype=np.float32)))
    ours[1](tg.randn(4, 3, 5, dtype=np.float64))  # running statistics and the batch count move
    ours[2].eval()
    theirs = interop.to_torch(ours)
    assert not theirs[2].training and theirs[1].training
    assert theirs[1].num_batches_tracked.item() == 1
    assert theirs[0].weight.dtype == torch.float64 and theirs[4][0].weight.dtype == torch.float32
    assert not theirs[7].weight.requires_grad
    back = interop.from_torch(theirs)
    assert repr(back) == repr(ours)
    before, after = ours.state_dict(), back.state_dict()
    assert list(before) == list(after)
    for key in before:
        assert before[key].dtype == after[key].dtype
        np.testing.assert_array_equal(before[key].data, after[key].data)
    assert [m.training for m in back.modules()] == [m.training for m in ours.modules()]
    assert [p.requires_grad for p in back.parameters()] == [
        p.requires_grad for p in ours.parameters()]


def test_converted_model_owns_its_weights():
    ours = nn.Linear(2, 2)
    theirs = interop.to_torch(ours)
    with torch.no_grad():
        theirs.weight.zero_()
    assert np.any(ours.weight.data)


# ---- strict state dicts, in memory and as files --------------------------------------------
STATEFUL = [lambda L, **k: mlp_with_batchnorm(L, **k), lambda L, **k: cnn(L, **k),
            lambda L, **k: L.Sequential(L.LSTM(3, 4, proj_size=2, **k), L.GRUCell(2, 2, **k)),
            lambda L, **k: L.ModuleDict({"emb": L.Embedding(5, 4, **k),
                                         "attn": L.MultiheadAttention(4, 2, **k),
                                         "norm": L.LayerNorm(4, **k),
                                         "group": L.GroupNorm(2, 4, **k),
                                         "inst": L.InstanceNorm2d(4, affine=True, **k),
                                         "up": L.ConvTranspose3d(2, 2, 2, **k),
                                         "loss": L.BCEWithLogitsLoss(pos_weight=_weight(L, 3))})]


@pytest.mark.parametrize("build", STATEFUL, ids=["mlp-bn", "cnn", "rnn", "mixed"])
def test_state_dicts_load_strictly_both_ways(build, tmp_path):
    from safetensors.torch import load_file, save_file

    ours, theirs = build(nn), _randomise(build(torch.nn))
    ours.load_state_dict(theirs.state_dict(), strict=True)  # torch tensors, as they come
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].data, value.numpy())
    ours.load_state_dict(interop.state_dict_from_torch(theirs), strict=True)
    fresh = build(torch.nn)
    assert str(fresh.load_state_dict(interop.state_dict_to_torch(ours), strict=True)) == \
        "<All keys matched successfully>"
    ours.save(tmp_path / "ours.safetensors")
    fresh.load_state_dict(load_file(tmp_path / "ours.safetensors"), strict=True)
    save_file(theirs.state_dict(), tmp_path / "theirs.safetensors")
    back = build(nn)
    back.load(tmp_path / "theirs.safetensors", strict=True)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key].data, value.numpy())
        np.testing.assert_array_equal(fresh.state_dict()[key].numpy(), value.numpy())


# ---- what has no twin ----------------------------------------------------------------------
def test_user_defined_layer_is_refused_with_its_path():
    model = nn.Sequential(nn.Linear(2, 2), nn.ModuleList([nn.ReLU(), LastStep()]))
    with pytest.raises(TypeError, match=r"to_torch: layer '1\.1' is a LastStep.*Supported "
                                        r"layers: .*Linear"):
        interop.to_torch(model)
    with pytest.raises(TypeError, match="layer 'fn' is a Linear.*subclass|model itself is a "
                                        "Residual"):
        interop.to_torch(nn.Residual(nn.Linear(2, 2)))

    class Mine(torch.nn.Linear):
        pass

    with pytest.raises(TypeError, match=r"from_torch: layer '0' is a Mine"):
        interop.from_torch(torch.nn.Sequential(Mine(2, 2)))
    with pytest.raises(TypeError, match=r"layer '0' is a Linear \(a subclass of "
                                        r"torch\.nn\.Linear\)"):
        interop.from_torch(torch.nn.Sequential(type("Linear", (torch.nn.Linear,), {})(2, 2)))


def test_settings_without_twin_are_refused():
    with pytest.raises(TypeError, match=r"layer '1' is a Conv2d \(padding_mode='reflect'"):
        interop.from_torch(torch.nn.Sequential(
            torch.nn.ReLU(), torch.nn.Conv2d(1, 1, 3, padding_mode="reflect")))
    with pytest.raises(TypeError, match=r"padding='same' with an even kernel"):
        interop.from_torch(torch.nn.Conv1d(1, 1, 4, padding="same"))
    with pytest.raises(TypeError, match="sparse=True"):
        interop.from_torch(torch.nn.Embedding(3, 2, sparse=True))
    with pytest.raises(TypeError, match="has no equivalent in tinygrad_nd"):
        interop.from_torch(torch.nn.TransformerEncoderLayer(4, 2))
    with pytest.raises(ValueError, match=r"from_torch: layer '\(the model\)' "
                                         r"\(MultiheadAttention\).*add_bias_kv"):
        interop.from_torch(torch.nn.MultiheadAttention(4, 2, add_bias_kv=True))
    with pytest.raises(TypeError, match=r"layer '\(the model\)' \(Softmax\).*dim must be an int"):
        interop.from_torch(torch.nn.Softmax())  # PyTorch's implicit, input-dependent dim
    with pytest.raises(TypeError, match="bfloat16.*numpy"):
        interop.from_torch(torch.nn.Linear(2, 2).to(torch.bfloat16))
    with pytest.raises(TypeError, match="expected a tinygrad_nd.nn.Module"):
        interop.to_torch(torch.nn.Linear(2, 2))


def test_padding_same_and_valid_become_numbers():
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 2, (3, 5), padding="same", dilation=2),
                                 torch.nn.Conv1d(2, 2, 3, padding="valid")).double()
    ours = interop.from_torch(theirs)
    assert ours[0].padding == (2, 4) and ours[1].padding == (0,)
    compare(ours[0], theirs[0], [normal(1, 2, 7, 9)])


def test_mixed_dtypes_within_a_layer_are_refused():
    ours = nn.Linear(2, 2)
    ours.bias = nn.Parameter(np.zeros(2))  # float64 next to a float32 weight
    with pytest.raises(TypeError, match="to_torch: 'bias' is float64"):
        interop.to_torch(ours)


def test_missing_torch_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails
    with pytest.raises(ImportError, match=r"pip install torch==2\.13\.0"):
        interop.to_torch(nn.Linear(2, 2))


def test_bfloat16_state_is_refused_by_name():
    state = torch.nn.Linear(2, 2).to(torch.bfloat16).state_dict()
    with pytest.raises(TypeError, match="'weight' is a torch tensor of dtype torch.bfloat16"):
        nn.Linear(2, 2).load_state_dict(state)
