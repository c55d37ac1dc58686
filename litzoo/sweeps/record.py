"""A sweep folder's record of earlier trials (``trials.csv``, ``best.yaml``) and the storage that must hold them.

Both files are rewritten from the study's storage after every trial. A storage that lost the study
(deleted, emptied to 0 bytes, replaced by another file) would let the sweep start the study anew in
the same folder, and its first trial would overwrite the record of every earlier one. So a sweep
whose folder holds a record continues only a storage that holds every trial the record lists; a
storage file that cannot be read is named as damaged. Each refusal comes before the study is created
or a trial runs (a missing or empty storage file before it is even opened, which would create or fill
it), and changes nothing in the folder.
"""

from __future__ import annotations

import contextlib
import csv
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from optuna.storages import BaseStorage

from litzoo.sweeps.outputs import BEST_CONFIG, TRIALS_CSV
from litzoo.sweeps.study import storage_damage, storage_file


def record_files(folder: Path) -> list[str]:
    """The files of earlier trials that ``folder`` holds: ``trials.csv``, ``best.yaml`` or none."""
    return [name for name in (TRIALS_CSV, BEST_CONFIG) if (folder / name).is_file()]


def recorded_trials(folder: Path) -> set[int]:
    """The trial numbers ``trials.csv`` lists (none when there is no such file)."""
    path = folder / TRIALS_CSV
    if not path.is_file():
        return set()
    with path.open(newline="", errors="replace") as file:
        return {int(row["number"]) for row in csv.DictReader(file) if (row.get("number") or "").isdigit()}


def way_out(folder: Path, storage: str) -> str:
    """How to go on when the storage cannot continue the study: restore it, or start a new one elsewhere.

    A new study needs its own folder (``--study`` names it), so that the record stays where it is.
    """
    file = storage_file(storage)
    if file is not None and file.resolve().parent == folder.resolve():
        aside = shlex.quote(f"{folder}.old")
        return (
            f"Restore {file.name} from a backup to continue the study; or start a new study elsewhere: move "
            f"the folder aside (mv {shlex.quote(str(folder))} {aside}) or name a new study with --study NEW_NAME."
        )
    if file is not None:
        return (
            f"Restore {file} from a backup to continue the study; or start a new study in a new storage "
            "and folder: --storage NEW_FILE --study NEW_NAME."
        )
    return "Give the --storage this study ran in to continue it; or start a new study with --study NEW_NAME."


def refuse_lost_record(folder: Path, storage: str, lost: str) -> NoReturn:
    """Raise the paragraph for a record in ``folder`` that ``storage`` no longer holds (``lost``: why)."""
    record = " and ".join(record_files(folder))
    raise ValueError(
        f"{folder} holds {record} from earlier trials, but {lost}, so this sweep would lose that record: "
        f"its next trial rewrites both files from the storage. {way_out(folder, storage)}"
    )


def check_storage_file(folder: Path, storage: str) -> None:
    """Before the storage is opened (which creates a missing file): with a record, its file must hold data."""
    file = storage_file(storage)
    if file is None or not record_files(folder):
        return
    if not file.exists():
        refuse_lost_record(folder, storage, f"the study's storage {file} is missing")
    if file.stat().st_size == 0:
        refuse_lost_record(folder, storage, f"the study's storage {file} is empty (0 bytes)")


def check_storage_holds_record(folder: Path, storage: str, opened: BaseStorage, study: str) -> None:
    """Before the study is created: with a record, the storage must hold the study and every listed trial."""
    if not record_files(folder):
        return
    shown = storage_file(storage) or storage
    try:
        study_id = opened.get_study_id_from_name(study)
    except KeyError:
        refuse_lost_record(folder, storage, f"the study's storage {shown} holds no study named {study!r}")
    held = {trial.number for trial in opened.get_all_trials(study_id, deepcopy=False)}
    lost = sorted(recorded_trials(folder) - held)
    if lost:
        listed = ", ".join(map(str, lost))
        refuse_lost_record(
            folder, storage, f"the study's storage {shown} lacks trial(s) {listed} that {TRIALS_CSV} lists"
        )


@contextlib.contextmanager
def damage_named(folder: Path, storage: str) -> Iterator[None]:
    """Report a storage file whose content cannot be read as damaged, naming it, instead of a database error."""
    try:
        yield
    except Exception as error:
        damage = storage_damage(error)
        if damage is None:
            raise
        raise ValueError(
            f"The study's storage {storage_file(storage) or storage} is damaged: {damage}, so the study's "
            f"trials cannot be read. {way_out(folder, storage)}"
        ) from error
