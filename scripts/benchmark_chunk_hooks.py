"""What Lightning's per-step wrappers cost a chunked tiny model, measured in one run on this machine.

    python scripts/benchmark_chunk_hooks.py                        # results/benchmark_chunk_hooks.md
    python scripts/benchmark_chunk_hooks.py --epochs 50 --repeats 3 --out /tmp/hooks.md

``configs/regression/mlp.yaml`` (the sin(1/x) MLP, one optimizer step per 64 samples of a
whole-epoch batch) trained two ways, interleaved, validation off:

* as litzoo runs it: no callback listens to the step hooks, so ``ChunkedSteps`` calls PyTorch's
  backward and step directly and counts each step in Lightning's counter (``litzoo/compat.py``);
* with a callback whose (empty) ``on_after_backward`` makes every chunk go through Lightning's
  ``manual_backward`` and ``LightningOptimizer.step`` and the hooks of every callback.

Both train bit for bit alike (``tests/test_chunked_steps.py``); the difference is the price of the
wrappers per optimizer step, which is why ``ChunkedSteps`` skips them when nothing listens. Each
figure is the median of ``--repeats`` runs of microseconds per optimizer step, timed from the start
to the end of training.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lightning as L
import torch

from litzoo.cli.gpu_probe import skip_gpu_probing_without_gpu
from litzoo.cli.lightning_cli import cli_main

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "configs" / "regression" / "mlp.yaml"
VARIANTS = {
    "direct (as litzoo runs it)": False,
    "Lightning's wrappers (a callback on on_after_backward)": True,
}


class BackwardListener(L.Callback):
    """An empty ``on_after_backward``: enough to send every chunk through Lightning's wrappers."""

    def on_after_backward(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        pass


class TrainingTimer(L.Callback):
    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start = time.perf_counter()

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.seconds = time.perf_counter() - self.start


def microseconds_per_step(epochs: int, listener: bool) -> float:
    cli = cli_main(
        [
            "--config", str(CONFIG), "--trainer.max_epochs", str(epochs),
            "--trainer.limit_val_batches", "0", "--trainer.num_sanity_val_steps", "0",
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        ],
        run=False,
    )  # fmt: skip
    timer = TrainingTimer()
    cli.trainer.callbacks += [timer, BackwardListener()] if listener else [timer]
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    if cli.model.steps.past_lightning == listener:
        raise RuntimeError("the chunks did not take the path this variant measures")
    return timer.seconds / cli.trainer.global_step * 1e6


def markdown(samples: dict[str, list[float]], args: argparse.Namespace) -> str:
    direct = statistics.median(samples[next(iter(VARIANTS))])
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch "
        f"threads, torch {torch.__version__}, Lightning {L.__version__}, medians of {args.repeats} "
        f"interleaved runs of {args.epochs} epochs (`python scripts/benchmark_chunk_hooks.py "
        f"{' '.join(sys.argv[1:])}`).",
        "",
        "| configs/regression/mlp.yaml, optimizer steps | µs per step | vs. direct |",
        "|---|---:|---:|",
    ]
    for variant, values in samples.items():
        median = statistics.median(values)
        lines.append(f"| {variant} | {median:.0f} | {median / direct:.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    skip_gpu_probing_without_gpu()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmark_chunk_hooks.md")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1.")
    out = args.out.resolve()  # relative to where the command was run, not the work folder
    samples: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    home = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="litzoo-bench-") as workdir:
        os.chdir(workdir)  # the runs' folders (lightning_logs/) go to the temporary folder
        try:
            for _ in range(args.repeats):
                for variant, listener in VARIANTS.items():
                    samples[variant].append(microseconds_per_step(args.epochs, listener))
        finally:
            os.chdir(home)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(samples, args))
    print(out.read_text())


if __name__ == "__main__":
    main()
