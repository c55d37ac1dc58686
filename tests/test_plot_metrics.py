"""scripts/plot_metrics.py: PNGs from run folders (metrics.csv or event files), several runs overlaid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from matplotlib.image import imread

from litzoo.cli.lightning_cli import cli_main
from litzoo.plots.metrics import main, read_csv, read_events
from tests.conftest import CONFIGS, QUIET, inside, run_folders

EPOCHS = 3
TINY = [
    "--data.init_args.train_size",
    "64",
    "--data.init_args.val_size",
    "64",
    "--trainer.max_epochs",
    str(EPOCHS),
]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("runs")
    with inside(root):
        for lr in ("0.01", "0.001"):
            cli_main(
                ["fit", "--config", str(CONFIGS / "regression" / "mlp.yaml"), *TINY, *QUIET,
                 "--model.init_args.optimizer.lr", lr]
            )  # fmt: skip
    return run_folders(root / "lightning_logs")


def assert_png(path: Path) -> None:
    image = imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0  # not a blank canvas


def test_one_run_to_a_folder(two_runs, tmp_path):
    out = main([str(two_runs[0]), "--out", str(tmp_path / "plots")])
    assert out == tmp_path / "plots" / "curves.png"
    assert_png(out)


def test_several_runs_overlaid_to_a_file(two_runs, tmp_path):
    assert_png(main([*map(str, two_runs), "-o", str(tmp_path / "both.png")]))


def test_event_files_alone_give_the_same_curves(two_runs, tmp_path):
    events_only = tmp_path / "events_only"
    events_only.mkdir()
    for event_file in two_runs[0].glob("events.out.tfevents.*"):
        shutil.copy(event_file, events_only)
    from_events, from_csv = read_events(events_only), read_csv(two_runs[0] / "metrics.csv")
    for tag in ("train/loss", "val/loss", "val/mse"):
        assert sorted(from_events[tag]) == list(range(EPOCHS))
        assert from_events[tag] == pytest.approx(from_csv[tag], rel=1e-6)
    assert_png(main([str(events_only), "-o", str(tmp_path / "events.png")]))


def test_folder_without_metrics_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "-o", str(tmp_path / "x.png")])
    assert exit_info.value.code == 2
    printed = capsys.readouterr()
    assert f"Skipped {tmp_path}: no metrics.csv or TensorBoard metrics there." in printed.out
    assert "none of the folders given holds training curves" in printed.err
    assert not (tmp_path / "x.png").exists()


def test_a_path_that_is_no_folder_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "version_7")])
    assert exit_info.value.code == 2
    assert f"{tmp_path / 'version_7'} is not a folder" in capsys.readouterr().err


def test_without_out_the_plot_goes_beside_the_runs_named_for_them(two_runs):
    one = main([str(two_runs[0])])
    assert one == two_runs[0] / "curves.png"
    both = main([str(run) for run in two_runs])
    assert both == two_runs[0].parent.resolve() / f"curves_{two_runs[0].name}+{two_runs[1].name}.png"
    assert_png(one)
    assert_png(both)


def evaluation_run(folder: Path, csv_text: str = "epoch,step,test/loss,test/mse\n0,0,0.5,0.5\n") -> Path:
    """A folder like a ``test`` run's (by default): one value per tag, no per-epoch losses."""
    folder.mkdir()
    (folder / "metrics.csv").write_text(csv_text)
    return folder


def test_evaluation_runs_are_skipped_by_name(two_runs, tmp_path, capsys):
    tested = evaluation_run(tmp_path / "test_0")
    validated = evaluation_run(tmp_path / "validate_0", "epoch,step,val/loss,val/mse\n0,0,0.5,0.5\n")
    predicted = tmp_path / "predict_0"  # predictions.csv and an events file without scalars
    predicted.mkdir()
    (predicted / "predictions.csv").write_text("index,prediction\n0,0.5\n")
    out = main(
        [str(two_runs[0]), str(tested), str(validated), str(predicted), "-o", str(tmp_path / "mixed.png")]
    )
    printed = capsys.readouterr().out.splitlines()
    assert f"Skipped {tested}: no training curves there." in printed
    assert f"Skipped {validated}: no training curves there." in printed
    assert f"Skipped {predicted}: no metrics.csv or TensorBoard metrics there." in printed
    assert_png(out)


def test_many_runs_are_named_by_their_count(two_runs, tmp_path):
    runs = []
    for k in range(12):  # "version_10+version_11+..." would be a file name past MAX_NAMES_LENGTH
        runs.append(tmp_path / f"version_{k}")
        shutil.copytree(two_runs[0], runs[-1])
    assert main([str(run) for run in runs]) == tmp_path.resolve() / "curves_12_runs.png"


def test_only_evaluation_runs_is_a_clear_error(tmp_path, capsys):
    tested = evaluation_run(tmp_path / "version_9")
    with pytest.raises(SystemExit) as exit_info:
        main([str(tested)])
    assert exit_info.value.code == 2
    assert "none of the folders given holds training curves" in capsys.readouterr().err
    assert list(tested.iterdir()) == [tested / "metrics.csv"]  # nothing written
