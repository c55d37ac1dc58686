"""Faults during a run: divergence, a crash mid-save, SIGTERM, concurrent starts, later runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from litzoo.cli import commands
from litzoo.cli.lightning_cli import cli_main
from litzoo.faults import AtomicCheckpointIO, NonFiniteLossGuard
from litzoo.models import Feedforward
from litzoo.models.tasks import RegressionTask
from litzoo.runs.folder import reserve_version
from tests.conftest import CONFIGS, PER_BATCH, QUIET, run_folders

CONFIG = str(CONFIGS / "regression" / "mlp.yaml")
TINY = ["--data.init_args.train_size", "64", "--data.init_args.val_size", "64",
        "--data.init_args.test_size", "64", "--data.init_args.batch_size", "16", *QUIET]  # fmt: skip
TRAIN = Path(__file__).resolve().parents[1] / "scripts" / "train.py"


class NaNAfter(Feedforward):
    """A Feedforward whose output turns NaN after ``healthy_steps`` training forwards."""

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_outputs: int,
        depth: int,
        hidden_sizes: list[int],
        healthy_steps: int,
    ):
        super().__init__(input_shape, num_outputs, depth, hidden_sizes)
        self.healthy_steps = healthy_steps
        self.steps = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        if self.training:
            self.steps += 1
            if self.steps > self.healthy_steps:
                return out * float("nan")
        return out


def test_divergence_stops_at_the_step_and_keeps_finite_checkpoints(in_tmp_dir):
    net = ["--model.init_args.net", "tests.test_faults.NaNAfter",
           "--model.init_args.net.init_args.healthy_steps", "9"]  # fmt: skip
    with pytest.raises(FloatingPointError, match=r"epoch 2, batch 1 .*learning rate.*gradient_clip_val"):
        cli_main(["fit", "--config", CONFIG, *PER_BATCH, *TINY, *net, "--trainer.max_epochs", "5"])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    for ckpt in (run / "checkpoints").glob("*.ckpt"):
        state = torch.load(ckpt, weights_only=False)
        assert state["epoch"] <= 1, f"{ckpt.name} was saved after the divergence"
        assert all(torch.isfinite(v).all() for v in state["state_dict"].values())
    assert (run / "checkpoints" / "last.ckpt").is_file()


def test_crash_during_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"step": 1, "w": torch.ones(3)}, path)

    def crash_mid_write(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash_mid_write)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"step": 2, "w": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert torch.load(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no temporary file left


def test_concurrent_starts_get_different_folders(tmp_path):
    folders: list[Path] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        folders.append(reserve_version(tmp_path / "exp"))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(folders)) == 8


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*")}


def test_later_runs_never_touch_an_earlier_run_folder(in_tmp_dir):
    """A later fit gets its own folder; evaluations of the run add their own folders inside it, only."""
    args = ["--config", CONFIG, *PER_BATCH, *TINY, "--trainer.max_epochs", "2"]
    first = cli_main(["fit", *args])
    run = in_tmp_dir / first.trainer.log_dir
    before = snapshot(run)
    ckpt = str(run / "checkpoints" / "last.ckpt")
    cli_main(["fit", *args])
    cli_main(["test", *args, "--ckpt_path", ckpt])
    cli_main(["predict", *args, "--ckpt_path", ckpt])
    after = snapshot(run)
    assert {path: after[path] for path in before} == before
    assert {Path(path).parts[0] for path in after.keys() - before.keys()} == {"test_0", "predict_0"}


def test_sigterm_saves_a_checkpoint_and_resume_matches_an_uninterrupted_run(in_tmp_dir):
    tmp_path = in_tmp_dir
    args = [
        sys.executable,
        str(TRAIN),
        "fit",
        "--config",
        CONFIG,
        *PER_BATCH,
        *TINY,
        "--trainer.max_epochs",
        "300",
    ]
    run = tmp_path / "lightning_logs" / "regression" / "mlp" / "version_0"
    process = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not (run / "checkpoints" / "last.ckpt").exists():
        assert process.poll() is None and time.monotonic() < deadline, "training never saved last.ckpt"
        time.sleep(0.2)
    time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    interrupted = torch.load(run / "checkpoints" / "interrupted.ckpt", weights_only=False)
    last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    # interrupted.ckpt holds the start of an epoch no later than the interrupted one: the last in-memory
    # copy, taken at most every epoch (tests/test_interrupted_resume.py checks that resuming it is exact).
    assert interrupted["global_step"] <= last["global_step"]
    assert interrupted["epoch"] < 299, "the run finished before the signal: nothing was tested"
    RegressionTask.load_from_checkpoint(run / "checkpoints" / "interrupted.ckpt")

    # Resume from the end of the last complete epoch, in-process and with a short horizon.
    epochs = ["--trainer.max_epochs", str(last["epoch"] + 3)]
    last_ckpt = str(run / "checkpoints" / "last.ckpt")
    resumed = cli_main(["fit", "--config", CONFIG, *PER_BATCH, *TINY, *epochs, "--ckpt_path", last_ckpt])
    straight = cli_main(["fit", "--config", CONFIG, *PER_BATCH, *TINY, *epochs])
    assert (tmp_path / resumed.trainer.log_dir).resolve() == run.resolve()  # continues the same run folder
    for key in ("val/mse", "train/loss"):
        assert resumed.trainer.callback_metrics[key] == straight.trainer.callback_metrics[key], key


def test_atomic_checkpoints_get_the_permissions_of_a_plain_save(tmp_path):
    from litzoo.faults.atomic_io import AtomicCheckpointIO

    old_mask = os.umask(0o022)
    try:
        AtomicCheckpointIO().save_checkpoint({"state_dict": {}}, tmp_path / "last.ckpt")
        (tmp_path / "plain").write_bytes(b"")
    finally:
        os.umask(old_mask)
    mode = (tmp_path / "last.ckpt").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(
    "options",
    [["--nan_guard.check_every_n_steps", "0"],
     ["--nan_guard.check_every_n_steps", "1000", "--last_checkpoint.every_n_epochs", "null",
      "--last_checkpoint.every_n_train_steps", "1"]],
    ids=["no-loss-checks", "save-between-loss-checks"],
)  # fmt: skip
def test_nan_weights_end_in_the_divergence_error_whatever_the_check_interval(options, in_tmp_dir):
    """Fewer loss checks never let NaN weights reach a checkpoint or the "Best" line (issue 28)."""
    net = ["--model.init_args.net", "tests.test_faults.NaNAfter",
           "--model.init_args.net.init_args.healthy_steps", "9"]  # fmt: skip
    steps = ["--model.init_args.steps", "null", "--trainer.max_epochs", "5"]
    with pytest.raises(FloatingPointError, match=r"weights .* are NaN/inf in epoch 2 .*learning rate"):
        cli_main(["fit", "--config", CONFIG, *TINY, *net, *steps, *options])
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    saved = list((run / "checkpoints").glob("*.ckpt"))
    assert saved, "nothing was saved before the divergence: the test tests nothing"
    for ckpt in saved:
        state = torch.load(ckpt, weights_only=False)
        assert all(torch.isfinite(v).all() for v in state["state_dict"].values()), ckpt.name


def test_a_negative_check_interval_is_one_paragraph():
    with pytest.raises(ValueError, match=r"check_every_n_steps -1: give 1 or more .* or 0 to check only"):
        NonFiniteLossGuard(check_every_n_steps=-1)


def trained_run(folder: Path) -> Path:
    """A tiny finished regression run in ``folder``; its run folder."""
    cli = cli_main(["fit", "--config", CONFIG, *PER_BATCH, *TINY, "--trainer.max_epochs", "2"])
    return folder / cli.trainer.log_dir


def test_a_checkpoint_with_a_nan_weight_is_refused_naming_it(in_tmp_dir):
    """A bit flip in an exponent makes a weight inf; evaluating it gave a plausible accuracy, silently."""
    run = trained_run(in_tmp_dir)
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    state["state_dict"]["net.layers.1.weight"][3, 5] = float("inf")
    torch.save(state, in_tmp_dir / "flipped.ckpt")
    with pytest.raises(ValueError) as raised:
        cli_main(["test", "--config", CONFIG, *TINY, *QUIET, "--ckpt_path", "flipped.ckpt"])
    assert str(raised.value).startswith(
        "Checkpoint flipped.ckpt holds non-finite weights: net.layers.1.weight has 1 NaN/inf of 4,096 values."
    )
    assert not (run / "test_0").exists()


def test_best_with_a_truncated_last_checkpoint_is_one_paragraph(in_tmp_dir, monkeypatch, capsys):
    run = trained_run(in_tmp_dir)
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    monkeypatch.setattr(
        sys, "argv", ["litzoo", "test", "--config", CONFIG, *TINY, *QUIET, "--ckpt_path", "best"]
    )
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        commands.main()
    message = capsys.readouterr().err
    assert exit_.value.code == 1
    assert message.startswith(f"error: Cannot read checkpoint {last.relative_to(in_tmp_dir)}: ")
    assert "not a complete Lightning checkpoint" in message
    assert len(message.strip().splitlines()) == 2, message
