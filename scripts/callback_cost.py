"""What the callbacks cost per training step: the time Lightning spends in their hooks, from its profiler.

    python scripts/callback_cost.py                       # LeNet-5 on synthetic MNIST files
    python scripts/callback_cost.py --config configs/mnist/lstm.yaml --steps 200

Trains the config through the CLI exactly as ``litzoo fit`` builds it (default callbacks, loggers,
progress bar) on synthetic MNIST-format files, with Lightning's ``SimpleProfiler``, and sums the
recorded durations of every ``[Callback]...`` action that runs once per training batch. Prints one
row per callback and the total, in microseconds per step, and how many callbacks the trainer holds.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import defaultdict
from pathlib import Path

from lightning.pytorch.profilers import SimpleProfiler

from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Hooks Lightning calls on every callback once per training batch.
PER_STEP_HOOKS = (
    "on_train_batch_start",
    "on_train_batch_end",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
)
MICROSECONDS = 1e6


def per_step_costs(profiler: SimpleProfiler, steps: int) -> dict[str, float]:
    """Microseconds per step spent in each callback's per-step hooks, keyed by callback."""
    costs: dict[str, float] = defaultdict(float)
    for action, durations in profiler.recorded_durations.items():
        if action.startswith("[Callback]") and action.endswith(PER_STEP_HOOKS):
            callback = action.removeprefix("[Callback]").rsplit(".", 1)[0]
            costs[callback] += sum(durations) / steps * MICROSECONDS
    return dict(costs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default=str(REPO_ROOT / "configs" / "mnist" / "lenet5.yaml"))
    parser.add_argument("--steps", type=int, default=300, help="training steps to profile")
    args, cli_options = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        profiler = SimpleProfiler(dirpath=tmp, filename="profile")  # its report goes to a file, not stdout
        data_dir = write_mnist(Path(tmp) / "data", n_train=args.steps * 64 + 500, n_test=64)
        options = ["--config", args.config, "--data.init_args.data_dir", str(data_dir)]
        options += ["--data.init_args.download", "false", "--data.init_args.val_size", "500"]
        options += ["--trainer.max_steps", str(args.steps), "--trainer.limit_val_batches", "0"]
        options += ["--trainer.logger.init_args.save_dir", tmp]
        cli = cli_main([*options, *cli_options], run=False)
        cli.trainer.profiler = profiler
        cli.trainer.fit(cli.model, cli.datamodule)
        steps = cli.trainer.global_step
    costs = per_step_costs(profiler, steps)
    print(f"{len(cli.trainer.callbacks)} callbacks, {steps} steps; per-step hook time (us):")
    for callback, cost in sorted(costs.items(), key=lambda item: -item[1]):
        print(f"  {cost:8.1f}  {callback}")
    print(f"  {sum(costs.values()):8.1f}  total")


if __name__ == "__main__":
    main()
