"""Saving and loading under faults: crafted files, crashes, full disks, permissions.

Loading checks every entry's header against the model before reading its data; saving goes
through ``atomic_write`` (temporary file, fsync, rename, folder fsync) so the old file
survives every failure.
"""

import errno
import io
import json
import os
import stat
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib import format as npy_format
from unprivileged import run_unprivileged

from tinygrad_nd import network2, nn
from tinygrad_nd._atomic import atomic_write
from tinygrad_nd.experiments.common import Report

SUFFIXES = [".safetensors", ".npz"]
ROOT = Path(__file__).resolve().parents[2]


def _model(value: float | None = None) -> nn.Module:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    if value is not None:
        for p in model.parameters():
            p.data[...] = value
    return model


def _values(model: nn.Module) -> set[float]:
    return {float(v) for p in model.parameters() for v in np.unique(p.data)}


def _leftovers(folder: Path, keep: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != keep)


# ---- crafted files --------------------------------------------------------------------

def _npz(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)


def _npy_bytes(shape, dtype, data: bytes) -> bytes:
    header = {"descr": npy_format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": tuple(shape)}
    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def _valid_members(model: nn.Module) -> dict[str, bytes]:
    return {k + ".npy": _npy_bytes(v.shape, v.dtype, v.data.tobytes())
            for k, v in model.state_dict().items()}


def _refused_cheaply(call, error, message: str) -> None:
    """``call()`` raises ``error`` matching ``message`` with a peak allocation under 50 MiB."""
    tracemalloc.start()
    try:
        with pytest.raises(error, match=message):
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MiB allocated before refusing"


def test_npz_header_claiming_37_gib_is_refused_without_allocating(tmp_path):
    members = _valid_members(_model())
    members["0.weight.npy"] = _npy_bytes((37 * 2**30 // 4,), np.float32, b"\0" * 64)
    path = tmp_path / "big.npz"
    _npz(path, members)
    model = _model(0.5)
    _refused_cheaply(lambda: model.load(path), ValueError,
                     r"'0.weight' has shape \(9932111872,\) in .*big.npz.* but \(4, 3\) in the "
                     r"model")
    assert _values(model) == {0.5}  # nothing was half-loaded


def test_npz_zip_bomb_member_is_refused_without_inflating(tmp_path):
    # A member whose header matches the model but whose zip entry inflates to 256 MiB: the
    # zip directory's size gives it away before a byte of it is decompressed.
    path = tmp_path / "bomb.npz"
    members = _valid_members(_model())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            if name != "0.weight.npy":
                zf.writestr(name, payload)
        with zf.open("0.weight.npy", "w", force_zip64=True) as f:
            f.write(members["0.weight.npy"])
            zeros = bytes(2**24)
            for _ in range(16):
                f.write(zeros)
    assert path.stat().st_size < 2**20  # a small file
    model = _model(0.5)
    member = len(members["0.weight.npy"])
    _refused_cheaply(lambda: model.load(path), ValueError,
                     rf"'0.weight' in .*bomb.npz.* inflates to {member + 2**28} bytes but its "
                     rf"header describes {member}; refused")
    assert _values(model) == {0.5}


def test_npz_zip_bomb_header_for_a_huge_array_is_refused(tmp_path):
    # The other way round: a header (and zip entry) describing 256 MiB where the model wants
    # 12 floats: refused on the header, nothing inflated.
    path = tmp_path / "bomb2.npz"
    members = _valid_members(_model())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, payload in members.items():
            if name != "0.weight.npy":
                zf.writestr(name, payload)
        with zf.open("0.weight.npy", "w", force_zip64=True) as f:
            f.write(_npy_bytes((2**26,), np.float32, b""))
            for _ in range(16):
                f.write(bytes(2**24))
    _refused_cheaply(lambda: _model().load(path), ValueError, r"shape \(67108864,\) in")


def test_npz_object_array_is_refused_not_unpickled(tmp_path):
    path = tmp_path / "obj.npz"
    members = _valid_members(_model())
    members["0.bias.npy"] = _npy_bytes((4,), object, b"\x80\x04N.")
    _npz(path, members)
    model = _model(0.5)
    with pytest.raises(TypeError, match=r"'0.bias' in .*obj.npz.* is an object array"):
        model.load(path)
    assert _values(model) == {0.5}


@pytest.mark.parametrize("case, error, message", [
    ("dtype", TypeError, r"'2.bias' has dtype float64 in .* but float32 in the model"),
    ("extra", KeyError, r"unexpected keys \['extra'\]"),
    ("missing", KeyError, r"missing keys \['2.bias'\]"),
    ("not-npy", ValueError, r"is not an np.savez archive"),
    ("truncated", ValueError, r"'2.bias' in .* inflates to"),
])
def test_npz_foreign_entries_are_named(tmp_path, case, error, message):
    members = _valid_members(_model())
    if case == "dtype":
        members["2.bias.npy"] = _npy_bytes((2,), np.float64, bytes(16))
    elif case == "extra":
        members["extra.npy"] = _npy_bytes((1,), np.float32, bytes(4))
    elif case == "missing":
        del members["2.bias.npy"]
    elif case == "not-npy":
        members["readme.txt"] = b"hello"
    else:
        members["2.bias.npy"] = members["2.bias.npy"][:-3]
    path = tmp_path / "m.npz"
    _npz(path, members)
    model = _model(0.5)
    with pytest.raises(error, match=message):
        model.load(path)
    assert _values(model) == {0.5}


def test_npz_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    np.save(tmp_path / "m.npy", np.zeros(3))
    os.replace(tmp_path / "m.npy", path)
    with pytest.raises(ValueError, match=r"m.npz' is not an .npz archive"):
        _model().load(path)


def _safetensors(path: Path, header: dict, data: bytes, length: int | None = None) -> None:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw) if length is None else length) + raw + data)


@pytest.mark.parametrize("case, error, message", [
    ("huge-shape", ValueError, r"not a valid safetensors file"),
    ("huge-header-length", ValueError, r"not a valid safetensors file"),
    ("offsets-past-end", ValueError, r"not a valid safetensors file"),
    ("bf16", TypeError, r"'2.bias' in .* has dtype BF16, which numpy cannot hold"),
    ("wrong-shape", ValueError, r"'2.bias' has shape \(3,\) in .* but \(2,\) in the model"),
    ("wrong-dtype", TypeError, r"'2.bias' has dtype float64 in .* but float32 in the model"),
    ("not-safetensors", ValueError, r"not a valid safetensors file"),
])
def test_crafted_safetensors_fail_clearly(tmp_path, case, error, message):
    model = _model(0.5)
    state = {k: v.data for k, v in _model().state_dict().items()}
    header, data, offset = {}, b"", 0
    for k, v in state.items():
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset,
                                                                            offset + v.nbytes]}
        data += v.tobytes()
        offset += v.nbytes
    length = None
    bias = header["2.bias"]
    if case == "huge-shape":
        bias["shape"] = [37 * 2**30 // 4]
    elif case == "huge-header-length":
        length = 2**62
    elif case == "offsets-past-end":
        bias["data_offsets"] = [bias["data_offsets"][0], 10**12]
    elif case == "bf16":
        bias["dtype"], bias["shape"] = "BF16", [4]
    elif case == "wrong-shape":
        bias["shape"] = [3]
        bias["data_offsets"][1] += 4
        data += bytes(4)
    elif case == "wrong-dtype":
        bias["dtype"] = "F64"
        bias["data_offsets"][1] += 8
        data += bytes(8)
    path = tmp_path / "m.safetensors"
    if case == "not-safetensors":
        path.write_bytes(b"PK\x03\x04 certainly not a safetensors file")
    else:
        _safetensors(path, header, data, length)
    _refused_cheaply(lambda: model.load(path), error, message)
    assert _values(model) == {0.5}


@given(cut=st.integers(0, 10**6), flip=st.integers(0, 10**6), bit=st.integers(0, 7),
       suffix=st.sampled_from(SUFFIXES))
def test_damaged_files_load_exactly_or_fail_with_a_named_error(tmp_path_factory, cut, flip, bit,
                                                               suffix):
    path = tmp_path_factory.mktemp("damage") / ("m" + suffix)
    _model(0.25).save(path)
    raw = bytearray(path.read_bytes())
    raw = raw[:cut % (len(raw) + 1)] if cut % 3 == 0 else raw
    if raw:
        raw[flip % len(raw)] ^= 1 << bit
    path.write_bytes(bytes(raw))
    model = _model(0.5)
    try:
        model.load(path)
    except (ValueError, TypeError, KeyError) as e:
        assert "Module.load" in str(e) or "load_state_dict" in str(e)
        assert _values(model) == {0.5}
    else:  # zip's CRC, and the CRC32s save() puts in safetensors metadata, catch any flip
        assert _values(model) == {0.25}


def test_a_flipped_bit_in_safetensors_data_fails_its_crc(tmp_path):
    path = tmp_path / "m.safetensors"
    _model(0.25).save(path)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 1  # the last byte of the last tensor's data
    path.write_bytes(bytes(raw))
    model = _model(0.5)
    with pytest.raises(ValueError, match=r"'2.\w+' in .*m.safetensors.* fails its CRC32 check"):
        model.load(path)
    assert _values(model) == {0.5}


def test_safetensors_from_other_tools_load_without_a_crc(tmp_path):
    from safetensors.numpy import save_file

    state = {k: v.data for k, v in _model(0.75).state_dict().items()}
    save_file(state, str(tmp_path / "m.safetensors"))
    model = _model(0.5)
    model.load(tmp_path / "m.safetensors")
    assert _values(model) == {0.75}


# ---- atomic saves ---------------------------------------------------------------------

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_saved_file_gets_the_permissions_open_would_give(tmp_path, umask, mode, suffix):
    old = os.umask(umask)
    try:
        _model().save(tmp_path / ("m" + suffix))
        with open(tmp_path / "reference", "w"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / ("m" + suffix)).stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "reference").stat().st_mode) == mode


def test_overwriting_keeps_the_files_mode_and_follows_symlinks(tmp_path):
    real = tmp_path / "real.safetensors"
    _model(1.0).save(real)
    os.chmod(real, 0o640)
    link = tmp_path / "link.safetensors"
    link.symlink_to(real)
    _model(2.0).save(link)
    assert link.is_symlink() and stat.S_IMODE(real.stat().st_mode) == 0o640
    model = _model()
    model.load(real)
    assert _values(model) == {2.0}


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_save_fsyncs_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch,
                                                                      suffix):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(kind)
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    _model().save(tmp_path / ("m" + suffix))
    assert events == ["file", "replace", "dir"]


@pytest.mark.parametrize("exc", [RuntimeError("injected"), KeyboardInterrupt()])
@pytest.mark.parametrize("suffix", SUFFIXES)
def test_failure_in_the_middle_of_a_save_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch,
                                                                        exc, suffix):
    path = tmp_path / ("m" + suffix)
    _model(1.0).save(path)
    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        f = real_fdopen(fd, *args, **kwargs)
        return _FailingFile(f, after=100, exc=exc)

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(type(exc)):
        _model(2.0).save(path)
    monkeypatch.undo()
    assert _leftovers(tmp_path, path.name) == []
    model = _model()
    model.load(path)
    assert _values(model) == {1.0}


class _FailingFile:
    """A file object that raises ``exc`` once more than ``after`` bytes were written."""

    def __init__(self, f, after: int, exc: BaseException) -> None:
        self._f, self._left, self._exc = f, after, exc

    def write(self, data) -> int:
        self._left -= len(data)
        if self._left < 0:
            raise self._exc
        return self._f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_disk_full_keeps_the_old_file_and_names_the_path(tmp_path, monkeypatch, suffix):
    path = tmp_path / ("m" + suffix)
    _model(1.0).save(path)
    real_fdopen = os.fdopen
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FailingFile(real_fdopen(fd, *a, **k),
                                                                        after=50, exc=full))
    with pytest.raises(OSError) as info:
        _model(2.0).save(path)
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert any(str(path) in note for note in info.value.__notes__)
    assert _leftovers(tmp_path, path.name) == []
    model = _model()
    model.load(path)
    assert _values(model) == {1.0}


def test_unwritable_folder_gives_a_permission_error_naming_the_path(tmp_path, monkeypatch):
    # Tests run as root, which chmod cannot stop: the refusal is simulated at os.open.
    path = tmp_path / "m.safetensors"
    _model(1.0).save(path)
    real_open = os.open

    def refuse(file, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", file)
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError, match=r"cannot write .*m.safetensors.*no permission to "
                                              r"create a file in"):
        _model(2.0).save(path)
    monkeypatch.undo()
    assert _leftovers(tmp_path, path.name) == []
    model = _model()
    model.load(path)
    assert _values(model) == {1.0}


def test_read_only_folder_for_real(open_tmp_path):
    folder = open_tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    model = _model()

    def attempt():
        with pytest.raises(PermissionError, match="no permission to create a file in"):
            model.save(folder / "m.npz")

    try:
        run_unprivileged(attempt)  # (as root, in a child that drops to nobody)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


_KILLED_WRITER = textwrap.dedent("""
    import sys
    import numpy as np
    from tinygrad_nd import nn
    model = nn.Sequential(nn.Linear(512, 512), nn.Linear(512, 512))
    print("ready", flush=True)
    k = 2.0
    while True:
        for p in model.parameters():
            p.data[...] = k
        model.save(sys.argv[1])
        k += 1.0
""")


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_sigkill_during_saves_leaves_the_old_or_the_new_file_whole(tmp_path, suffix):
    import random

    path = tmp_path / ("m" + suffix)
    template = nn.Sequential(nn.Linear(512, 512), nn.Linear(512, 512))
    for p in template.parameters():
        p.data[...] = 1.0
    template.save(path)
    rng = random.Random(0)
    seen = set()
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)],
                                stdout=subprocess.PIPE, cwd=ROOT)
        try:
            assert proc.stdout.readline().strip() == b"ready"
            time.sleep(rng.uniform(0.05, 0.3))
        finally:
            proc.kill()
            proc.wait(timeout=10)
            proc.stdout.close()
        loaded = nn.Sequential(nn.Linear(512, 512), nn.Linear(512, 512))
        loaded.load(path)  # must always load
        values = {float(v) for p in loaded.parameters() for v in np.unique(p.data)}
        assert len(values) == 1, "a mixture of two saves"
        seen |= values
        # A killed process cannot clean up: its temporary file may remain, never the target.
        for leftover in _leftovers(tmp_path, path.name):
            assert leftover.startswith("." + path.name) and leftover.endswith(".tmp")
    assert max(seen) > 1.0, "no save completed before a kill: the test checked nothing"


def test_atomic_write_text_mode_and_bad_mode(tmp_path):
    with atomic_write(tmp_path / "a.txt", "w") as f:
        f.write("héllo")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo"
    with pytest.raises(ValueError, match="atomic_write: mode must be 'wb' or 'w', got 'a'"):
        with atomic_write(tmp_path / "a.txt", "a"):
            pass


# ---- the other writers ------------------------------------------------------------------

def test_network2_save_is_atomic_and_load_checks_shapes_before_building(tmp_path, monkeypatch):
    net = network2.Network([4, 3, 2], seed=0)
    path = tmp_path / "net.json"
    net.save(str(path))
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FailingFile(
        real_fdopen(fd, *a, **k), after=10, exc=KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        network2.Network([4, 3, 2], seed=1).save(str(path))
    monkeypatch.undo()
    assert _leftovers(tmp_path, path.name) == []
    again = network2.load(str(path))
    np.testing.assert_array_equal(again.weights[0], net.weights[0])


@pytest.mark.parametrize("edit, error, message", [
    (lambda p: p.update(sizes=[100000, 100000, 2]), ValueError,
     r"network2.load: .* weights\[0\] has shape \(3, 4\); sizes \[100000, 100000, 2\] need "
     r"\(100000, 100000\)"),
    (lambda p: p.update(sizes=[4, -3, 2]), ValueError, r"sizes must be a list of positive"),
    (lambda p: p.update(cost="Pickle"), ValueError, r"unknown cost 'Pickle'"),
    (lambda p: p["biases"].pop(), ValueError, r"1 bias vectors for 2 layers"),
    (lambda p: p["weights"][0].append([1.0]), ValueError, r"weights\[0\] is not a"),
    (lambda p: p.pop("weights"), ValueError, r"missing 'weights'"),
])
def test_network2_load_refuses_crafted_files_without_allocating(tmp_path, edit, error, message):
    path = tmp_path / "net.json"
    network2.Network([4, 3, 2], seed=0).save(str(path))
    payload = json.loads(path.read_text())
    edit(payload)
    path.write_text(json.dumps(payload))
    _refused_cheaply(lambda: network2.load(str(path)), error, message)


def test_network2_load_of_a_non_json_file_names_it(tmp_path):
    path = tmp_path / "net.json"
    path.write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match=r"network2.load: .*net.json.* is not JSON"):
        network2.load(str(path))


def test_report_write_is_atomic(tmp_path, monkeypatch):
    report = Report(tmp_path, "t")
    report.text("first")
    report.write({"a": 1})
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: _FailingFile(
        real_fdopen(fd, *a, **k), after=0, exc=RuntimeError("injected")))
    report.text("second")
    with pytest.raises(RuntimeError):
        report.write({"a": 2})
    monkeypatch.undo()
    assert _leftovers(tmp_path, "report.md") == ["results.json"]
    assert "second" not in (tmp_path / "report.md").read_text()
    assert json.loads((tmp_path / "results.json").read_text()) == {"a": 1}
