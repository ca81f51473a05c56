"""Datasets, loaders, the embedded digits, IDX files, Fashion-MNIST and the MNIST download."""

import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from tinygrad_nd import data


def test_embedded_mnist_5k_is_real_balanced_and_normalised():
    train, test = data.mnist_5k(split=(4000, 1000))
    x, y = train.arrays
    assert x.shape == (4000, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0 and set(np.unique(y)) == set(range(10))
    assert 0.1 < x.mean() < 0.15  # MNIST's mean intensity is ~0.13
    images, _ = data.mnist_5k(split=(10, 0), flatten=False)
    assert images.arrays[0].shape == (10, 1, 28, 28)
    a, _ = data.mnist_5k(split=(5, 0), seed=1)
    b, _ = data.mnist_5k(split=(5, 0), seed=1)
    np.testing.assert_array_equal(a.arrays[1], b.arrays[1])
    with pytest.raises(ValueError, match="5000 are embedded"):
        data.mnist_5k(split=(5000, 1))


def test_dataloader_batches_shuffle_reproducibly_and_drop_last():
    ds = data.TensorDataset(np.arange(10.0).reshape(10, 1), np.arange(10))
    batches = [yb.tolist() for _, yb in data.DataLoader(ds, batch_size=4)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(data.DataLoader(ds, 4, drop_last=True)) == 2
    assert len(list(data.DataLoader(ds, 4, drop_last=True))) == 2
    first = [yb.tolist() for _, yb in data.DataLoader(ds, 3, shuffle=True, seed=7)]
    again = [yb.tolist() for _, yb in data.DataLoader(ds, 3, shuffle=True, seed=7)]
    assert first == again and sorted(sum(first, [])) == list(range(10))
    loader = data.DataLoader(ds, 10, shuffle=True, seed=7)
    assert next(iter(loader))[1].tolist() != next(iter(loader))[1].tolist()  # new epoch order


def test_dataloader_on_a_plain_dataset():
    class Squares(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    xb, yb = next(iter(data.DataLoader(Squares(), batch_size=5)))
    assert xb.shape == (5, 2) and yb.tolist() == [0, 1, 2, 3, 4]


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="same length, got \\[3, 4\\]"):
        data.TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        data.DataLoader(data.TensorDataset(np.zeros(3)), batch_size=0)


def _write_idx(folder: Path, n: int = 6, seed: int = 0) -> dict[str, str]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    md5 = {}
    for prefix in ("train", "t10k"):
        for kind, arr, magic in (("images-idx3", images, 3), ("labels-idx1", labels, 1)):
            header = bytes([0, 0, 8, magic]) + np.array(arr.shape, dtype=">u4").tobytes()
            path = folder / f"{prefix}-{kind}-ubyte.gz"
            with gzip.open(path, "wb") as f:
                f.write(header + arr.tobytes())
            md5[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    return md5


def test_idx_reader_round_trips(tmp_path):
    _write_idx(tmp_path, n=6)
    images, labels = data.load_idx(tmp_path, "train")
    assert images.shape == (6, 28, 28) and labels.shape == (6,)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        data.read_idx(tmp_path / "bad")


def test_fashion_mnist_from_debian_package():
    if not data.datasets.DEBIAN_FASHION.exists():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (CI installs it)")
    train, test = data.fashion_mnist()
    assert len(train) == 60_000 and len(test) == 10_000
    assert train.arrays[0].shape == (60_000, 784) and test.arrays[1].max() == 9


def test_fashion_mnist_missing_gives_instructions(tmp_path, monkeypatch):
    monkeypatch.setattr(data.datasets, "DEBIAN_FASHION", tmp_path / "nowhere")
    monkeypatch.delenv("TINYGRAD_ND_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.fashion_mnist(root=tmp_path)


@pytest.fixture
def idx_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    md5 = _write_idx(served)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(served), **k)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", md5
    server.shutdown()


def test_mnist_downloads_verifies_and_caches(tmp_path, idx_server):
    url, md5 = idx_server
    cache = tmp_path / "cache"
    dead = "http://127.0.0.1:9/"  # nothing listens there: the loader moves to the next mirror
    train, test = data.mnist(root=cache, mirrors=(dead, url), checksums=md5)
    assert len(train) == 6 and len(test) == 6
    # Cached: a second call needs no mirror at all.
    train2, _ = data.mnist(root=cache, mirrors=(), checksums=md5, download=False)
    np.testing.assert_array_equal(train.arrays[0], train2.arrays[0])


def test_mnist_rejects_bad_checksums_and_reports_offline(tmp_path, idx_server):
    url, md5 = idx_server
    wrong = {k: "0" * 32 for k in md5}
    with pytest.raises(ConnectionError, match="checksum mismatch"):
        data.mnist(root=tmp_path / "c1", mirrors=(url,), checksums=wrong)
    assert not list((tmp_path / "c1").glob("*.gz"))
    with pytest.raises(ConnectionError, match="offline"):
        data.mnist(root=tmp_path / "c2", mirrors=("http://127.0.0.1:9/",), checksums=md5)
