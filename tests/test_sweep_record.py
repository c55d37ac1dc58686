"""A sweep keeps its record: a lost or damaged study storage is refused, a value no trial can use stops it first.

``trials.csv`` and ``best.yaml`` are rewritten from the study's storage after every trial, so a sweep
that starts afresh on an emptied, missing or damaged storage would overwrite the record of every
earlier trial. A value the parser accepts but a class refuses (a negative learning rate) must stop
the sweep before its first trial, or at the latest at the trial that draws it, naming key and value.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest

from litzoo.sweeps.sweep import main as sweep_main
from tests.conftest import CONFIGS, QUIET, inside

CONFIG = str(CONFIGS / "regression" / "mlp.yaml")
TINY = ["--data.init_args.train_size", "64", "--data.init_args.val_size", "64", *QUIET]
LR = "model.init_args.optimizer.init_args.lr"
SPACE = f"{LR}: {{type: float, low: 1.0e-3, high: 1.0e-1, log: true}}\n"
SWEEP = ["--config", CONFIG, "--space", "space.yaml", "--trials", "1", "--trainer.max_epochs", "1", *TINY]
FOLDER = Path("lightning_logs/regression/mlp/sweep-space")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative path, with its bytes."""
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()
    }


@pytest.fixture(scope="module")
def swept(tmp_path_factory) -> Path:
    """A finished one-trial sweep (study.db, trials.csv, best.yaml, version_0); returns its working folder."""
    root = tmp_path_factory.mktemp("swept")
    (root / "space.yaml").write_text(SPACE)
    with inside(root):
        sweep_main(SWEEP)
    assert {"study.db", "trials.csv", "best.yaml", "version_0"} <= {p.name for p in (root / FOLDER).iterdir()}
    return root


@pytest.fixture
def earlier_sweep(swept: Path, in_tmp_dir: Path) -> Path:
    """A copy of the finished sweep to damage, as the working folder."""
    shutil.copytree(swept, in_tmp_dir, dirs_exist_ok=True)
    return in_tmp_dir


def another_study(path: Path) -> None:
    path.unlink()
    optuna.create_study(study_name="someone_else", storage=f"sqlite:///{path}")


DAMAGES: dict[str, tuple[Callable[[Path], object], tuple[str, ...]]] = {
    "emptied to 0 bytes": (lambda db: db.write_bytes(b""), ("study.db is empty (0 bytes)",)),
    "deleted": (Path.unlink, ("study.db is missing",)),
    "replaced by another study": (another_study, ("holds no study named 'space'",)),
    "overwritten with garbage": (
        lambda db: db.write_bytes(b"not a database, " * 300),
        ("study.db is damaged: not a valid SQLite database (file is not a database)",),
    ),
    "truncated": (
        lambda db: db.write_bytes(db.read_bytes()[:8192]),
        ("study.db is damaged: not a valid SQLite database (database disk image is malformed)",),
    ),
}


@pytest.mark.parametrize("damage, expected", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_lost_or_damaged_storage_beside_the_record_is_refused(
    damage: Callable[[Path], object], expected: tuple[str, ...], earlier_sweep: Path, capsys
) -> None:
    damage(FOLDER / "study.db")
    before = snapshot(earlier_sweep)
    with pytest.raises(SystemExit) as exit_info:
        sweep_main(SWEEP)
    assert exit_info.value.code == 1
    message = capsys.readouterr().err
    for text in (*expected, str(FOLDER), "--study NEW_NAME"):
        assert text in message, message
    assert "server" not in message
    assert (
        snapshot(earlier_sweep) == before
    )  # trials.csv, best.yaml, study.db and the run: not a byte changed


def test_the_refusal_s_advice_keeps_the_record_and_starts_anew(earlier_sweep: Path, capsys) -> None:
    (FOLDER / "study.db").write_bytes(b"")
    with pytest.raises(SystemExit):
        sweep_main(SWEEP)
    (move,) = re.findall(r"\(mv ([^)]*)\)", capsys.readouterr().err)
    source, target = shlex.split(move)
    before = snapshot(Path(source))
    shutil.move(source, target)  # what the message says to do
    sweep_main(SWEEP)
    assert snapshot(Path(target)) == before
    assert (FOLDER / "best.yaml").is_file() and (FOLDER / "trials.csv").read_text().count("\n") == 2


def test_a_damaged_storage_is_named_without_a_record(in_tmp_dir: Path, capsys) -> None:
    (in_tmp_dir / "space.yaml").write_text(SPACE)
    FOLDER.mkdir(parents=True)
    (FOLDER / "study.db").write_bytes(b"\x00\xff" * 2000)
    with pytest.raises(SystemExit) as exit_info:
        sweep_main(SWEEP)
    assert exit_info.value.code == 1
    message = capsys.readouterr().err
    assert f"{(FOLDER / 'study.db').resolve()} is damaged" in message and "reachable" not in message
    assert sorted(p.name for p in FOLDER.iterdir()) == ["study.db"]


@pytest.mark.parametrize("journal", [b"", b"\x00garbage\n"], ids=["empty", "garbage"])
def test_a_journal_storage_that_lost_the_record_is_refused(journal: bytes, in_tmp_dir: Path, capsys) -> None:
    (in_tmp_dir / "space.yaml").write_text(SPACE)
    FOLDER.mkdir(parents=True)
    (FOLDER / "trials.csv").write_text("number,state,value\n0,COMPLETE,0.5\n")
    (in_tmp_dir / "sweep.log").write_bytes(journal)
    before = snapshot(in_tmp_dir)
    with pytest.raises(SystemExit):
        sweep_main([*SWEEP, "--storage", "sweep.log"])
    message = capsys.readouterr().err
    assert "sweep.log is " in message and "--storage NEW_FILE --study NEW_NAME" in message
    assert snapshot(in_tmp_dir) == before


def test_a_value_the_optimizer_refuses_stops_the_sweep_before_any_trial(in_tmp_dir: Path, capsys) -> None:
    (in_tmp_dir / "space.yaml").write_text(f"{LR}: {{type: float, low: -1, high: 1}}\n")
    with pytest.raises(SystemExit) as exit_info:
        sweep_main([*SWEEP, "--trials", "3"])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err
    assert f"--space space.yaml: {LR}: the config rejects the value -1.0" in message
    assert "torch.optim.Adam refuses it: Invalid learning rate: -1.0" in message
    assert sorted(p.name for p in in_tmp_dir.iterdir()) == ["space.yaml"]  # no study, no run folder


def test_a_combination_no_bound_shows_stops_the_sweep_at_its_trial(in_tmp_dir: Path, capsys) -> None:
    # Each bound fits, lows together and highs together fit: depth 3 needs 2 hidden sizes, depth 4 needs 3.
    # A trial drawing depth 3 with three sizes (or 4 with two) is the first to find out.
    (in_tmp_dir / "space.yaml").write_text(
        "model.init_args.net.init_args.depth: {type: int, low: 3, high: 4}\n"
        "model.init_args.net.init_args.hidden_sizes: {type: categorical, choices: [[8, 8], [8, 8, 8]]}\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        sweep_main([*SWEEP, "--trials", "8"])
    assert exit_info.value.code == 1
    message = capsys.readouterr().err
    failed = re.search(r"Trial (\d+) of sweep space failed with (.*?): Feedforward: depth=", message)
    assert failed, message
    assert re.fullmatch(
        r"--model\.init_args\.net\.init_args\.depth=[34] --model\.init_args\.net\.init_args\.hidden_sizes=\[8, 8(, 8)?\]",
        failed[2],
    )
    assert "--study NEW_NAME" in message
    study = optuna.load_study(study_name="space", storage=f"sqlite:///{FOLDER / 'study.db'}")
    assert study.trials[-1].state == optuna.trial.TrialState.FAIL and study.trials[-1].number == int(
        failed[1]
    )
