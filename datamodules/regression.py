"""The tutorial's 1-D regression problem: y = sin(1/x), generated in memory."""

from __future__ import annotations

import numpy as np

from litzoo.datamodules.sin_inverse import TUTORIAL_SEED, sin_inverse_samples
from litzoo.datamodules.tensor_data import (
    MIN_SPLIT_SIZE,
    SPLIT_SIZE_REASON,
    BatchedTensorDataset,
    InMemoryDataModule,
    check_at_least,
)


class RegressionDataModule(InMemoryDataModule):
    """sin(1/x) regression: train, val and test drawn one after the other from one seeded generator.

    The data is fully determined by ``seed`` (independent of the global seed), so every run sees the
    same samples; with the default seed (the tutorial's 137) and 2000 + 2000 samples, train and val
    are the tutorial's own training and validation sets, and test is a third draw.

    Args:
        train_size, val_size, test_size: Samples per split.
        batch_size: Samples per batch (per process under DDP).
        seed: Seed of the data generator (numpy's ``RandomState``, as the tutorial seeds it).
    """

    #: One scalar input and one scalar target per sample.
    input_shape: tuple[int, ...] = (1,)
    num_outputs: int = 1

    def __init__(
        self,
        train_size: int = 2000,
        val_size: int = 2000,
        test_size: int = 2000,
        batch_size: int = 64,
        seed: int = TUTORIAL_SEED,
    ) -> None:
        super().__init__(batch_size)
        splits = {"train_size": train_size, "val_size": val_size, "test_size": test_size}
        check_at_least("RegressionDataModule", MIN_SPLIT_SIZE, SPLIT_SIZE_REASON, **splits)
        check_at_least("RegressionDataModule", 1, batch_size=batch_size)
        self.save_hyperparameters()

    def setup(self, stage: str) -> None:
        if self.splits:
            return
        generator = np.random.RandomState(self.hparams.seed)
        for split in ("train", "val", "test"):
            n = self.hparams[f"{split}_size"]
            self.splits[split] = BatchedTensorDataset(*sin_inverse_samples(n, generator))
