"""The sin(1/x) samples, in a module of their own that needs nothing but torch.

``scripts/tutorial_sin.py`` (the tutorial's plain loop, timed against litzoo) loads this file directly,
so both train on exactly the same samples without the tutorial process importing Lightning.
"""

from __future__ import annotations

import torch


def sin_inverse_samples(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` pairs ``(x, sin(1/x))`` with ``x = U**4 + 0.05``, ``U ~ Uniform(0, 1)``, each ``(n, 1)``.

    The fourth power crowds samples near 0.05, where sin(1/x) oscillates fastest.
    """
    x = torch.rand(n, 1, generator=generator) ** 4 + 0.05
    return x, torch.sin(1.0 / x)
