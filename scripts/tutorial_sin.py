"""The sin(1/x) regression trained the way the PyTorch tutorial writes it: the reference litzoo is timed against.

    python scripts/tutorial_sin.py --epochs 2000     # prints {"best_val_mse": ..., "epochs": ...}

A ``Dataset`` whose ``__getitem__`` returns one sample, ``DataLoader(batch_size=64, shuffle=True)``,
Adam (lr 0.01, weight decay 1e-5), MSE, and a validation pass after every epoch: the tutorial's loop.
It trains litzoo's own ``Feedforward`` net on ``RegressionDataModule``'s samples (same seed, same
draws), so only the training machinery differs. Those two files are loaded by path: this process
imports torch and nothing else, like the tutorial's script, and pays no start-up cost for Lightning.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from datamodules.sin_inverse import sin_inverse_samples
from models.mlp import Feedforward

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = 137  # the config's seed_everything
DATA_SEED = 0  # RegressionDataModule's default seed
SPLIT_SIZE = 2000


class XYDataset(Dataset):
    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


def train(epochs: int) -> dict[str, float]:
    generator = torch.Generator().manual_seed(DATA_SEED)
    train_xy = sin_inverse_samples(SPLIT_SIZE, generator)
    val_xy = sin_inverse_samples(SPLIT_SIZE, generator)  # drawn second, as in the datamodule

    torch.manual_seed(SEED)
    train_loader = DataLoader(XYDataset(*train_xy), batch_size=64, shuffle=True)
    val_loader = DataLoader(XYDataset(*val_xy), batch_size=64)
    net = Feedforward(input_shape=(1,), num_outputs=1, depth=4, hidden_sizes=[64, 64, 64])
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=1e-5)
    loss_fn = torch.nn.MSELoss()
    best = float("inf")
    for _ in range(epochs):
        net.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss_fn(net(x), y).backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            total = sum(loss_fn(net(x), y).item() * len(x) for x, y in val_loader)
        best = min(best, total / SPLIT_SIZE)
    return {"best_val_mse": best, "epochs": epochs}


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
