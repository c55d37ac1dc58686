"""What the progress displays show: train loss, the monitored metric and its best; the epoch."""

from __future__ import annotations

import lightning as L


def compact_metrics(trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, str]:
    """``loss``, the monitored metric (e.g. ``val/mse``) and ``best``, each to 4 significant digits.

    Lightning's bar shows every ``prog_bar`` metric plus ``v_num``, which does not fit in 80
    columns (``val/loss`` beside ``val/mse`` repeats it). Only the values logged so far are given:
    no ``best`` before the first validation. A module without a ``monitor`` property (the litzoo
    tasks have one) shows its train loss only.
    """
    logged = trainer.progress_bar_metrics
    monitor = getattr(pl_module, "monitor", None)
    wanted = {"loss": "train/loss"}
    if monitor:
        wanted |= {monitor: monitor, "best": f"{monitor}_best"}
    return {shown: f"{float(logged[name]):#.4g}" for shown, name in wanted.items() if name in logged}


def epoch_label(trainer: L.Trainer) -> str:
    """``3/2000``: the current epoch counted from 1, over ``max_epochs`` when there is such a limit."""
    limit = trainer.max_epochs
    epoch = trainer.current_epoch + 1
    return f"{epoch}/{limit}" if limit is not None and limit > 0 else str(epoch)


def is_last_epoch(trainer: L.Trainer) -> bool:
    """Whether ``fit`` stops after the current epoch because ``max_epochs`` or ``max_steps`` is reached.

    Lightning announces that stop (```Trainer.fit` stopped: ...``) before any later hook, so a
    display that should end first has to know it at the epoch's end.
    """
    limit = trainer.max_epochs
    steps_done = trainer.max_steps not in (None, -1) and trainer.global_step >= trainer.max_steps
    return steps_done or (limit is not None and limit > 0 and trainer.current_epoch + 1 >= limit)
