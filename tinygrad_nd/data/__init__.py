"""Datasets and loaders: the embedded MNIST subset, IDX files, Fashion-MNIST, MNIST."""

from .dataset import DataLoader, Dataset, TensorDataset
from .datasets import fashion_mnist, load_idx, mnist, mnist_5k, read_idx

__all__ = ["DataLoader", "Dataset", "TensorDataset", "fashion_mnist", "load_idx", "mnist",
           "mnist_5k", "read_idx"]
