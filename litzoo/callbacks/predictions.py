"""``predict`` writes its predictions as a CSV file in the run folder."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.utilities.rank_zero import rank_zero_info

from litzoo.faults.atomic_io import AtomicFile
from litzoo.faults.predict_interrupt import remove_dead_predict_temporaries
from litzoo.runs.evaluation import EVALUATION_STAGES

#: An evaluation's folder inside the training run it evaluates (``test_0``, ``predict_3``).
EVALUATION_FOLDER = re.compile(rf"^({'|'.join(EVALUATION_STAGES)})_\d+$")


def probability_column(class_name: str) -> str:
    """``prob_<class>``, the class name in lower case with runs of other characters than letters and
    digits made one ``_``, so that every column name is one word a spreadsheet or pandas reads as is."""
    return "prob_" + "_".join(re.findall(r"[0-9a-z]+", class_name.lower()))


class PredictionsCSV(BasePredictionWriter):
    """Writes one row per input of ``predict`` to ``<run folder>/<filename>``, batch by batch.

    Columns: ``index`` (the sample's index in the predict dataset), ``file`` when the datamodule
    predicts the user's own image files (its ``predict_files``, e.g. ``--data.init_args.predict_path``),
    then

    * classification (the task returns ``{"probs", "preds"}``): ``predicted`` (class index),
      ``predicted_name`` (when the datamodule has ``class_names``) and one probability column per
      class, ``prob_<class name>`` or ``prob_<index>``;
    * regression (the task returns a tensor): ``prediction`` or ``prediction_<k>`` per output;

    and ``target`` (or ``target_<k>``) when the predict batches carry targets. Rows are written as
    batches arrive, so nothing accumulates in memory here, into a temporary file that becomes
    ``<filename>`` when the last batch is written: a ``predictions.csv`` is always complete (a
    ``predict`` that fails or is killed leaves none; the temporary file of one killed with ``kill -9``
    is removed by the next command on the same training run, in :meth:`setup`). Under DDP each rank
    writes its own share to ``<stem>.rank<N>.csv``.

    Args:
        filename: File name inside the run folder; ``null`` turns the writer off.
    """

    def __init__(self, filename: str | None = "predictions.csv") -> None:
        super().__init__(write_interval="batch")
        self.filename = filename
        self.path: Path | None = None
        self._file = None
        self._writer: Any = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        """Remove what predicts killed with ``kill -9`` left in this training run (their temporary files).

        Done by every command on the run (its evaluations sit in it as ``<stage>_K``), on rank 0.
        """
        log_dir = trainer.log_dir  # on every rank: Lightning broadcasts it from rank 0
        if trainer.is_global_zero and log_dir is not None:
            folder = Path(log_dir)
            run = folder.parent if EVALUATION_FOLDER.match(folder.name) else folder
            for leftover in remove_dead_predict_temporaries(run):
                rank_zero_info(f"Removed {leftover}, left by a predict that was killed.")

    def on_predict_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.filename is None:
            return
        path = Path(trainer.log_dir or ".") / self.filename
        if trainer.world_size > 1:
            path = path.with_name(f"{path.stem}.rank{trainer.global_rank}{path.suffix}")
        self.path = path
        self._file = AtomicFile(path)
        self._writer = None  # created with the header once the first batch shows the columns

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        prediction: Any,
        batch_indices: Sequence[int] | None,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        if self._file is None:
            return
        columns = self._columns(prediction, batch, trainer.datamodule)
        files = getattr(trainer.datamodule, "predict_files", None)
        if self._writer is None:
            self._writer = csv.writer(self._file.file)
            self._writer.writerow(["index", *(["file"] if files else []), *columns])
        rows = len(next(iter(columns.values())))
        if batch_indices is None or len(batch_indices) != rows:  # a sampler that does not report indices
            start = batch_idx * rows
            batch_indices = range(start, start + rows)
        for i, index in enumerate(batch_indices):
            file = [files[index]] if files else []
            self._writer.writerow([index, *file, *(values[i] for values in columns.values())])

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._file is None:
            return
        self._file.commit()
        self._file = None
        rank_zero_info(f"Predictions: {self.path}")

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if self._file is not None:
            self._file.discard()
            self._file = None

    @staticmethod
    def _columns(prediction: Any, batch: Any, datamodule: Any) -> dict[str, list]:
        """Column name -> one value per sample of the batch."""
        columns: dict[str, list] = {}
        if isinstance(prediction, dict):  # classification
            probs = prediction["probs"].float().cpu()
            preds = prediction["preds"].cpu().tolist()
            names = getattr(datamodule, "class_names", None)
            names = list(names) if names is not None and len(names) == probs.shape[1] else None
            columns["predicted"] = preds
            if names is not None:
                columns["predicted_name"] = [names[p] for p in preds]
            for k in range(probs.shape[1]):
                columns[probability_column(names[k] if names else str(k))] = probs[:, k].tolist()
        else:
            columns.update(_per_output("prediction", prediction))
        if isinstance(batch, list | tuple) and len(batch) > 1 and isinstance(batch[1], torch.Tensor):
            columns.update(_per_output("target", batch[1]))
        return columns


def _per_output(name: str, values: torch.Tensor) -> dict[str, list]:
    """``{name: [...]}`` for one value per sample, ``{name_k: [...]}`` for several."""
    values = values.detach().cpu().reshape(len(values), -1)
    values = values.float() if values.is_floating_point() else values  # class labels stay integers
    if values.shape[1] == 1:
        return {name: values[:, 0].tolist()}
    return {f"{name}_{k}": values[:, k].tolist() for k in range(values.shape[1])}
