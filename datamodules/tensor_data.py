"""Batches straight from in-memory tensors, through the ordinary ``DataLoader`` machinery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler, TensorDataset

from litzoo.compat import unrepeated_distributed_sampler

#: The fewest samples a split of a regression datamodule may hold: the R² every regression task logs
#: per split (torchmetrics' ``R2Score``) needs two.
MIN_SPLIT_SIZE = 2
SPLIT_SIZE_REASON = " (a split's R² needs two samples)"


def check_at_least(owner: str, least: int, reason: str = "", **values: int) -> None:
    """Raise the config error for the first of ``values`` (datamodule option -> value) below ``least``.

    ``owner`` names the datamodule, ``reason`` (a parenthesis) says why the bound is what it is.
    """
    for name, value in values.items():
        if value < least:
            raise ValueError(
                f"{owner}: {name} must be at least {least}{reason}, got {value}. "
                f"Set --data.init_args.{name} to {least} or more."
            )


class BatchedTensorDataset(TensorDataset):
    """A ``TensorDataset`` that serves a whole batch with one tensor index per tensor.

    ``DataLoader`` calls ``__getitems__`` with the batch's indices when a dataset defines it, so a
    batch of 64 costs one gather instead of 64 ``__getitem__`` calls and a ``default_collate``
    (which costs more than a small model's whole training step). Samplers, shuffling and
    Lightning's ``DistributedSampler`` injection all keep working, because the indices still come
    from the sampler.
    """

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        # Through numpy: torch.as_tensor converts a list of Python ints one by one, several times
        # slower for the 2000 indices of a sin(1/x) epoch, which every epoch pays twice.
        index = torch.from_numpy(np.asarray(indices, dtype=np.int64))
        # index_select, not tensor[index]: the same gather without advanced indexing's overhead.
        return tuple(tensor.index_select(0, index) for tensor in self.tensors)


def keep_batch(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Collate function for :class:`BatchedTensorDataset`: the batch is already stacked.

    A named module-level function (not a lambda) so worker processes can pickle it.
    """
    return batch


def evaluation_sampler(dataset: TensorDataset) -> Sampler | None:
    """Under DDP, a sampler that gives each rank a disjoint share of ``dataset``, every sample once.

    Lightning would otherwise inject a ``DistributedSampler``, which pads the last uneven share with
    repeated samples so every rank gets equally many; evaluated twice, those samples bias the
    validation and test metrics. Lightning leaves a loader that already has a ``DistributedSampler``
    (as this one is) alone. The ranks may then run one batch more or less than each other, which is
    safe in evaluation: the metrics sync their states once, at compute, not per step.
    ``None`` outside DDP (plain sequential order).
    """
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return None
    return unrepeated_distributed_sampler(dataset)


def tensor_loader(
    dataset: BatchedTensorDataset,
    batch_size: int,
    shuffle: bool,
    collate_fn: Callable[[Any], Any] = keep_batch,
    **kwargs: Any,
) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` that gathers whole batches at once.

    ``batch_size`` is per process; an evaluation loader (``shuffle=False``) under DDP sees every
    sample exactly once across the ranks (see :func:`evaluation_sampler`). ``collate_fn`` receives
    the already stacked batch (a tuple of tensors).

    An evaluation loader draws its workers' base seed from a generator of its own: every
    ``DataLoader`` iterator otherwise takes one number from torch's global RNG, so each validation
    pass would shift the training shuffles that follow it. With its own generator, validating (or
    not, or more often) leaves training exactly as it would be without it, as in the tutorial's loop,
    which validates with one forward pass and no loader.
    """
    if shuffle:
        return DataLoader(dataset, batch_size=batch_size, shuffle=True, collate_fn=collate_fn, **kwargs)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=evaluation_sampler(dataset),
        collate_fn=collate_fn,
        generator=torch.Generator(),
        **kwargs,
    )


class InMemoryDataModule(L.LightningDataModule):
    r"""Base of the datamodules whose splits are :class:`BatchedTensorDataset`\ s held in memory.

    Subclasses fill ``self.splits`` (``"train"``, ``"val"``, ``"test"``) in ``setup``; the loaders come
    from here: the training split shuffled, the others in order, ``predict`` on the test split.
    Override :meth:`loader` to pass loader options.

    ``batch_size`` is the batch each loader serves. A task with a
    :class:`~litzoo.models.tasks.ChunkedSteps` piece (``configs/speed/chunked.yaml``) takes one
    optimizer step per ``chunk_size`` samples of it: one shuffled draw of ``k * chunk_size`` samples
    is the same samples, in the same order, as ``k`` consecutive batches of ``chunk_size``.
    """

    def __init__(self, batch_size: int) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.splits: dict[str, BatchedTensorDataset] = {}

    def loader(self, split: str, shuffle: bool) -> DataLoader:
        return tensor_loader(self.splits[split], self.batch_size, shuffle=shuffle)

    def train_dataloader(self) -> DataLoader:
        return self.loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self.loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self.loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self.loader("test", shuffle=False)
