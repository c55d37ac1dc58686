"""Bounded input (issue 28, requirement 6): a YAML "billion laughs" or an oversized config is one
paragraph at once, wherever jsonargparse would read it; options may stand before ``--config``."""

from __future__ import annotations

from pathlib import Path

import pytest

from litzoo.cli.config_files import MAX_YAML_BYTES, MAX_YAML_VALUES, yaml_size_problem
from litzoo.cli.lightning_cli import cli_main
from litzoo.cli.parse_errors import configs_first
from tests.conftest import QUIET, REGRESSION, TINY, run_folders

#: Nine levels of nine aliases: 28 values written, 490 million once expanded (jsonargparse walked
#: them for minutes at 100% CPU and 4 GB of memory before the bound).
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, level in zip("abcdefgh", "bcdefghi", strict=True)
)
FIT = ["fit", "--config", REGRESSION, *TINY, *QUIET]
#: Long enough for a start-up, far too short for the expansion (minutes).
BOUNDED_S = 120


def parse_error(args: list[str], capsys) -> str:
    """The ``error:`` paragraph of a command line the parser refuses (exit code 2)."""
    with pytest.raises(SystemExit) as exit_:
        cli_main(args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.timeout(BOUNDED_S)
def test_a_billion_laughs_config_file_is_named_at_once(in_tmp_dir: Path, capsys):
    bomb = in_tmp_dir / "laughs.yaml"
    bomb.write_text(LAUGHS)
    err = parse_error([*FIT, "--config", str(bomb)], capsys)
    assert f"error: Config file {bomb} expands too far: its YAML aliases" in err
    assert "turn its 28 written values into 490,329,064, more than the 100,000 a config may hold" in err
    assert run_folders(in_tmp_dir) == []


@pytest.mark.timeout(BOUNDED_S)
@pytest.mark.parametrize(
    "where",
    ["class file", "inline config", "option value"],
)
def test_a_billion_laughs_anywhere_jsonargparse_reads_yaml_is_refused(where, in_tmp_dir: Path, capsys):
    """Beside ``--config`` files: a file given to a class option, an inline config, an option's value."""
    (in_tmp_dir / "data.yaml").write_text(
        "class_path: litzoo.datamodules.RegressionDataModule\ninit_args:\n"
        + "".join(f"  {line}\n" for line in LAUGHS.splitlines())
    )
    extra = {
        "class file": ["--data", "data.yaml"],
        "inline config": [f"--config={LAUGHS}"],
        "option value": ["--model.init_args.net.init_args.hidden_sizes", LAUGHS],
    }[where]
    err = parse_error([*FIT, *extra], capsys)
    assert "A YAML value (given on the command line or in a file it names) expands too far" in err, err


def test_an_alias_inside_its_own_anchor_and_an_oversized_file_are_refused(in_tmp_dir: Path, capsys):
    loop = in_tmp_dir / "loop.yaml"
    loop.write_text("trainer:\n  callbacks: &loop [*loop]\n")
    assert f"Config file {loop} expands without end" in parse_error([*FIT, "--config", str(loop)], capsys)
    large = in_tmp_dir / "large.yaml"
    large.write_text("trainer:\n  max_epochs: 3\n" + "#" * MAX_YAML_BYTES + "\n")
    err = parse_error([*FIT, "--config", str(large)], capsys)
    assert (
        f"Config file {large} is too large to be a config: {large.stat().st_size:,} bytes, more than" in err
    )


def test_ordinary_yaml_passes_the_bounds():
    assert yaml_size_problem(Path(REGRESSION).read_text()) is None
    assert yaml_size_problem("base: &base {lr: 0.1}\nfirst: *base\nsecond: *base\n") is None
    many = "values: [" + ", ".join(["1"] * MAX_YAML_VALUES) + "]\n"
    assert yaml_size_problem(many) == (
        f"is too large: it holds {MAX_YAML_VALUES + 3:,} values, more than the {MAX_YAML_VALUES:,} a config may hold"
    )


def test_options_before_the_config_apply_and_win(in_tmp_dir: Path):
    """``--data.init_args.*`` before the ``--config`` that picks the datamodule failed ("LightningDataModule
    has no option 'train_size'"); ``--trainer.max_epochs`` before it lost to the config's 2000."""
    before = ["--data.init_args.train_size", "64", "--trainer.max_epochs", "1"]
    cli = cli_main(["fit", *before, "--config", REGRESSION, *QUIET])
    assert cli.datamodule.hparams.train_size == 64 and cli.trainer.max_epochs == 1
    assert cli.trainer.current_epoch == 1


def test_configs_first_keeps_each_order():
    args = ["--a", "1", "--config", "x.yaml", "--b=2", "-c", "y.yaml", "--config=z.yaml", "--a", "3"]
    assert configs_first(args) == [
        "--config", "x.yaml", "-c", "y.yaml", "--config=z.yaml", "--a", "1", "--b=2", "--a", "3",
    ]  # fmt: skip
