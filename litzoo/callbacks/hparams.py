"""Fills TensorBoard's HParams tab: one row per training run, its hyperparameters beside its metrics.

Which settings count as hyperparameters is decided in :mod:`litzoo.callbacks.compared_hparams`.

Each run writes only its *session start* record (its hyperparameter values), never an *experiment*
record (the list of columns). TensorBoard's HParams plugin takes the first experiment record it
finds as the columns of the whole ``--logdir``: with one per run (as Lightning's
``TensorBoardLogger.log_hyperparams`` and torch's ``hparams()`` write), a log dir holding a
regression run and an MNIST run showed the regression run without ``val/mse_best`` and without its
net's arguments. Without any, the plugin builds the table from every run it finds: the columns are
every run's hyperparameters, and the metrics every scalar the runs log (``val/acc_best`` or
``val/mse_best`` among them), each at its latest value, so the best-so-far of each run.

Without an experiment record the metric columns come in name order, and the dashboard shows the
first five unticked (``epoch``, ``test_0.epoch``, ``lr-Adam``, ...; ``val/...`` comes late). So the
run's best validation value is also written as ``best/<monitor>`` (``best/val/acc``,
``best/val/mse``), a name that sorts before every scalar Lightning and the tasks log: the column
that answers "which run did best" is the first one shown.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import lightning as L
from lightning.pytorch.trainer.states import TrainerFn
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.hparams import metadata, plugin_data_pb2

from litzoo.callbacks.compared_hparams import Value, compared_hparams
from litzoo.callbacks.tensorboard import tensorboard_writer
from litzoo.compat import logging_step, tensorboard_file_writer

#: Prefix of the best-value columns: it sorts before ``epoch``, ``lr-*``, ``test/``, ``train/``, ``val/``.
BEST_PREFIX = "best/"


class HParamsMetrics(L.Callback):
    """Writes the run's hyperparameters (:mod:`litzoo.callbacks.compared_hparams`) to TensorBoard at the start of ``fit``,
    and after each validation of ``fit`` its best validation value so far as ``best/<monitor>``.

    Only ``fit`` writes them, so ``test`` and ``validate`` runs are no rows of the tab. Lightning's
    logger writes nothing there: the CLI turns its ``default_hp_metric`` off.
    """

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        writer = tensorboard_writer(trainer)
        if writer is None:
            return
        summary = session_start_summary(compared_hparams(trainer, pl_module))
        tensorboard_file_writer(writer).add_summary(summary, trainer.global_step)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Copy the task's ``<monitor>_best`` (logged in its ``on_validation_epoch_end``) to ``best/<monitor>``."""
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        writer = tensorboard_writer(trainer)
        monitor = getattr(pl_module, "monitor", None)
        best = trainer.callback_metrics.get(f"{monitor}_best")
        if writer is not None and best is not None:
            writer.add_scalar(f"{BEST_PREFIX}{monitor}", best.item(), logging_step(trainer))


def session_start_summary(hparams: Mapping[str, Value]) -> summary_pb2.Summary:
    """The HParams plugin's session start record of one run, with no group name.

    TensorBoard's ``hparams_pb`` always sets a group name (a hash of the values when no trial id is
    given), which makes the plugin merge runs with equal settings into one row with averaged metrics;
    without one, every run is a row of its own, named by its folder under ``--logdir``. A bool is
    stored as a bool (torch's ``hparams()`` stores it as a number, shown as ``0.0000``), and a whole
    number (``int``: a seed, a batch size, a depth) as its digits: the tab writes every number with
    five significant digits (JavaScript's ``toPrecision(5)``: ``42.000``), text as it is.
    """
    info = plugin_data_pb2.SessionStartInfo(start_time_secs=time.time())
    for name, value in hparams.items():
        if isinstance(value, bool):
            info.hparams[name].bool_value = value
        elif isinstance(value, int):
            info.hparams[name].string_value = str(value)
        elif isinstance(value, float):
            info.hparams[name].number_value = value
        else:
            info.hparams[name].string_value = value
    plugin_data = plugin_data_pb2.HParamsPluginData(session_start_info=info)
    record = summary_pb2.Summary.Value(
        tag=metadata.SESSION_START_INFO_TAG,
        metadata=metadata.create_summary_metadata(plugin_data),
        tensor=metadata.NULL_TENSOR,
    )
    return summary_pb2.Summary(value=[record])
