"""Every use of a library's private internals in litzoo, in one place, each with why no public API serves.

Everything else in litzoo (the zoo in models/ and datamodules/ included) uses Lightning's, PyTorch's
and jsonargparse's public API only. Each function here names the private attribute it touches;
``tests/test_compat.py`` exercises each one against the installed versions and fails with the
attribute's name when a release renames or removes it, so an upgrade breaks one test here instead of
a training run. A patch of a library's code is applied only where it is needed (a ``with`` block),
never by importing or building something. This module imports only torch, Lightning, jsonargparse and
the standard library, never another litzoo module.

``tests/test_compat.py`` passes with Lightning 2.6.0 (the floor of ``lightning>=2.6.0``) and 2.6.6,
with torch 2.4 and 2.14.
"""

from __future__ import annotations

import threading
from argparse import ArgumentParser
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultMetric
from torch import Tensor
from torch.utils.data import Dataset, DistributedSampler
from torch.utils.tensorboard import SummaryWriter
from torch.utils.tensorboard.writer import FileWriter


# --- LightningCLI ----------------------------------------------------------------------------------
def recorded_config(cli: LightningCLI) -> dict[str, Any]:
    """The config dump from which LightningCLI records the model's and datamodule's hyperparameters.

    Touches ``LightningCLI.config_dump`` and, from Lightning 2.5 on, ``_dump_config()``, which makes
    it on first use (2.4 makes it just before ``before_instantiate_classes``). Lightning's
    instantiator reads ``config_dump[key]`` for the hyperparameters it hands to
    ``save_hyperparameters`` and writes instantiation-linked values into it; a change made to the
    returned dict before ``instantiate_classes`` is what the checkpoint records. No public API: the
    dump is made and read inside ``LightningCLI``'s private instantiator, with no hook between.
    """
    if not hasattr(cli, "config_dump"):
        cli._dump_config()
    return cli.config_dump


# --- self.log ---------------------------------------------------------------------------------------
def accumulator_tensors(metric: _ResultMetric) -> list[Tensor]:
    """Every tensor a ``self.log`` accumulator holds: its states, their defaults, its cached results.

    Touches ``_ResultMetric`` (Lightning's accumulator of one logged name) and torchmetrics'
    ``Metric._defaults``/``_cache``, ``_forward_cache`` and ``_computed``. ``tests/test_compat.py``
    checks that a walk of the whole object finds no tensor beyond these.
    """
    values = [
        metric._forward_cache,
        metric._computed,
        *metric._defaults.values(),
        *(getattr(metric, name) for name in metric._defaults),
        *(metric._cache or {}).values(),
    ]
    return [value for value in values if isinstance(value, Tensor)]


_patch_lock = threading.Lock()
_patch_depth = 0  # how many ``skip_logged_value_moves_within_a_device`` blocks are open
_lightning_to: Callable[..., _ResultMetric] | None = None  # Lightning's ``_ResultMetric.to`` while patched


def _to_unless_already_there(self: _ResultMetric, *args: Any, **kwargs: Any) -> _ResultMetric:
    """``_ResultMetric.to`` that returns at once when every tensor is on the one device asked for."""
    device = args[0] if len(args) == 1 and not kwargs else None
    if isinstance(device, torch.device) and all(t.device == device for t in accumulator_tensors(self)):
        return self
    return _lightning_to(self, *args, **kwargs)


@contextmanager
def skip_logged_value_moves_within_a_device() -> Iterator[None]:
    """Inside the block, Lightning's move of a logged value's accumulator to the value's device is free when nothing moves.

    Touches ``_ResultMetric.to``, which ``_ResultCollection.log`` calls on every ``self.log`` with the
    logged value's device. Lightning's rebuilds the accumulator's whole ``__dict__`` (about 45
    entries, deep-copying its metadata dataclass) whether or not a tensor moves. Inside the block it
    is replaced by a version that returns at once when every tensor of the accumulator is on that
    device already and otherwise runs Lightning's; on leaving the outermost block (also by an
    exception) Lightning's is put back. Re-entrant. No public API: the call is inside ``self.log``.
    Used only around the task's own epoch values (``TaskModule.log_split``, six ``self.log`` calls
    an epoch for ``configs/regression/mlp.yaml``).

    Kept for the README's first command (``litzoo fit --config configs/regression/mlp.yaml``, 2000
    epochs; measured on a shared 2-core CPU, ``OMP_NUM_THREADS=1``): one such ``self.log`` takes
    17 µs instead of 183 µs; the time the run spends in ``log_split`` fell by 4.5%, 5.5% and 5.2% of
    the whole run in three pairs of runs with and without it side by side (whole-run time -0.6%,
    -9.7%, -7.6%), and three interleaved runs each took a median 65.6 s against 74.5 s.
    """
    global _patch_depth, _lightning_to
    with _patch_lock:
        if _patch_depth == 0:
            _lightning_to = _ResultMetric.to
            _ResultMetric.to = _to_unless_already_there
        _patch_depth += 1
    try:
        yield
    finally:
        with _patch_lock:
            _patch_depth -= 1
            if _patch_depth == 0:
                _ResultMetric.to, _lightning_to = _lightning_to, None


# --- ModelCheckpoint --------------------------------------------------------------------------------
def last_saved_global_step(checkpoint: ModelCheckpoint) -> int:
    """The ``trainer.global_step`` at which ``checkpoint`` last wrote a file (0 before its first save).

    Touches ``ModelCheckpoint._last_global_step_saved``, the value Lightning itself compares to skip a
    second save of the same step. No public API says when (or whether) a ``ModelCheckpoint`` saved;
    ``best_model_path`` and ``last_model_path`` name files, not steps.
    """
    return checkpoint._last_global_step_saved


def save_unmonitored_checkpoint(checkpoint: ModelCheckpoint, trainer: L.Trainer) -> None:
    """Make ``checkpoint`` (``monitor=None``) save now, exactly as at one of its scheduled saves.

    Touches ``ModelCheckpoint._save_none_monitor_checkpoint`` and ``_monitor_candidates``: the file
    name from ``filename`` with the current metrics, ``save_top_k`` bookkeeping, the step recorded
    and the loggers notified. No public API: ``trainer.save_checkpoint`` writes a file but skips all
    of that bookkeeping, so the callback would not know the file it just made.
    """
    checkpoint._save_none_monitor_checkpoint(trainer, checkpoint._monitor_candidates(trainer))


# --- CSVLogger --------------------------------------------------------------------------------------
class _MetricsKeepingExperimentWriter(ExperimentWriter):
    """Lightning's CSV writer minus the deletion of an existing ``metrics.csv`` when it starts."""

    def _check_log_dir_exists(self) -> None:  # Lightning's deletes the file (and warns about it)
        return


def csv_experiment_keeping_metrics(logger: CSVLogger) -> ExperimentWriter:
    """The CSV writer of ``logger`` (it writes ``hparams.yaml``), created on first use without deleting ``metrics.csv``.

    :class:`~litzoo.callbacks.ResumableCSVLogger` writes ``metrics.csv`` itself and continues it when a
    run resumes. Touches ``ExperimentWriter._check_log_dir_exists`` (overridden: Lightning's deletes
    the file a resumed run continues) and the logger's ``_experiment`` cache, which Lightning's
    ``CSVLogger`` reads. No public API: the writer class is fixed inside ``CSVLogger.experiment`` and
    deletes the file in its constructor.
    """
    if logger._experiment is None:
        logger._experiment = _MetricsKeepingExperimentWriter(log_dir=logger.log_dir)
    return logger._experiment


# --- TensorBoard (torch's SummaryWriter) ------------------------------------------------------------
def tensorboard_file_writer(writer: SummaryWriter) -> FileWriter:
    """The event-file writer under ``writer``, reopened if a finished ``fit``/``validate`` closed it.

    Touches ``SummaryWriter._get_file_writer()``, which is what every ``add_*`` method and Lightning's
    own ``TensorBoardLogger.log_hyperparams`` use to write a prepared summary. No public API writes a
    ready ``Summary`` protobuf: ``add_hparams`` makes its own run folder and logs made-up metric values,
    and the ``file_writer`` attribute is ``None`` once Lightning's ``finalize`` has closed the writer.
    """
    return writer._get_file_writer()


# --- manual optimization ----------------------------------------------------------------------------
def step_past_lightning(trainer: L.Trainer, optimizer: LightningOptimizer) -> None:
    """Step the torch optimizer inside ``optimizer`` directly and count the step as Lightning would.

    Touches ``trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress``, the counter that
    ``trainer.global_step`` (and with it ``max_steps``, step-based checkpoints and logging) reads,
    incremented as ``LightningOptimizer.step`` does in manual optimization. No public API counts an
    optimizer step without ``LightningOptimizer.step``, whose dispatch of the per-step hooks (to
    every callback, even when none overrides them) made each step of the sin(1/x) MLP 16% slower
    (636 -> 735 µs, ``scripts/benchmark_chunk_hooks.py``, ``results/benchmark_chunk_hooks.md``).
    :class:`litzoo.models.tasks.ChunkedSteps`, the only caller, uses it only when nothing observes those
    hooks.
    """
    progress = trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
    progress.increment_ready()
    optimizer.optimizer.step()
    progress.increment_completed()


def logging_step(trainer: L.Trainer) -> int:
    """The step Lightning hands the loggers for values logged now (an epoch's validation values too).

    Reads ``trainer.fit_loop.epoch_loop._batches_that_stepped``, the counter Lightning's logger
    connector logs at, one behind ``global_step`` after an epoch's last batch. No public API says at
    which step logged values land; a value written beside them (``best/<monitor>`` in TensorBoard)
    must use the same one, or a resume's ``purge_step`` hides it where it hides none of theirs.
    """
    return trainer.fit_loop.epoch_loop._batches_that_stepped


def log_at_optimizer_steps(trainer: L.Trainer) -> None:
    """Make the step Lightning logs at after this training batch the optimizer step count, as in
    automatic optimization.

    Touches ``trainer.fit_loop.epoch_loop._batches_that_stepped``, the step every logger receives
    (and ``log_every_n_steps`` counts), which Lightning increments once per training batch after
    logging the batch's values; set to ``global_step - 1`` here, it ends the batch at ``global_step``.
    A task that takes many optimizer steps per batch (:class:`litzoo.models.tasks.ChunkedSteps`) then logs
    at the same x-axis positions as one that takes one, so TensorBoard curves and ``metrics.csv``
    of the two line up, and a run resumed in the other mode continues its curves. No public API sets
    the logging step: it is derived from the batch count.
    """
    trainer.fit_loop.epoch_loop._batches_that_stepped = trainer.global_step - 1


def carry_optimizer_steps_across_modes(trainer: L.Trainer) -> None:
    """Let ``trainer.global_step`` continue from a checkpoint saved in the other optimization mode.

    Touches the two counters ``trainer.global_step`` reads, one per mode:
    ``fit_loop.epoch_loop.automatic_optimization.optim_progress.optimizer.step.total`` and
    ``fit_loop.epoch_loop.manual_optimization.optim_step_progress.total``. A checkpoint stores both,
    but only the mode that trained advanced its own, so a run trained with chunked optimizer steps
    (manual optimization, configs/speed/chunked.yaml) and resumed without them (automatic) would start again
    at step 0: step-based checkpoints, schedulers' lengths, ``max_steps`` and the logged x-axis would
    all restart. Both counters are set to the larger. No public API sets ``global_step``.
    """
    epoch_loop = trainer.fit_loop.epoch_loop
    automatic = epoch_loop.automatic_optimization.optim_progress.optimizer.step.total
    manual = epoch_loop.manual_optimization.optim_step_progress.total
    steps = max(automatic.completed, manual.completed)
    for counter in (automatic, manual):
        counter.ready = counter.completed = steps


# --- checkpoint contents and SLURM requeue -----------------------------------------------------------
def checkpoint_contents(trainer: L.Trainer) -> dict[str, Any]:
    """The dict ``trainer.save_checkpoint`` would write now (weights, optimizers, loops, callbacks' state).

    Touches ``trainer._checkpoint_connector.dump_checkpoint``, the function ``save_checkpoint`` itself
    calls. No public API returns a checkpoint without writing it to disk; the exact resume from
    ``interrupted.ckpt`` (:mod:`litzoo.faults.interrupt`) keeps one in memory each epoch. The dict refers
    to the live tensors: copy it to keep it.
    """
    return trainer._checkpoint_connector.dump_checkpoint(weights_only=False)


def wrap_slurm_requeue_handler(trainer: L.Trainer, wrap: Callable[[Callable], Callable]) -> bool:
    """Replace the trainer's SLURM SIGUSR1 handler (save ``hpc_ckpt_K.ckpt``, requeue) by ``wrap(handler)``.

    Touches ``trainer._signal_connector._slurm_sigusr_handler_fn``, which the connector looks up when it
    registers its signal handlers at the start of ``fit``, so an instance attribute set before then is
    the one registered. No public API chooses what the requeue checkpoint holds. Returns whether the
    handler was found (False on a Lightning without it: the requeue then saves Lightning's way).
    """
    connector = getattr(trainer, "_signal_connector", None)
    handler = getattr(connector, "_slurm_sigusr_handler_fn", None)
    if handler is None:
        return False
    connector._slurm_sigusr_handler_fn = wrap(handler)
    return True


# --- LightningModule hyperparameters ---------------------------------------------------------------
def hyperparameters_given_by_cli() -> bool:
    """Whether the LightningModule being built now gets its hyperparameters from LightningCLI's config.

    Touches ``lightning.pytorch.core.mixins.hparams_mixin._given_hyperparameters``, the context
    variable LightningCLI's instantiator sets around a module's constructor so that
    ``save_hyperparameters`` records the config (``class_path``/``init_args``) instead of the live
    objects. No public API tells a constructor which of the two it will record; a task built in
    Python records its own plain description instead (:mod:`litzoo.models.tasks.plain_hparams`).
    """
    from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters

    return _given_hyperparameters.get() is not None


# --- torch.compile on CUDA --------------------------------------------------------------------------
def triton_usable() -> bool:
    """Whether inductor can generate its CUDA kernels here: triton installed, built and a GPU it supports.

    Touches ``torch.utils._triton.has_triton``, the check torch's inductor itself makes (triton's
    package, its backend for the device type, the device's compute capability). Without it
    ``torch.compile`` is accepted at once and fails at the first forward, inside the training loop,
    with the run already started (a crash the ``compile`` option turns into a warning and an eager
    net). No public API: ``torch.compile`` raises only when it compiles, and a copy of the rule
    (package found, capability >= 7.0) would drift from torch's.
    """
    from torch.utils._triton import has_triton

    return has_triton()


# --- DDP evaluation ---------------------------------------------------------------------------------
def unrepeated_distributed_sampler(
    dataset: Dataset, num_replicas: int | None = None, rank: int | None = None
) -> DistributedSampler:
    """A ``DistributedSampler`` (no shuffling) that gives each rank a disjoint share of ``dataset``, each sample once.

    Touches ``lightning.pytorch.overrides.distributed.UnrepeatedDistributedSampler``, the sampler
    Lightning itself puts under evaluation loaders where repeated samples would bias the result. Being
    a ``DistributedSampler``, Lightning leaves a loader that has it alone. No public API: torch's
    ``DistributedSampler`` pads the last uneven share with repeated samples (or drops samples with
    ``drop_last``), and Lightning does not export this class. ``num_replicas``/``rank`` default to the
    process group's.
    """
    from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler

    return UnrepeatedDistributedSampler(dataset, num_replicas=num_replicas, rank=rank, shuffle=False)


# --- jsonargparse errors ----------------------------------------------------------------------------
def option_strings(parser: ArgumentParser) -> list[str]:
    """Every option string ``parser`` takes (``--trainer.max_epochs``, ``-c``...), for a "did you mean".

    Touches argparse's ``ArgumentParser._actions``, the list of the parser's actions, which
    jsonargparse's own ``error()`` reads the same way. No public API lists a parser's options:
    ``format_help`` gives them as text only.
    """
    return [option for action in parser._actions for option in action.option_strings]


def parser_that_failed(parser: ArgumentParser, error: Exception | None) -> ArgumentParser:
    """The (sub)command's parser a jsonargparse error belongs to: a subcommand's, or ``parser`` itself.

    Touches the ``subcommand_parser`` attribute jsonargparse sets on the exception it hands to
    ``ArgumentParser.error`` when a subcommand does not take an option in a config file (its own
    ``error()`` reads it to print that subcommand's usage). No public API: ``error`` receives only the
    message and this exception.
    """
    return getattr(error, "subcommand_parser", None) or parser
