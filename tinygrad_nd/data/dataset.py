"""`Dataset`, `TensorDataset` and a seeded `DataLoader`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..factories import Generator, rng_of
from ..functional import _int_at_least
from ..tensor import Tensor


class Dataset(ABC):
    """Anything with `__len__` and `__getitem__(i)` returning a tuple of arrays/tensors."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of examples."""

    @abstractmethod
    def __getitem__(self, index: int) -> tuple[Any, ...]:
        """Example `index` as a tuple (e.g. image, label)."""


class TensorDataset(Dataset):
    """Rows of equally long arrays, e.g. images and labels.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nd import data
    >>> ds = data.TensorDataset(np.zeros((5, 3)), np.arange(5))
    >>> len(ds), ds[2][1].item()
    (5, 2)
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = [a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays]
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ValueError(f"TensorDataset: arrays must have the same length, got {lengths}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(Tensor(a[index]) for a in self.arrays)

    def subset(self, indices: Sequence[int] | np.ndarray) -> TensorDataset:
        """The rows at `indices` as a new dataset.

        Parameters
        ----------
        indices : sequence of int or array
            Row numbers (or a boolean mask), in the order wanted.
        """
        idx = np.asarray(indices)
        return TensorDataset(*(a[idx] for a in self.arrays))


class DataLoader:
    """Iterate over a dataset in mini-batches of Tensors.

    Parameters
    ----------
    dataset : Dataset
        Anything with `__len__` and `__getitem__` returning a tuple of arrays per row.
    batch_size : int
        Rows per batch.
    shuffle : bool
        Reshuffle at every epoch (every `iter`), reproducibly from `seed`/`generator`.
    drop_last : bool
        Skip the last, smaller batch.
    seed : int, optional
        Seed of a private generator (ignored when `generator` is given).
    generator : Generator, optional
        The random generator that shuffles (e.g. `tg.Generator(0)`).

    Examples
    --------
    >>> import numpy as np
    >>> from tinygrad_nd import data
    >>> ds = data.TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> [yb.tolist() for _, yb in data.DataLoader(ds, batch_size=2, shuffle=True, seed=0)]
    [[2, 4], [3, 0], [1]]
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None,
                 generator: Generator | None = None) -> None:
        if not isinstance(dataset, Dataset) and not (hasattr(dataset, "__len__")
                                                     and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        _int_at_least(batch_size, "batch_size", "DataLoader")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, bool):
                raise TypeError(f"DataLoader: {name} must be a bool, got "
                                f"{type(flag).__name__} {flag!r}")
        if seed is not None:
            _int_at_least(seed, "seed", "DataLoader", 0)
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rng = rng_of(generator) if generator is not None or seed is None else \
            np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            if self.drop_last and len(idx) < self.batch_size:
                break
            if isinstance(self.dataset, TensorDataset):  # one fancy-index per array
                yield tuple(Tensor._make(a[idx], None) for a in self.dataset.arrays)
            else:
                items = [self.dataset[int(i)] for i in idx]
                yield tuple(Tensor(np.stack([np.asarray(item[k]) for item in items]))
                            for k in range(len(items[0])))
