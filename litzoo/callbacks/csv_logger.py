"""A CSVLogger whose ``metrics.csv`` survives resuming (new rows are appended, old ones kept) and whose
``hparams.yaml`` is plain YAML."""

from __future__ import annotations

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment

from litzoo.callbacks.plain_hparams import PlainHParams
from litzoo.compat import appending_csv_experiment


class ResumableCSVLogger(PlainHParams, CSVLogger):
    """``CSVLogger`` (same arguments) that appends to the run's ``metrics.csv`` when a run resumes.

    Lightning's writer deletes an existing ``metrics.csv`` when it starts; this one adopts the file's
    columns and appends below its rows, and a column that appears later widens the file without
    dropping anything. The CLI puts it beside the TensorBoard logger in the same run folder, so every
    run also has a plain ``metrics.csv`` (one row per logged step; epoch metrics in their own rows).
    Its ``hparams.yaml`` is plain YAML (:mod:`litzoo.callbacks.plain_hparams`).
    """

    @property
    @rank_zero_experiment  # like the parent: other ranks get a no-op writer
    def experiment(self) -> ExperimentWriter:
        return appending_csv_experiment(self)
