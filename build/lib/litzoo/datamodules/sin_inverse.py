"""The sin(1/x) samples, drawn exactly as the tutorial draws them, in a module that needs nothing but numpy and torch."""

from __future__ import annotations

import numpy as np
import torch

#: The tutorial seeds numpy with 137 before drawing its samples.
TUTORIAL_SEED = 137
#: x = U**4 + 0.05: the fourth power crowds samples near 0.05, where sin(1/x) oscillates fastest.
POWER = 4
OFFSET = 0.05


def sin_inverse_samples(n: int, rng: np.random.RandomState) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` pairs ``(x, sin(1/x))`` with ``x = U**4 + 0.05``, ``U ~ Uniform(0, 1)``, each ``(n, 1)`` float32.

    Computed in float64 and then converted, as the tutorial's ``MyDataset`` does, so that with
    ``RandomState(137)`` the first two draws are the tutorial's training and validation sets, bit for bit.
    """
    x = np.power(rng.random_sample([n, 1]), POWER) + OFFSET
    y = np.sin(1 / x)
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
