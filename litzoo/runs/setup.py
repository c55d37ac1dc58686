"""The run folder of one command: which folder, reserved and locked, and the loggers pointed at it.

Every logger gets the same run folder, ``<save_dir>/<experiment>/version_N``. Each ``fit`` reserves a
fresh ``version_N``, except ``fit --ckpt_path <run>/checkpoints/X.ckpt``, which resumes and keeps
logging into ``<run>``, and a requeued SLURM job, which continues the run whose hpc checkpoint it
resumes from. ``validate``, ``test`` and ``predict`` reserve a ``<stage>_K`` folder inside the
training run they evaluate (:mod:`litzoo.runs.evaluation`). Only rank 0 reserves; other ranks learn
the folder from it through Lightning's broadcast of ``trainer.log_dir``. Rank 0 locks the folder for
the run (:mod:`litzoo.runs.lock`), then removes what a crashed save left there, and a resume records
the folder as it was (:mod:`litzoo.runs.resume_journal`) so that it changes nothing until it has saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from jsonargparse import Namespace
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from litzoo.cli.monitoring import DEFAULT_SAVE_DIR
from litzoo.faults.atomic_io import remove_unfinished_saves
from litzoo.runs import resume_journal
from litzoo.runs.evaluation import EVALUATION_STAGES, reserve_evaluation_folder, results_line
from litzoo.runs.folder import (
    experiment_from_configs,
    file_loggers,
    is_global_zero,
    logger_location,
    release_version,
    reserve_version,
    run_folder_of_checkpoint,
    slurm_requeued_run_folder,
    version_number,
)
from litzoo.runs.lock import lock_run_folder
from litzoo.runs.resume_logs import purge_replayed_events, resumed_global_step
from litzoo.runs.resume_safety import check_resumable


class RunFolder:
    """The folder a command writes into: chosen and prepared by :meth:`settle`, released by :meth:`close`.

    ``reserved`` is the folder this process created (rank 0 of a new run or evaluation), which a
    command that fails before training anything removes again (:meth:`close` with ``keep=False``).
    """

    def __init__(
        self, path: Path | None, reserved: Path | None, save_dir: Path, lock: IO[str] | None
    ) -> None:
        self.path = path
        self.reserved = reserved
        self.save_dir = save_dir
        self._lock = lock

    @classmethod
    def settle(
        cls, config: Namespace, subcommand: str | None, checkpoint: dict[str, Any] | None
    ) -> RunFolder | None:
        """Choose, reserve, lock and clean the command's folder, and point ``config``'s loggers at it.

        ``checkpoint``: the ``--ckpt_path`` file's contents, read once by the CLI (or None). Returns
        None where a command writes no folder (``fast_dev_run``, or no logger without a subcommand).
        """
        loggers = file_loggers(config)
        if not loggers and subcommand is None:
            return None
        config.experiment = config.experiment or experiment_from_configs(config.get("config"))
        if config.trainer.get("fast_dev_run"):  # a smoke test: Lightning logs nothing, so no run folder
            return None
        # Without a logger (--trainer.logger false) a command still gets its own folder under
        # lightning_logs/ for what it writes (checkpoints, config.yaml, predictions.csv): Lightning
        # would write into --trainer.default_root_dir (the working directory by default), where the
        # next run overwrites them. default_root_dir then points at that folder (below).
        save_dir = Path(loggers[0].init_args.save_dir if loggers else DEFAULT_SAVE_DIR)
        resumed = run_folder_of_checkpoint(config.get("ckpt_path")) if subcommand == "fit" else None
        fitting = subcommand == "fit" and resumed is None
        requeued = slurm_requeued_run_folder(save_dir / config.experiment) if fitting else None
        reserved = None
        if resumed is not None:  # keeps logging where the run lives, in this log root or another
            path = resumed
            save_dir, config.experiment = logger_location(resumed.parent, save_dir)
        elif requeued is not None:
            path = requeued
        elif is_global_zero():
            experiment_dir = save_dir / config.experiment
            if subcommand in EVALUATION_STAGES:
                path = reserve_evaluation_folder(subcommand, config.get("ckpt_path"), experiment_dir)
            else:
                path = reserve_version(experiment_dir)
            reserved = path
        else:
            path = None
        lock = None
        if path is not None and is_global_zero():
            try:
                lock = lock_run_folder(path)  # refuses a folder another process writes
                remove_unfinished_saves(path / "checkpoints")
                remove_unfinished_saves(path)
                if resume_journal.recover(path) is not None:
                    rank_zero_info(f"Finished the resume of {path} that an earlier process left unfinished.")
                if resumed is not None:
                    check_resumable(Path(config.ckpt_path), checkpoint, path)
                resumed_step = resumed_global_step(checkpoint if resumed is not None else None, requeued)
                if resumed_step is not None:
                    resume_journal.begin(path, resumed_step, config.get("ckpt_path"))
                    purge_replayed_events(path, loggers, resumed_step)
            except BaseException:  # a full disk at the lock file, a refused resume: nothing is left behind
                if lock is not None:
                    lock.close()
                if reserved is not None:
                    release_version(reserved, save_dir)
                raise
        run = cls(path, reserved, save_dir, lock)
        run.point_loggers(config, loggers, subcommand)
        return run

    def point_loggers(self, config: Namespace, loggers: list[Namespace], subcommand: str | None) -> None:
        """Give every logger this folder, and Lightning's ``default_root_dir`` too where it is used."""
        if self.path is not None and subcommand in EVALUATION_STAGES:
            # A string version is the folder's name as it is (<stage>_K).
            (log_root, name), version = logger_location(self.path.parent, self.save_dir), self.path.name
        else:
            # The number, not the folder name: both loggers name the folder version_N from it, and
            # the progress bar shows it (a string would show as its last four characters).
            version = None if self.path is None else version_number(self.path)
            log_root, name = self.save_dir, config.experiment
        for logger in loggers:
            logger.init_args.save_dir = str(log_root)
            logger.init_args.name = name
            logger.init_args.version = version
        if config.trainer.get("default_root_dir") is None or not loggers:
            # Where Lightning's SLURM auto-requeue saves hpc_ckpt_K.ckpt and looks for it on restart;
            # without a logger, also where it puts checkpoints/ and the CLI config.yaml.
            config.trainer.default_root_dir = str(self.path or self.save_dir / config.experiment)

    def close(self, keep: bool = True, recorded_best: list[str] | None = None) -> None:
        """End a resume's record, unlock the folder; with ``keep=False``, also remove a folder this
        command reserved.

        A resume that saved no checkpoint is rolled back, one that did is finished, moving what it
        superseded aside (:func:`litzoo.runs.resume_journal.end`; ``recorded_best``: the best files the
        run's best-checkpoint callback knows, the others among them are superseded).
        """
        if self._lock is not None and self.path is not None:
            resume_journal.end(self.path, recorded_best)
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        if not keep and self.reserved is not None:
            release_version(self.reserved, self.save_dir)
            self.reserved = None

    def results_line(self, subcommand: str) -> str | None:
        """The line that ends an evaluation, naming its folder (rank 0, which reserved it)."""
        return None if self.reserved is None else results_line(subcommand, self.reserved)
