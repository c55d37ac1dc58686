"""The tutorial's sin(1/x) recipe in a hand-optimized plain PyTorch loop: the second reference.

    python scripts/sin_fast_loop.py [--epochs 2000]     # last line: {"best_val_mse": ..., "epochs": ...}

What an engineer who knows PyTorch writes by hand for this job, with the tutorial's recipe unchanged
(its samples, litzoo's equivalent of its MLP, Adam lr 0.01 and weight decay 1e-5, shuffled batches of
64, validation as one forward pass per epoch) but without the tutorial's per-sample overheads: batches
are sliced from a tensor shuffled once per epoch (no ``Dataset``/``DataLoader``/collate), and the
epoch's training loss is summed on the tensor side, so no step waits on ``loss.item()``. It imports
no Lightning: the samples are drawn here as the tutorial draws them (``datamodules`` is Lightning's,
and importing it would put Lightning's start-up into this reference's time).
``scripts/tutorial_sin.py`` is the loop as the tutorial writes it.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from torch import nn

from litzoo.models.mlp import Feedforward

TUTORIAL_SEED = 137
SPLIT_SIZE = 2000
BATCH_SIZE = 64
HIDDEN_SIZES = [64, 64, 64]


def samples() -> tuple[torch.Tensor, torch.Tensor]:
    """The tutorial's draw: ``x = U**4 + 0.05``, ``y = sin(1/x)`` in float64, then float32 tensors."""
    x = np.power(np.random.random_sample([SPLIT_SIZE, 1]), 4) + 0.05
    return torch.tensor(x, dtype=torch.float32), torch.tensor(np.sin(1 / x), dtype=torch.float32)


def train(epochs: int) -> dict[str, float]:
    torch.manual_seed(TUTORIAL_SEED)
    np.random.seed(TUTORIAL_SEED)
    x_train, y_train = samples()
    x_val, y_val = samples()
    net = Feedforward(input_shape=(1,), num_outputs=1, depth=len(HIDDEN_SIZES) + 1, hidden_sizes=HIDDEN_SIZES)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=1e-5)
    criterion = nn.MSELoss()
    best = float("inf")
    for _ in range(epochs):
        net.train()
        order = torch.randperm(SPLIT_SIZE)
        total = torch.zeros(())
        for batch in order.split(BATCH_SIZE):
            x, y = x_train[batch], y_train[batch]
            loss = criterion(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(batch)
        net.eval()
        with torch.no_grad():
            best = min(best, criterion(net(x_val), y_val).item())
    return {"best_val_mse": best, "train_loss": total.item() / SPLIT_SIZE, "epochs": epochs}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1.")
    print(json.dumps(train(args.epochs)))


if __name__ == "__main__":
    main()
