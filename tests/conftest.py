"""Shared test helpers: run the CLI inside a temporary folder and read back what it wrote."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torchvision.datasets.cifar

from litzoo.dataset_files import write_cifar10, write_mnist
from litzoo.evaluation_folder import EVALUATION_STAGES

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPO_ROOT / "configs"

# Quiet, fast defaults for CLI runs in tests; each test adds its own arguments after these.
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
REGRESSION = str(CONFIGS / "regression" / "mlp.yaml")
#: The regression config trained the ordinary way: one Lightning step per loader batch (of 64, unless a
#: test sets another), last.ckpt every epoch; for tests about batches, steps and
#: per-epoch checkpoints.
PER_BATCH = ["--model.init_args.steps", "null", "--data.init_args.batch_size", "64"]
PER_BATCH += ["--last_checkpoint.every_n_epochs", "1"]
#: Tiny regression splits, for runs about the CLI's behaviour rather than about training.
TINY = [
    "--data.init_args.train_size",
    "64",
    "--data.init_args.val_size",
    "64",
    "--data.init_args.test_size",
    "64",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tests marked ``gpu`` on a machine without a CUDA GPU (they run with ``pytest -m gpu``).

    ``get_closest_marker``, not ``"gpu" in item.keywords``: keywords also hold parametrize ids, and a
    preset test parametrized with ``gpu`` needs no GPU.
    """
    if torch.cuda.device_count() > 0:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU: torch.cuda.device_count() == 0 on this machine")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[Path]:
    """Run the block with ``folder`` as the working directory, and come back whatever happens.

    (``contextlib.chdir`` does this from Python 3.11; litzoo supports 3.10.)
    """
    old = Path.cwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(old)


@pytest.fixture
def in_tmp_dir(tmp_path: Path) -> Iterator[Path]:
    """Run the test with the working directory in a fresh temporary folder (lightning_logs/ goes there)."""
    with inside(tmp_path):
        yield tmp_path


def run_folders(root: Path) -> list[Path]:
    """Every ``version_N`` run folder under ``root``."""
    return sorted(p for p in root.rglob("version_*") if p.is_dir())


#: The folder of a validate/test/predict run: ``test_0``, ``predict_1``...
EVALUATION_FOLDER = re.compile(rf"^({'|'.join(EVALUATION_STAGES)})_\d+$")


def evaluation_folders(root: Path) -> list[Path]:
    """Every evaluation folder under ``root`` (inside a run folder, or under ``<experiment>/eval``)."""
    return sorted(p for p in root.rglob("*_*") if p.is_dir() and EVALUATION_FOLDER.match(p.name))


def all_run_folders(root: Path) -> list[Path]:
    """Every folder a fit or an evaluation wrote under ``root``: what a failed start must not leave."""
    return sorted(run_folders(root) + evaluation_folders(root))


@pytest.fixture
def cifar_md5_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let torchvision accept CIFAR-10 files whose md5 differs from the real ones' (the test writer's).

    Only the md5 comparison is replaced: a missing file still fails the check.
    """
    monkeypatch.setattr(
        torchvision.datasets.cifar, "check_integrity", lambda path, md5=None: Path(path).is_file()
    )


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    """A tiny learnable MNIST (600 train, 200 test) in torchvision's layout; pass as ``data_dir``."""
    return write_mnist(tmp_path / "data")


@pytest.fixture
def cifar10_dir(tmp_path: Path, cifar_md5_ok: None) -> Path:
    """A tiny CIFAR-10 (5 x 100 train, 100 test) in torchvision's layout; pass as ``data_dir``."""
    return write_cifar10(tmp_path / "data")


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run the test on one intra-op thread. Small recurrent nets trained ~15x slower on two threads
    while other processes shared the machine's two cores (the threads spin waiting for each other)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def lightning_logs_reach_caplog() -> Iterator[None]:
    """Let ``caplog`` see Lightning's (and litzoo's ``rank_zero_info``) lines in every pytest version.

    ``lightning.pytorch`` stops its logger propagating to the root logger when the root had no handler
    at import time, which depends on when the pytest version in use attaches its own (pytest 8.0, the
    floor, attaches it later); ``caplog`` listens on the root logger.
    """
    logger = logging.getLogger("lightning.pytorch")
    propagated = logger.propagate
    logger.propagate = True
    yield
    logger.propagate = propagated
