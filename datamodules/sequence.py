"""The tutorial's toy sequence regression: the target is the sum over time of the mean feature."""

from __future__ import annotations

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence
from torch.utils.data import DataLoader

from litzoo.datamodules.tensor_data import (
    MIN_SPLIT_SIZE,
    SPLIT_SIZE_REASON,
    BatchedTensorDataset,
    InMemoryDataModule,
    check_at_least,
    keep_batch,
    tensor_loader,
)


def sequence_sum_samples(
    n: int, num_steps: int, num_features: int, lengths: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """``x ~ N(0, 1)`` of shape ``(n, T, F)``, zero after each ``lengths[i]``, and ``y = mean_f sum_t x``.

    The target ``(n, 1)`` reads only a sequence's true steps; with every length ``T`` its variance
    is ``T / F`` (a sum of ``T * F`` unit Gaussians divided by ``F``).
    """
    x = torch.randn(n, num_steps, num_features, generator=generator)
    x[torch.arange(num_steps).unsqueeze(0) >= lengths.unsqueeze(1)] = 0.0
    return x, x.sum(dim=1).mean(dim=1, keepdim=True)


def pack_batch(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> tuple[PackedSequence, torch.Tensor]:
    """Collate ``(padded x, lengths, y)`` into ``(PackedSequence, y)``.

    Packing happens here, per batch, so the tasks' ``x, y = batch`` and ``net(x)`` stay unchanged:
    torch's RNNs read a ``PackedSequence`` directly and skip the padding. ``enforce_sorted=False``
    keeps the batch in its sampled order (the RNN sorts internally and restores it).
    """
    x, lengths, y = batch
    return pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False), y


class SequenceRegressionDataModule(InMemoryDataModule):
    """Sequences ``(T, F)`` of unit Gaussians; target: the sum over time of the mean over features.

    All splits are drawn once from one generator seeded with ``seed`` (independent of the global
    seed). Batches are ``(x, y)`` with ``x`` ``(B, T, F)`` batch-first; with ``variable_length`` every
    sequence gets a random length in ``[min_length, T]``, the rest is zero padding, the target sums
    the true steps only, and ``x`` is a ``PackedSequence`` (see :func:`pack_batch`).

    Args:
        num_steps, num_features: ``T`` and ``F``.
        train_size, val_size, test_size: Sequences per split.
        batch_size: Sequences per batch (per process under DDP).
        seed: Seed of the data generator.
        variable_length: Random lengths per sequence, delivered packed.
        min_length: Shortest length drawn when ``variable_length``.
    """

    #: One target per sequence.
    num_outputs: int = 1

    def __init__(
        self,
        num_steps: int = 10,
        num_features: int = 5,
        train_size: int = 2000,
        val_size: int = 500,
        test_size: int = 500,
        batch_size: int = 32,
        seed: int = 0,
        variable_length: bool = False,
        min_length: int = 1,
    ) -> None:
        super().__init__(batch_size)
        owner = "SequenceRegressionDataModule"
        check_at_least(owner, 1, num_steps=num_steps, num_features=num_features)
        splits = {"train_size": train_size, "val_size": val_size, "test_size": test_size}
        check_at_least(owner, MIN_SPLIT_SIZE, SPLIT_SIZE_REASON, **splits)
        check_at_least(owner, 1, batch_size=batch_size, min_length=min_length)
        if variable_length and min_length > num_steps:
            raise ValueError(
                f"SequenceRegressionDataModule: min_length={min_length} exceeds num_steps={num_steps}; "
                "lower min_length or raise num_steps."
            )
        self.save_hyperparameters()
        self.input_shape: tuple[int, int] = (num_steps, num_features)

    def setup(self, stage: str) -> None:
        if self.splits:
            return
        hp = self.hparams
        generator = torch.Generator().manual_seed(hp.seed)
        for split in ("train", "val", "test"):
            n = hp[f"{split}_size"]
            if hp.variable_length:
                lengths = torch.randint(hp.min_length, hp.num_steps + 1, (n,), generator=generator)
            else:
                lengths = torch.full((n,), hp.num_steps)
            x, y = sequence_sum_samples(n, hp.num_steps, hp.num_features, lengths, generator)
            tensors = (x, lengths, y) if hp.variable_length else (x, y)
            self.splits[split] = BatchedTensorDataset(*tensors)

    def loader(self, split: str, shuffle: bool) -> DataLoader:
        collate = pack_batch if self.hparams.variable_length else keep_batch
        return tensor_loader(self.splits[split], self.batch_size, shuffle=shuffle, collate_fn=collate)
