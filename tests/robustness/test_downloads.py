"""``data.mnist()`` against misbehaving servers, all on 127.0.0.1 (nothing leaves the machine).

Servers run in daemon threads and stop at the end of each test: one that accepts and never
answers, one that answers 404, one that serves tiny valid gzip IDX files.
"""

import gzip
import hashlib
import http.server
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tinygrad_nd import data


def _write_idx(folder: Path, n: int = 5) -> dict[str, str]:
    """Tiny MNIST-format files (``n`` 28x28 images per split); returns their MD5s."""
    rng = np.random.default_rng(1)
    md5 = {}
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        for kind, arr, magic in (("images-idx3", images, 3), ("labels-idx1", labels, 1)):
            header = bytes([0, 0, 8, magic]) + np.array(arr.shape, dtype=">u4").tobytes()
            path = folder / f"{prefix}-{kind}-ubyte.gz"
            path.write_bytes(gzip.compress(header + arr.tobytes(), mtime=0))
            md5[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
    return md5


class _SilentServer:
    """Accepts connections on 127.0.0.1 and never sends a byte; counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.held.append(conn)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.sock.close()


class _HTTPServer:
    """Serves ``folder`` (or 404 for everything when ``folder`` is None); counts requests."""

    def __init__(self, folder: Path | None) -> None:
        outer = self
        self.requests: list[str] = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **k):
                super().__init__(*a, directory=str(folder or "/nonexistent"), **k)

            def do_GET(self):
                outer.requests.append(self.path)
                if folder is None:
                    self.send_error(404)
                else:
                    super().do_GET()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def silent():
    server = _SilentServer()
    yield server
    server.close()


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    md5 = _write_idx(folder)
    server = _HTTPServer(folder)
    yield server, md5
    server.close()


@pytest.fixture
def missing():
    server = _HTTPServer(None)
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _online(monkeypatch):
    monkeypatch.delenv("TINYGRAD_ND_OFFLINE", raising=False)


def _cache_listing(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir()) if cache.exists() else []


def test_a_server_that_never_answers_fails_fast_naming_the_url(tmp_path, silent):
    start = time.perf_counter()
    with pytest.raises(ConnectionError) as info:
        data.mnist(root=tmp_path / "cache", mirrors=[silent.url], timeout=1)
    elapsed = time.perf_counter() - start
    assert elapsed < 3, f"took {elapsed:.1f} s with timeout=1"
    message = str(info.value)
    assert silent.url + "train-images-idx3-ubyte.gz" in message and "timed out" in message
    assert silent.accepted >= 1
    assert _cache_listing(tmp_path / "cache") == []  # no partial file


def test_a_404_mirror_then_a_good_one_succeeds(tmp_path, missing, served):
    server, md5 = served
    cache = tmp_path / "cache"
    train, test = data.mnist(root=cache, mirrors=[missing.url, server.url.rstrip("/")],
                             checksums=md5, timeout=2)
    assert len(train) == 5 and len(test) == 5
    x, y = train.arrays
    assert x.shape == (5, 784) and x.dtype == np.float32 and y.dtype == np.int64
    assert len(missing.requests) == 4 and len(server.requests) == 4
    assert _cache_listing(cache) == sorted(md5)


def test_a_bad_checksum_is_refused_and_nothing_is_kept(tmp_path, served):
    server, md5 = served
    wrong = dict(md5, **{"train-images-idx3-ubyte.gz": "0" * 32})
    cache = tmp_path / "cache"
    with pytest.raises(ConnectionError, match=r"train-images-idx3-ubyte.gz: checksum mismatch "
                                              r"\(MD5 [0-9a-f]{32}, expected 0{32}\)"):
        data.mnist(root=cache, mirrors=[server.url], checksums=wrong, timeout=2)
    assert _cache_listing(cache) == []  # the file and its temporary are gone


def test_a_corrupt_cached_file_is_fetched_again(tmp_path, served):
    server, md5 = served
    cache = tmp_path / "cache"
    data.mnist(root=cache, mirrors=[server.url], checksums=md5, timeout=2)
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    before = len(server.requests)
    data.mnist(root=cache, mirrors=[server.url], checksums=md5, timeout=2)
    assert server.requests[before:] == ["/t10k-labels-idx1-ubyte.gz"]


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_offline_variable_prevents_any_connection(tmp_path, silent, served, monkeypatch,
                                                  value):
    server, md5 = served
    monkeypatch.setenv("TINYGRAD_ND_OFFLINE", value)
    cache = tmp_path / "cache"
    with pytest.raises(FileNotFoundError) as info:
        data.mnist(root=cache, mirrors=[silent.url, server.url], checksums=md5, timeout=1)
    message = str(info.value)
    assert all(name in message for name in md5) and str(cache) in message
    assert f"TINYGRAD_ND_OFFLINE={value} forbids downloads" in message
    time.sleep(0.1)  # a connection, had one been made, would be counted by now
    assert silent.accepted == 0 and server.requests == []
    assert not cache.exists()


def test_offline_with_the_files_in_place_works(tmp_path, served, monkeypatch):
    server, md5 = served
    cache = tmp_path / "cache"
    data.mnist(root=cache, mirrors=[server.url], checksums=md5, timeout=2)
    requests = len(server.requests)
    monkeypatch.setenv("TINYGRAD_ND_OFFLINE", "1")
    train, _ = data.mnist(root=cache, mirrors=[server.url], checksums=md5, timeout=2)
    assert len(train) == 5 and len(server.requests) == requests


@pytest.mark.parametrize("value", ["0", "", "false", "no", "off"])
def test_offline_variable_off_values_allow_downloads(tmp_path, served, monkeypatch, value):
    server, md5 = served
    monkeypatch.setenv("TINYGRAD_ND_OFFLINE", value)
    train, _ = data.mnist(root=tmp_path / "c", mirrors=[server.url], checksums=md5, timeout=2)
    assert len(train) == 5


def test_download_false_names_every_missing_file(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    md5 = _write_idx(cache)
    (cache / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match=r"mnist: t10k-images-idx3-ubyte.gz missing "
                                                r"\(or corrupt\) in .*cache and download=False"):
        data.mnist(root=cache, download=False, checksums=md5)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"timeout": 0}, ValueError, "mnist: timeout must be a positive number of seconds, got 0"),
    ({"timeout": -1.0}, ValueError, "got -1.0"),
    ({"timeout": float("nan")}, ValueError, "got nan"),
    ({"mirrors": "http://127.0.0.1:9/"}, TypeError, r"mirrors must be a sequence of base URLs"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        data.mnist(root=tmp_path, **kwargs)


def test_every_mirror_failing_lists_each_url(tmp_path, silent, missing):
    with pytest.raises(ConnectionError) as info:
        data.mnist(root=tmp_path / "c", mirrors=[missing.url, silent.url], timeout=0.5)
    message = str(info.value)
    assert missing.url + "train-images-idx3-ubyte.gz: HTTPError: HTTP Error 404" in message
    assert silent.url + "train-images-idx3-ubyte.gz" in message
