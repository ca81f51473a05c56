"""Monitor histories as TensorBoard event files: read back by our reader (CRCs checked) and,
where installed, by TensorBoard's own EventAccumulator; every value equal to the history's
(as float32, TensorBoard's scalar type)."""

import struct

import numpy as np
import pytest

import tinygrad_nd as tg
from tinygrad_nd import nn
from tinygrad_nd.diagnostics import ActivationMonitor, GradientMonitor, tensorboard


@pytest.fixture(scope="module")
def monitored():
    """Three training steps of a small sigmoid net, one layer without bias."""
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 5), nn.Sigmoid(), nn.Linear(5, 3, bias=False), nn.Tanh(),
                        nn.Linear(3, 2))
    grads, acts = GradientMonitor(net), ActivationMonitor(net)
    for _ in range(3):
        net(tg.randn(6, 4)).square().sum().backward()
        with tg.no_grad():
            for p in net.parameters():
                p.sub_(0.1 * p.grad)
        net.zero_grad()
    return grads, acts


def expected_gradient_curves(monitor):
    h = monitor.history
    return {
        **{f"bias_grad/{n}": h["bias_grad"][:, i] for i, n in enumerate(monitor.layers)
           if monitor.paths[i] != "2"},  # (the layer built without a bias)
        **{f"weight_grad/{n}": h["weight_grad"][:, i] for i, n in enumerate(monitor.layers)},
        **{f"update_ratio/{n}": h["update_ratio"][1:, i] for i, n in enumerate(monitor.layers)},
    }


def curves(scalars):
    out = {}
    for tag, step, value in scalars:
        out.setdefault(tag, []).append((step, value))
    return out


def test_gradient_history_round_trips(monitored, tmp_path):
    grads, _ = monitored
    path = grads.to_tensorboard(tmp_path, wall_time=1.5e9)
    assert "tfevents" in path.name and path.parent == tmp_path
    got = curves(tensorboard.read(path))
    want = expected_gradient_curves(grads)
    assert got.keys() == want.keys()  # no bias_grad for the layer without bias
    for tag, values in want.items():
        steps = [s for s, _ in got[tag]]
        assert steps == list(range(3 - len(values), 3)), tag  # update_ratio starts at step 1
        np.testing.assert_array_equal([v for _, v in got[tag]], values.astype(np.float32))


def test_activation_history_round_trips(monitored, tmp_path):
    _, acts = monitored
    got = curves(tensorboard.read(acts.to_tensorboard(tmp_path)))
    assert sorted(got) == sorted(f"{stat}/{layer}" for layer in ("1", "3")
                                 for stat in ("saturated", "pre_mean", "pre_std", "out_mean"))
    for layer, rows in acts.history.items():
        for stat in rows[0]:
            assert got[f"{stat}/{layer}"] == [(call, float(np.float32(r[stat])))
                                              for call, r in enumerate(rows)]


def test_record_framing_and_checksums(tmp_path):
    assert tensorboard.crc32c(b"123456789") == 0xE3069283  # CRC-32C's published check value
    assert tensorboard.crc32c(b"") == 0
    path = tensorboard.write(tmp_path, [("loss", -1, np.inf), ("loss", 2**40, np.nan)], 7.25)
    blob = path.read_bytes()
    length = struct.unpack_from("<Q", blob)[0]
    assert struct.unpack_from("<I", blob, 8)[0] == tensorboard.masked_crc32c(blob[:8])
    first = next(tensorboard.records(path))
    assert len(first) == length and b"brain.Event:2" in first
    scalars = tensorboard.read(path)
    assert [(s.tag, s.step) for s in scalars] == [("loss", -1), ("loss", 2**40)]
    assert scalars[0].value == np.inf and np.isnan(scalars[1].value)
    for offset, what in ((3, "corrupted length"), (len(blob) - 2, "truncated or corrupted")):
        damaged = bytearray(blob)
        damaged[offset] ^= 0x10
        path.write_bytes(bytes(damaged))
        with pytest.raises(ValueError, match=what):
            tensorboard.read(path)
    path.write_bytes(blob[:-1])
    with pytest.raises(ValueError, match="truncated"):
        tensorboard.read(path)
    with pytest.raises(TypeError, match="tag must be a non-empty string"):
        tensorboard.write(tmp_path, [("", 0, 1.0)])


def test_tensorboard_reads_our_files(monitored, tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    grads, acts = monitored
    grads.to_tensorboard(tmp_path, wall_time=1.5e9)
    acts.to_tensorboard(tmp_path)
    acc = accumulator.EventAccumulator(str(tmp_path), size_guidance={"scalars": 0})
    acc.Reload()
    want = expected_gradient_curves(grads)
    assert set(want) <= set(acc.Tags()["scalars"])
    for tag, values in want.items():
        events = acc.Scalars(tag)
        assert [e.step for e in events] == list(range(3 - len(values), 3))
        np.testing.assert_array_equal([e.value for e in events], values.astype(np.float32))
        assert events[0].wall_time == 1.5e9
    saturated = acc.Scalars("saturated/1")
    assert [e.value for e in saturated] == [
        float(np.float32(r["saturated"])) for r in acts.history["1"]]
