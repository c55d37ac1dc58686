"""Tiny MNIST and CIFAR-10 datasets written in the exact on-disk formats torchvision reads.

Tests (and ``scripts/benchmark_augmentation.py``) point the datamodules at these folders, so the
real torchvision parsing runs offline. Each class carries a fixed, easily learnable signal plus
noise, so a small net trained for a few CPU epochs tells "learned" from "broken" reliably.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

NUM_CLASSES = 10
MNIST_SIDE = 28
CIFAR_SIDE = 32
CIFAR_CHANNELS = 3
# Magic numbers of the idx format: 0x0000 08 03 (uint8, 3 dims) for images, 0x0000 08 01 for labels.
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
# Each class's signal: a bright square whose top-left corner moves with the class along the rows
# (so an LSTM reading row by row sees *when* it appears) and, in a shuffled order, along the
# columns (so it also sees *where* in the row).
SQUARE = 6
ROW_STEP = 2
COLUMN_ORDER = (3, 7, 0, 5, 9, 2, 6, 1, 8, 4)
NOISE_MAX = 60
SIGNAL_MIN = 200
CIFAR_LABEL_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def square_corner(label: int) -> tuple[int, int]:
    """Top-left (row, column) of class ``label``'s square: distinct rows and distinct columns."""
    return 1 + ROW_STEP * label, 1 + ROW_STEP * COLUMN_ORDER[label]


def class_images(
    labels: np.ndarray, side: int, channels: int, rng: np.random.Generator, learnable: bool
) -> np.ndarray:
    """uint8 images ``(N, channels, side, side)``: uniform noise, plus the class square if learnable."""
    images = rng.integers(0, NOISE_MAX, size=(len(labels), channels, side, side), dtype=np.uint8)
    if not learnable:
        return images
    for i, label in enumerate(labels):
        row, column = square_corner(int(label))
        shape = (channels, SQUARE, SQUARE)
        images[i, :, row : row + SQUARE, column : column + SQUARE] = rng.integers(
            SIGNAL_MIN, 256, size=shape, dtype=np.uint8
        )
        if channels > 1:  # colour carries the class too: one channel per class stays dark
            images[i, int(label) % channels, row : row + SQUARE, column : column + SQUARE] //= 4
    return images


def balanced_labels(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels cycling through every class, shuffled (each class appears when n >= 10)."""
    return rng.permutation(np.arange(n) % NUM_CLASSES).astype(np.uint8)


def write_idx(path: Path, magic: int, array: np.ndarray) -> None:
    """One uncompressed idx file: big-endian magic, big-endian sizes, then the raw uint8 values."""
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_mnist(
    root: Path, n_train: int = 600, n_test: int = 200, seed: int = 0, learnable: bool = True
) -> Path:
    """Write ``root/MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``; return ``root``."""
    rng = np.random.default_rng(seed)
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = balanced_labels(n, rng)
        images = class_images(labels, MNIST_SIDE, 1, rng, learnable)[:, 0]
        write_idx(raw / f"{prefix}-images-idx3-ubyte", IDX_IMAGES_MAGIC, images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", IDX_LABELS_MAGIC, labels)
    return Path(root)


def write_cifar_batch(path: Path, name: str, labels: np.ndarray, images: np.ndarray) -> None:
    """One CIFAR-10 python batch as the real files hold it: a protocol-2 pickle with str keys.

    The originals are Python 2 pickles whose keys torchvision reads as ``str`` through
    ``pickle.load(f, encoding="latin1")``; ``data`` is ``(N, 3072)`` uint8, the R, G and B planes
    of each image one after the other, each plane row-major.
    """
    entry = {
        "batch_label": name,
        "labels": [int(label) for label in labels],
        "data": images.reshape(len(labels), -1),
        "filenames": [f"{name}_{i:05d}.png" for i in range(len(labels))],
    }
    with open(path, "wb") as file:
        pickle.dump(entry, file, protocol=2)


def write_cifar10(root: Path, n_per_batch: int = 100, n_test: int = 100, seed: int = 0) -> Path:
    """Write ``root/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}``; return ``root``.

    The md5 sums differ from the real files', so torchvision's integrity check must be relaxed
    (:func:`cifar10_md5_relaxed`, or the ``cifar_md5_ok`` fixture in tests/conftest.py).
    """
    rng = np.random.default_rng(seed)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    batches = [(f"data_batch_{i}", n_per_batch) for i in range(1, 6)] + [("test_batch", n_test)]
    for name, n in batches:
        labels = balanced_labels(n, rng)
        write_cifar_batch(
            folder / name, name, labels, class_images(labels, CIFAR_SIDE, CIFAR_CHANNELS, rng, True)
        )
    meta = {
        "num_cases_per_batch": n_per_batch,
        "label_names": list(CIFAR_LABEL_NAMES),
        "num_vis": CIFAR_CHANNELS * CIFAR_SIDE * CIFAR_SIDE,
    }
    with open(folder / "batches.meta", "wb") as file:
        pickle.dump(meta, file, protocol=2)
    return Path(root)


@contextmanager
def cifar10_md5_relaxed() -> Iterator[None]:
    """Inside the block, torchvision accepts CIFAR-10 files whose md5 differs from the real ones'.

    The files written by :func:`write_cifar10` cannot match the md5 sums torchvision knows, so only the
    md5 comparison is replaced: a missing file still fails the check. The original comes back on exit.
    """
    import torchvision.datasets.cifar as cifar  # here, so that writing the files needs numpy alone

    original = cifar.check_integrity
    cifar.check_integrity = lambda path, md5=None: Path(path).is_file()
    try:
        yield
    finally:
        cifar.check_integrity = original
