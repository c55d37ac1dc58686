"""A CSVLogger whose ``metrics.csv`` survives resuming: new rows are appended, old ones kept."""

from __future__ import annotations

import csv

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment


class _AppendingExperimentWriter(ExperimentWriter):
    """Lightning's writer deletes an existing ``metrics.csv`` when it starts; this one continues it.

    It adopts the existing file's header as the known columns, so the first save appends below the
    old rows, and a column that appears later widens the file without dropping anything.
    """

    def _check_log_dir_exists(self) -> None:
        if not self._fs.isfile(self.metrics_file_path):
            return
        with self._fs.open(self.metrics_file_path, "r", newline="") as file:
            self.metrics_keys = next(csv.reader(file), [])


class ResumableCSVLogger(CSVLogger):
    """``CSVLogger`` (same arguments) that appends to the run's ``metrics.csv`` when a run resumes.

    The CLI puts it beside the TensorBoard logger in the same run folder, so every run also has a
    plain ``metrics.csv`` (one row per logged step; epoch metrics in their own rows).
    """

    @property
    @rank_zero_experiment  # like the parent: other ranks get a no-op writer
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _AppendingExperimentWriter(log_dir=self.log_dir)
        return self._experiment
