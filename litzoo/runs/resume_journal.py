"""A resume changes nothing of its run until it has saved a checkpoint of its own.

A resume continues an existing run folder, and eventually supersedes parts of it: the rows that the
run logged at or after the checkpoint's global step (the resumed run logs those steps again), the
``best-*.ckpt`` files its own best-checkpoint bookkeeping does not know, the ``interrupted.ckpt`` it
resumed from, a ``last.ckpt`` of a timeline it branched off. None of these is touched before the resume
has its replacement on disk:

- When the resume starts (:func:`begin`, holding the run folder's lock), the journal
  ``<run>/.resume.json`` records every file the folder holds, and ``hparams.yaml`` (which the loggers
  rewrite when they start) is copied aside.
- The superseded rows leave ``metrics.csv`` / ``metrics_steps.csv`` only when the resumed run writes
  its first rows (:func:`supersede_replayed_rows`, called by the CSV logger); the files as they were are
  kept in ``<run>/superseded/resume-K/``.
- Until the resumed run saves a checkpoint, a failure, a refusal or an interrupt (in the process, or
  ``kill -9`` followed by any later command on that run) *rolls back* (:func:`end`/:func:`recover`):
  the CSV files and ``hparams.yaml`` come back byte for byte, and every file the resume created (its
  events file, ``config.resume-K.yaml``) goes: the folder is as it was before the command.
- Once a checkpoint of the resumed run is on disk, the resume *rolls forward* (at its end, or by the
  next command after a ``kill -9``): what it superseded moves to ``superseded/resume-K/``, and the
  journal goes.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from litzoo.callbacks.csv_rows import replace_csv
from litzoo.callbacks.epoch_rows import METRICS_FILE, STEPS_FILE
from litzoo.faults.atomic_io import TEMP_SUFFIX, written_whole
from litzoo.runs.lock import LOCK_FILE

JOURNAL = ".resume.json"
#: Where a run keeps what its resumes superseded, one ``resume-K`` folder per resume.
SUPERSEDED = "superseded"
CHECKPOINTS = "checkpoints"
LAST = "last.ckpt"
INTERRUPTED = "interrupted.ckpt"
#: How litzoo names its best-by-metric checkpoints (``--checkpoint.filename`` default ``best-{epoch:03d}``).
BEST_PREFIX = "best-"
#: Files the loggers rewrite in place when a run starts: copied aside so a rollback can restore them.
REWRITTEN_AT_START = ("hparams.yaml",)
ROW_FILES = (METRICS_FILE, STEPS_FILE)


def _files(run: Path) -> dict[str, list[int]]:
    """Every file under ``run`` (relative path -> [size, mtime_ns]), but the lock, the journal,
    unfinished saves and what resumes superseded."""
    found = {}
    for path in run.rglob("*"):
        relative = path.relative_to(run)
        if not path.is_file() or relative.parts[0] == SUPERSEDED:
            continue
        if path.name in (LOCK_FILE, JOURNAL) or path.name.endswith(TEMP_SUFFIX):
            continue
        stat = path.stat()
        found[relative.as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return found


def _write(run: Path, journal: dict[str, Any]) -> None:
    with written_whole(run / JOURNAL) as file:
        json.dump(journal, file)


def read(run: Path) -> dict[str, Any] | None:
    """The journal of the resume in progress (or interrupted) in ``run``, if any."""
    path = run / JOURNAL
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(
            f"{path} (the record of an unfinished resume of this run) cannot be read ({error}). It lists the "
            "files the run held before that resume. Inspect the run folder, then delete that file to go on "
            "with the folder as it is."
        ) from error


def _folder(run: Path, number: int) -> Path:
    return run / SUPERSEDED / f"resume-{number}"


def global_step_of(path: Path) -> int | None:
    """The global step a checkpoint file holds (memory-mapped: only that entry is read), None if unreadable."""
    try:
        return int(torch.load(path, map_location="cpu", mmap=True, weights_only=False)["global_step"])
    except Exception:  # any damage: the caller treats the file as unknown
        return None


def begin(run: Path, resumed_step: int, ckpt_path: str | None) -> None:
    """Record the run folder as it is before a resume at global step ``resumed_step`` (hold its lock)."""
    superseded = run / SUPERSEDED
    taken = [int(p.name.split("-")[1]) for p in superseded.glob("resume-*") if p.name.split("-")[1].isdigit()]
    number = max(taken, default=0) + 1
    last = run / CHECKPOINTS / LAST
    journal = {
        "resume": number,
        "step": resumed_step,
        "ckpt_path": None if ckpt_path is None else str(Path(ckpt_path).resolve()),
        "files": _files(run),
        "folders": _folders(run),
        "last_step": global_step_of(last) if last.is_file() else None,
        "rows_superseded": False,
    }
    folder = _folder(run, number)
    try:
        for name in REWRITTEN_AT_START:
            if (run / name).is_file():
                _keep_copy(run / name, folder / name)
        _write(run, journal)
    except BaseException:  # a full disk: the run folder stays as it was, without a half-made copy
        shutil.rmtree(folder, ignore_errors=True)
        _remove_empty(run / SUPERSEDED)
        raise


def _keep_copy(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` whole or not at all.

    A rollback puts every kept copy back over the run's file: a copy cut short by a full disk would
    replace the intact original by its first bytes. So the copy is written whole or not at all
    (:func:`~litzoo.faults.atomic_io.written_whole`), then given the original's times and permissions,
    as ``shutil.copy2`` would.
    """
    with written_whole(target, binary=True) as file, source.open("rb") as original:
        shutil.copyfileobj(original, file)
    shutil.copystat(source, target)


def supersede_replayed_rows(run: Path) -> None:
    """Before the resumed run writes its first rows: drop the rows at or after its global step from
    ``metrics.csv`` and ``metrics_steps.csv``, keeping the files as they were in ``superseded/``.

    Called once per process by the CSV logger; a no-op outside a resume, or once done.
    """
    journal = read(run)
    if journal is None or journal["rows_superseded"]:
        return
    folder = _folder(run, journal["resume"])
    for name in ROW_FILES:
        path = run / name
        if path.is_file() and not (folder / name).exists():
            _keep_copy(path, folder / name)
        if path.is_file():
            drop_rows_from_step(path, journal["step"])
    journal["rows_superseded"] = True
    _write(run, journal)


def drop_rows_from_step(metrics_csv: Path, step: int) -> int:
    """Rewrite ``metrics_csv`` without its rows logged at ``step`` or later; return how many went.

    The file is replaced atomically (a temporary file beside it, then ``os.replace``). A row whose
    step is not a number is a damaged file, named in the error.
    """
    try:
        with metrics_csv.open(newline="") as file:
            reader = csv.DictReader(file)
            header, rows = reader.fieldnames or [], list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(
            f"{metrics_csv} is not a readable CSV file ({error}): it was damaged or replaced. Nothing was "
            "changed. Restore the file (or move it out of the run folder to start its rows anew), then resume again."
        ) from error
    try:
        kept = [row for row in rows if not row.get("step") or int(float(row["step"])) < step]
    except ValueError as error:
        raise ValueError(
            f"{metrics_csv} has a row whose step is not a number ({error}): the file was edited or damaged. "
            "Nothing was changed. Repair that row (or restore the file), then resume again."
        ) from error
    if len(kept) == len(rows):
        return 0
    replace_csv(metrics_csv, header, kept)
    return len(rows) - len(kept)


def _saved_a_checkpoint(run: Path, journal: dict[str, Any]) -> bool:
    """Whether the resume has written a checkpoint (a checkpoint file new or changed since it began)."""
    before = journal["files"]
    now = _files(run)
    return any(
        name.startswith(f"{CHECKPOINTS}/") and name.endswith(".ckpt") and before.get(name) != stat
        for name, stat in now.items()
    )


def _rollback(run: Path, journal: dict[str, Any]) -> None:
    """Put the run folder back as it was when the resume began."""
    folder = _folder(run, journal["resume"])
    for name in (*ROW_FILES, *REWRITTEN_AT_START):
        kept = folder / name
        if kept.is_file():
            os.replace(kept, run / name)
    for name in _files(run):
        if name not in journal["files"]:
            (run / name).unlink(missing_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    _remove_empty(run / SUPERSEDED)
    _remove_new_empty_folders(run, journal.get("folders"))
    (run / JOURNAL).unlink(missing_ok=True)


def _roll_forward(run: Path, journal: dict[str, Any], recorded_best: Iterable[str] | None) -> list[str]:
    """Finish a resume that saved a checkpoint: move what it superseded into ``superseded/resume-K``."""
    supersede_replayed_rows(run)
    folder = _folder(run, journal["resume"])
    before, now = journal["files"], _files(run)
    checkpoints = run / CHECKPOINTS
    moved = []

    def unchanged(name: str) -> bool:
        return now.get(name) is not None and now.get(name) == before.get(name)

    if unchanged(f"{CHECKPOINTS}/{INTERRUPTED}"):  # consumed: the run has gone on from it
        moved.append(INTERRUPTED)
    last_step = journal.get("last_step")
    if unchanged(f"{CHECKPOINTS}/{LAST}") and last_step is not None and last_step > journal["step"]:
        moved.append(LAST)  # the end of a timeline this resume branched off
    if recorded_best is not None:
        keep = {Path(p).name for p in recorded_best}
        moved += [p.name for p in sorted(checkpoints.glob(f"{BEST_PREFIX}*.ckpt")) if p.name not in keep]
    for name in moved:
        (folder / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        os.replace(checkpoints / name, folder / CHECKPOINTS / name)
    for name in REWRITTEN_AT_START:  # an unchanged copy supersedes nothing
        kept = folder / name
        if kept.is_file() and (run / name).is_file() and kept.read_bytes() == (run / name).read_bytes():
            kept.unlink()
    _remove_empty(folder)
    _remove_empty(run / SUPERSEDED)
    (run / JOURNAL).unlink(missing_ok=True)
    return moved


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty, or not there
        folder.rmdir()


def _folders(run: Path) -> list[str]:
    """Every folder under ``run`` (relative paths), but what resumes superseded."""
    return sorted(
        p.relative_to(run).as_posix()
        for p in run.rglob("*")
        if p.is_dir() and p.relative_to(run).parts[0] != SUPERSEDED
    )


def _remove_new_empty_folders(run: Path, before: list[str] | None) -> None:
    """Remove the empty folders the resume made (deepest first); folders the run had before stay.

    ``before`` is None for a journal written before folders were recorded: then every empty folder goes.
    """
    kept = set(before or ())
    made = [
        p
        for p in run.rglob("*")
        if p.is_dir() and (before is None or p.relative_to(run).as_posix() not in kept)
    ]
    for folder in sorted(made, key=lambda p: len(p.parts), reverse=True):
        _remove_empty(folder)


def end(run: Path, recorded_best: Iterable[str] | None = None) -> str | None:
    """End the resume in ``run`` (if one is recorded): roll forward once it saved a checkpoint, else roll back.

    ``recorded_best``: the best checkpoints the run's best-checkpoint callback knows (others are moved
    aside); None to leave ``best-*.ckpt`` files alone. Returns ``"forward"``, ``"back"`` or None.
    """
    journal = read(run)
    if journal is None:
        return None
    if _saved_a_checkpoint(run, journal):
        _roll_forward(run, journal, recorded_best)
        return "forward"
    _rollback(run, journal)
    return "back"


def recover(run: Path) -> str | None:
    """Finish the resume a killed process left in ``run`` (call holding the folder's lock).

    Rolled forward, the best files are those that the newest ``last.ckpt`` records.
    """
    journal = read(run)
    if journal is None:
        return None
    recorded = recorded_best_files(run / CHECKPOINTS / LAST) if _saved_a_checkpoint(run, journal) else None
    return end(run, recorded)


def recorded_best_files(checkpoint_path: Path) -> list[str] | None:
    """The best checkpoint files that the best-checkpoint state in ``checkpoint_path`` records."""
    if not checkpoint_path.is_file():
        return None
    try:
        state = torch.load(checkpoint_path, map_location="cpu", mmap=True, weights_only=False)
    except Exception:  # unreadable: leave the best files alone
        return None
    return best_files_of(state.get("callbacks") or {})


def best_files_of(callback_states: dict[str, Any]) -> list[str] | None:
    """The files recorded by the best-by-metric ``ModelCheckpoint`` states among ``callback_states``."""
    recorded = [
        path
        for state in callback_states.values()
        if isinstance(state, dict) and state.get("monitor")
        for path in [*(state.get("best_k_models") or {}), state.get("best_model_path") or ""]
        if path
    ]
    return recorded or None
