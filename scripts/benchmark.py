"""How fast litzoo trains next to plain PyTorch, measured in one run on this machine.

    python scripts/benchmark.py                          # every case, CPU, results/benchmark.md
    python scripts/benchmark.py --cases lenet5 lstm --steps 320 --repeats 5
    python scripts/benchmark.py --cases sin --sin-epochs 2000   # the full sin(1/x) run, end to end
    python scripts/benchmark.py --cases startup --repeats 5      # what a command costs around its work
    python scripts/benchmark.py --accelerator gpu --batch-size 512

Two kinds of case (and ``startup``, the first kind for one epoch):

* ``sin``: the sin(1/x) regression trained end to end, each variant a whole process (start-up,
  imports, data, 2000 epochs with validation), wall seconds: the tutorial's loop as the tutorial writes
  it (``scripts/tutorial_sin.py``: a per-sample ``Dataset`` + ``DataLoader(batch 64, shuffle)``,
  ``loss.item()`` per step, one forward pass over the validation set per epoch), the same recipe
  hand-optimized (``scripts/sin_fast_loop.py``: batches sliced from in-memory tensors), and
  ``scripts/train.py fit --config configs/regression/mlp.yaml`` (the README's first command) exactly as
  a user runs them (progress bar on); the note gives each variant's best validation MSE and its peak
  resident memory (median, and against the tutorial loop's).
* ``startup``: the tutorial loop and the litzoo command for one epoch, and the litzoo command with
  ``litzoo.cli.lightning_cli`` imported directly instead of through ``litzoo/startup.py`` (which keeps the imported
  objects out of the garbage collector's walks): what start-up and exit cost.
* step cases (``lenet5``, ``simple_cnn``, ``my_cnn``, ``resnet18``, ``lstm``): train steps/s in this
  process of (a) litzoo: the model, data and trainer exactly as ``scripts/train.py`` builds them from
  the config (same callbacks, TensorBoard + CSV loggers, progress bar on), validation off, timed
  between training batches (the default: one Lightning step per batch); for the small models
  (``lenet5``, ``simple_cnn``, ``lstm``) also with the opt-in preset ``configs/speed/chunked.yaml``
  (16 optimizer steps per Lightning step); (b) the reference: a plain PyTorch loop with the same net, optimizer, gradient
  clipping, batch size and in-memory data (the datamodule's own batch preprocessing, e.g. CIFAR
  augmentation); (c) the tutorial loop: torchvision dataset + per-sample transforms + ``DataLoader``
  (vision cases). Steps are optimizer steps; the runs' folders go to a temporary directory.

Variants run interleaved (a, b, c, a, b, c, ...) and each figure is the median of ``--repeats``
runs, so a slow spell of the machine hits every variant alike. Data are synthetic files in the
exact MNIST / CIFAR-10 formats (written by the test-suite writers); speed does not depend on pixels.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from lightning.pytorch import Callback

from litzoo.cli.gpu_probe import skip_gpu_probing_without_gpu

REPO_ROOT = Path(__file__).resolve().parents[1]

CONFIGS = REPO_ROOT / "configs"
TRAIN_SCRIPT = REPO_ROOT / "scripts" / "train.py"
TUTORIAL_SCRIPT = REPO_ROOT / "scripts" / "tutorial_sin.py"
FAST_LOOP_SCRIPT = REPO_ROOT / "scripts" / "sin_fast_loop.py"
#: Synthetic training images: enough that the default timed steps stay inside the first epoch (no
#: epoch-end checkpoint write among them) for the MNIST cases; the CIFAR cases time fewer, slower steps.
FAKE_MNIST_TRAIN = 40_000
FAKE_CIFAR_PER_BATCH = 1_200  # x 5 training batch files
SIN_BEST = re.compile(r"Best val/mse = ([0-9.eE+-]+)")


@dataclass(frozen=True)
class StepCase:
    """A config timed per training step, and the dataset format its data come in."""

    config: str
    dataset: str  # "mnist" or "cifar10"
    chunked: bool = False  # also time it with the opt-in chunked preset (small models)


STEP_CASES: dict[str, StepCase] = {
    "lenet5": StepCase("mnist/lenet5.yaml", "mnist", chunked=True),
    "simple_cnn": StepCase("mnist/simple_cnn.yaml", "mnist", chunked=True),
    "my_cnn": StepCase("cifar10/my_cnn.yaml", "cifar10"),
    "resnet18": StepCase("cifar10/resnet18.yaml", "cifar10"),
    "lstm": StepCase("mnist/lstm.yaml", "mnist", chunked=True),
}
ALL_CASES = ("sin", "startup", *STEP_CASES)


@dataclass
class Row:
    case: str
    variant: str
    unit: str
    samples: list[float] = field(default_factory=list)
    note: str = ""
    reference: bool = False  # the row the case's other rows are compared with

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


# --- sin(1/x), whole processes ----------------------------------------------------------------------
def timed_process(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run ``command`` to its end: (wall seconds, peak resident memory in MiB, stdout + stderr).

    The peak is the process's own ``ru_maxrss`` (from ``os.wait4``, not the children's total that
    ``getrusage`` keeps), so interleaved variants do not inherit each other's peaks.
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output[-3000:]}")
    return wall, usage.ru_maxrss / 1024, output  # ru_maxrss is in KiB on Linux


def whole_processes(case: str, variants: dict[str, list[str]], repeats: int, workdir: Path) -> list[Row]:
    """Time each command of ``variants`` ``repeats`` times, interleaved; the first is the reference.

    Each row's note gives the median best validation MSE the command printed and its median peak
    memory, also against the reference's.
    """
    rows = {name: Row(case, name, "s", reference=i == 0) for i, name in enumerate(variants)}
    best: dict[str, list[float]] = {name: [] for name in variants}
    peak: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):
        for name, command in variants.items():
            wall, peak_mib, output = timed_process(command, workdir)
            rows[name].samples.append(wall)
            peak[name].append(peak_mib)
            match = SIN_BEST.search(output) or re.search(r'"best_val_mse": ([0-9.eE+-]+)', output)
            best[name].append(float(match.group(1)) if match else float("nan"))
    reference_peak = statistics.median(peak[next(iter(variants))])
    for name, row in rows.items():
        peak_mib = statistics.median(peak[name])
        row.note = (
            f"best val MSE {statistics.median(best[name]):.2e}; "
            f"peak memory {peak_mib:.0f} MiB ({peak_mib / reference_peak:.2f}x)"
        )
    return list(rows.values())


def litzoo_sin_command(epochs: int) -> list[str]:
    """The README's first command for ``epochs`` epochs, as a user runs it from a clone."""
    config = str(CONFIGS / "regression" / "mlp.yaml")
    return [sys.executable, str(TRAIN_SCRIPT), "fit", "--config", config, "--trainer.max_epochs", str(epochs)]


def sin_end_to_end(epochs: int, repeats: int, workdir: Path) -> list[Row]:
    variants: dict[str, list[str]] = {
        "tutorial loop, as written (Dataset + DataLoader)": [
            sys.executable, str(TUTORIAL_SCRIPT), "--epochs", str(epochs)
        ],
        "hand-optimized plain loop (in-memory batches)": [
            sys.executable, str(FAST_LOOP_SCRIPT), "--epochs", str(epochs)
        ],
        "litzoo regression/mlp.yaml": litzoo_sin_command(epochs),
    }  # fmt: skip
    return whole_processes("sin(1/x) MLP, end to end", variants, repeats, workdir)


def startup(repeats: int, workdir: Path) -> list[Row]:
    """What a command costs around its work: the sin(1/x) job for one epoch, whole processes.

    The litzoo command (``scripts/train.py``, as ``litzoo`` and ``python -m litzoo``) imports the CLI
    through :mod:`litzoo.startup`, which keeps the imported objects out of the garbage collector's
    walks; the last row imports :mod:`litzoo.cli.lightning_cli` directly, as a Python caller does, to show what that
    saves.
    """
    command = litzoo_sin_command(1)
    variants = {
        "tutorial loop, as written, 1 epoch": [sys.executable, str(TUTORIAL_SCRIPT), "--epochs", "1"],
        "litzoo regression/mlp.yaml, 1 epoch": command,
        "the same, litzoo.cli.lightning_cli imported without litzoo.startup": [
            sys.executable, "-c", "from litzoo.cli.commands import main; main()", *command[2:]
        ],
    }  # fmt: skip
    return whole_processes("start-up and exit", variants, repeats, workdir)


# --- per-step cases, in this process -----------------------------------------------------------------
class StepTimer(Callback):
    """Times optimizer steps from the first training batch that starts at or after ``warmup`` steps
    to the end of the last batch.

    Counted in optimizer steps (``trainer.global_step``), not batches, so chunked steps (16 optimizer
    steps per loaded batch) are measured in the same unit as one step per batch.
    """

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: tuple[float, int] | None = None
        self.end: tuple[float, int] | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.start is None and trainer.global_step >= self.warmup:
            _sync(pl_module.device)
            self.start = (time.perf_counter(), trainer.global_step)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.start is not None:
            _sync(pl_module.device)
            self.end = (time.perf_counter(), trainer.global_step)

    def steps_per_s(self) -> float:
        if self.start is None or self.end is None or self.end[1] == self.start[1]:
            raise RuntimeError("no training step was timed: raise --steps above the steps of one batch")
        return (self.end[1] - self.start[1]) / (self.end[0] - self.start[0])


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def write_fake_files(dataset: str, root: Path) -> None:
    """Synthetic files in the real on-disk format (speed does not depend on the pixels)."""
    import torchvision

    from litzoo.dataset_files import write_cifar10, write_mnist

    if dataset == "mnist":
        write_mnist(root, n_train=FAKE_MNIST_TRAIN, n_test=100, learnable=True)
    else:
        write_cifar10(root, n_per_batch=FAKE_CIFAR_PER_BATCH, n_test=100)
        # The synthetic CIFAR files cannot match the real archive's md5 sums; in this process only the
        # md5 comparison is relaxed (a missing file still fails), as the tests do.
        torchvision.datasets.cifar.check_integrity = lambda path, md5=None: Path(path).is_file()


def build_cli(case: StepCase, data_dir: Path, steps: int, args: argparse.Namespace, chunked: bool = False):
    """The CLI's model, data and trainer for ``case``; ``chunked``: with ``configs/speed/chunked.yaml``
    (16 optimizer steps of ``--batch-size`` per loaded batch)."""
    from litzoo.cli.lightning_cli import cli_main

    options = [
        "--config", str(CONFIGS / case.config),
        "--data.init_args.data_dir", str(data_dir), "--data.init_args.download", "false",
        "--data.init_args.val_size", "100", "--data.init_args.batch_size", str(args.batch_size),
        "--trainer.max_steps", str(steps), "--trainer.limit_val_batches", "0",
        "--trainer.num_sanity_val_steps", "0", "--trainer.enable_model_summary", "false",
        "--trainer.accelerator", args.accelerator, "--trainer.devices", "1",
    ]  # fmt: skip
    if args.precision:
        options += ["--trainer.precision", args.precision]
    if chunked:
        options += ["--config", str(CONFIGS / "speed" / "chunked.yaml")]
        options += ["--model.init_args.steps.init_args.chunk_size", str(args.batch_size)]
        options += ["--data.init_args.batch_size", str(CHUNKS_PER_LOAD * args.batch_size)]
    return cli_main(options, run=False)


#: Optimizer steps per loaded batch in the chunked preset (configs/speed/chunked.yaml: 1024 = 16 x 64).
CHUNKS_PER_LOAD = 16


def litzoo_steps_per_s(
    case: StepCase, data_dir: Path, args: argparse.Namespace, chunked: bool = False
) -> float:
    cli = build_cli(case, data_dir, args.warmup + args.steps, args, chunked)
    timer = StepTimer(args.warmup)
    cli.trainer.callbacks.append(timer)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return timer.steps_per_s()


def litzoo_chunked_steps_per_s(case: StepCase, data_dir: Path, args: argparse.Namespace) -> float:
    return litzoo_steps_per_s(case, data_dir, args, chunked=True)


def plain_steps_per_s(case: StepCase, data_dir: Path, args: argparse.Namespace) -> float:
    """Same net, optimizer, batch and in-memory data as the CLI builds, in a hand-written loop."""
    cli = build_cli(case, data_dir, 1, args)
    device = torch.device("cuda" if args.accelerator == "gpu" else "cpu")
    task, data = cli.model, cli.datamodule
    net = copy.deepcopy(task.net).to(device).train()
    optimizer = task.optimizer_factory(net.parameters())
    loss_fn = task.criterion
    data.prepare_data()
    data.setup("fit")
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16-mixed")

    def batches():
        while True:
            for images, labels in data.loader("train", shuffle=True, raw=True):
                images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
                yield data.preprocess(images, train=True), labels

    stream = batches()

    clip = cli.trainer.gradient_clip_val  # the same training: clip where the config clips (the LSTMs)
    clip_gradients = (
        torch.nn.utils.clip_grad_value_
        if cli.trainer.gradient_clip_algorithm == "value"
        else torch.nn.utils.clip_grad_norm_
    )

    def step() -> None:
        x, y = next(stream)
        optimizer.zero_grad()
        with autocast:
            loss = loss_fn(net(x), y)
        loss.backward()
        if clip is not None:
            clip_gradients(net.parameters(), clip)
        optimizer.step()

    return _time_steps(step, args.warmup, args.steps, device)


def tutorial_steps_per_s(case: StepCase, data_dir: Path, args: argparse.Namespace) -> float:
    """torchvision dataset + per-sample PIL transforms + DataLoader, as the tutorials train."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    cli = build_cli(case, data_dir, 1, args)
    device = torch.device("cuda" if args.accelerator == "gpu" else "cpu")
    task, data = cli.model, cli.datamodule
    if case.dataset == "mnist":
        pad = getattr(data, "pad_to", None)
        steps = [transforms.Pad((pad - 28) // 2)] if pad else []
        steps += [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
        dataset = datasets.MNIST(str(data_dir), train=True, transform=transforms.Compose(steps))
    else:
        dataset = datasets.CIFAR10(
            str(data_dir), train=True, transform=transforms.Compose([
                transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                transforms.Normalize((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
            ]),
        )  # fmt: skip
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=0)
    net = copy.deepcopy(task.net).to(device).train()
    optimizer = task.optimizer_factory(net.parameters())
    loss_fn = task.criterion

    def batches():
        while True:
            yield from loader

    stream = batches()

    def step() -> None:
        x, y = next(stream)
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss_fn(net(x), y).backward()
        optimizer.step()

    return _time_steps(step, args.warmup, args.steps, device)


def _time_steps(step: Callable[[], None], warmup: int, steps: int, device: torch.device) -> float:
    for _ in range(warmup):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return steps / (time.perf_counter() - start)


def step_case_rows(name: str, case: StepCase, workdir: Path, args: argparse.Namespace) -> list[Row]:
    data_dir = workdir / f"data-{case.dataset}"
    if not data_dir.exists():
        write_fake_files(case.dataset, data_dir)
    title = f"{name} ({case.config}), batch {args.batch_size}"
    variants: dict[str, Callable[[StepCase, Path, argparse.Namespace], float]] = {
        "litzoo (as scripts/train.py builds it: one Lightning step per batch)": litzoo_steps_per_s,
    }
    if case.chunked:
        variants["litzoo + configs/speed/chunked.yaml (opt-in)"] = litzoo_chunked_steps_per_s
    variants["plain PyTorch loop, in-memory data"] = plain_steps_per_s
    variants["tutorial loop (torchvision transforms + DataLoader)"] = tutorial_steps_per_s
    rows = {variant: Row(title, variant, "steps/s", reference="plain" in variant) for variant in variants}
    for _ in range(args.repeats):
        for variant, measure in variants.items():
            rows[variant].samples.append(measure(case, data_dir, args))
    return list(rows.values())


# --- report -----------------------------------------------------------------------------------------
def markdown(rows: list[Row], args: argparse.Namespace) -> str:
    device = torch.cuda.get_device_name(0) if args.accelerator == "gpu" else f"CPU, {os.cpu_count()} cores"
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {device}, torch {torch.__version__}, "
        f"medians of {args.repeats} interleaved runs (`python scripts/benchmark.py "
        f"{' '.join(sys.argv[1:])}`).",
        "",
        "Ratios compare each row with its case's reference row: wall time for the end-to-end case "
        "(below 1 = faster than the tutorial loop), steps/s for the per-step cases (above 1 = faster "
        "than the plain PyTorch loop).",
        "",
        "| case | variant | median | vs. reference | images/s | note |",
        "|---|---|---:|---:|---:|---|",
    ]
    references = {row.case: row for row in rows if row.reference}
    for row in rows:
        reference = references.get(row.case, row)
        ratio = "reference" if row is reference else f"{row.median / reference.median:.2f}x"
        if row.unit == "s":
            value, images = f"{row.median:.1f} s", ""
        else:
            digits = 1 if row.median >= 10 else 3  # slow CIFAR-on-CPU cases run below 1 step/s
            value, images = f"{row.median:.{digits}f} steps/s", f"{row.median * args.batch_size:,.0f}"
        lines.append(f"| {row.case} | {row.variant} | {value} | {ratio} | {images} | {row.note} |")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", nargs="+", choices=ALL_CASES, default=list(ALL_CASES))
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; medians reported")
    parser.add_argument("--steps", type=int, default=480, help="timed optimizer steps per step-case run")
    parser.add_argument("--warmup", type=int, default=16, help="untimed optimizer steps first")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sin-epochs", type=int, default=2000)
    parser.add_argument("--accelerator", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--precision", default=None, help="e.g. bf16-mixed (GPU)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmark.md")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()  # relative to where the command was run, not the work folder
    if args.repeats < 1 or args.steps < 1 or args.warmup < 0:
        parser.error("--repeats and --steps must be at least 1 and --warmup at least 0.")
    if args.accelerator == "gpu" and not torch.cuda.is_available():
        parser.error("--accelerator gpu: no CUDA GPU is visible to PyTorch on this machine.")
    return args


def main(argv: list[str] | None = None) -> None:
    skip_gpu_probing_without_gpu()
    args = parse_args(argv)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="litzoo-bench-") as tmp:
        workdir = Path(tmp)
        # The CLI writes its run folders under ./lightning_logs: here into the temporary folder, so
        # benchmark runs never appear among the user's own runs.
        home = Path.cwd()
        os.chdir(workdir)
        try:
            for name in args.cases:
                if name == "sin":
                    rows += sin_end_to_end(args.sin_epochs, args.repeats, workdir)
                elif name == "startup":
                    rows += startup(args.repeats, workdir)
                else:
                    rows += step_case_rows(name, STEP_CASES[name], workdir, args)
                print(markdown(rows, args), flush=True)
        finally:
            os.chdir(home)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_suffix(".tmp")
    tmp_out.write_text(markdown(rows, args))
    tmp_out.replace(args.out)  # written whole or not at all
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
