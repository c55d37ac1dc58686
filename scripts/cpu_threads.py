"""How a training step's speed depends on PyTorch's CPU threads, per config: the data behind ``--cpu_threads auto``.

    python scripts/cpu_threads.py                                   # MNIST, regression and sequence configs
    python scripts/cpu_threads.py --configs configs/mnist/lenet5.yaml --steps 100

Each config's task, net, optimizer and data are built as ``litzoo fit`` builds them (MNIST configs on
synthetic files in the real format); one training batch is then stepped (forward, loss, backward,
optimizer step) ``--steps`` times with 1 thread and with each other thread count up to the machine's
cores, interleaved, and the median step time is printed with the step's floating-point operations
(``torch.utils.flop_counter``): the quantity ``litzoo.cli.cpu_threads`` decides by.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import torch

from litzoo.cli.cpu_threads import training_step_flops
from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from litzoo.models.tasks.chunked import samples_per_step

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIGS = [
    "configs/regression/mlp.yaml",
    "configs/sequence/lstm.yaml",
    "configs/mnist/mlp.yaml",
    "configs/mnist/simple_cnn.yaml",
    "configs/mnist/lenet5.yaml",
    "configs/mnist/rnn.yaml",
    "configs/mnist/lstm.yaml",
    "configs/mnist/simple_cnn_fc.yaml",
]
ROUNDS = 5


def build(config: str, data_dir: Path, workdir: str):
    options = ["--config", str(REPO_ROOT / config), "--trainer.logger.init_args.save_dir", workdir]
    if "mnist" in config:
        options += ["--data.init_args.data_dir", str(data_dir), "--data.init_args.download", "false"]
        options += ["--data.init_args.val_size", "100"]
    cli = cli_main(options, run=False)
    cli.datamodule.setup("fit")
    cli.datamodule.trainer = cli.trainer  # the batch hooks ask the trainer whether it is training
    cli.trainer.training = True
    batch = cli.datamodule.on_after_batch_transfer(next(iter(cli.datamodule.train_dataloader())), 0)
    # One optimizer step's samples: a chunked config (regression/mlp.yaml) loads whole epochs but
    # steps on chunks, and the CLI decides the threads by the chunk, as timed here.
    step = samples_per_step(cli.model, cli.datamodule) or len(batch[0])
    return cli.model, [part[:step] for part in batch]


def step_time(task, optimizer, batch, threads: int, steps: int) -> float:
    torch.set_num_threads(threads)
    start = time.perf_counter()
    for _ in range(steps):
        loss = task.loss(task(batch[0]), batch[1])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    parser.add_argument("--steps", type=int, default=50, help="timed steps per thread count and round")
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    counts = list(range(1, (os.cpu_count() or 1) + 1))
    lines = [
        f"Measured {date.today().isoformat()} with `python scripts/cpu_threads.py` on {os.cpu_count()} CPU "
        f"cores, torch {torch.__version__}: median ms per training step (forward, loss, backward, "
        f"optimizer step) over {ROUNDS} interleaved rounds of {args.steps} steps.",
        "",
        f"| config | batch | MFLOP per step | {' | '.join(f'ms/step, {n} thread(s)' for n in counts)} |",
        f"|---|---:|---:|{'---:|' * len(counts)}",
    ]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = write_mnist(Path(tmp) / "data", n_train=600, n_test=64)
        for config in args.configs:
            task, batch = build(config, data_dir, tmp)
            optimizer = task.optimizer_factory(task.parameters())
            flops = training_step_flops(task, batch[0])
            times: dict[int, list[float]] = {n: [] for n in counts}
            for _ in range(ROUNDS):  # interleaved, so drift hits every thread count alike
                for n in counts:
                    times[n].append(step_time(task, optimizer, batch, n, args.steps))
            medians = " | ".join(f"{statistics.median(times[n]) * 1e3:.2f}" for n in counts)
            lines.append(f"| `{config}` | {len(batch[0])} | {flops / 1e6:.2f} | {medians} |")
            print(lines[-1], flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
