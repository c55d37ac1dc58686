"""How the README's first run ends with other seeds, beside the tutorial's loop with the same seeds.

    python scripts/sin_seeds.py                                   # seeds 137 (the config's) and 1-4
    python scripts/sin_seeds.py --seeds 137 1 2 --epochs 500 --out results/sin_seeds_500.md

Training this net is chaotic: from the same samples and recipe, the seed (which sets the initial
weights and the shuffling) and the rounding of the arithmetic decide whether and when a run leaves the
plateau near MSE 0.28 where the network first predicts a smooth average. One seed's figure therefore
says little about the recipe. Each seed here is ``litzoo fit --config configs/regression/mlp.yaml
--seed_everything S --trainer.max_epochs E`` as a user runs it (the data keep their own seed, so every
run sees the tutorial's samples; options this script does not know go to every litzoo run), and the
tutorial's loop as written with the same torch seed (``scripts/tutorial_sin.py --torch-seed S
--epochs E``). The table (seed, best validation MSE of each, litzoo's epoch of the best) and the
medians are written with the versions and machine to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import lightning
import torch

from litzoo.cli.lightning_cli import cli_main

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "configs" / "regression" / "mlp.yaml"
TUTORIAL = REPO_ROOT / "scripts" / "tutorial_sin.py"
#: The tutorial reports 3.2e-4; the speed issue asks the README's run for at most this.
TARGET_MSE = 5e-4


def best_of_seed(seed: int, epochs: int, extra: Sequence[str], workdir: Path) -> tuple[float, int]:
    """(best validation MSE, the epoch it was reached in, counted from 0) of one seed's litzoo run."""
    old = Path.cwd()
    os.chdir(workdir)
    try:
        command = ["fit", "--config", str(CONFIG), "--seed_everything", str(seed)]
        cli = cli_main([*command, "--trainer.max_epochs", str(epochs), *extra])
        checkpoint = cli.trainer.checkpoint_callback
        epoch = torch.load(checkpoint.best_model_path, map_location="cpu", weights_only=True)["epoch"]
    finally:
        os.chdir(old)
    return checkpoint.best_model_score.item(), epoch


def tutorial_best(seed: int, epochs: int) -> float:
    """The best validation MSE of the tutorial's loop, as written, with torch seed ``seed``."""
    command = [sys.executable, str(TUTORIAL), "--torch-seed", str(seed), "--epochs", str(epochs)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.splitlines()[-1])["best_val_mse"]


def summary(name: str, values: list[float]) -> str:
    below = sum(mse <= TARGET_MSE for mse in values)
    return f"{name}: median {statistics.median(values):.3g}, {below} of {len(values)} seeds at or below {TARGET_MSE:g}."


def table(results: dict[int, tuple[float, int]], tutorial: dict[int, float], command: str) -> str:
    lines = [
        f"Measured {date.today().isoformat()} with `{command}` on {platform.machine()}, "
        f"{os.cpu_count()} CPU cores, {platform.system()}, python {platform.python_version()}, "
        f"torch {torch.__version__}, lightning {lightning.__version__}.",
        "",
        "| seed | litzoo: best val MSE | its epoch | tutorial loop: best val MSE |",
        "|---:|---:|---:|---:|",
        *(
            f"| {seed} | {mse:.3g} | {epoch} | {tutorial[seed]:.3g} |"
            for seed, (mse, epoch) in results.items()
        ),
        "",
        summary("litzoo", [mse for mse, _ in results.values()]),
        summary("The tutorial's loop", list(tutorial.values())),
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> dict[int, tuple[float, int]]:
    """Train every seed with litzoo and with the tutorial's loop; return litzoo's (best MSE, epoch) per seed."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[137, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=2000, help="epochs of every run (the recipe's 2000)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "sin_seeds.md")
    args, extra = parser.parse_known_args(argv)
    results, tutorial = {}, {}
    with tempfile.TemporaryDirectory() as workdir:  # the runs' folders: not among the user's runs
        for seed in args.seeds:
            results[seed] = best_of_seed(seed, args.epochs, extra, Path(workdir))
            tutorial[seed] = tutorial_best(seed, args.epochs)
            print(
                f"seed {seed}: litzoo best val MSE {results[seed][0]:.4g} in epoch {results[seed][1]}, "
                f"the tutorial's loop {tutorial[seed]:.4g}",
                flush=True,
            )
    command = " ".join(["python scripts/sin_seeds.py", *(argv if argv is not None else sys.argv[1:])])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table(results, tutorial, command))
    print(f"Table: {args.out}")
    return results


if __name__ == "__main__":
    main()
