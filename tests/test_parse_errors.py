"""A mistyped option or a value of the wrong type: one paragraph naming the option, the cause and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from litzoo.cli.lightning_cli import cli_main
from litzoo.sweeps.parsed_config import parse_fit_config
from tests.conftest import QUIET, REGRESSION, TINY, run_folders

FIT = ["fit", "--config", REGRESSION, *TINY, *QUIET]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--data.init_args.batch_sise", "3"],
            "--data.init_args.batch_sise: litzoo.datamodules.RegressionDataModule has no option 'batch_sise'. "
            "Did you mean --data.init_args.batch_size? Its options: train_size, val_size, test_size, "
            "batch_size, seed (described by: ",
        ),
        (
            ["--model.init_args.net.init_args.depht", "3"],
            "litzoo.models.Feedforward has no option 'depht'. Did you mean --model.init_args.net.init_args.depth?",
        ),
        (
            ["--model.init_args.optimizer.init_args.lrr", "0.1"],
            "torch.optim.Adam has no option 'lrr'. Did you mean --model.init_args.optimizer.init_args.lr?",
        ),
        (
            ["--model.init_args.net", "litzoo.models.Feedforwad"],
            "--model.init_args.net: there is no class litzoo.models.Feedforwad (module litzoo.models has no "
            "'Feedforwad'). Did you mean litzoo.models.Feedforward?",
        ),
        (["--data", "litzoo.datamodules.Nope"], "Classes there: CIFAR10DataModule,"),
        (["--trainer.max_epochs", "abc"], "--trainer.max_epochs: expected int, got 'abc'."),
        (
            ["--trainer.precision", "17"],
            "--trainer.precision: expected one of 64, 32, 16, 'transformer-engine'",
        ),
    ],
    ids=["data-option", "nested-option", "optimizer-option", "class", "no-close-class", "type", "choices"],
)
def test_bad_option_is_one_paragraph(options, expected, in_tmp_dir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli_main([*FIT, *options])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err  # one line, no usage page
    assert expected in err
    assert "Union subtypes" not in err and "NoneType" not in err
    assert run_folders(in_tmp_dir) == []


def test_a_bad_value_in_a_config_file_is_named_by_its_option(in_tmp_dir: Path, capsys) -> None:
    extra = in_tmp_dir / "extra.yaml"
    extra.write_text("trainer:\n  max_epochs: three\n")
    with pytest.raises(SystemExit):
        cli_main([*FIT, "--config", str(extra)])
    assert "error: --trainer.max_epochs: expected int, got 'three'." in capsys.readouterr().err


def test_a_sweep_reports_the_same_paragraph() -> None:
    with pytest.raises(ValueError, match=r"Did you mean --data\.init_args\.batch_size\?"):
        parse_fit_config(["--config", REGRESSION, "--data.init_args.batch_sise", "3"])


def test_a_mistyped_config_path_gets_the_closest_config(in_tmp_dir: Path, capsys) -> None:
    (in_tmp_dir / "configs" / "regression").mkdir(parents=True)
    shutil.copy(REGRESSION, in_tmp_dir / "configs" / "regression" / "mlp.yaml")
    with pytest.raises(SystemExit) as exit_:
        cli_main(["fit", "--config", "configs/regresion/mlp.yaml"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"error: --config configs/regresion/mlp.yaml: no such file (looked for "
        f"{in_tmp_dir / 'configs/regresion/mlp.yaml'}). Did you mean configs/regression/mlp.yaml?\n"
    )
    with pytest.raises(SystemExit):
        cli_main(["fit", "--config", "configs"])
    assert "error: --config configs is a folder, not a config file." in capsys.readouterr().err


def test_a_command_without_a_config_says_what_to_give(in_tmp_dir: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli_main(["fit"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "fit needs --data, --model: give an experiment config, e.g." in err
    assert "fit --config configs/regression/mlp.yaml" in err
