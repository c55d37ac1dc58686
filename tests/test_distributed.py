"""Multi-process training: a real 2-process DDP run on CPU, the SLURM preset, template and requeue."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import torch
import yaml
from lightning.pytorch import Callback, Trainer
from lightning.pytorch.trainer.connectors import signal_connector
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from litzoo.cli.lightning_cli import cli_main
from litzoo.dataset_files import write_mnist
from tests.conftest import (
    CONFIGS,
    QUIET,
    REGRESSION,
    REPO_ROOT,
    TINY,
    evaluation_folders,
    run_bounded,
    run_folders,
)

EXPERIMENT = str(CONFIGS / "mnist" / "simple_cnn.yaml")
DDP_CPU = str(CONFIGS / "trainer" / "ddp_cpu.yaml")
SLURM = str(CONFIGS / "trainer" / "slurm.yaml")
SBATCH = REPO_ROOT / "scripts" / "slurm" / "train.sbatch"
RANK_REPORTS = "rank_reports"
# 203 test images over 2 ranks with batches of 101: rank 0 gets 102 (two batches), rank 1 gets 101
# (one batch), so the shards are uneven in samples *and* in batches. A padding sampler would test 204.
N_TEST, N_TRAIN, VAL_SIZE, BATCH = 203, 301, 101, 101
WORLD_SIZE = 2


class RankReport(Callback):
    """Test probe: every rank writes the metrics it ended with to ``rank_reports/`` (outside the run)."""

    def write(self, trainer: Trainer, stage: str) -> None:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
        folder = Path(RANK_REPORTS)
        folder.mkdir(exist_ok=True)
        (folder / f"{stage}-rank{trainer.global_rank}.json").write_text(json.dumps(metrics))

    def on_train_epoch_end(self, trainer: Trainer, pl_module) -> None:
        self.write(trainer, "fit")

    def on_test_end(self, trainer: Trainer, pl_module) -> None:
        self.write(trainer, "test")


def data_args(data_dir: Path) -> list[str]:
    return [
        "--config",
        EXPERIMENT,
        *QUIET,
        f"--data.init_args.data_dir={data_dir}",
        "--data.init_args.download=false",
        f"--data.init_args.val_size={VAL_SIZE}",
        f"--data.init_args.batch_size={BATCH}",
    ]


def run_ddp(cwd: Path, subcommand: str, *args: str) -> None:
    """Run the CLI as a real program under 2-process CPU DDP; Lightning re-launches it for rank 1."""
    command = [sys.executable, str(REPO_ROOT / "scripts" / "train.py"), subcommand, *args]
    command += ["--config", DDP_CPU, "--trainer.callbacks+=tests.test_distributed.RankReport"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    result = run_bounded(command, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )


def rank_reports(cwd: Path, stage: str) -> list[dict[str, float]]:
    return [json.loads((cwd / RANK_REPORTS / f"{stage}-rank{r}.json").read_text()) for r in range(WORLD_SIZE)]


def csv_metric(run: Path, tag: str) -> float:
    with (run / "metrics.csv").open(newline="") as file:
        values = [row[tag] for row in csv.DictReader(file) if row.get(tag)]
    assert len(values) == 1, f"expected one {tag} row in {run}/metrics.csv, got {values}"
    return float(values[0])


@pytest.mark.slow  # two 2-process launches: ~65 s on a loaded 2-core machine
def test_ddp_cpu_test_accuracy_is_exact_and_rank_zero_writes(tmp_path: Path, in_tmp_dir: Path) -> None:
    data_dir = write_mnist(tmp_path / "data", n_train=N_TRAIN, n_test=N_TEST)
    run_ddp(tmp_path, "fit", *data_args(data_dir), "--trainer.max_epochs=1")

    # Rank 0 alone reserved the run folder and wrote config, logs and checkpoints, each once.
    logs = tmp_path / "lightning_logs"
    assert len(run_folders(logs)) == 1
    assert [p.name for p in logs.rglob("config*.yaml")] == ["config.yaml"]
    assert len(list(logs.rglob("best-*.ckpt"))) == 1
    assert len(list(logs.rglob("last.ckpt"))) == 1
    assert len(list(logs.rglob("events.out.tfevents.*"))) == 1
    fit = rank_reports(tmp_path, "fit")
    assert fit[0]["val/acc_best"] == fit[1]["val/acc_best"], "val/acc_best differs between ranks"
    assert fit[0]["val/acc"] == fit[1]["val/acc"]

    best = next(logs.rglob("best-*.ckpt"))
    run_ddp(tmp_path, "test", *data_args(data_dir), f"--ckpt_path={best}")
    (test_run,) = evaluation_folders(logs)  # filed inside the training run, by rank 0 alone
    assert test_run.parent == best.parent.parent and run_folders(logs) == [test_run.parent]
    ddp_acc = csv_metric(test_run, "test/acc")
    test = rank_reports(tmp_path, "test")
    assert test[0]["test/acc"] == test[1]["test/acc"] == ddp_acc

    single = cli_main(["test", *data_args(data_dir), "--trainer.accelerator=cpu", f"--ckpt_path={best}"])
    single_acc = single.trainer.callback_metrics["test/acc"].item()
    # Only a partly trained net tells the two apart: at 0 or 1 a repeated sample cannot move the mean.
    assert 0 < single_acc < 1, f"test accuracy {single_acc}: train less so that padding would show"
    assert ddp_acc == single_acc, (
        f"DDP test/acc {ddp_acc} != single-process {single_acc}: samples lost or repeated"
    )


#: How long a process group started inside the test process waits for its members (torch's default: 30
#: minutes, spent in C++, where pytest-timeout's signal cannot interrupt it).
RENDEZVOUS_TIMEOUT = timedelta(seconds=60)


@pytest.fixture
def file_rendezvous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Process groups started during the test meet through a file in ``tmp_path``, within RENDEZVOUS_TIMEOUT.

    Lightning starts its group with ``env://``: a TCP store on a port it found free and released again,
    which another process may take first. At the torch floor (2.4.0) this test once waited 36 minutes
    in that store. A file needs no port. Returns the backend of each group started.
    """
    start = torch.distributed.init_process_group
    rendezvous = (tmp_path / "rendezvous").as_uri()
    started: list[str] = []

    def start_through_a_file(backend: str, **kwargs: object) -> None:
        if kwargs.get("store") is None:
            kwargs["init_method"] = rendezvous
        start(backend, **{**kwargs, "timeout": RENDEZVOUS_TIMEOUT})
        started.append(backend)

    monkeypatch.setattr(torch.distributed, "init_process_group", start_through_a_file)
    return started


class ProcessGroupProbe(Callback):
    """Test probe: whether training ran inside a process group."""

    def on_train_start(self, trainer: Trainer, pl_module) -> None:
        self.seen = torch.distributed.is_initialized()


@pytest.mark.parametrize("caller_started_one", [False, True])
def test_a_command_ends_the_process_group_it_started(
    tmp_path: Path, in_tmp_dir: Path, file_rendezvous: list[str], caller_started_one: bool
) -> None:
    """Lightning leaves a gloo group to interpreter shutdown, which can abort a finished run (exit 134).

    The CLI destroys the group it started; one its caller started (a Python user's) stays theirs.
    """
    if caller_started_one:
        store = torch.distributed.FileStore(str(tmp_path / "store"), 1)
        torch.distributed.init_process_group("gloo", store=store, rank=0, world_size=1)
    probe = ProcessGroupProbe()
    ddp_on_one_process = ["--trainer.accelerator=cpu", "--trainer.devices=1", "--trainer.strategy=ddp"]
    try:
        cli_main(
            ["fit", "--config", REGRESSION, *QUIET, *TINY, "--trainer.max_epochs=1", *ddp_on_one_process],
            callbacks=[probe],
        )
        assert probe.seen, "the run did not train inside a process group; the test checks nothing"
        assert file_rendezvous == ["gloo"], "one group, started through the test's file rendezvous"
        assert torch.distributed.is_initialized() == caller_started_one
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


# --------------------------------------------------------------------------------------------- SLURM
FAKE_SLURM = {
    "SLURM_NTASKS": "4",
    "SLURM_NNODES": "2",
    "SLURM_NTASKS_PER_NODE": "2",
    "SLURM_PROCID": "3",
    "SLURM_LOCALID": "1",
    "SLURM_NODEID": "1",
    "SLURM_JOB_ID": "4242",
    "SLURM_JOB_NAME": "litzoo",
    "SLURM_NODELIST": "node[7-8]",
}
#: Launcher variables that would make Lightning pick another cluster environment than SLURM.
OTHER_LAUNCHERS = ("TORCHELASTIC_RUN_ID", "LOCAL_RANK", "RANK", "WORLD_SIZE", "GROUP_RANK", "MASTER_ADDR")


@pytest.fixture
def fake_slurm(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in OTHER_LAUNCHERS:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_SLURM.items():
        monkeypatch.setenv(name, value)
    # A DDP Trainer sets the process-wide rank to its global rank (3 here); give rank 0 back after.
    monkeypatch.setattr(rank_zero_only, "rank", rank_zero_only.rank)
    return FAKE_SLURM


def test_slurm_environment_gives_ranks_and_world_size(fake_slurm: dict[str, str]) -> None:
    trainer = Trainer(accelerator="cpu", devices=2, num_nodes=2, strategy="ddp", logger=False)
    assert type(trainer.strategy.cluster_environment).__name__ == "SLURMEnvironment"
    assert (trainer.world_size, trainer.global_rank, trainer.local_rank, trainer.node_rank) == (4, 3, 1, 1)
    assert trainer.num_nodes == 2
    assert trainer.strategy.cluster_environment.main_address == "node7"


def test_slurm_count_mismatches_are_errors_at_launch(
    fake_slurm: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lightning checks devices/num_nodes against srun's counts when fit launches, before any rendezvous."""
    trainer = Trainer(accelerator="cpu", devices=4, num_nodes=2, strategy="ddp", logger=False)
    with pytest.raises(ValueError, match="ntasks-per-node=2"):
        trainer.strategy.launcher.launch(pytest.fail)
    monkeypatch.delenv("SLURM_NTASKS_PER_NODE")
    with pytest.raises(RuntimeError, match="--ntasks-per-node"):
        Trainer(accelerator="cpu", devices=2, num_nodes=2, strategy="ddp", logger=False)


def test_torchrun_environment_gives_ranks_and_world_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """What torchrun (scripts/torchrun_example.sh) sets: Lightning detects TorchElasticEnvironment."""
    for name in FAKE_SLURM:
        monkeypatch.delenv(name, raising=False)
    torchrun = {"TORCHELASTIC_RUN_ID": "litzoo", "WORLD_SIZE": "4", "RANK": "2", "LOCAL_RANK": "0"}
    torchrun |= {"GROUP_RANK": "1", "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "node0", "MASTER_PORT": "29500"}
    for name, value in torchrun.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(rank_zero_only, "rank", rank_zero_only.rank)
    trainer = Trainer(accelerator="cpu", devices=2, num_nodes=2, strategy="ddp", logger=False)
    assert type(trainer.strategy.cluster_environment).__name__ == "TorchElasticEnvironment"
    assert (trainer.world_size, trainer.global_rank, trainer.local_rank, trainer.node_rank) == (4, 2, 0, 1)


def test_slurm_preset_composes_with_an_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["fit", "--config", EXPERIMENT, "--config", SLURM, "--trainer.num_nodes=2", "--trainer.devices=4"]
    with pytest.raises(SystemExit):
        cli_main([*args, "--print_config"])
    trainer = yaml.safe_load(capsys.readouterr().out)["trainer"]
    # devices may be a count or a device list, so "4" on the command line stays a string; Lightning reads both.
    assert (trainer["num_nodes"], str(trainer["devices"]), trainer["strategy"]) == (2, "4", "ddp")
    assert trainer["precision"] == "bf16-mixed"


def sbatch_options(text: str) -> dict[str, str]:
    return dict(re.findall(r"^#SBATCH --([\w-]+)=(\S+)", text, flags=re.MULTILINE))


def test_sbatch_template_matches_the_rules_it_states() -> None:
    text = SBATCH.read_text()
    options = sbatch_options(text)
    assert options["gres"] == f"gpu:{options['ntasks-per-node']}", "one task per GPU"
    assert re.fullmatch(r"SIGUSR1@\d+", options["signal"]), "Lightning's auto-requeue listens for SIGUSR1"
    # The launch command, its continuation lines joined.
    (command,) = [line for line in text.replace("\\\n", " ").splitlines() if line.startswith("srun ")]
    assert "scripts/train.py fit" in command and "configs/trainer/slurm.yaml" in command
    assert '--trainer.num_nodes "$SLURM_NNODES"' in command
    assert '--trainer.devices "$SLURM_NTASKS_PER_NODE"' in command


def test_requeued_slurm_job_resumes_in_its_run_folder(
    mnist_dir: Path, in_tmp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGUSR1 saves an hpc checkpoint in the run folder; the requeued job continues there from it."""
    single_task = {**FAKE_SLURM, "SLURM_NTASKS": "1", "SLURM_NNODES": "1", "SLURM_NTASKS_PER_NODE": "1"}
    single_task |= {"SLURM_PROCID": "0", "SLURM_LOCALID": "0", "SLURM_NODEID": "0"}
    for name in OTHER_LAUNCHERS:
        monkeypatch.delenv(name, raising=False)
    for name, value in single_task.items():
        monkeypatch.setenv(name, value)
    requeues: list[list[str]] = []
    monkeypatch.setattr(signal_connector, "call", lambda cmd, **kw: requeues.append(cmd) or 0)
    args = [
        *data_args(mnist_dir),
        "--data.init_args.batch_size=64",
        "--trainer.accelerator=cpu",
        "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=1",
    ]

    first = cli_main(["fit", *args, "--trainer.max_epochs=1"])
    first.trainer._signal_connector._slurm_sigusr_handler_fn(signal.SIGUSR1, None)
    (run,) = run_folders(in_tmp_dir / "lightning_logs")
    assert (run / "hpc_ckpt_1.ckpt").is_file(), "the hpc checkpoint belongs in the run folder"
    assert requeues == [["scontrol", "requeue", FAKE_SLURM["SLURM_JOB_ID"]]]

    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    second = cli_main(["fit", *args, "--trainer.max_epochs=2"])
    assert run_folders(in_tmp_dir / "lightning_logs") == [run], "a requeued job must not start a new run"
    assert Path(second.trainer.ckpt_path).resolve() == (run / "hpc_ckpt_1.ckpt").resolve()
    assert second.trainer.current_epoch == 2
    assert (run / "config.resume-1.yaml").is_file()
