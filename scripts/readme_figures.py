"""Regenerate every figure of the README, and ``docs/images/FIGURES.md`` saying how each one was made.

    OMP_NUM_THREADS=1 python scripts/readme_figures.py --mnist_dir ../shared/data/mnist-dev

runs the commands the README shows beside its figures, each as its own process, as a user runs them
from the repository root (``litzoo fit ...``, ``python scripts/plot_metrics.py ...``), with
``OMP_NUM_THREADS=1``. They run in a working folder of their own, so their run folders go to its
``lightning_logs/`` (``--logs DIR`` keeps them in ``DIR``, ``--logs .`` in yours; by default a
temporary folder, removed at the end). Then the figures go into ``--out`` (default ``docs/images``)
with ``FIGURES.md``: per figure, the commands (paths as seen from the repository root) and the
numbers the README quotes from it, each read from the files the runs wrote (``metrics.csv``,
``predictions.csv``, ``config.yaml``); and the versions, machine and date of the whole. The figures
are copied into ``--out`` only once every command has succeeded, so a failure leaves them as they
were. ``--epochs N`` trains every run N epochs instead: a quick check of this script, not figures
for the README. ``tests/test_readme_figures.py`` checks that the README quotes what FIGURES.md holds.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

import litzoo

REPO_ROOT = Path(__file__).resolve().parents[1]
IMAGES_DIR = REPO_ROOT / "docs" / "images"
REGRESSION = REPO_ROOT / "configs" / "regression" / "mlp.yaml"
LENET5 = REPO_ROOT / "configs" / "mnist" / "lenet5.yaml"
OWN_DIGITS = IMAGES_DIR / "own_digits"
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
#: The README's MNIST figures validate on this many training images (``--data.init_args.val_size``).
VAL_SIZE = 2000
#: How many of the most frequent confusions are quoted (more when several share the last count).
CONFUSIONS = 3
FIGURES_FILE = "FIGURES.md"
#: The commands' environment on top of ours: one thread, as the README's figures were measured.
THREADS = {"OMP_NUM_THREADS": "1"}
#: A FIGURES.md section: ``## name``, its ``Figures:`` line and its table of quoted numbers.
SECTION = re.compile(r"^## (\S+)$", re.MULTILINE)
QUOTE_ROW = re.compile(r"^\| `([^`]+)` \|", re.MULTILINE)


# ------------------------------------------------------------------------ running the commands
class CommandFailed(RuntimeError):
    """A command the README shows ended with a non-zero exit status."""


@dataclass
class Quote:
    """A number as the README quotes it, its full value, and the file it was read from."""

    text: str
    value: str
    source: str


@dataclass
class Section:
    """One block of FIGURES.md: the figures a series of commands draws and the numbers read from its runs."""

    name: str
    figures: list[str]
    commands: list[str] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""


@dataclass
class Written:
    """The files a command wrote or changed under ``lightning_logs/``."""

    command: str
    files: list[Path]

    def file(self, name: str, column: str | None = None) -> Path:
        """The one file called ``name`` the command wrote (a CSV file: the one with ``column``)."""
        found = [f for f in self.files if f.name == name and (column is None or column in csv_columns(f))]
        if len(found) != 1:
            holding = f" with a {column} column" if column else ""
            raise CommandFailed(
                f"`{self.command}` wrote {len(found)} files {name}{holding} ({', '.join(map(str, found)) or 'none'}), "
                "where this script expects one."
            )
        return found[0]


@dataclass
class Workspace:
    """Where the commands run, where their figures wait, and how their paths read from the repository root."""

    workdir: Path  # the commands' working folder: their runs go to its lightning_logs/
    staging: Path  # the figures, until every command has succeeded
    out: Path  # where the figures go then

    def show(self, path: Path | str) -> str:
        """``path`` as written from the repository root: run folders ``lightning_logs/...``, figures in ``--out``."""
        path = Path(path)
        if path.is_relative_to(self.staging):
            path = self.out / path.relative_to(self.staging)
        for base, inside in ((self.workdir, self.workdir / "lightning_logs"), (REPO_ROOT, REPO_ROOT)):
            if path.is_relative_to(inside):
                return path.relative_to(base).as_posix()
        return Path(os.path.relpath(path, REPO_ROOT)).as_posix()

    def shown(self, program: str, args: Sequence[str]) -> str:
        return " ".join([program, *(shlex.quote(self.show(a) if os.path.isabs(a) else a) for a in args)])

    def run(self, section: Section, program: str, args: Sequence[str]) -> Written:
        """Run ``program args`` (``litzoo`` or a ``python scripts/...`` command) in the working folder."""
        script = "train.py" if program == "litzoo" else program.removeprefix("python scripts/")
        shown = self.shown(f"{' '.join(f'{k}={v}' for k, v in THREADS.items())} {program}", args)
        logs = self.workdir / "lightning_logs"
        before = modification_times(logs)
        print(f"$ {shown}", flush=True)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "scripts" / script), *args],
            cwd=self.workdir,
            env={**os.environ, **THREADS},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        seconds = time.perf_counter() - start
        section.seconds += seconds
        if result.returncode != 0:
            tail = "\n".join(result.stdout.strip().splitlines()[-15:])
            raise CommandFailed(
                f"`{shown}` ended with exit status {result.returncode}; its last lines:\n{tail}"
            )
        print(f"  ({seconds:.0f} s)", flush=True)
        section.commands.append(shown)
        after = modification_times(logs)
        return Written(shown, sorted(path for path, mtime in after.items() if before.get(path) != mtime))

    def copy(self, section: Section, source: Path, name: str) -> None:
        shutil.copyfile(source, self.staging / name)
        section.commands.append(f"cp {self.show(source)} {self.show(self.staging / name)}")


def modification_times(folder: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()} if folder.is_dir() else {}


# ------------------------------------------------------------------------------ reading the runs
def csv_columns(path: Path) -> list[str]:
    with path.open(newline="") as file:
        return next(csv.reader(file), [])


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def best_row(metrics: Path, column: str, best: Callable = min) -> tuple[float, dict[str, str]]:
    """The best value of ``column`` in a ``metrics.csv`` (the first row holding it) and that row."""
    rows = [row for row in csv_rows(metrics) if row.get(column)]
    if not rows:
        raise CommandFailed(f"{metrics} holds no {column} value.")
    row = best(rows, key=lambda r: float(r[column]))
    return float(row[column]), row


def most_frequent_confusions(rows: list[dict[str, str]]) -> list[tuple[int, int, int]]:
    """``(count, true, predicted)`` of the most frequent mistakes in ``predictions.csv`` rows, most first."""
    mistakes = Counter((int(r["target"]), int(r["predicted"])) for r in rows if r["target"] != r["predicted"])
    ranked = sorted(
        ((count, true, pred) for (true, pred), count in mistakes.items()), key=lambda c: (-c[0], c[1], c[2])
    )
    if len(ranked) <= CONFUSIONS:
        return ranked
    return [c for c in ranked if c[0] >= ranked[CONFUSIONS - 1][0]]


def idx_count(path: Path) -> int:
    """The number of items an MNIST idx file holds (its header's first size)."""
    with path.open("rb") as file:
        return int.from_bytes(file.read(8)[4:8], "big")


# ------------------------------------------------------------------------------------ the figures
def epochs_option(epochs: int | None, recipe: int | None = None) -> list[str]:
    chosen = epochs or recipe
    return ["--trainer.max_epochs", str(chosen)] if chosen else []


def regression_curves(space: Workspace, epochs: int | None) -> Section:
    """The sin(1/x) MLP's learning curves, 200 epochs: README "Plotting learning curves"."""
    section = Section("regression_mlp_curves", ["regression_mlp_curves.png"])
    fit = space.run(section, "litzoo", ["fit", "--config", str(REGRESSION), *epochs_option(epochs, 200)])
    metrics = fit.file("metrics.csv", column="val/mse")
    image = space.staging / "regression_mlp_curves.png"
    space.run(section, "python scripts/plot_metrics.py", [str(metrics.parent), "-o", str(image)])
    mse, row = best_row(metrics, "val/mse", min)
    section.quotes = [
        Quote(f"best val MSE {mse:.3g}", repr(mse), f"lowest `val/mse` in `{space.show(metrics)}`"),
        Quote(
            f"at epoch {row['epoch']}",
            row["epoch"],
            "its row's `epoch`, counted from 0 as on the plot's axis and in `best-epoch=NNN.ckpt`",
        ),
    ]
    return section


def mnist_options(mnist_dir: str) -> list[str]:
    """The data options of the README's MNIST commands: a local copy, 2,000 training images to validate."""
    return ["--data.init_args.data_dir", mnist_dir, "--data.init_args.download", "false", "--data.init_args.val_size", str(VAL_SIZE)]  # fmt: skip


def lenet5_results(space: Workspace, mnist_dir: str, epochs: int | None) -> Section:
    """LeNet-5 on real digits: its first training batch and test confusion matrix (README "Results on real digits")."""
    figures = ["mnist_dev_lenet5_samples_train.png", "mnist_dev_lenet5_confusion_matrix_test.png"]
    section = Section("mnist_dev_lenet5", figures)
    config, best = ["--config", str(LENET5)], ["--ckpt_path", "best", *mnist_options(mnist_dir)]
    fit = space.run(section, "litzoo", ["fit", *config, *mnist_options(mnist_dir), *epochs_option(epochs)])
    tested = space.run(section, "litzoo", ["test", *config, *best]).file("metrics.csv", "test/acc")
    predicted = space.run(section, "litzoo", ["predict", *config, *best]).file("predictions.csv")
    runs = outermost([fit.file("metrics.csv", "train/loss").parent, tested.parent])
    space.run(
        section,
        "python scripts/tensorboard_images.py",
        [*map(str, runs), "--out", str(space.staging), "--prefix", "mnist_dev_lenet5"],
    )
    accuracy = float([row for row in csv_rows(tested) if row.get("test/acc")][-1]["test/acc"])
    rows = csv_rows(predicted)
    correct = sum(r["target"] == r["predicted"] for r in rows)
    if abs(correct / len(rows) - accuracy) > 1e-6:
        raise CommandFailed(
            f"{predicted} holds {correct} of {len(rows)} right, but {tested} says test/acc {accuracy}: "
            "the predict and test runs did not evaluate the same checkpoint on the same images."
        )
    section.quotes = [
        Quote(f"test accuracy {accuracy:.2%}", repr(accuracy), f"`test/acc` in `{space.show(tested)}`")
    ]
    section.quotes += [
        Quote(
            f"{true} read as {pred} ({count} images)",
            str(count),
            f"rows of `{space.show(predicted)}` with `target` {true}, `predicted` {pred}",
        )
        for count, true, pred in most_frequent_confusions(rows)
    ]
    train = idx_count(Path(mnist_dir) / "MNIST" / "raw" / "train-labels-idx1-ubyte")
    section.note = (
        f"Data: `{space.show(mnist_dir)}`: {train:,} images in its training files ({train - VAL_SIZE:,} "
        f"to train, {VAL_SIZE:,} to validate), {len(rows):,} in its test files (the rows of predictions.csv)."
    )
    return section


def outermost(folders: list[Path]) -> list[Path]:
    """``folders`` without those inside another one (a test run filed inside its training run)."""
    return [f for f in folders if not any(f != o and f.is_relative_to(o) for o in folders)]


def own_digits(space: Workspace) -> Section:
    """The LeNet-5 of :func:`lenet5_results` on ``docs/images/own_digits`` (README "Predict your own images")."""
    section = Section("own_digits", [])
    args = ["predict", "--config", str(LENET5), "--ckpt_path", "best", "--data.init_args.predict_path", str(OWN_DIGITS)]  # fmt: skip
    predicted = space.run(section, "litzoo", args).file("predictions.csv")
    rows = csv_rows(predicted)
    section.quotes = [
        Quote(
            f"{space.show(r['file'])},{r['predicted_name']}",
            r["predicted_name"],
            f"`{space.show(predicted)}`",
        )
        for r in rows
    ]
    probabilities = [max(float(v) for k, v in r.items() if k.startswith("prob_")) for r in rows]
    section.quotes.append(
        Quote(
            f"probability {min(probabilities):.3f} to {max(probabilities):.3f}",
            ", ".join(f"{p:.6f}" for p in probabilities),
            f"each row's largest `prob_<class>` in `{space.show(predicted)}`",
        )
    )
    section.note = (
        "The pictures are inputs, not outputs: no script in the repository draws them (they were drawn once "
        "with Pillow, as the README says)."
    )
    return section


def lr_finder(space: Workspace, mnist_dir: str, epochs: int | None) -> Section:
    """``--lr_find true`` on LeNet-5 and the rerun of its config.yaml (README "Learning-rate finder")."""
    section = Section("lr_find_lenet5", ["lr_find_lenet5.png"])
    args = [
        "fit",
        "--config",
        str(LENET5),
        *mnist_options(mnist_dir),
        "--lr_find",
        "true",
        *epochs_option(epochs, 2),
    ]
    metrics = space.run(section, "litzoo", args).file("metrics.csv", "val/acc")
    config = metrics.parent / "config.yaml"
    rerun = space.run(section, "litzoo", ["fit", "--config", str(config)]).file("metrics.csv", "val/acc")
    space.copy(section, metrics.parent / "lr_find.png", "lr_find_lenet5.png")
    lr = yaml.safe_load(config.read_text())["model"]["init_args"]["optimizer"]["init_args"]["lr"]
    section.quotes = [
        Quote(
            f"learning rate {lr:.4g}",
            repr(lr),
            f"`model.init_args.optimizer.init_args.lr` in `{space.show(config)}`",
        )
    ]
    for name, path in (("the LR-finder run", metrics), ("the rerun of its config.yaml", rerun)):
        accuracy, _ = best_row(path, "val/acc", max)
        source = f"highest `val/acc` of {name}, `{space.show(path)}`"
        section.quotes.append(Quote(f"Best val/acc = {accuracy:.6g}", repr(accuracy), source))
    return section


# ------------------------------------------------------------------------------------- FIGURES.md
def machine() -> str:
    """CPU model and cores, operating system and GPUs of this machine."""
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = models[0] if models else cpu
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return f"{cpu}, {os.cpu_count()} CPU cores; {platform.platform()}; GPU: {', '.join(gpus) or 'none'}"


def versions() -> str:
    libraries = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("torchvision", "lightning")
    )
    return f"python {platform.python_version()}, torch {torch.__version__}, {libraries}"


def markdown(sections: list[Section], command: str, seconds: float) -> str:
    lines = [
        "# How the README's figures were made",
        "",
        "Written, with every figure listed here, by this command run from the repository root:",
        "",
        f"    {command}",
        "",
        "It runs the commands below, each as its own process with `OMP_NUM_THREADS=1`, in a working folder of",
        "its own (paths are shown as they read from the repository root: run folders under `lightning_logs/`),",
        "and reads every number from the files those runs wrote. The README quotes these numbers;",
        "`tests/test_readme_figures.py` fails where it quotes others.",
        "",
        f"- date: {time.strftime('%Y-%m-%d')}, {seconds / 60:.1f} minutes in all",
        f"- machine: {machine()}",
        f"- versions: {versions()}",
    ]
    for section in sections:
        figures = ", ".join(f"`{name}`" for name in section.figures) or "none"
        lines += [
            "",
            f"## {section.name}",
            "",
            f"Figures: {figures}. Commands ({section.seconds:.0f} s):",
            "",
        ]
        lines += [f"    {command}" for command in section.commands]
        lines += [""] + ([section.note, ""] if section.note else [])
        lines += ["| the README says | number | read from |", "|---|---|---|"]
        lines += [f"| `{q.text}` | {q.value} | {q.source} |" for q in section.quotes]
    return "\n".join(lines) + "\n"


def quoted_numbers(figures_md: str) -> dict[str, tuple[list[str], list[str]]]:
    """FIGURES.md read back: section name -> (its figures, what the README must quote from it)."""
    parts = SECTION.split(figures_md)
    sections = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        figures_line = next(line for line in body.splitlines() if line.startswith("Figures: "))
        sections[name] = (
            re.findall(r"`([^`]+)`", figures_line.split(". Commands")[0]),
            QUOTE_ROW.findall(body),
        )
    return sections


# ------------------------------------------------------------------------------------------ all
def mnist_problem(mnist_dir: Path) -> str | None:
    missing = [name for name in MNIST_FILES if not (mnist_dir / "MNIST" / "raw" / name).is_file()]
    if not missing:
        return None
    return (
        f"--mnist_dir {mnist_dir}: {mnist_dir / 'MNIST' / 'raw'} lacks {', '.join(missing)}. Give a folder holding "
        "MNIST in torchvision's raw layout (uncompressed idx files under MNIST/raw/), e.g. ../shared/data/mnist-dev."
    )


def import_problem() -> str | None:
    """Why the commands would not run this checkout's litzoo (they import it as this script does), if so."""
    imported = Path(litzoo.__file__).resolve().parent.parent
    if imported == REPO_ROOT:
        return None
    return (
        f"litzoo is imported from {imported}, not from this checkout ({REPO_ROOT}), so the figures would show "
        "another copy's code. Run `pip install -e .` here, or set PYTHONPATH to this checkout."
    )


def regenerate(args: argparse.Namespace, workdir: Path, staging: Path, command: str) -> list[Section]:
    space = Workspace(workdir.resolve(), staging.resolve(), args.out.resolve())
    # abspath, not resolve(): a data folder reached through a link is shown as the user named it.
    mnist_dir = os.path.abspath(args.mnist_dir)
    start = time.perf_counter()
    sections = [
        regression_curves(space, args.epochs),
        lenet5_results(space, mnist_dir, args.epochs),
        own_digits(space),
        lr_finder(space, mnist_dir, args.epochs),
    ]
    seconds = time.perf_counter() - start
    (staging / FIGURES_FILE).write_text(markdown(sections, command, seconds))
    args.out.mkdir(parents=True, exist_ok=True)
    for name in [figure for section in sections for figure in section.figures] + [FIGURES_FILE]:
        shutil.copyfile(staging / name, args.out / name)
        print(f"wrote {args.out / name}")
    print(f"{seconds:.0f} s in all")
    return sections


def regenerate_all(args: argparse.Namespace, parser: argparse.ArgumentParser, command: str) -> list[Section]:
    epochs_problem = (
        f"--epochs {args.epochs}: give 1 or more." if args.epochs is not None and args.epochs < 1 else None
    )
    problem = epochs_problem or mnist_problem(args.mnist_dir) or import_problem()
    if problem:
        parser.error(problem)
    with tempfile.TemporaryDirectory() as staging, tempfile.TemporaryDirectory() as scratch:
        workdir = args.logs or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            return regenerate(args, workdir, Path(staging), command)
        except CommandFailed as error:
            kept = f"; the runs are in {workdir / 'lightning_logs'}" if args.logs else ""
            parser.exit(1, f"readme_figures.py: error: {error}\nNothing was written to {args.out}{kept}.\n")


def main(argv: Sequence[str] | None = None) -> list[Section]:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mnist_dir", type=Path, required=True, help="MNIST folder (torchvision layout) to train on"
    )
    parser.add_argument("--out", type=Path, default=IMAGES_DIR, help="folder for the figures")
    parser.add_argument("--logs", type=Path, help="working folder of the commands (default: a temporary one)")
    parser.add_argument(
        "--epochs", type=int, help="train every run this many epochs (a check of this script)"
    )
    args = parser.parse_args(argv)
    shown = " ".join(shlex.quote(a) for a in argv)
    return regenerate_all(args, parser, f"OMP_NUM_THREADS=1 python scripts/readme_figures.py {shown}")


if __name__ == "__main__":
    main()
