"""``litzoo sweep``: hyperparameter search over a litzoo config with Optuna, on one machine or a cluster.

::

    litzoo sweep --config configs/mnist/lenet5.yaml --space configs/search/lenet5.yaml --trials 30 \\
        --trainer.max_epochs 5

Besides the sweep's own options (``--space``, ``--trials``, ``--seed``, ``--storage``, ``--study``,
``--heartbeat``), every option is a ``litzoo fit`` option applied to every trial. Each trial is an
ordinary ``fit`` through the same CLI, in this process, with the values it drew as overrides; it
logs into its own run folder under ``lightning_logs/<experiment>/sweep-<study>/``, beside the
study's storage, ``trials.csv`` and ``best.yaml``. Optuna's TPE sampler draws the values and its
median pruner stops trials whose ``val/<metric>`` falls behind, through optuna-integration's
Lightning pruning callback. Any number of workers, started the same way, share one study.

Before the first trial the sweep builds what a trial builds first at every bound and choice of the
space (:func:`~litzoo.sweeps.search_space.check_values`), and refuses a storage that no longer holds
the trials its folder's ``trials.csv``/``best.yaml`` record (:mod:`litzoo.sweeps.record`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import pydoc
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import optuna
from jsonargparse import Namespace
from optuna.trial import FrozenTrial, TrialState
from optuna_integration.pytorch_lightning import PyTorchLightningPruningCallback

from litzoo.cli.lightning_cli import cli_main
from litzoo.cli.user_errors import USER_ERRORS, exit_with_user_error, root_cause
from litzoo.models.tasks import TaskModule
from litzoo.runs.folder import experiment_from_configs, file_loggers
from litzoo.sweeps.lr_find import LR_KEY
from litzoo.sweeps.outputs import (
    BEST_CONFIG,
    DIVERGED,
    RUN_FOLDER,
    TRIALS_CSV,
    best_config,
    describe_params,
    trial_line,
    trials_table,
    write_atomically,
)
from litzoo.sweeps.parsed_config import build_fit_config, parse_fit_config
from litzoo.sweeps.record import check_storage_file, check_storage_holds_record, damage_named
from litzoo.sweeps.search_space import Parameter, check_keys, check_values, load_space
from litzoo.sweeps.study import (
    FINISHED,
    SURPLUS,
    SurplusTrial,
    counted_trials,
    fail_stale_trials,
    has_heartbeat,
    is_surplus,
    open_storage,
    open_study,
)

#: How often a worker with nothing left to claim looks at the other workers' running trials.
WAIT_POLL_SECONDS = 5
STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Loggers whose INFO lines (seeding, devices, "Best val/... = ...") each trial would repeat.
QUIET_LOGGERS = ("lightning.pytorch", "lightning.fabric")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def option_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="litzoo sweep",
        allow_abbrev=False,  # --seed must not swallow --seed_everything, a fit option
        description="Search hyperparameters of a litzoo config with Optuna (TPE sampler, median pruner).",
        epilog=(
            "Every other option is a `litzoo fit` option (--config first) applied to every trial; see "
            "`litzoo fit --help`. Example: litzoo sweep --config configs/regression/mlp.yaml "
            "--space configs/search/regression_mlp.yaml --trials 20 --trainer.max_epochs 50"
        ),
    )
    parser.add_argument("--space", type=Path, required=True, help="search-space YAML (see configs/search/)")
    parser.add_argument(
        "--trials", type=positive_int, required=True, help="the study's total, all workers together"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the TPE sampler (trial n draws from seed + n)"
    )
    parser.add_argument(
        "--storage",
        help="Optuna storage shared by the workers: a database URL (sqlite:///..., postgresql://..., "
        "mysql://...) or a journal file path; default: study.db (SQLite) in the sweep folder",
    )
    parser.add_argument(
        "--study", help="study name, the folder sweep-<study> (default: the space file's name)"
    )
    parser.add_argument(
        "--heartbeat",
        type=positive_int,
        default=60,
        help="seconds between a worker's heartbeats; a trial silent for twice as long is retried (database storages)",
    )
    return parser


@dataclass(frozen=True)
class Sweep:
    """A checked sweep: what every trial trains and where everything goes."""

    fit_args: list[str]
    space: list[Parameter]
    trials: int
    seed: int
    storage: str
    heartbeat: int
    study: str
    folder: Path
    experiment: str
    monitor: str
    direction: str
    root_dir: str | None

    @property
    def waits_for_others(self) -> bool:
        """Whether a dead worker's trial gets retried (heartbeat), so waiting on running trials ends."""
        return has_heartbeat(self.storage)

    def trial_args(self, trial: optuna.Trial) -> list[str]:
        """The ``litzoo fit`` command line of ``trial``: the sweep's options, its folder, its values."""
        overrides = [parameter.override(parameter.suggest(trial)) for parameter in self.space]
        return ["fit", *self.fit_args, f"--experiment={self.experiment}/sweep-{self.study}", *overrides]


def plan(argv: Sequence[str]) -> Sweep:
    """Read and check the sweep's command line against the config; creates nothing."""
    options, fit_args = option_parser().parse_known_args(list(argv))
    if fit_args and not fit_args[0].startswith("-"):
        raise ValueError(
            f"litzoo sweep takes options only, got {fit_args[0]!r}: every trial runs fit. Write "
            "`litzoo sweep --config CONFIG.yaml --space SPACE.yaml --trials N [fit options]`."
        )
    space = load_space(options.space)
    config = parse_fit_config(fit_args)
    configs = " ".join(f"--config {path}" for path in config.get("config") or []) or "the config"
    check_keys(space, options.space, config, configs)
    if config.get("lr_find") and any(p.key == LR_KEY for p in space):
        raise ValueError(
            f"--space {options.space} searches {LR_KEY}, which --lr_find true would replace by the rate the "
            "finder suggests in every trial. Search the rate or find it, not both."
        )
    fit_args = [*fit_args, *single_device(config)]
    check_values(space, options.space, lambda overrides: build_fit_config([*fit_args, *overrides]))
    task = pydoc.locate(config.model.class_path)
    if not (isinstance(task, type) and issubclass(task, TaskModule)):
        raise ValueError(
            f"litzoo sweep tunes litzoo tasks (litzoo.models.tasks); the config's model is {config.model.class_path}."
        )
    loggers = file_loggers(config)
    if not loggers:
        raise ValueError(
            "litzoo sweep needs the run folders its trials log into, and the config has no logger that "
            "writes one (trainer.logger). Keep litzoo's default loggers."
        )
    study = options.study or options.space.stem
    if not STUDY_NAME.match(study):
        raise ValueError(
            f"--study {study!r}: a study name names a folder; use letters, digits, '_', '.' and '-'."
        )
    experiment = config.experiment or experiment_from_configs(config.get("config"))
    folder = Path(loggers[0].init_args.save_dir) / experiment / f"sweep-{study}"
    return Sweep(
        fit_args=fit_args,
        space=space,
        trials=options.trials,
        seed=options.seed,
        storage=options.storage or f"sqlite:///{(folder / 'study.db').resolve()}",
        heartbeat=options.heartbeat,
        study=study,
        folder=folder,
        experiment=experiment,
        monitor=f"val/{task.best_metric}",
        direction="maximize" if task.best_mode == "max" else "minimize",
        root_dir=config.trainer.get("default_root_dir"),
    )


def single_device(config: Namespace) -> list[str]:
    """Options that keep each trial on one device: trials run in this process, one after another.

    ``devices: auto`` would start one DDP process per GPU, and Lightning starts those by running
    this command again. A worker per device is how a sweep uses several (``sweep.sbatch``).
    """
    devices, nodes = config.trainer.get("devices"), config.trainer.get("num_nodes") or 1
    if devices == "auto":
        return ["--trainer.devices=1"]
    one = devices in (1, "1") or (isinstance(devices, list) and len(devices) == 1)
    if not one or nodes != 1:
        raise ValueError(
            f"litzoo sweep trains each trial on one device, in its own process; the options ask for "
            f"trainer.devices={devices}, trainer.num_nodes={nodes}. Start one worker per device instead "
            "(scripts/slurm/sweep.sbatch starts one per array task), with --trainer.devices 1."
        )
    return []


class RecordRunFolder(L.Callback):
    """Stores the trial's run folder in the study as soon as the run has one."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.log_dir is not None:
            self.trial.set_user_attr(RUN_FOLDER, str(trainer.log_dir))


@contextlib.contextmanager
def lightning_info_hidden() -> Iterator[None]:
    """Keep Lightning's per-run INFO lines out of the sweep's output; warnings still show."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Worker:
    """Runs trials of one study until it has its ``--trials``, then reports."""

    def __init__(self, sweep: Sweep, study: optuna.Study) -> None:
        self.sweep = sweep
        self.study = study

    def objective(self, trial: optuna.Trial) -> float:
        """One trial: an ordinary ``fit`` with the drawn values; returns the run's best ``val/<metric>``."""
        if is_surplus(self.study, trial.number, self.sweep.trials):
            trial.set_user_attr(SURPLUS, True)
            raise SurplusTrial(f"the study already has its {self.sweep.trials} trials")
        callbacks = [
            PyTorchLightningPruningCallback(trial, monitor=self.sweep.monitor),
            RecordRunFolder(trial),
        ]
        try:
            with lightning_info_hidden():
                cli = cli_main(self.sweep.trial_args(trial), callbacks=callbacks)
        except FloatingPointError as error:  # the NaN guard stopped a diverging run: an unpromising one
            trial.set_user_attr(DIVERGED, " ".join(str(error).split()))
            raise optuna.TrialPruned("the loss diverged") from error
        except USER_ERRORS as error:  # a value the checks before the first trial could not foresee
            raise self.trial_failed(trial, error) from error
        best = cli.trainer.callback_metrics.get(f"{self.sweep.monitor}_best")
        if best is None:
            raise ValueError(
                f"Trial {trial.number} ended without validating, so it has no {self.sweep.monitor}. Check "
                "trainer.limit_val_batches and trainer.check_val_every_n_epoch against trainer.max_epochs."
            )
        return float(best)

    def trial_failed(self, trial: optuna.Trial, error: BaseException) -> ValueError:
        """The paragraph that stops the sweep when a trial fails on bad input: which trial, with which values.

        The checks before the first trial build each bound and choice, not every value between them
        or every combination; whatever they miss still names its trial and values here. A study
        keeps its space, so a narrower space is a new study.
        """
        drawn = [p.override(trial.params[p.key]) for p in self.sweep.space if p.key in trial.params]
        return ValueError(
            f"Trial {trial.number} of sweep {self.sweep.study} failed with {' '.join(drawn)}: "
            f"{' '.join(str(root_cause(error)).split())} The sweep stops; the trial is recorded as failed and "
            "does not count. A drawn value the config refuses needs a narrower space, in a new study "
            "(--study NEW_NAME); any other cause, fix it and rerun the command."
        )

    def after_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.user_attrs.get(SURPLUS):
            return
        print(trial_line(trial, self.sweep.space, self.sweep.monitor), flush=True)
        self.write_outputs()

    def run(self) -> None:
        """Claim and run trials while the study needs them; wait for other workers' running trials."""
        told_waiting = False
        while True:
            fail_stale_trials(self.study)
            counted = counted_trials(self.study)
            if len(counted) < self.sweep.trials or any(t.state == TrialState.WAITING for t in counted):
                self.study.optimize(
                    self.objective,
                    n_trials=1,
                    catch=(SurplusTrial,),
                    callbacks=[self.after_trial],
                    gc_after_trial=True,
                )
                continue
            running = [t.number for t in counted if t.state == TrialState.RUNNING]
            if not running or not self.sweep.waits_for_others:
                break
            if not told_waiting:
                print(
                    f"Waiting for trial(s) {', '.join(map(str, running))} of other workers (one whose worker died "
                    f"is retried here after {2 * self.sweep.heartbeat} s without heartbeat).",
                    flush=True,
                )
                told_waiting = True
            time.sleep(min(self.sweep.heartbeat, WAIT_POLL_SECONDS))
        self.write_outputs()
        self.report()

    def write_outputs(self) -> None:
        trials = self.study.get_trials(deepcopy=False)
        write_atomically(self.sweep.folder / TRIALS_CSV, trials_table(trials, self.sweep.space))
        if any(t.state == TrialState.COMPLETE for t in trials):
            best = self.study.best_trial
            header = (
                f"# Best trial ({best.number}) of sweep {self.sweep.study}: {self.sweep.monitor} = {best.value!r}.\n"
                f"# litzoo fit --config {self.sweep.folder / BEST_CONFIG} trains it again.\n"
            )
            text = best_config(best, self.sweep.experiment, self.sweep.root_dir, header)
            write_atomically(self.sweep.folder / BEST_CONFIG, text)

    def report(self) -> None:
        """The closing lines: how many trials ended how, the best one, where everything is."""
        trials = self.study.get_trials(deepcopy=False)
        states = {
            state: sum(t.state == state for t in trials if not t.user_attrs.get(SURPLUS))
            for state in TrialState
        }
        finished = states[TrialState.COMPLETE] + states[TrialState.PRUNED]
        tally = ", ".join(f"{count} {state.name.lower()}" for state, count in states.items() if count)
        print(
            f"Sweep {self.sweep.study}: {finished} of {self.sweep.trials} trials finished ({tally}) in {self.sweep.folder}"
        )
        if states[TrialState.RUNNING]:
            print(
                f"{states[TrialState.RUNNING]} trial(s) still run in other workers; rerun to see the final result."
            )
        if not states[TrialState.COMPLETE]:
            print("No trial completed, so there is no best configuration yet.")
            return
        best = self.study.best_trial
        print(
            f"Best: trial {best.number}  {self.sweep.monitor} = {best.value:.6g}  {describe_params(best, self.sweep.space)}"
        )
        print(f"  run folder: {best.user_attrs.get(RUN_FOLDER)}")
        print(
            f"  config:     {self.sweep.folder / BEST_CONFIG}  (litzoo fit --config {self.sweep.folder / BEST_CONFIG})"
        )
        print(f"  all trials: {self.sweep.folder / TRIALS_CSV}", flush=True)


def run(sweep: Sweep) -> None:
    """Join (or start) the study and work on it until it has all its trials."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the sweep prints its own line per trial
    identity = {
        "fit_args": sweep.fit_args,
        "space": {p.key: repr(p.distribution) for p in sweep.space},
        "direction": sweep.direction,
    }
    with damage_named(sweep.folder, sweep.storage):  # nothing in the folder changes before these checks
        check_storage_file(sweep.folder, sweep.storage)
        storage = open_storage(sweep.storage, sweep.heartbeat)
        check_storage_holds_record(sweep.folder, sweep.storage, storage, sweep.study)
        study = open_study(sweep.study, storage, sweep.direction, sweep.seed, identity)
    sweep.folder.mkdir(parents=True, exist_ok=True)
    done = sum(t.state in FINISHED for t in study.get_trials(deepcopy=False))
    print(
        f"Sweep {sweep.study}: {sweep.trials} trials, {sweep.direction} {sweep.monitor}; {done} finished before; "
        f"storage {sweep.storage}",
        flush=True,
    )
    Worker(sweep, study).run()


@contextlib.contextmanager
def args_warning_hidden() -> Iterator[None]:
    """Hide LightningCLI's warning that it got ``args`` while ``sys.argv`` holds options too.

    It guards scripts that meant to read the command line; a sweep passes each run its arguments on purpose.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        yield


def main(argv: Sequence[str]) -> None:
    """``litzoo sweep`` / ``python scripts/sweep.py``: bad input exits with status 2 before anything is written."""
    with args_warning_hidden():
        try:
            with lightning_info_hidden():  # the checks parse and build the config: no "Seed set" lines
                sweep = plan(argv)
        except USER_ERRORS as error:
            exit_with_user_error(error, code=2)
        try:
            run(sweep)
        except USER_ERRORS as error:
            exit_with_user_error(error)
