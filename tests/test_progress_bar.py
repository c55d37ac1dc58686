"""The CLI's progress bar redraws at a human rate, so fast small-model steps do not pay for drawing."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

from litzoo.callbacks import EpochLines, ThrottledProgressBar
from litzoo.cli.lightning_cli import cli_main
from tests.conftest import CONFIGS, PER_BATCH

#: 640 training samples in batches of 64: 10 batches per epoch.
SMALL_RUN = [
    "fit",
    "--config", str(CONFIGS / "regression" / "mlp.yaml"), *PER_BATCH,
    "--data.init_args.train_size", "640", "--data.init_args.val_size", "64",
    "--data.init_args.test_size", "64", "--trainer.max_epochs", "2",
    "--trainer.enable_model_summary", "false",
]  # fmt: skip


def test_cli_uses_the_throttled_bar_on_a_terminal(in_tmp_dir, monkeypatch):
    monkeypatch.setattr("litzoo.cli.monitoring.on_terminal", lambda: True)
    cli = cli_main(SMALL_RUN)
    assert isinstance(cli.trainer.progress_bar_callback, ThrottledProgressBar)


def test_a_chosen_progress_bar_is_kept(in_tmp_dir):
    chosen = ["--trainer.callbacks+=lightning.pytorch.callbacks.TQDMProgressBar"]
    cli = cli_main([*SMALL_RUN, *chosen])
    assert type(cli.trainer.progress_bar_callback).__name__ == "TQDMProgressBar"


@pytest.mark.parametrize("min_interval, middle_drawn", [("0", True), ("3600", False)])
def test_bar_skips_redraws_within_min_interval_but_draws_each_epochs_last_batch(
    min_interval, middle_drawn, in_tmp_dir, capsys
):
    bar = [
        "--trainer.callbacks+=litzoo.callbacks.ThrottledProgressBar",
        "--trainer.callbacks.min_interval", min_interval,
    ]  # fmt: skip
    cli_main([*SMALL_RUN, *bar])
    captured = capsys.readouterr()
    drawn = captured.out + captured.err
    assert ("Epoch 2/2: 5/10" in drawn) is middle_drawn  # batch 5 of 10
    assert "Epoch 2/2: 10/10" in drawn  # the final count is always exact


def test_bar_counts_optimizer_steps_of_chunked_batches(in_tmp_dir, capsys):
    """Loaded batches of 4 x 64 (3 per epoch: 256, 256, 128 samples): the bar counts the 10 optimizer steps."""
    grouped = [
        *SMALL_RUN, "--model.init_args.steps", "litzoo.models.tasks.ChunkedSteps",
        "--model.init_args.steps.init_args.chunk_size", "64", "--data.init_args.batch_size", "256",
        "--trainer.callbacks+=litzoo.callbacks.ThrottledProgressBar", "--trainer.callbacks.min_interval", "0",
    ]  # fmt: skip
    cli = cli_main(grouped)
    assert cli.trainer.train_dataloader.batch_size == 4 * 64 and cli.trainer.num_training_batches == 3
    captured = capsys.readouterr()
    drawn = captured.out + captured.err
    for shown in ("4/10", "8/10", "10/10"):
        assert f"Epoch 2/2: {shown}" in drawn, shown
    assert not re.search(r"Epoch \d/2: \d/3", drawn)  # never the loaded batches


def test_negative_interval_is_refused():
    with pytest.raises(ValueError, match="min_interval must be 0 or more"):
        ThrottledProgressBar(min_interval=-1)


def test_bar_shows_only_loss_monitored_metric_and_best(in_tmp_dir, monkeypatch):
    monkeypatch.setattr("litzoo.cli.monitoring.on_terminal", lambda: True)
    cli = cli_main(SMALL_RUN)
    shown = cli.trainer.progress_bar_callback.get_metrics(cli.trainer, cli.model)
    assert list(shown) == ["loss", "val/mse", "best"]
    logged = cli.trainer.progress_bar_metrics
    assert shown["best"] == f"{float(logged['val/mse_best']):.4g}"


def test_redirected_output_has_plain_lines_and_the_last_epoch(in_tmp_dir, tmp_path):
    epochs = 30
    run = [
        sys.executable, "-m", "litzoo", *SMALL_RUN[:3],
        "--data.init_args.train_size", "64", "--data.init_args.val_size", "64",
        "--trainer.max_epochs", str(epochs),
    ]  # fmt: skip
    log = tmp_path / "slurm.out"
    with log.open("w") as out:
        subprocess.run(run, stdout=out, stderr=subprocess.STDOUT, check=True, timeout=600)
    text = log.read_text()
    lines = [line for line in text.splitlines() if line.startswith("epoch ")]
    assert 1 <= len(lines) <= epochs
    assert re.match(
        rf"epoch {epochs}/{epochs}  loss \S+  val/mse \S+  best \S+  \((\d+ ms|\d+\.\d s)\)$", lines[-1]
    )
    assert "\r" not in text and "█" not in text and "it/s" not in text


def test_epoch_lines_write_every_epoch_with_no_interval(in_tmp_dir, capsys):
    lines = ["--trainer.callbacks+=litzoo.callbacks.EpochLines", "--trainer.callbacks.line_interval", "0"]
    cli_main([*SMALL_RUN, "--trainer.max_epochs", "4", *lines])
    written = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in written] == ["1/4", "2/4", "3/4", "4/4"]


def test_negative_line_interval_is_refused():
    with pytest.raises(ValueError, match="line_interval must be 0 or more"):
        EpochLines(line_interval=-1)


def test_cli_writes_epoch_lines_without_a_terminal(in_tmp_dir, monkeypatch):
    monkeypatch.setattr("litzoo.cli.monitoring.on_terminal", lambda: False)
    cli = cli_main(SMALL_RUN)
    assert isinstance(cli.trainer.progress_bar_callback, EpochLines)


def run_in_terminal(args: list[str], columns: int) -> str:
    """What ``args`` writes to a pseudo-terminal ``columns`` wide (24 rows: tqdm hides bars below the last row)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns)}
    process = subprocess.Popen(args, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait() == 0
    return b"".join(chunks).decode()


def test_bar_fits_in_80_columns(in_tmp_dir):
    text = run_in_terminal([sys.executable, "-m", "litzoo", *SMALL_RUN], columns=80)
    drawn = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", part) for part in re.split(r"[\r\n]", text)]
    bars = [part for part in drawn if part.startswith("Epoch 2/2: ")]
    assert bars and re.search(r"loss=[0-9.e+-]+, val/mse=[0-9.e+-]+, best=[0-9.e+-]+$", bars[-1].rstrip())
    too_wide = [part for part in drawn if len(part) > 80 and "checkpoint:" not in part]
    assert not too_wide


def test_epoch_duration_in_milliseconds_below_a_second():
    from litzoo.callbacks.epoch_lines import duration

    assert (duration(0.0153), duration(0.9994), duration(2.34)) == ("15 ms", "999 ms", "2.3 s")
