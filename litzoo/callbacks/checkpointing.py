"""Checkpoints that resume exactly: the final state, periodic snapshots and the global RNG states."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from litzoo.compat import last_saved_global_step, save_unmonitored_checkpoint


class LastCheckpoint(ModelCheckpoint):
    """``last.ckpt``: a ``ModelCheckpoint`` of the latest state that also saves when training ends.

    Saving less often than every epoch (``configs/regression/mlp.yaml`` saves every 10 epochs,
    because writing a checkpoint takes longer than one of its epochs) must not cost a finished run
    its last epochs: when training ends between two saves, the final state is written as well, so
    ``--ckpt_path last`` continues exactly where the run stopped. Lightning's own end-of-training
    save covers only ``save_last`` when nothing was saved yet. A run stopped by an error is not
    saved here (the NaN guard and the interrupt handler decide what to keep).
    """

    def on_load_checkpoint(
        self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]
    ) -> None:
        """Keep every checkpoint callback's record of its files when the run folder is reached by
        another path (resumed from another working folder, or the log folder moved).

        ``ModelCheckpoint`` records its files by the path it saved them under and drops the whole
        record (best score, best files) when its folder's path differs on resume, with a warning: a
        resumed run would then forget its best and keep a second ``best-*.ckpt``. When the checkpoint
        resumed from lives in the same run folder (the CLI resumes a run in its own folder), the record
        is re-rooted under the callback's folder instead, before Lightning hands each callback its state.
        """
        if trainer.ckpt_path is None:
            return
        resumed = Path(trainer.ckpt_path).resolve()
        states = checkpoint.get("callbacks") or {}
        for callback in trainer.checkpoint_callbacks:
            state = states.get(callback.state_key)
            if (
                not isinstance(state, dict)
                or not callback.dirpath
                or state.get("dirpath") == callback.dirpath
            ):
                continue
            folder = Path(callback.dirpath)
            if resumed.is_relative_to(folder.resolve().parent):  # <run>/checkpoints/X or <run>/hpc_ckpt_K
                states[callback.state_key] = reroot_checkpoint_record(state, folder)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        # Equal steps mean the final state is on disk already.
        if trainer.fast_dev_run or self.save_top_k == 0:  # a debug run, or saving turned off
            return
        if trainer.global_step == 0 or last_saved_global_step(self) == trainer.global_step:
            return
        save_unmonitored_checkpoint(self, trainer)


def reroot_checkpoint_record(state: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``ModelCheckpoint``'s ``state`` with every file it records moved under ``folder``."""

    def moved(path: str) -> str:
        return str(folder / Path(path).name) if path else path

    return {
        **state,
        "dirpath": str(folder),
        "best_model_path": moved(state.get("best_model_path") or ""),
        "last_model_path": moved(state.get("last_model_path") or ""),
        "kth_best_model_path": moved(state.get("kth_best_model_path") or ""),
        "best_k_models": {moved(path): score for path, score in (state.get("best_k_models") or {}).items()},
    }


class PeriodicCheckpoint(ModelCheckpoint):
    """Keeps a full checkpoint (weights, optimizer, scheduler, loops, RNG) every ``every_n_epochs`` epochs.

    A ``ModelCheckpoint`` that monitors nothing and keeps every file (``save_top_k=-1``), named
    ``epoch=NNN.ckpt`` beside ``best-*.ckpt`` and ``last.ckpt`` in ``<run>/checkpoints/``. Unlike a
    plain ``ModelCheckpoint``, whose ``every_n_epochs=None`` means *every* epoch, ``None`` (or 0)
    here means off.

    Args:
        every_n_epochs: Save after every this many epochs; ``None`` or 0: never.
        filename: File name pattern (``ModelCheckpoint`` syntax).
    """

    def __init__(self, every_n_epochs: int | None = None, filename: str = "{epoch:03d}") -> None:
        super().__init__(filename=filename, monitor=None, save_top_k=-1, every_n_epochs=every_n_epochs or 0)


class RNGStateCheckpoint(L.Callback):
    """Stores the global RNG states (torch, CUDA, numpy, Python) in every checkpoint and restores them.

    Lightning checkpoints hold weights, optimizer, schedulers and loop progress but not the global
    random states, so a resumed run would shuffle, augment and drop out differently from the run
    it continues. With this callback a run resumed from an epoch-end checkpoint on the CPU retraces
    the uninterrupted run exactly. (Lightning's ``_collect_rng_states`` would do the collecting, but
    it is private and keeps numpy's state as an array, which ``torch.load(weights_only=True)``
    refuses; the states here are tensors and plain Python values.)

    The states are restored when the checkpoint is loaded, before the training loop creates its
    first data iterator; the sanity-check validation, which would draw from them in between, is
    skipped by Lightning when resuming.
    """

    def state_dict(self) -> dict[str, Any]:
        numpy_state = np.random.get_state(legacy=False)
        return {
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": {
                "key": numpy_state["state"]["key"].tolist(),
                "pos": int(numpy_state["state"]["pos"]),
                "has_gauss": int(numpy_state["has_gauss"]),
                "gauss": float(numpy_state["gauss"]),
            },
            "python": random.getstate(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        torch.set_rng_state(state_dict["torch"])
        if state_dict["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
        numpy_state = state_dict["numpy"]
        np.random.set_state(
            {
                "bit_generator": "MT19937",
                "state": {"key": np.asarray(numpy_state["key"], dtype=np.uint32), "pos": numpy_state["pos"]},
                "has_gauss": numpy_state["has_gauss"],
                "gauss": numpy_state["gauss"],
            }
        )
        version, state, gauss = state_dict["python"]
        random.setstate((version, tuple(state), gauss))
