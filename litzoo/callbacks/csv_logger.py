"""A CSVLogger that writes one row per epoch to ``metrics.csv``, continues the file when a run resumes,
and writes a plain ``hparams.yaml``."""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from torch import Tensor
from typing_extensions import override

from litzoo.callbacks.epoch_rows import EPOCH, EpochRows
from litzoo.callbacks.plain_hparams import PlainHParams
from litzoo.compat import csv_experiment_keeping_metrics
from litzoo.runs.resume_journal import supersede_replayed_rows


class ResumableCSVLogger(PlainHParams, CSVLogger):
    """``CSVLogger`` (same arguments) writing ``metrics.csv`` with one row per epoch, continued on resume.

    Lightning's logger writes a row per ``log_metrics`` call: an epoch's learning rate, its validation
    and its training metrics each in a row of their own. This one merges them into the epoch's row
    (``epoch``, ``step``, then every tag), which it writes as soon as it has values and rewrites while
    the epoch logs more, so a crash, even ``kill -9``, keeps every epoch that was logged. Tags logged
    per step go to ``metrics_steps.csv`` as well; :mod:`litzoo.callbacks.epoch_rows` says which.

    A resumed run's rows go below the existing ones (Lightning's writer deletes the file when it
    starts), once the rows it replays are superseded, and a column that appears later widens the file. The CLI puts this logger beside the
    TensorBoard logger in the same run folder. Each of Lightning's ``save`` calls (after every
    ``self.log`` group) writes, so ``flush_logs_every_n_steps`` changes nothing. Its ``hparams.yaml``
    is plain YAML (:mod:`litzoo.callbacks.plain_hparams`).
    """

    def __init__(
        self,
        save_dir: str | Path,
        name: str | None = "lightning_logs",
        version: int | str | None = None,
        prefix: str = "",
        flush_logs_every_n_steps: int = 100,
    ) -> None:
        super().__init__(save_dir, name, version, prefix, flush_logs_every_n_steps)
        self._tag_prefix = f"{prefix}{self.LOGGER_JOIN_CHAR}" if prefix else ""
        self._rows: EpochRows | None = None  # made on the first values: the run folder is known then
        self._calls = 0

    @property
    @rank_zero_experiment  # like the parent: other ranks get a no-op writer
    def experiment(self) -> ExperimentWriter:
        """Lightning's writer, which writes ``hparams.yaml`` (``metrics.csv`` is this logger's own)."""
        return csv_experiment_keeping_metrics(self)

    @override
    @rank_zero_only
    def log_metrics(self, metrics: dict[str, Tensor | float], step: int | None = None) -> None:
        values = {
            name: value.item() if isinstance(value, Tensor) else value for name, value in metrics.items()
        }
        epoch = values.pop(EPOCH, None)  # the prefix is for tags, not for the epoch that groups them
        values = {f"{self._tag_prefix}{name}": value for name, value in values.items()}
        if epoch is not None:
            values[EPOCH] = epoch
        if self._rows is None:
            supersede_replayed_rows(Path(self.log_dir))  # a resume's first rows replace those it replays
            self._rows = EpochRows.in_folder(Path(self.log_dir))
        self._rows.add(values, self._calls if step is None else step)  # no step: the call's number
        self._calls += 1

    @override
    @rank_zero_only
    def save(self) -> None:
        if self._rows is not None:
            self._rows.save()

    @override
    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._rows is not None:
            self._rows.finish()
            self._rows.save()
