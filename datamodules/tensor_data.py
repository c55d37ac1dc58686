"""Batches straight from in-memory tensors, through the ordinary ``DataLoader`` machinery."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset


class BatchedTensorDataset(TensorDataset):
    """A ``TensorDataset`` that serves a whole batch with one tensor index per tensor.

    ``DataLoader`` calls ``__getitems__`` with the batch's indices when a dataset defines it, so a
    batch of 64 costs one gather instead of 64 ``__getitem__`` calls and a ``default_collate``
    (which costs more than a small model's whole training step). Samplers, shuffling and
    Lightning's ``DistributedSampler`` injection all keep working, because the indices still come
    from the sampler.
    """

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.as_tensor(indices)
        return tuple(tensor[index] for tensor in self.tensors)


def keep_batch(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """Collate function for :class:`BatchedTensorDataset`: the batch is already stacked.

    A named module-level function (not a lambda) so worker processes can pickle it.
    """
    return batch


def tensor_loader(dataset: BatchedTensorDataset, batch_size: int, shuffle: bool, **kwargs) -> DataLoader:
    """A ``DataLoader`` over ``dataset`` that gathers whole batches at once."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=keep_batch, **kwargs)
