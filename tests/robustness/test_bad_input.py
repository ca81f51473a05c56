"""Bad arguments get a clear error naming the function and argument, at construction where
there is a constructor; nothing is silently accepted (bools for ints, floats for sizes...)."""

import gzip

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import data, nn, optim
from tinygrad_nd.nn import functional as F

X = tg.ones(1, 1, 6, 6)
W = tg.ones(2, 1, 3, 3)

BAD_PAIRS = [  # value, exception, message fragment
    (2.5, TypeError, "must be an int or a pair of ints"),
    (True, TypeError, "must be an int or a pair of ints"),
    ((2, 2.0), TypeError, "must be an int or a pair of ints"),
    ((2, 2, 2), TypeError, "must be an int or a pair of ints"),
    ("2", TypeError, "must be an int or a pair of ints"),
    (-1, ValueError, "must be an int >= "),
]


@pytest.mark.parametrize("value,error,match", BAD_PAIRS)
@pytest.mark.parametrize("arg", ["kernel_size", "stride", "padding"])
@pytest.mark.parametrize("pool", [F.max_pool2d, F.avg_pool2d])
def test_pooling_arguments_name_themselves(pool, arg, value, error, match):
    kwargs = {"kernel_size": 2, arg: value}
    with pytest.raises(error, match=f"{pool.__name__}: {arg} {match}"):
        pool(X, **kwargs)


@pytest.mark.parametrize("value,error,match", BAD_PAIRS + [(0, ValueError, "must be an int >= 1")])
@pytest.mark.parametrize("arg", ["stride", "dilation"])
def test_conv2d_arguments_name_themselves(arg, value, error, match):
    with pytest.raises(error, match=f"conv2d: {arg} {match}"):
        F.conv2d(X, W, **{arg: value})


@pytest.mark.parametrize("groups,error", [(0, ValueError), (1.0, TypeError), (True, TypeError)])
def test_conv2d_groups(groups, error):
    with pytest.raises(error, match="conv2d: groups"):
        F.conv2d(X, W, groups=groups)


def test_zero_kernel_size_is_a_value_error():
    with pytest.raises(ValueError, match="max_pool2d: kernel_size must be an int >= 1"):
        F.max_pool2d(X, kernel_size=0)


@pytest.mark.parametrize("make,match", [
    (lambda: nn.MaxPool2d(2.5), "MaxPool2d: kernel_size must be an int or a pair of ints"),
    (lambda: nn.AvgPool2d(2, stride=0), "AvgPool2d: stride must be an int >= 1"),
    (lambda: nn.MaxPool2d(2, padding=True), "MaxPool2d: padding must be an int or a pair"),
    (lambda: nn.MaxPool2d(2, padding=2), "MaxPool2d: padding \\(2, 2\\) must be at most half"),
    (lambda: nn.Conv2d(1, 2, 2.5), "Conv2d: kernel_size must be an int or a pair of ints"),
    (lambda: nn.Conv2d(1, 2, 3, stride=0), "Conv2d: stride must be an int >= 1"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), "Conv2d: padding must be an int >= 0"),
    (lambda: nn.Conv2d(1, 2, 3, dilation=1.5), "Conv2d: dilation must be an int or a pair"),
    (lambda: nn.Conv2d(0, 2, 3), "Conv2d: in_channels must be >= 1"),
    (lambda: nn.Conv2d(1, 2.0, 3), "Conv2d: out_channels must be an int"),
    (lambda: nn.Conv2d(1, 2, 3, groups=0), "Conv2d: groups must be >= 1"),
    (lambda: nn.Conv2d(1, 2, 3, bias=1), "Conv2d: bias must be a bool"),
    (lambda: nn.Linear(0, 3), "Linear: in_features must be >= 1"),
    (lambda: nn.Linear(3, -1), "Linear: out_features must be >= 1"),
    (lambda: nn.Linear(True, 3), "Linear: in_features must be an int"),
    (lambda: nn.Linear(3.0, 3), "Linear: in_features must be an int"),
    (lambda: nn.Linear(3, 3, bias="no"), "Linear: bias must be a bool"),
    (lambda: nn.Dropout(1.0), "Dropout: p must be in \\[0, 1\\)"),
    (lambda: nn.Dropout(-0.1), "Dropout: p must be in \\[0, 1\\)"),
    (lambda: nn.Dropout(float("nan")), "Dropout: p must be in \\[0, 1\\)"),
    (lambda: nn.Dropout(True), "Dropout: p must be a real number"),
    (lambda: nn.Dropout("0.5"), "Dropout: p must be a real number"),
    (lambda: nn.BatchNorm1d(0), "BatchNorm1d: num_features must be >= 1"),
    (lambda: nn.BatchNorm2d(3.0), "BatchNorm2d: num_features must be an int"),
    (lambda: nn.BatchNorm1d(3, momentum=1.5), "BatchNorm1d: momentum must be in \\[0, 1\\]"),
    (lambda: nn.BatchNorm1d(3, momentum="0.1"), "BatchNorm1d: momentum must be a real number"),
    (lambda: nn.BatchNorm1d(3, eps=0.0), "BatchNorm1d: eps must be positive"),
    (lambda: nn.BatchNorm1d(3, eps=-1e-5), "BatchNorm1d: eps must be in"),
    (lambda: nn.BatchNorm2d(3, affine=1), "BatchNorm2d: affine must be a bool"),
    (lambda: nn.Flatten(1.5), "Flatten: start_dim must be an int"),
    (lambda: nn.MSELoss(reduction="avg"), "MSELoss: reduction must be one of"),
])
def test_layer_constructors_fail_at_construction(make, match):
    with pytest.raises((TypeError, ValueError), match=match):
        make()


@pytest.mark.parametrize("call,match", [
    (lambda x: F.dropout(x, p=1.0), "dropout: p must be in"),
    (lambda x: F.dropout(x, p=True), "dropout: p must be a real number"),
    (lambda x: F.batch_norm(x, None, None, momentum=-0.1), "batch_norm: momentum"),
    (lambda x: F.batch_norm(x, None, None, eps=0), "batch_norm: eps must be positive"),
])
def test_functional_scalar_arguments(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call(tg.ones(4, 3))


@pytest.mark.parametrize("batch_size,error", [(1.5, TypeError), (0, ValueError),
                                              (-1, ValueError), (True, TypeError),
                                              ("4", TypeError)])
def test_dataloader_batch_size_fails_at_construction(batch_size, error):
    ds = data.TensorDataset(np.zeros((4, 2)))
    with pytest.raises(error, match="DataLoader: batch_size"):
        data.DataLoader(ds, batch_size=batch_size)


@pytest.mark.parametrize("kwargs,match", [(dict(shuffle=1), "shuffle must be a bool"),
                                          (dict(drop_last="yes"), "drop_last must be a bool"),
                                          (dict(seed=-1), "seed must be >= 0"),
                                          (dict(seed=1.5), "seed must be an int")])
def test_dataloader_other_arguments(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=f"DataLoader: {match}"):
        data.DataLoader(data.TensorDataset(np.zeros(3)), **kwargs)


def test_dataloader_needs_a_dataset():
    with pytest.raises(TypeError, match="DataLoader: dataset must have __len__"):
        data.DataLoader(42)


@pytest.mark.parametrize("state", [[1, 2], None, "weights", np.zeros(3)])
def test_load_state_dict_needs_a_mapping(state):
    with pytest.raises(TypeError, match="load_state_dict: expected a mapping"):
        nn.Linear(2, 2).load_state_dict(state)


@pytest.mark.parametrize("value", [None, "abc", [[1.0, 2.0]], object(),
                                   np.array([["a", "b"]])])
def test_load_state_dict_refuses_non_arrays(value):
    model = nn.Linear(2, 1)
    state = model.state_dict()
    state["weight"] = value
    with pytest.raises(TypeError, match="'weight' must be a numeric array or Tensor"):
        model.load_state_dict(state)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_class_labels_say_the_dtype_is_the_problem(loss, dtype):
    logits = tg.zeros(3, 4)
    labels = np.array([0, 1, 2], dtype=dtype)
    expected = (f"{loss.__name__}: class-index targets must be integers, got "
                f"{np.dtype(dtype)}; for class probabilities pass an \\(N, C\\) float array")
    with pytest.raises(TypeError, match=expected):
        loss(logits, labels)
    with pytest.raises(TypeError, match=expected):
        loss(logits, tg.Tensor(labels, dtype=dtype))


def test_bool_labels_and_probabilities():
    with pytest.raises(TypeError, match="cross_entropy: class-index targets must be integers, "
                                        "got bool$"):
        F.cross_entropy(tg.zeros(2, 3), np.array([True, False]))
    # (N, C) floats are still class probabilities
    assert F.cross_entropy(tg.zeros(2, 4), np.full((2, 4), 0.25, np.float32)).item() == \
        pytest.approx(np.log(4))


# ---- optimizers and schedulers --------------------------------------------------------------
def _w():
    return tg.ones(2, requires_grad=True)


@pytest.mark.parametrize("make,error,match", [
    (lambda w: optim.SGD([w], lr=-0.1), ValueError, "SGD: lr must be in \\[0, inf\\), got -0.1"),
    (lambda w: optim.SGD([w], lr=float("nan")), ValueError, "SGD: lr must be in"),
    (lambda w: optim.SGD([w], lr="0.1"), TypeError, "SGD: lr must be a real number"),
    (lambda w: optim.SGD([w], lr=True), TypeError, "SGD: lr must be a real number"),
    (lambda w: optim.SGD([w], lr=0.1, momentum=1.0), ValueError,
     "SGD: momentum must be in \\[0, 1\\), got 1.0"),
    (lambda w: optim.SGD([w], lr=0.1, momentum=-0.5), ValueError, "SGD: momentum must be in"),
    (lambda w: optim.SGD([w], lr=0.1, weight_decay=-1e-4), ValueError,
     "SGD: weight_decay must be in \\[0, inf\\), got -0.0001"),
    (lambda w: optim.SGD([w], lr=0.1, nesterov=True), ValueError,
     "SGD: Nesterov momentum needs momentum > 0 and dampening = 0, got momentum=0.0"),
    (lambda w: optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "SGD: Nesterov momentum needs"),
    (lambda w: optim.SGD([w], lr=0.1, nesterov=1), TypeError, "SGD: nesterov must be a bool"),
    (lambda w: optim.Adam([w], betas=(0.9, 1.0)), ValueError,
     "Adam: betas\\[1\\] must be in \\[0, 1\\), got 1.0"),
    (lambda w: optim.Adam([w], betas=(-0.1, 0.999)), ValueError, "Adam: betas\\[0\\] must be"),
    (lambda w: optim.Adam([w], betas=0.9), TypeError, "Adam: betas must be a pair"),
    (lambda w: optim.Adam([w], eps=-1e-8), ValueError, "Adam: eps must be in"),
    (lambda w: optim.Adam([w], weight_decay=-1), ValueError, "Adam: weight_decay must be in"),
    (lambda w: optim.AdamW([w], lr=-1e-3), ValueError, "AdamW: lr must be in"),
    (lambda w: optim.AdamW([w], amsgrad="yes"), TypeError, "AdamW: amsgrad must be a bool"),
    (lambda w: optim.RMSprop([w], alpha=1.5), ValueError, "RMSprop: alpha must be in"),
    (lambda w: optim.RMSprop([w], momentum=-0.1), ValueError, "RMSprop: momentum must be in"),
    (lambda w: optim.RMSprop([w], eps=-1.0), ValueError, "RMSprop: eps must be in"),
    (lambda w: optim.Adagrad([w], lr_decay=-1), ValueError, "Adagrad: lr_decay must be in"),
    (lambda w: optim.Adagrad([w], initial_accumulator_value=-1), ValueError,
     "Adagrad: initial_accumulator_value must be in"),
    (lambda w: optim.SGD([{"params": [w], "lr": -1.0}], lr=0.1), ValueError,
     "SGD: lr must be in"),  # a group's override is checked too
    (lambda w: optim.SGD([], lr=0.1), ValueError, "SGD: got an empty parameter list"),
    (lambda w: optim.SGD([w, w], lr=0.1), ValueError, "SGD: a parameter of shape \\(2,\\) is "
     "given twice"),
    (lambda w: optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1), ValueError,
     "in parameter groups 0 and 1"),
    (lambda w: optim.SGD([w * 2], lr=0.1), ValueError, "SGD: can't optimise a non-leaf"),
    (lambda w: optim.SGD([np.ones(2)], lr=0.1), TypeError, "SGD: can only optimise Tensors"),
    (lambda w: optim.SGD(w, lr=0.1), TypeError, "SGD: params must be an ordered iterable"),
    (lambda w: optim.SGD({w}, lr=0.1), TypeError, "SGD: params must be an ordered iterable"),
    (lambda w: optim.SGD([{"lr": 0.1}], lr=0.1), TypeError, "parameter group 0 must be a dict "
     "with a 'params' key"),
    (lambda w: optim.SGD([tg.ones(2, dtype=np.int64)], lr=0.1), TypeError,
     "SGD: can only optimise leaf tensors with requires_grad=True"),
])
def test_optimizer_hyper_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make(_w())


@pytest.mark.parametrize("make,error,match", [
    (lambda o: optim.lr_scheduler.StepLR(o, step_size=0), ValueError,
     "StepLR: step_size must be >= 1"),
    (lambda o: optim.lr_scheduler.StepLR(o, step_size=2.5), TypeError,
     "StepLR: step_size must be an int"),
    (lambda o: optim.lr_scheduler.StepLR(o, step_size=2, gamma=-0.5), ValueError,
     "StepLR: gamma must be in"),
    (lambda o: optim.lr_scheduler.ExponentialLR(o, gamma=0.0), ValueError,
     "ExponentialLR: gamma must be positive"),
    (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError,
     "CosineAnnealingLR: T_max must be >= 1"),
    (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=-1.0), ValueError,
     "CosineAnnealingLR: eta_min must be in"),
    (lambda o: optim.lr_scheduler.StepLR("sgd", step_size=1), TypeError,
     "StepLR: expected an Optimizer"),
])
def test_scheduler_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(optim.SGD([_w()], lr=0.1))


# ---- IDX files ------------------------------------------------------------------------------
def _idx(dims, body=None, type_code=0x08, magic=b"\x00\x00"):
    header = magic + bytes([type_code, len(dims)]) + b"".join(
        int(d).to_bytes(4, "big") for d in dims)
    n = int(np.prod(dims)) if dims else 0
    return header + (bytes(range(256)) * (n // 256 + 1))[:n] if body is None else header + body


def _write(tmp_path, name, raw, gz):
    path = tmp_path / (name + (".gz" if gz else ""))
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(raw)
    else:
        path.write_bytes(raw)
    return path


IDX_CASES = [
    ("empty", b"", "truncated: 0 bytes"),
    ("short-magic", b"\x00\x00\x08", "truncated: 3 bytes"),
    ("magic", b"\x01\x02\x08\x01" + b"\x00" * 8, "bad magic number 0x01020801"),
    ("type", _idx([3], type_code=0x0D), "type code 0x0d; only 0x08 \\(unsigned byte\\)"),
    ("unknown-type", _idx([3], type_code=0x42), "type code 0x42"),
    ("no-dims", b"\x00\x00\x08\x00", "declares 0 dimensions"),
    ("header", b"\x00\x00\x08\x03" + b"\x00\x00\x00\x02", "truncated in its header: 3 dimensions "
     "need 12 bytes, 4 found"),
    ("overflow", _idx([2**32 - 1] * 3, body=b"\x00" * 10), "more than any array can hold"),
    ("big-header", _idx([2**31, 2**20], body=b"\x00" * 10), "only 10 data bytes, but its "
     "header's dimensions \\(2147483648, 1048576\\) say 2251799813685248"),
    ("short", _idx([2, 3], body=b"\x00" * 5), "only 5 data bytes, but its header's dimensions "
     "\\(2, 3\\) say 6"),
    ("long", _idx([2, 3], body=b"\x00" * 7), "has more data bytes, but its header's dimensions "
     "\\(2, 3\\) say 6"),
]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("name,raw,match", IDX_CASES, ids=[c[0] for c in IDX_CASES])
def test_read_idx_names_the_file_and_the_problem(tmp_path, name, raw, match, gz):
    path = _write(tmp_path, name, raw, gz)
    with pytest.raises(ValueError, match=f"read_idx: {path}.* {match}"):
        data.read_idx(path)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_read_idx_reads_a_good_file(tmp_path, gz):
    path = _write(tmp_path, "good", _idx([2, 3, 4]), gz)
    assert data.read_idx(path).tolist() == np.arange(24, dtype=np.uint8).reshape(2, 3, 4).tolist()


def test_read_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(_idx([100]))[:-12])  # cut inside the deflate stream
    with pytest.raises(ValueError, match=f"read_idx: cannot read {path}"):
        data.read_idx(path)
    with pytest.raises(FileNotFoundError):
        data.read_idx(tmp_path / "missing")


def test_load_idx_checks_ranks(tmp_path):
    _write(tmp_path, "train-images-idx3-ubyte", _idx([4, 2]), gz=False)
    _write(tmp_path, "train-labels-idx1-ubyte", _idx([4]), gz=False)
    with pytest.raises(ValueError, match="load_idx: expected 3-D images and 1-D labels"):
        data.load_idx(tmp_path, "train")
