"""Train each config on a dataset folder, test its best checkpoint once, and write the results table.

    python scripts/results.py --data_dir ../shared/data/mnist-dev --configs configs/mnist/*.yaml \\
        --out results/mnist_dev.md --epochs 3 --data.init_args.val_size 2000

Each config trains with its own recipe through the same ``litzoo fit`` a user runs; only the data
folder changes (``--data.init_args.data_dir DIR --data.init_args.download false``), and with
``--epochs N`` the number of epochs. The checkpoint with the best validation metric is then tested
once: the test split chooses nothing. Options this script does not know are command-line options
of the CLI, passed to every run (e.g. ``--data.init_args.val_size 2000`` or ``--config
configs/trainer/gpu.yaml``). With ``--seeds K`` each config trains K times, with
``seed_everything`` = the config's seed + 0..K-1, and the table shows mean +- standard deviation.

The runs keep their run folders (``lightning_logs/<experiment>/version_N``, printed as they end), so
``--ckpt_path best`` and TensorBoard find them afterwards. The table is written once all runs end.
A config whose run fails (bad input, a diverging run, a bug) gets a row saying what failed, the other
configs still run and get theirs, and the script then exits with status 1.
"""

from __future__ import annotations

import argparse
import inspect
import os
import pydoc
import shlex
import statistics
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning
import torch
import yaml
from jsonargparse import Namespace

from litzoo.cli.lightning_cli import LitzooCLI, cli_main
from litzoo.cli.user_errors import USER_ERRORS, user_error_message

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Options every run gets before the user's own (which can override them): no progress bar in a log.
QUIET = ["--trainer.enable_progress_bar", "false"]


@dataclass
class Run:
    """One training run of a config: its figures and where it lives."""

    best_val: float
    test: float
    seconds: float
    epochs: int
    run_dir: str


@dataclass
class ConfigResult:
    """Every seed's run of one config, and what describes the config's model and data."""

    config: str
    architecture: str
    parameters: int
    recipe_epochs: int | None
    metric: str
    device: str
    split_sizes: dict[str, int]
    runs: list[Run] = field(default_factory=list)


@dataclass
class Failure:
    """A config whose run at ``seed`` failed, and why, in one line (its table row)."""

    config: str
    seed: int
    what: str


def relative(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (``configs/mnist/lenet5.yaml``)."""
    resolved = path.resolve()
    return resolved.relative_to(REPO_ROOT).as_posix() if resolved.is_relative_to(REPO_ROOT) else str(path)


def architecture_text(net: Namespace, written: dict[str, Any]) -> str:
    """``Class(arg=value, ...)``: the arguments the config writes and those not at their default.

    Values the CLI links from the data (left ``None`` in the parsed config) are not shown.
    """
    net_class = pydoc.locate(net.class_path)
    defaults = {
        name: p.default
        for name, p in inspect.signature(net_class).parameters.items()
        if p.default is not p.empty
    }
    shown = {
        name: value
        for name, value in vars(net.get("init_args") or Namespace()).items()
        if value is not None and (name in written or name not in defaults or value != defaults[name])
    }
    args = ", ".join(f"{name}={value}" for name, value in shown.items())
    return f"{net.class_path.rsplit('.', 1)[-1]}({args})" if args else net.class_path.rsplit(".", 1)[-1]


def device_text(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}"


def fit_args(config: Path, data_dir: str, seed: int, epochs: int | None, extra: Sequence[str]) -> list[str]:
    epochs_option = ["--trainer.max_epochs", str(epochs)] if epochs is not None else []
    return [
        "fit", "--config", str(config), "--data.init_args.data_dir", data_dir,
        "--data.init_args.download", "false", "--seed_everything", str(seed), *epochs_option, *QUIET, *extra,
    ]  # fmt: skip


def train_and_test(args: list[str]) -> tuple[Run, LitzooCLI]:
    """``litzoo fit`` with ``args``, timed; then one test of its best-by-validation checkpoint."""
    start = time.perf_counter()
    cli = cli_main(args)
    seconds = time.perf_counter() - start
    trainer, task = cli.trainer, cli.model
    best = trainer.checkpoint_callback
    (tested,) = trainer.test(task, datamodule=cli.datamodule, ckpt_path=best.best_model_path, verbose=False)
    run = Run(
        best_val=best.best_model_score.item(),
        test=tested[f"test/{task.best_metric}"],
        seconds=seconds,
        epochs=trainer.current_epoch,
        run_dir=str(trainer.log_dir),
    )
    return run, cli


def measure(
    config: Path, data_dir: str, seeds: int, epochs: int | None, extra: Sequence[str]
) -> ConfigResult | Failure:
    """Every seed's run of ``config``; the first run that fails ends the config with a :class:`Failure`."""
    spec = yaml.safe_load(config.read_text())
    first_seed = int(spec.get("seed_everything") or 0)
    result = None
    for seed in range(first_seed, first_seed + seeds):
        try:
            run, cli = train_and_test(fit_args(config, data_dir, seed, epochs, extra))
        except (Exception, SystemExit) as error:  # SystemExit: the CLI refused an option or config value
            failure = Failure(relative(config), seed, failure_text(error))
            print(f"{failure.config} seed {seed} failed: {failure.what}", file=sys.stderr, flush=True)
            return failure
        if result is None:
            written = spec["model"]["init_args"]["net"].get("init_args") or {}
            splits = getattr(cli.datamodule, "splits", {})
            result = ConfigResult(
                config=relative(config),
                architecture=architecture_text(cli.config["fit"]["model"]["init_args"]["net"], written),
                parameters=sum(p.numel() for p in cli.model.net.parameters()),
                recipe_epochs=(spec.get("trainer") or {}).get("max_epochs"),
                metric=cli.model.best_metric,
                device=device_text(cli.trainer.strategy.root_device),
                split_sizes={name: len(split) for name, split in splits.items()},
            )
        result.runs.append(run)
        print(
            f"{result.config} seed {seed}: best val/{result.metric} {run.best_val:.4f}, test/{result.metric} "
            f"{run.test:.4f}, {run.seconds:.0f} s, run folder {run.run_dir}",
            flush=True,
        )
    return result


def failure_text(error: BaseException) -> str:
    """What failed, in one line: a user error's own paragraph, else the exception (its traceback is printed)."""
    if isinstance(error, SystemExit):
        return f"the command line or config was refused (exit status {error.code}; its message is in the log)"
    message = user_error_message(error) if isinstance(error, (*USER_ERRORS, OSError)) else None
    if message is None:
        traceback.print_exception(error)
        message = f"{type(error).__name__}: {error}"
    return " ".join(message.split())


# --------------------------------------------------------------------------------------------- table
def figure(values: list[float], metric: str) -> str:
    """One value, or mean +- std of several; accuracies in percent."""
    scale, unit, digits = (100, "%", 2) if metric == "acc" else (1, "", 4)
    mean = statistics.fmean(values) * scale
    if len(values) == 1:
        return f"{mean:.{digits}f}{unit}"
    return f"{mean:.{digits}f} ± {statistics.stdev(values) * scale:.{digits}f}{unit}"


def epochs_text(result: ConfigResult) -> str:
    trained = sorted({run.epochs for run in result.runs})
    text = "/".join(str(e) for e in trained)
    return text if result.recipe_epochs in (None, *trained) else f"{text} of {result.recipe_epochs}"


def row(result: ConfigResult) -> str:
    seconds = statistics.fmean(run.seconds for run in result.runs)
    return (
        f"| `{result.config}` | `{result.architecture}` | {result.parameters:,} | {epochs_text(result)} | "
        f"{seconds:.0f} s | {result.device} | {figure([r.best_val for r in result.runs], result.metric)} | "
        f"{figure([r.test for r in result.runs], result.metric)} |"
    )


def failure_row(failure: Failure) -> str:
    """A failed config's row: what failed in the architecture column, the figures left empty."""
    what = failure.what.replace("|", "\\|")
    return f"| `{failure.config}` | failed (seed {failure.seed}): {what} | | | | | | |"


def markdown(results: list[ConfigResult | Failure], args: argparse.Namespace, command: str) -> str:
    measured = [result for result in results if isinstance(result, ConfigResult)]
    metric = measured[0].metric if measured else "metric"
    sizes = measured[0].split_sizes if measured else {}
    seeds = f"{args.seeds} seeds each (mean ± standard deviation)" if args.seeds > 1 else "one seed each"
    epochs = (
        f"`--epochs {args.epochs}` instead of each recipe's own (the column shows both)"
        if args.epochs is not None
        else "each recipe's own number of epochs"
    )
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} with `{command}`",
        f"on {os.cpu_count()} CPU cores{', ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else ''}, "
        f"torch {torch.__version__}, lightning {lightning.__version__}.",
        "",
        f"Data: `{args.data_dir}`, {sizes.get('train', 0):,} training and {sizes.get('val', 0):,} validation "
        f"images from its training files; test figures on the {sizes.get('test', 0):,} images of its test "
        f"files, used once per run on the checkpoint with the best validation {metric}.",
        *([args.note] if args.note else []),
        f"Recipes: each config's own, with {epochs}; {seeds}. Wall time: the whole `fit` (start-up, "
        "training, validation after every epoch).",
        "",
        f"| config | architecture | parameters | epochs | training wall time | device | best val {metric} | "
        f"test {metric} |",
        "|---|---|---:|---:|---:|---|---:|---:|",
        *(row(result) if isinstance(result, ConfigResult) else failure_row(result) for result in results),
    ]
    return "\n".join(lines) + "\n"


def command_text(argv: Sequence[str]) -> str:
    """The command as run, quoted for a shell, with configs relative to the repository."""
    shown = [relative(Path(a)) if a.endswith(".yaml") else a for a in argv]
    return shlex.join(["python", "scripts/results.py", *shown])


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--data_dir", required=True, help="dataset folder, as --data.init_args.data_dir")
    parser.add_argument("--configs", nargs="+", type=Path, required=True, help="experiment configs")
    parser.add_argument("--out", type=Path, required=True, help="markdown file to write")
    parser.add_argument(
        "--epochs", type=int, help="train every config this many epochs (default: its recipe)"
    )
    parser.add_argument("--seeds", type=int, default=1, help="runs per config, with consecutive seeds")
    parser.add_argument("--note", help="a sentence for the table's caption, e.g. what the data are")
    args, extra = parser.parse_known_args(argv)
    if args.seeds < 1 or (args.epochs is not None and args.epochs < 1):
        parser.error("--seeds and --epochs must be at least 1.")
    missing = [str(c) for c in args.configs if not c.is_file()]
    if missing:
        parser.error(f"--configs: no such file: {', '.join(missing)}.")
    return args, extra


def main(argv: Sequence[str] | None = None) -> list[ConfigResult | Failure]:
    """Measure every config and write the table; exit with status 1 after writing it if any failed."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args, extra = parse_args(argv)
    with warnings.catch_warnings():
        # Lightning warns when a CLI gets `args` while sys.argv holds other arguments: here they are this
        # script's own, and the runs' arguments are exactly the `args` given.
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        results = [measure(config, args.data_dir, args.seeds, args.epochs, extra) for config in args.configs]
    metrics = {result.metric for result in results if isinstance(result, ConfigResult)}
    if len(metrics) > 1:
        raise ValueError(f"The configs are judged by different metrics ({', '.join(sorted(metrics))}).")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(f".{args.out.name}.tmp")
    partial.write_text(markdown(results, args, command_text(argv)))
    partial.replace(args.out)  # written whole or not at all
    print(f"wrote {args.out}")
    failed = [result for result in results if isinstance(result, Failure)]
    if failed:
        print(
            f"error: {len(failed)} of {len(results)} configs failed ({', '.join(f.config for f in failed)}); "
            f"their rows in {args.out} say why.",
            file=sys.stderr,
        )
        sys.exit(1)
    return results


if __name__ == "__main__":
    main()
