"""How well a ``litzoo fit`` uses the GPU: train images/s, GPU busy time, peak memory, first epoch vs later.

    python scripts/gpu_utilization.py --fake 10000          # ResNet-18, bf16, batch 512, synthetic CIFAR-10
    python scripts/gpu_utilization.py -- --config configs/cifar10/resnet18_fast.yaml \\
        --config configs/trainer/gpu.yaml --trainer.max_epochs 5 --model.init_args.compile true

Everything after ``--`` is passed to ``litzoo fit`` (without ``--``: ``configs/cifar10/resnet18_fast.yaml``
+ ``configs/trainer/gpu.yaml`` for 5 epochs). The fit is built by the litzoo CLI in this process, with
the model, data, callbacks and loggers ``litzoo fit`` gives it, on one GPU (``--trainer.accelerator gpu
--trainer.devices 1`` are appended); its run folder goes under lightning_logs/ as for any fit.
``--fake N`` trains on synthetic files in the CIFAR-10 format, N images per training file (10000: the
real dataset's size), written to a temporary folder: speed does not depend on the pixels.

What is measured, and how:

* **Train images/s** over epochs 2..N: their training images over their training time, each epoch
  timed from its start to the end of its last training batch, CUDA-synchronised at both ends, so
  validation is left out. Epoch 1 is reported on its own: it holds ``torch.compile``'s compilation
  and cuDNN's first-call autotuning.
* **GPU busy**: ``nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used -lms 100`` runs in a
  subprocess for the whole fit, and the busy fraction is the mean ``utilization.gpu`` of the samples
  taken while epochs 2..N trained. ``utilization.gpu`` is the share of the driver's sample period in
  which at least one kernel ran, which is exactly "the GPU did not wait for the CPU", and sampling it
  from another process costs the run nothing. ``torch.profiler`` (CUDA kernel time over wall time) was
  the alternative: exact per kernel, but it instruments every launch, which slows the launch-bound
  steps being measured, and its trace of a whole epoch is too large to keep, so it would describe a
  few profiled steps rather than the run. Caveat: a GPU running one small kernel counts as busy, so
  this says the GPU was never idle, not that its SMs were full.
* **Peak memory**: ``torch.cuda.max_memory_allocated`` (tensors) and the largest ``memory.used``
  nvidia-smi saw (the whole process: CUDA context and PyTorch's cached blocks too).

The table, naming the GPU, goes to ``--out`` (default results/benchmark_gpu.md), written whole or not
at all. Without a CUDA GPU or without nvidia-smi the script stops before training, with exit code 2,
and writes nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import torch
from lightning.pytorch import Callback

from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import cifar10_md5_relaxed, write_cifar10

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPO_ROOT / "configs"
DEFAULT_FIT_ARGS = [
    "--config", str(CONFIGS / "cifar10" / "resnet18_fast.yaml"),
    "--config", str(CONFIGS / "trainer" / "gpu.yaml"),
    "--trainer.max_epochs", "5",
]  # fmt: skip
ONE_GPU = ["--trainer.accelerator", "gpu", "--trainer.devices", "1"]
SMI_QUERY = "timestamp,utilization.gpu,memory.used"
#: nvidia-smi's ``timestamp``: local time, e.g. ``2025/01/31 12:00:00.123``.
SMI_TIME_FORMAT = "%Y/%m/%d %H:%M:%S.%f"
EXIT_UNAVAILABLE = 2
MIB = 2**20
GIB = 2**30


# --- pure parsing and aggregation ---------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """One nvidia-smi reading: when (seconds since the Unix epoch, as ``time.time()``), percent of the
    sample period with a kernel running, and MiB of GPU memory in use."""

    time: float
    utilization: float
    memory_mib: float


def parse_smi_line(line: str) -> Sample | None:
    """A ``--query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader,nounits`` line, or
    None for one without numbers (``[N/A]`` on GPUs that do not report it, a blank or cut-off line)."""
    fields = [field.strip() for field in line.split(",")]
    if len(fields) != len(SMI_QUERY.split(",")):
        return None
    try:
        when = datetime.strptime(fields[0], SMI_TIME_FORMAT).timestamp()
        return Sample(when, float(fields[1]), float(fields[2]))
    except ValueError:
        return None


def parse_smi_output(text: str) -> list[Sample]:
    return [sample for line in text.splitlines() if (sample := parse_smi_line(line)) is not None]


def samples_within(samples: Sequence[Sample], windows: Sequence[tuple[float, float]]) -> list[Sample]:
    """The samples taken inside any of the ``(start, end)`` windows."""
    return [s for s in samples if any(start <= s.time <= end for start, end in windows)]


def busy_fraction(samples: Sequence[Sample]) -> float | None:
    """Mean share (0-1) of time the GPU had a kernel running over ``samples``; None without samples."""
    return statistics.fmean(s.utilization for s in samples) / 100 if samples else None


@dataclass(frozen=True)
class EpochTiming:
    """One epoch's training part: wall-clock start and end (``time.time()``) and images trained on."""

    start: float
    end: float
    images: int

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class EpochSummary:
    """The first epoch against the later ones (``None`` where there is only one epoch)."""

    first_s: float
    later_median_s: float | None
    later_images_per_s: float | None

    @property
    def first_over_later(self) -> float | None:
        return None if self.later_median_s is None else self.first_s / self.later_median_s


def summarize_epochs(epochs: Sequence[EpochTiming]) -> EpochSummary:
    """Epoch 1 on its own; images/s of epochs 2..N together (all their images over all their time)."""
    if not epochs:
        raise ValueError("no training epoch was timed: the fit must run at least one whole epoch.")
    first, later = epochs[0], epochs[1:]
    if not later:
        return EpochSummary(first.seconds, None, None)
    return EpochSummary(
        first.seconds,
        statistics.median(e.seconds for e in later),
        sum(e.images for e in later) / sum(e.seconds for e in later),
    )


@dataclass(frozen=True)
class Report:
    """Everything the table shows; ``None`` for what could not be measured."""

    command: str
    device: str
    software: str
    run: str
    epochs: int
    summary: EpochSummary
    busy_training: float | None
    busy_samples: int
    busy_fit: float | None
    peak_allocated_bytes: int
    peak_used_mib: float | None
    smi_problem: str | None = None  # nvidia-smi's own words when it gave no usable sample


def percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.1f}%"


def seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def markdown(report: Report) -> str:
    summary = report.summary
    later = f"epochs 2-{report.epochs}" if report.epochs > 1 else "epochs 2-N (only one epoch ran)"
    ratio = "n/a" if summary.first_over_later is None else f"{summary.first_over_later:.1f}x"
    images = "n/a" if summary.later_images_per_s is None else f"{summary.later_images_per_s:,.0f}"
    used = "n/a" if report.peak_used_mib is None else f"{report.peak_used_mib * MIB / GIB:.2f} GiB"
    rows = [
        (f"train images/s, {later}", images),
        (f"GPU busy while training, {later} ({report.busy_samples} nvidia-smi samples)", percent(report.busy_training)),
        ("GPU busy over the whole fit (start-up, validation and checkpoints included)", percent(report.busy_fit)),
        ("first epoch, training time", seconds(summary.first_s)),
        (f"later epochs, median training time ({later})", seconds(summary.later_median_s)),
        ("first epoch / later median", ratio),
        ("peak memory allocated by PyTorch", f"{report.peak_allocated_bytes / GIB:.2f} GiB"),
        ("peak memory used on the GPU (nvidia-smi, whole process)", used),
    ]  # fmt: skip
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on {report.device}, {report.software} (`{report.command}`).",
        "",
        f"Run: {report.run}.",
        "",
        "| measure | value |",
        "|---|---:|",
        *(f"| {name} | {value} |" for name, value in rows),
    ]
    if report.smi_problem:
        lines += ["", f"nvidia-smi gave no usable sample: {report.smi_problem}"]
    return "\n".join(lines) + "\n"


def split_fit_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """This script's own options, and the ``litzoo fit`` arguments after ``--`` (the default recipe
    when there is no ``--``)."""
    if "--" not in argv:
        return list(argv), list(DEFAULT_FIT_ARGS)
    cut = list(argv).index("--")
    return list(argv[:cut]), list(argv[cut + 1 :])


def unavailable_reason() -> str | None:
    """Why nothing can be measured on this machine, as one paragraph, or None."""
    if torch.cuda.device_count() == 0:
        return (
            "scripts/gpu_utilization.py measures a fit on a CUDA GPU, but PyTorch sees none here "
            "(torch.cuda.device_count() == 0: no NVIDIA GPU or driver, CUDA_VISIBLE_DEVICES empty, or a "
            f"CPU-only torch build, torch {torch.__version__}). Run it on a machine with an NVIDIA GPU; "
            "nothing was trained or written."
        )
    if shutil.which("nvidia-smi") is None:
        return (
            "scripts/gpu_utilization.py samples the GPU's busy time with nvidia-smi, which is not on "
            "PATH. It comes with the NVIDIA driver: add its folder to PATH (or install the driver's "
            "utilities) and run again; nothing was trained or written."
        )
    return None


# --- measuring ------------------------------------------------------------------------------------------
class EpochTimer(Callback):
    """Times the training part of every epoch: from its start to the end of its last training batch.

    Validation runs after the last training batch, so it falls outside; the CUDA queue is drained at
    both ends so that the span holds the GPU work of exactly these batches.
    """

    def __init__(self) -> None:
        self.epochs: list[EpochTiming] = []
        self._start = 0.0
        self._images = 0

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        torch.cuda.synchronize(pl_module.device)
        self._start, self._images = time.time(), 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._images += batch[0].shape[0]
        if batch_idx + 1 == trainer.num_training_batches:
            torch.cuda.synchronize(pl_module.device)
            self.epochs.append(EpochTiming(self._start, time.time(), self._images))


def smi_id(device: int) -> str:
    """``device``'s PCI address as nvidia-smi's ``--id`` takes it: the GPU PyTorch uses, whatever
    CUDA_VISIBLE_DEVICES renumbered."""
    props = torch.cuda.get_device_properties(device)
    return f"{props.pci_domain_id:08X}:{props.pci_bus_id:02X}:{props.pci_device_id:02X}.0"


def run_summary(cli, images_per_epoch: int) -> str:
    task, data, trainer = cli.model, cli.datamodule, cli.trainer
    return (
        f"{type(task.net).__name__}, {type(data).__name__}, batch {data.batch_size}, {trainer.precision}, "
        f"channels_last {str(task.channels_last).lower()}, compile {str(task.compile_requested).lower()}, "
        f"{images_per_epoch:,} training images per epoch"
    )


def measure(fit_args: list[str], command: str, sample_ms: int, workdir: Path) -> Report:
    cli = cli_main([*fit_args, *ONE_GPU], run=False)
    timer = EpochTimer()
    cli.trainer.callbacks.append(timer)
    device = cli.trainer.strategy.root_device
    torch.cuda.reset_peak_memory_stats(device)
    smi_log = workdir / "nvidia-smi.csv"
    with smi_log.open("w") as log:
        sampler = subprocess.Popen(
            [
                "nvidia-smi", f"--id={smi_id(device.index or 0)}", f"--query-gpu={SMI_QUERY}",
                "--format=csv,noheader,nounits", f"--loop-ms={sample_ms}",
            ],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        fit_start = time.time()
        try:
            cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        finally:
            fit_end = time.time()
            sampler.terminate()
            sampler.wait(timeout=30)
    smi_output = smi_log.read_text()
    samples = parse_smi_output(smi_output)
    training = samples_within(samples, [(e.start, e.end) for e in timer.epochs[1:]])
    print(f"Run folder: {cli.trainer.log_dir}")
    memory = torch.cuda.get_device_properties(device).total_memory
    summary = summarize_epochs(timer.epochs)
    return Report(
        command=command,
        device=f"{torch.cuda.get_device_name(device)} ({memory / GIB:.0f} GiB)",
        software=f"torch {torch.__version__}, CUDA {torch.version.cuda}",
        run=run_summary(cli, timer.epochs[0].images),
        epochs=len(timer.epochs),
        summary=summary,
        busy_training=busy_fraction(training),
        busy_samples=len(training),
        busy_fit=busy_fraction(samples_within(samples, [(fit_start, fit_end)])),
        peak_allocated_bytes=torch.cuda.max_memory_allocated(device),
        peak_used_mib=max((s.memory_mib for s in samples), default=None),
        smi_problem=None if samples else " ".join(smi_output.split()[:40]) or "no output",
    )


def parse_args(own: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "benchmark_gpu.md")
    parser.add_argument(
        "--fake", type=int, metavar="N", help="train on synthetic CIFAR-10 files, N images per training file"
    )
    parser.add_argument("--sample-ms", type=int, default=100, help="nvidia-smi sampling period")
    args = parser.parse_args(own)
    if args.fake is not None and args.fake < 1:
        parser.error(f"--fake {args.fake}: give the number of images per training file, at least 1.")
    if args.sample_ms < 1:
        parser.error(f"--sample-ms {args.sample_ms}: give a period of at least 1 ms.")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    own, fit_args = split_fit_args(argv)
    args = parse_args(own)
    reason = unavailable_reason()
    if reason is not None:
        print(f"error: {reason}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    command = " ".join(["python scripts/gpu_utilization.py", *argv])
    synthetic = cifar10_md5_relaxed() if args.fake is not None else nullcontext()
    with tempfile.TemporaryDirectory(prefix="litzoo-gpu-") as tmp, synthetic:
        workdir = Path(tmp)
        if args.fake is not None:
            data_dir = write_cifar10(workdir / "data", n_per_batch=args.fake)
            fit_args += ["--data.init_args.data_dir", str(data_dir), "--data.init_args.download", "false"]
        report = measure(fit_args, command, args.sample_ms, workdir)
    table = markdown(report)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_suffix(".tmp")
    partial.write_text(table)
    partial.replace(args.out)  # written whole or not at all
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
