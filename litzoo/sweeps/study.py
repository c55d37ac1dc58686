"""The Optuna study a sweep's workers share: its storage, its sampler, and how many trials it still needs.

Storage: a URL (``sqlite:///...``, ``postgresql://...``, ``mysql://...``) is an Optuna RDB storage
with a heartbeat: a worker records one every ``heartbeat`` seconds while it trains, and a trial
whose worker died (kill -9, a lost node) is marked failed after two missed beats and queued again
with the same parameters (Optuna's ``RetryHeartbeatStaleTrialCallback``). Any other value is a
journal file (Optuna's ``JournalFileBackend``, safe on shared filesystems such as NFS); Optuna gives
that storage no heartbeat, so a dead worker's trial stays RUNNING there.

Budget: ``--trials N`` counts the study's trials that are complete, pruned, running or queued.
Failed trials never count: one failed by the heartbeat is retried, and any other failure stops
its worker with the error. Workers claim trials concurrently, so a trial checks, once it has its
(unique, increasing) number, that fewer than N counted trials are ahead of it; a trial that is not
needed any more ends at once, failed and marked :data:`SURPLUS`, and never trains.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc
from optuna.distributions import BaseDistribution
from optuna.exceptions import ExperimentalWarning
from optuna.samplers import BaseSampler, TPESampler
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

COUNTED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING, TrialState.WAITING)
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
#: User attribute of a trial that was claimed after the study had all its trials.
SURPLUS = "surplus"
#: How often a killed trial is retried before its parameters are given up (a new trial replaces it).
MAX_RETRIES = 2
#: Attempts to open an RDB storage: workers started together race to create a new database's tables.
OPEN_ATTEMPTS = 5


def has_heartbeat(storage: str) -> bool:
    """Whether ``--storage`` names a database (a URL), whose trials a heartbeat watches, not a journal file."""
    return "://" in storage


def open_storage(storage: str, heartbeat: int) -> BaseStorage:
    """The storage named by ``--storage``: an RDB URL (with heartbeat) or a journal file path."""
    if not has_heartbeat(storage):
        Path(storage).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(storage))
    try:
        url = sqlalchemy.engine.make_url(storage)
    except sqlalchemy.exc.ArgumentError as error:
        raise ValueError(
            f"--storage {storage} is not a database URL ({error}). Write sqlite:///path/study.db, "
            "postgresql://user:password@host/database or mysql://..., or give a journal file path."
        ) from error
    engine: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite" and url.database:
        # SQLite creates the file but not its folder, and waits this long for another worker's write
        # instead of failing with "database is locked".
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = {"connect_args": {"timeout": 60}}
    for attempt in range(OPEN_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ExperimentalWarning)  # heartbeat_interval
                return RDBStorage(
                    storage,
                    engine_kwargs=engine,
                    heartbeat_interval=heartbeat,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES),
                )
        except ImportError as error:
            raise ValueError(
                f"--storage {storage}: the {url.get_backend_name()} driver is not installed ({error}). "
                "Install it (pip install psycopg2-binary for PostgreSQL, PyMySQL for MySQL)."
            ) from error
        except sqlalchemy.exc.SQLAlchemyError as error:
            if storage_damage(error) is not None:
                raise  # a damaged file stays damaged, retried or not; the sweep names it
            if attempt == OPEN_ATTEMPTS - 1:
                check = (
                    "that the file and its folder can be read and written"
                    if url.get_backend_name() == "sqlite"
                    else "the URL and that the database server is reachable"
                )
                raise ValueError(
                    f"--storage {storage}: cannot open the database ({' '.join(str(error).split()[:40])}). "
                    f"Check {check}."
                ) from error
            time.sleep(random.uniform(0.2, 1.0))
    raise AssertionError("unreachable")


def storage_file(storage: str) -> Path | None:
    """The local file ``--storage`` keeps the study in: a SQLite database or a journal; None for a server."""
    if not has_heartbeat(storage):
        return Path(storage)
    try:
        url = sqlalchemy.engine.make_url(storage)
    except sqlalchemy.exc.ArgumentError:
        return None  # open_storage says what is wrong with the URL
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def storage_damage(error: BaseException | None) -> str | None:
    """What is wrong with a storage file whose reading raised ``error`` (or what caused it); None when
    the error is not about the file's content (a lock, a permission, a server).

    SQLite reports a file that is not a database, or one whose pages are damaged, as a plain
    ``sqlite3.DatabaseError`` ("file is not a database", "database disk image is malformed"); its
    subclasses are other troubles (a lock is an ``OperationalError``, a race of workers creating the
    tables an ``IntegrityError``). A journal line that is not JSON text is a damaged journal.
    """
    while error is not None:
        if type(error) is sqlite3.DatabaseError:
            return f"not a valid SQLite database ({error})"
        if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):  # json.loads of bytes decodes first
            return f"not a valid Optuna journal (a line is not a journal entry: {error})"
        error = error.__cause__ or error.__context__
    return None


def fail_stale_trials(study: optuna.Study) -> None:
    """Fail, and queue again, the trials whose worker stopped beating (a no-op without a heartbeat)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


class TrialSeededSampler(BaseSampler):
    """TPE whose random draws for trial ``n`` come from ``seed + n``.

    One seeded TPE per worker would make every worker that starts on an empty study draw the same
    first parameters. Seeding per trial number, which Optuna keeps unique across workers, gives
    every trial its own draws, and a single-worker sweep with the same ``--seed`` repeats exactly.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._tpe = TPESampler(seed=seed)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._tpe = TPESampler(seed=self.seed + trial.number)
        self._tpe.before_trial(study, trial)

    def infer_relative_search_space(
        self, study: optuna.Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._tpe.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._tpe.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._tpe.after_trial(study, trial, state, values)


def open_study(
    name: str, storage: BaseStorage, direction: str, seed: int, identity: dict[str, Any]
) -> optuna.Study:
    """Create the study, or continue it when ``identity`` (what its trials train) is the same."""
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction=direction,
        sampler=TrialSeededSampler(seed),
        pruner=optuna.pruners.MedianPruner(),
        load_if_exists=True,
    )
    recorded = {key: study.user_attrs[key] for key in identity if key in study.user_attrs}
    if not recorded:
        for key, value in identity.items():
            study.set_user_attr(key, value)
    elif recorded != identity:
        changed = ", ".join(
            f"{key} was {recorded.get(key)!r}, now {value!r}"
            for key, value in identity.items()
            if recorded.get(key) != value
        )
        raise ValueError(
            f"Study {name!r} was started with other settings ({changed}), so its trials would not be "
            "comparable with new ones. Rerun the original command to continue it, or start a new study "
            "with --study NEW_NAME."
        )
    return study


def counted_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The trials that use up the budget: complete, pruned, running or queued."""
    return study.get_trials(deepcopy=False, states=COUNTED)


def is_surplus(study: optuna.Study, number: int, budget: int) -> bool:
    """Whether trial ``number`` comes after the study already has ``budget`` counted trials."""
    return sum(trial.number < number for trial in counted_trials(study)) >= budget


class SurplusTrial(Exception):
    """Raised by a trial that :func:`is_surplus`; Optuna records it as failed."""
