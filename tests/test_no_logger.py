"""``--trainer.logger false``: a run without TensorBoard or CSV logs still trains and files what it writes."""

from __future__ import annotations

from pathlib import Path

from litzoo.cli.lightning_cli import cli_main
from tests.conftest import QUIET, REGRESSION, TINY

NO_LOGGER = ["--config", REGRESSION, *TINY, *QUIET, "--trainer.logger", "false"]
RUNS = Path("lightning_logs", "regression", "mlp")


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_a_fit_without_a_logger_trains_into_its_own_run_folder(in_tmp_dir: Path) -> None:
    """Lightning's LearningRateMonitor (a litzoo default) refuses to train without a logger, and
    Lightning would write checkpoints and config.yaml into the working directory, run over run."""
    for version in range(2):
        fit = cli_main(["fit", *NO_LOGGER, "--trainer.max_epochs", "2"])
        assert not fit.trainer.loggers
        run = RUNS / f"version_{version}"
        assert Path(fit.trainer.checkpoint_callback.best_model_path).parent == run / "checkpoints"
        assert {"config.yaml", "checkpoints/last.ckpt"} <= files_under(in_tmp_dir / run)
        assert not any(name.endswith(("tfevents", ".csv")) for name in files_under(in_tmp_dir / run))
    assert {p.name for p in in_tmp_dir.iterdir()} == {"lightning_logs"}, "files written beside the runs"


def test_an_evaluation_without_a_logger_is_filed_under_the_run(in_tmp_dir: Path) -> None:
    cli_main(["fit", *NO_LOGGER, "--trainer.max_epochs", "1"])
    predicted = cli_main(["predict", *NO_LOGGER, "--ckpt_path", "best"])
    assert Path(predicted.trainer.log_dir) == RUNS / "version_0" / "predict_0"
    assert {"config.yaml", "predictions.csv"} <= files_under(Path(predicted.trainer.log_dir))
    assert {p.name for p in in_tmp_dir.iterdir()} == {"lightning_logs"}
