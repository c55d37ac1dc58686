"""Resuming from ``interrupted.ckpt`` ends exactly like an uninterrupted run, whatever moment the signal
came (issue 14, family 1). Each interruption is a real SIGTERM or SIGINT in a real subprocess."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from litzoo.faults.interrupt import SIGTERM_EXIT_CODE
from litzoo.faults.stopping_signals import CTRL_C_EXIT_CODE
from tests.conftest import CONFIGS, PER_BATCH, QUIET, REPO_ROOT, inside, run_bounded, run_folders

EPOCHS, INTERRUPTED_EPOCH = 4, 2
# Several shuffled batches per epoch, several validation batches, and a scheduler whose state must
# come back too.
RUN = [
    "--config", str(CONFIGS / "regression" / "mlp.yaml"), *PER_BATCH, "--trainer.max_epochs", str(EPOCHS),
    "--model.init_args.optimizer.lr", "0.1",
    "--data.init_args.train_size", "160", "--data.init_args.val_size", "96", "--data.init_args.batch_size", "32",
    "--model.init_args.scheduler", "torch.optim.lr_scheduler.StepLR",
    "--model.init_args.scheduler.step_size", "1", "--model.init_args.scheduler.gamma", "0.5",
    *QUIET,
]  # fmt: skip
# A classification run on a small MNIST (``data_dir`` added per test): accuracy is an epoch metric too.
CLASSIFICATION_RUN = [
    "--config", str(CONFIGS / "mnist" / "mlp.yaml"), "--trainer.max_epochs", str(EPOCHS),
    "--data.init_args.val_size", "100", "--data.init_args.batch_size", "50", "--data.init_args.download", "false",
    *QUIET,
]  # fmt: skip


def classification_run(workdir: Path) -> list[str]:
    return [*CLASSIFICATION_RUN, "--data.init_args.data_dir", str(write_mnist(workdir / "data"))]


def epoch_rows(run: Path) -> list[dict[str, str]]:
    with (run / "metrics.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def scalars(run: Path) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(run))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]


def straight_run(workdir: Path, run: list[str]) -> Path:
    """The folder of the uninterrupted run ``run``, trained in ``workdir``."""
    with inside(workdir):
        cli_main(["fit", *run])
    (folder,) = run_folders(workdir / "lightning_logs")
    return folder


@pytest.fixture(scope="module", autouse=True)
def settings_of_the_subprocesses() -> Iterator[None]:
    """Train in this process as the interrupted subprocesses train: ``OMP_NUM_THREADS=1``, one thread.

    The straight runs and the resumes run here and are compared bit for bit with runs interrupted in
    fresh processes; any setting that differs between the two can change the floats. (A user's
    interrupted run and resume are both fresh processes, under the same settings.)
    """
    before = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        torch.set_num_threads(1)
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    return straight_run(tmp_path_factory.mktemp("straight"), RUN)


def interrupt(
    workdir: Path, signal_name: str, moment: str, run: list[str] = RUN, epoch: int = INTERRUPTED_EPOCH
) -> subprocess.CompletedProcess:
    """Run the fit in a subprocess that signals itself at ``moment`` of ``epoch``."""
    callback = [
        "--trainer.callbacks+=tests.signal_at.SignalAt",
        f"--trainer.callbacks.signal_name={signal_name}",
        f"--trainer.callbacks.moment={moment}",
        f"--trainer.callbacks.epoch={epoch}",
        "--trainer.callbacks.batch=1",
    ]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    return run_bounded(
        [sys.executable, "-m", "litzoo", "fit", *run, *callback],
        cwd=workdir, env=environment, capture_output=True, text=True, timeout=300,
        preexec_fn=deliverable_sigint,
    )  # fmt: skip


def deliverable_sigint() -> None:
    """Give the child the default SIGINT disposition, so Python turns it into KeyboardInterrupt as a
    terminal's Ctrl+C would. A shell starts background jobs with SIGINT ignored and children inherit
    that, so a suite run in the background (``bash .ci/run &``, nohup) would otherwise never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("moment", ["train_batch", "validation_batch", "checkpoint_save", "epoch_end"])
def test_resume_from_interrupted_checkpoint_is_exact(signal_name, moment, straight: Path, in_tmp_dir: Path):
    interrupt_and_resume(in_tmp_dir, signal_name, moment, RUN, straight)


def test_resume_during_the_first_epoch_is_exact(straight: Path, in_tmp_dir: Path):
    """Before any epoch ended, the saved state is the one from before the sanity check, which the
    resumed run (no step taken yet) runs again, drawing from the same random state."""
    interrupt_and_resume(in_tmp_dir, "SIGTERM", "train_batch", RUN, straight, epoch=0, replayed_from=0)


def test_resume_replaying_several_epochs_is_exact(straight: Path, in_tmp_dir: Path):
    """With copies too dear to take after any epoch, the run replays every epoch since its start."""
    run = [*RUN, "--save_on_interrupt.max_overhead", "1e-9"]
    interrupt_and_resume(in_tmp_dir, "SIGINT", "validation_batch", run, straight, replayed_from=0)


def test_classification_resume_from_mid_validation_is_exact(tmp_path: Path, in_tmp_dir: Path):
    """The issue's case: a classification run interrupted during validation (epoch metrics: accuracy)."""
    (tmp_path / "straight").mkdir()
    straight = straight_run(tmp_path / "straight", classification_run(tmp_path / "straight"))
    interrupt_and_resume(in_tmp_dir, "SIGTERM", "validation_batch", classification_run(in_tmp_dir), straight)


def interrupt_and_resume(
    workdir: Path,
    signal_name: str,
    moment: str,
    run: list[str],
    straight: Path,
    epoch: int = INTERRUPTED_EPOCH,
    replayed_from: int | None = None,
) -> None:
    """Interrupt ``run`` at ``moment`` of ``epoch``, resume it from interrupted.ckpt (which replays from
    the start of epoch ``replayed_from``; by default, whichever epoch the last in-memory copy was
    taken after, which depends on timing), and compare with ``straight``."""
    result = interrupt(workdir, signal_name, moment, run, epoch)
    assert result.returncode == (SIGTERM_EXIT_CODE if signal_name == "SIGTERM" else CTRL_C_EXIT_CODE), (
        result.stderr[-2000:]
    )
    (folder,) = run_folders(workdir / "lightning_logs")
    interrupted = folder / "checkpoints" / "interrupted.ckpt"
    assert interrupted.is_file(), result.stderr[-2000:]
    assert (
        f"the state at the start of epoch {'' if replayed_from is None else replayed_from}" in result.stderr
    )
    assert f"Resume with --ckpt_path {interrupted.relative_to(workdir)}" in result.stderr

    cli_main(["fit", *run, "--ckpt_path", str(interrupted.relative_to(workdir))])

    expected, got = weights(straight), weights(folder)
    for name, value in expected.items():
        torch.testing.assert_close(got[name], value, rtol=0, atol=0, msg=f"{name} differs")
    assert epoch_rows(folder) == epoch_rows(straight)  # every logged value, once, in the same order
    resumed_scalars = scalars(folder)
    assert resumed_scalars == scalars(straight)
    for tag, values in resumed_scalars.items():
        if tag == "epoch":  # Lightning logs it beside both the training and the validation epoch metrics
            continue
        assert max(Counter(step for step, _ in values).values()) == 1, f"{tag} logged twice at one step"


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_signal_during_the_sanity_check_leaves_nothing(signal_name, in_tmp_dir: Path):
    result = interrupt(in_tmp_dir, signal_name, "sanity_check")
    assert result.returncode == (SIGTERM_EXIT_CODE if signal_name == "SIGTERM" else CTRL_C_EXIT_CODE)
    assert "nothing was trained" in result.stderr
    assert run_folders(in_tmp_dir) == []


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_signal_before_lightnings_handler_leaves_nothing_and_says_so(signal_name, in_tmp_dir: Path):
    """At the task's ``setup``, Lightning's SIGTERM handler is not installed yet: SIGTERM used to end the
    process at once (exit -15), leaving version_0 behind."""
    result = interrupt(in_tmp_dir, signal_name, "setup", epoch=0)
    assert result.returncode == (SIGTERM_EXIT_CODE if signal_name == "SIGTERM" else CTRL_C_EXIT_CODE)
    if signal_name == "SIGTERM":
        assert (
            f"warning: Interrupted (SIGTERM) before its first training step: nothing was trained. The folder it had made, {Path('lightning_logs', 'regression', 'mlp', 'version_0')}, was removed."
            in result.stderr
        ), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert run_folders(in_tmp_dir) == []


#: A single-task SLURM job as Lightning detects it (the requeue's ``scontrol`` is absent here: Lightning
#: logs that the requeue failed and goes on).
SLURM_JOB = {
    "SLURM_NTASKS": "1", "SLURM_NNODES": "1", "SLURM_NTASKS_PER_NODE": "1", "SLURM_PROCID": "0",
    "SLURM_LOCALID": "0", "SLURM_NODEID": "0", "SLURM_JOB_ID": "4242", "SLURM_JOB_NAME": "litzoo",
    "SLURM_NODELIST": "node7",
}  # fmt: skip
OTHER_LAUNCHERS = ("TORCHELASTIC_RUN_ID", "LOCAL_RANK", "RANK", "WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR")


def test_requeued_slurm_job_resumes_exactly_from_its_hpc_checkpoint(straight: Path, in_tmp_dir: Path):
    """SIGUSR1 mid-epoch saves hpc_ckpt_1.ckpt, SLURM then ends the job; the requeued job ends as an
    uninterrupted run would."""
    environment = {
        k: v for k, v in os.environ.items() if k not in OTHER_LAUNCHERS and not k.startswith("SLURM")
    }
    environment |= {**SLURM_JOB, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    signals = [
        "--trainer.callbacks+=tests.signal_at.SignalAt", "--trainer.callbacks.signal_name=SIGUSR1",
        "--trainer.callbacks.then_signal_name=SIGTERM", "--trainer.callbacks.moment=train_batch",
        f"--trainer.callbacks.epoch={INTERRUPTED_EPOCH}", "--trainer.callbacks.batch=1",
    ]  # fmt: skip
    command = [sys.executable, "-m", "litzoo", "fit", *RUN, "--trainer.accelerator=cpu"]
    first = run_bounded(
        [*command, *signals], cwd=in_tmp_dir, env=environment, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == SIGTERM_EXIT_CODE, first.stderr[-2000:]
    (folder,) = run_folders(in_tmp_dir / "lightning_logs")
    assert (folder / "hpc_ckpt_1.ckpt").is_file(), first.stderr[-2000:]

    requeued = run_bounded(
        command,
        cwd=in_tmp_dir,
        env={**environment, "SLURM_RESTART_COUNT": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert requeued.returncode == 0, requeued.stderr[-2000:]
    assert "hpc_ckpt_1.ckpt" in requeued.stderr
    assert run_folders(in_tmp_dir / "lightning_logs") == [folder]
    for name, value in weights(straight).items():
        torch.testing.assert_close(weights(folder)[name], value, rtol=0, atol=0, msg=f"{name} differs")
    assert epoch_rows(folder) == epoch_rows(straight)
    assert scalars(folder) == scalars(straight)
