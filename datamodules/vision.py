"""What the MNIST and CIFAR-10 datamodules share: torchvision loading, a fixed train/val split,
uint8 images held in memory and per-batch preprocessing on the batch's device."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_warn
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.datasets import VisionDataset

from litzoo.datamodules.content_checks import as_class_indices, as_pixels, check_image_shape, check_labels
from litzoo.datamodules.image_files import read_images
from litzoo.datamodules.tensor_data import BatchedTensorDataset, InMemoryDataModule, keep_batch, tensor_loader

#: The validation split is drawn with its own generator so it never changes with ``seed_everything``.
DEFAULT_SPLIT_SEED = 42
DEFAULT_VAL_SIZE = 5000
FIX_HINT = (
    "Fix: point --data.init_args.data_dir at the folder that holds them, or run once with "
    "--data.init_args.download true on a machine with internet access, or copy the files there."
)


def one_line(error: BaseException) -> str:
    """An underlying error's text folded into one line, to keep our message one paragraph."""
    return " ".join(str(error).split())


class DatasetNotFoundError(RuntimeError):
    """The dataset files are missing and could not (or were not allowed to) be downloaded."""


class DatasetCorruptError(RuntimeError):
    """The dataset files exist but cannot be read completely."""


class VisionDataModule(InMemoryDataModule):
    """Base of the torchvision image datamodules.

    ``setup`` parses the official files once with torchvision and keeps the images as one uint8
    tensor ``(N, C, H, W)``: batches are gathered straight from it (no PIL image per sample per
    epoch), moved to the device as uint8 (4x less to copy than float), and only then scaled,
    normalized and, for training, augmented in ``on_after_batch_transfer``, on the GPU when
    training on one. The validation split is a fixed, seeded part of the official training files
    and is never augmented; the test split is the official test set, also used by ``predict``
    unless ``predict_path`` names the user's own images.

    Each split is checked once at setup (:mod:`litzoo.datamodules.content_checks`): image size, pixel type and
    scale (floats are converted to uint8 by one stated rule or refused), NaN/inf and label range.

    Outside a Trainer (``self.trainer is None``: no ``fit``/``validate``/``test``/``predict`` has
    attached the datamodule) no hook runs on the batches, so the loaders preprocess them themselves:
    ``for x, y in dm.train_dataloader(): net(x)`` gets float32, normalized batches, the training
    loader's augmented exactly as ``on_after_batch_transfer`` augments them in training, on the CPU
    (see :meth:`loader`). Loaders made while a Trainer is attached give uint8 batches for that hook.

    Subclasses set ``dataset_class``, ``files``, ``mean``, ``std``, ``num_classes``, ``class_names``,
    ``image_shape`` (one image as stored) and ``input_shape`` (as the net reads it), and define
    ``images_of``, ``preprocess`` and ``frame``.

    Args:
        data_dir: Folder that holds (or will hold) the dataset in torchvision's layout.
        download: Download the files into ``data_dir`` when they are missing.
        batch_size: Samples per batch (per process under DDP).
        val_size: Validation samples taken from the training files: a count (int) or a fraction
            (float in (0, 1)).
        split_seed: Seed of the train/val split, independent of the global seed.
        num_workers, pin_memory, persistent_workers: Passed to every ``DataLoader``
            (``persistent_workers`` only applies when ``num_workers > 0``).
        predict_path: Your own images for ``predict`` instead of the test split: a PNG or JPEG file,
            a folder of them or a glob. Each is framed like the dataset's images (see ``frame``) and
            then preprocessed like every batch; ``predictions.csv`` names its ``file``. The dataset
            files are then not needed for ``predict``.
        skip_unreadable: Skip (and list) files under ``predict_path`` that are not readable images,
            instead of stopping at the first one.
    """

    dataset_class: type[VisionDataset]
    #: Paths, relative to ``data_dir``, that must exist before loading.
    files: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    num_classes: int
    class_names: tuple[str, ...]
    input_shape: tuple[int, int, int]
    #: One image as the dataset files store it, before any padding ``preprocess`` applies.
    image_shape: tuple[int, int, int]

    @property
    def num_outputs(self) -> int:
        """Outputs the net gives per image: one logit per class (the name every datamodule shares)."""
        return self.num_classes

    def __init__(
        self,
        data_dir: str | Path = "data/",
        download: bool = True,
        batch_size: int = 64,
        val_size: int | float = DEFAULT_VAL_SIZE,
        split_seed: int = DEFAULT_SPLIT_SEED,
        num_workers: int = 0,
        pin_memory: bool = False,
        persistent_workers: bool = False,
        predict_path: str | None = None,
        skip_unreadable: bool = False,
    ) -> None:
        super().__init__(batch_size)
        name = type(self).__name__
        if batch_size < 1:
            raise ValueError(f"{name}: batch_size must be at least 1, got {batch_size}.")
        if val_size <= 0 or (isinstance(val_size, float) and val_size >= 1):
            raise ValueError(
                f"{name}: val_size={val_size} must be a positive count of validation samples or a "
                "fraction in (0, 1); the validation split needs at least one sample."
            )
        self.data_dir = Path(data_dir)
        self.download = download
        self.val_size = val_size
        self.split_seed = split_seed
        self.loader_options = {
            "num_workers": num_workers,
            "pin_memory": pin_memory,
            "persistent_workers": persistent_workers and num_workers > 0,
        }
        self.predict_path = predict_path
        self.predict_files: list[str] | None = None
        if predict_path is not None:
            # Read now, while the CLI builds the datamodule: a bad file then stops the command before
            # the run folder gets any log, so nothing is left half-written.
            own = read_images(predict_path, self.frame, skip_unreadable)
            if own.skipped:
                rank_zero_warn(
                    f"Skipped {len(own.skipped)} unreadable file(s) of predict_path {predict_path}:\n  "
                    + "\n  ".join(own.skipped)
                )
            self.splits["predict"] = BatchedTensorDataset(own.images)
            self.predict_files = own.files

    # ----------------------------------------------------------------------------- loading
    def missing_files(self) -> list[str]:
        return [f for f in self.files if not (self.data_dir / f).is_file()]

    def not_found(self, reason: str) -> DatasetNotFoundError:
        expected = ", ".join(self.files)
        return DatasetNotFoundError(
            f"{type(self).__name__}: the dataset is not in {self.data_dir.resolve()} ({reason}). "
            f"Expected there: {expected}. {FIX_HINT}"
        )

    def predicts_own_images(self) -> bool:
        """Whether the trainer is running ``predict`` on ``predict_path`` (no dataset file needed)."""
        return self.predict_files is not None and self.trainer is not None and self.trainer.predicting

    def prepare_data(self) -> None:
        """Download the files if they are missing (Lightning runs this on one process per node)."""
        missing = self.missing_files()
        if not missing or self.predicts_own_images():
            return
        if not self.download:
            raise self.not_found(
                f"{len(missing)} of its {len(self.files)} files are missing and download is false"
            )
        try:
            for train in (True, False):
                self.dataset_class(self.data_dir, train=train, download=True)
        except (OSError, RuntimeError) as error:  # URLError is an OSError; torchvision raises RuntimeError
            raise self.not_found(f"download failed: {one_line(error)}") from error

    def load(self, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """The official train or test split as (images ``(N, C, H, W)`` as stored, int64 labels)."""
        missing = self.missing_files()
        if missing:
            raise self.not_found(
                f"missing {', '.join(missing)}; prepare_data downloads them when download is true"
            )
        try:
            dataset = self.dataset_class(self.data_dir, train=train, download=False)
            images, targets = self.images_of(dataset), dataset.targets
        except KeyError as error:  # a pickled batch without its "data", "labels" or "label_names" entry
            raise self.corrupt(f"a file lacks the entry {error} that torchvision reads") from error
        except (
            RuntimeError,
            ValueError,
            TypeError,
            AssertionError,
            EOFError,
            IndexError,
            pickle.UnpicklingError,
        ) as error:
            raise self.corrupt(
                f"reading them failed with {type(error).__name__}: {one_line(error)}"
            ) from error
        labels = as_class_indices(type(self).__name__, targets)
        if len(images) != len(labels) or len(images) == 0:
            raise self.corrupt(f"{len(images)} images but {len(labels)} labels")
        return images, labels

    def checked_split(self, split: str, images: torch.Tensor, labels: torch.Tensor) -> BatchedTensorDataset:
        """The split as a dataset, once its images and labels passed :mod:`litzoo.datamodules.content_checks`."""
        owner = type(self).__name__
        check_image_shape(owner, split, images, self.image_shape)
        check_labels(owner, split, labels, self.num_classes)
        return BatchedTensorDataset(as_pixels(owner, split, images), labels)

    def corrupt(self, reason: str) -> DatasetCorruptError:
        return DatasetCorruptError(
            f"{type(self).__name__}: the dataset files in {self.data_dir.resolve()} are damaged or "
            f"incomplete ({reason}). Fix: delete {', '.join(self.files)} and run with "
            "--data.init_args.download true (or copy intact files there)."
        )

    def images_of(self, dataset: VisionDataset) -> torch.Tensor:
        """The dataset's images as one contiguous uint8 tensor ``(N, C, H, W)``."""
        raise NotImplementedError

    def frame(self, image: Image.Image) -> torch.Tensor:
        """One of the user's pictures as a uint8 ``(C, H, W)`` image like those of the dataset files."""
        raise NotImplementedError

    def num_val(self, num_train_files: int) -> int:
        count = round(self.val_size * num_train_files) if isinstance(self.val_size, float) else self.val_size
        if not 1 <= count < num_train_files:
            raise ValueError(
                f"{type(self).__name__}: val_size={self.val_size} leaves {num_train_files - count} of the "
                f"{num_train_files} training samples for training (and {count} for validation); both "
                "need at least one. Set --data.init_args.val_size to a smaller count or fraction."
            )
        return count

    def setup(self, stage: str) -> None:
        """Load what ``stage`` needs (fit/validate: train and val; test/predict: test), once.

        ``predict`` on ``predict_path`` reads nothing here: those images were read at construction.
        """
        if stage in ("fit", "validate") and "train" not in self.splits:
            images, labels = self.load(train=True)
            order = torch.randperm(len(images), generator=torch.Generator().manual_seed(self.split_seed))
            n_val = self.num_val(len(images))
            val, train = order[:n_val].sort().values, order[n_val:].sort().values
            self.splits["train"] = self.checked_split("train", images[train], labels[train])
            self.splits["val"] = self.checked_split("validation", images[val], labels[val])
        own_images = stage == "predict" and self.predict_files is not None
        if stage in ("test", "predict") and "test" not in self.splits and not own_images:
            self.splits["test"] = self.checked_split("test", *self.load(train=False))

    # ----------------------------------------------------------------------------- batches
    def loader(self, split: str, shuffle: bool, raw: bool | None = None) -> DataLoader:
        """A loader over ``split``: uint8 batches (``raw``) or model-ready ones, preprocessed as
        :meth:`on_after_batch_transfer` would (augmented for the ``"train"`` split).

        ``raw=None`` (what the ``*_dataloader`` hooks pass) decides by ``self.trainer``, which Lightning
        sets when a ``fit``/``validate``/``test``/``predict`` attaches the datamodule, before it asks
        for any loader. Attached, the Trainer moves each uint8 batch to the device and our hook
        preprocesses it there (4x less to copy, the arithmetic on the GPU): the loader must then
        leave batches raw, and does so with the same collate as ever, at no cost. Not attached, no
        hook will ever see the batch, so the loader's collate preprocesses it on the CPU: a plain
        PyTorch loop (or a ``Trainer`` given the loaders instead of the datamodule) gets batches
        the net takes. ``raw=True`` gives uint8 batches regardless, for code that runs
        :meth:`preprocess` itself (on its own device).
        """
        if raw is None:
            raw = self.trainer is not None
        collate = keep_batch if raw else ModelReadyBatch(self, train=split == "train")
        return tensor_loader(
            self.splits[split], self.batch_size, shuffle=shuffle, collate_fn=collate, **self.loader_options
        )

    def predict_dataloader(self) -> DataLoader:
        return self.loader("test" if self.predict_files is None else "predict", shuffle=False)

    def preprocess(self, images: torch.Tensor, train: bool) -> torch.Tensor:
        """uint8 batch ``(N, C, H, W)`` -> the float batch the model reads."""
        raise NotImplementedError

    def model_ready(self, batch: tuple[torch.Tensor, ...], train: bool) -> tuple[torch.Tensor, ...]:
        """A loaded uint8 batch ``(images, labels)`` as the model reads it, on the batch's device."""
        images, *labels = batch  # the user's own images for predict come without labels
        return (self.preprocess(images, train=train), *labels)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Preprocess on the device the batch now lives on; augment training batches only."""
        if isinstance(batch, torch.Tensor):
            # Lightning also routes the model's `example_input_array` (already model-ready) through
            # this hook when it prints the model summary; only loader batches need preprocessing.
            return batch
        training = self.trainer is not None and self.trainer.training
        return self.model_ready(batch, train=training)


class ModelReadyBatch:
    """Collate of a :class:`VisionDataModule` loader made without a Trainer: the gathered uint8
    batch through :meth:`VisionDataModule.model_ready`, as the Trainer's hook would do it.

    A class, not a lambda or closure, so ``num_workers > 0`` loaders can pickle it; in a worker, the
    training split's augmentation draws from that worker's seeded RNG, as any augmenting
    ``Dataset`` does.
    """

    def __init__(self, datamodule: VisionDataModule, train: bool) -> None:
        self.datamodule = datamodule
        self.train = train

    def __call__(self, batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        return self.datamodule.model_ready(batch, train=self.train)
