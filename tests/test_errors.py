"""Bad input fails early, with a message naming the cause, a non-zero exit and no run folder left behind."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from litzoo.cli.lightning_cli import cli_main
from litzoo.export.command import main as export_main
from litzoo.faults import check_checkpoint_fits_model, check_net_fits_data
from litzoo.sweeps.sweep import main as sweep_main
from scripts.error_table import CASES, TRAIN, BadInput, last_paragraph, prepare_workdir
from tests.conftest import all_run_folders

#: Cases whose failure happens during training, after the run folder got its logs: the folder stays.
RUNS_BEFORE_FAILING = {"diverging run (learning rate 1e6)"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("bad_inputs")
    prepare_workdir(workdir)
    return workdir


def run_in_process(case: BadInput, capsys) -> tuple[int, str]:
    """Exit code and message of the case through ``cli_main``, or litzoo's own ``sweep`` or ``export``
    command as the ``litzoo`` dispatcher starts it (1 for an exception, as Python exits)."""
    try:
        if case.args[0] == "sweep":
            sweep_main(list(case.args[1:]))
        elif case.args[0] == "export":
            export_main(list(case.args[1:]), prog="litzoo export")
        else:
            cli_main(list(case.args))
    except SystemExit as exit_:
        return exit_.code, capsys.readouterr().err
    except Exception as error:
        return 1, f"{type(error).__name__}: {error}"
    return 0, ""


@pytest.mark.parametrize("case", CASES, ids=[c.case for c in CASES])
def test_bad_input_gives_clear_error(case: BadInput, prepared: Path, in_tmp_dir: Path, capsys):
    shutil.copytree(prepared, in_tmp_dir, dirs_exist_ok=True)
    code, message = run_in_process(case, capsys)
    assert code != 0, f"{case.case}: the command succeeded"
    if case.exit_code is not None:
        assert code == case.exit_code
    for expected in case.expect:
        assert expected in message, f"{case.case}: {expected!r} not in:\n{message}"
    if case.case not in RUNS_BEFORE_FAILING:
        assert all_run_folders(in_tmp_dir / "lightning_logs") == [], f"{case.case} left a run folder"


def test_config_error_from_a_real_command(tmp_path: Path):
    case = CASES[0]
    result = subprocess.run(
        [sys.executable, str(TRAIN), *case.args], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == case.exit_code
    assert "--trainer.max_epochz" in last_paragraph(result.stderr)
    assert not (tmp_path / "lightning_logs").exists() or all_run_folders(tmp_path / "lightning_logs") == []


class TwoOutputs(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :2]


def test_net_with_wrong_output_width_names_both_sides():
    with pytest.raises(ValueError, match=r"TwoOutputs returns 2 values per sample .* needs 10"):
        check_net_fits_data(TwoOutputs(), (1, 28, 28), 10)


def test_net_that_cannot_read_the_input_names_the_shape():
    with pytest.raises(ValueError, match=r"Linear cannot read the datamodule's samples of shape 3x32x32"):
        check_net_fits_data(nn.Linear(784, 10), (3, 32, 32), 10)


def test_net_check_leaves_training_mode_and_batchnorm_statistics_alone():
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.BatchNorm1d(3))
    net[2].eval()  # a deliberately frozen layer stays frozen
    check_net_fits_data(net, (4,), 3)
    assert net.training and net[1].training and not net[2].training
    assert net[2].num_batches_tracked.item() == 0


def test_checkpoint_of_other_widths_is_refused_before_loading():
    small = nn.Sequential(nn.Linear(1, 32))
    saved = {"state_dict": nn.Sequential(nn.Linear(1, 64)).state_dict()}
    with pytest.raises(
        ValueError, match=r"another architecture .* 0.weight \(64, 1\) in the file vs \(32, 1\)"
    ):
        check_checkpoint_fits_model(saved, small, "run.ckpt")
