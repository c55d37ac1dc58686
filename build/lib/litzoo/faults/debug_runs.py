"""Debug runs (``fast_dev_run``, ``overfit_batches``) never become an experiment's ``best`` or ``last``.

``--ckpt_path best|last`` picks the experiment's latest run with a ``last.ckpt``; a one-step smoke test
or a run that memorised one batch must not be that run. ``fast_dev_run`` gets no run folder at all
(Lightning already replaces its loggers by a dummy one); an ``overfit_batches`` run keeps its logs,
whose curves are what it is for, but writes no checkpoint.
"""

from __future__ import annotations

import lightning as L


def is_debug_run(trainer: L.Trainer) -> bool:
    """Whether ``trainer`` runs Lightning's smoke test or trains on a fixed few batches."""
    return bool(trainer.fast_dev_run) or trainer.overfit_batches > 0


def keep_no_checkpoints(trainer: L.Trainer, asked: bool = False) -> None:
    """Turn every checkpoint callback of a debug run off (``save_top_k=0``: Lightning's "save nothing").

    ``asked``: the user turned checkpointing off (``--trainer.enable_checkpointing false``), which
    Lightning itself refuses beside the checkpoint callbacks litzoo always gives a run.
    """
    if not (asked or is_debug_run(trainer)):
        return
    for callback in trainer.checkpoint_callbacks:
        callback.save_top_k = 0
        callback.save_last = False
