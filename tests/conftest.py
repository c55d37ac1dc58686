"""Shared test helpers: run the CLI inside a temporary folder and read back what it wrote."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import logging
import os
import pkgutil
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import lightning as L
import pytest
import torch
import torchvision.datasets.cifar
import yaml
from torch import nn

import litzoo.models
from litzoo import dataset_files
from litzoo.dataset_files import write_cifar10, write_mnist
from litzoo.runs.evaluation import EVALUATION_STAGES

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


#: How long a test's child process may run before it, and every process it started, is killed.
CHILD_TIMEOUT_S = 600


def run_bounded(
    command: list[str], timeout: float = CHILD_TIMEOUT_S, **popen_options: object
) -> subprocess.CompletedProcess:
    """``subprocess.run`` for a child that may start children of its own (DDP ranks), never left running.

    The child leads a process group of its own; a timeout, or anything else that ends the wait
    (pytest-timeout, Ctrl+C), kills the whole group. ``subprocess.run`` kills the child alone: a DDP
    rank it launched lives on, waiting for its peer up to torch's 30-minute rendezvous timeout.
    On a timeout this raises ``subprocess.TimeoutExpired``, as ``subprocess.run`` does.
    """
    if popen_options.pop("capture_output", False):
        popen_options |= {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(command, start_new_session=True, **popen_options) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):  # the group may have ended on its own
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def quiet_cpu_trainer(root: Path, max_epochs: int = 1) -> L.Trainer:
    """A plain ``lightning.Trainer`` on the CPU that writes and prints nothing but what a test asks for."""
    return L.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=root,
    )


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
def process_settings_restored() -> Iterator[None]:
    """Give every test the process-wide settings the test before it started with.

    Lightning changes them for the rest of the process and never sets them back: ``deterministic=True``
    turns on ``torch.use_deterministic_algorithms`` and writes ``CUBLAS_WORKSPACE_CONFIG``; an
    in-process DDP run writes ``MASTER_ADDR``, ``MASTER_PORT``, ``LOCAL_RANK``, ``NODE_RANK`` and
    ``OMP_NUM_THREADS`` and resets the thread count; ``seed_everything`` writes ``PL_GLOBAL_SEED``.
    Left over, they made later in-process runs compute differently from the fresh subprocesses the
    resume tests compare them with (tests/test_interrupted_resume.py: "weights differ" after a full
    run, never alone), and ``LOCAL_RANK`` tells a later DDP launch that its ranks start elsewhere. A
    process group a test left open is ended too.
    """
    environment = dict(os.environ)
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    matmul_precision = torch.get_float32_matmul_precision()
    cudnn = (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    yield
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    for name in os.environ.keys() - environment.keys():
        del os.environ[name]
    os.environ.update(environment)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
    torch.set_float32_matmul_precision(matmul_precision)
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = cudnn


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


# --------------------------------------------------------------------------- discovery
# What the tests cover is found, never listed: a new config, net or datamodule is tested as soon as its
# file exists. docs/adding-a-model.md and docs/adding-a-dataset.md rely on it.

#: The two constructor arguments the CLI links from the datamodule into every net (litzoo.cli.lightning_cli.DATA_LINKS).
NET_ARGUMENTS = ("input_shape", "num_outputs")
#: Validation images taken from a written dataset's training files (600 MNIST / 500 CIFAR-10 images).
WRITTEN_VAL_SIZE = "100"


def read_config(path: Path) -> dict:
    """A config file's top-level mapping (empty for a file that holds no mapping)."""
    loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def is_experiment(config: dict) -> bool:
    """An experiment config names the task it trains (``model: class_path: ...``).

    Decided by content: trainer, data and speed presets and sweep search spaces name no model class
    (``configs/speed/chunked.yaml`` only sets ``model.init_args.steps``).
    """
    model = config.get("model")
    return isinstance(model, dict) and "class_path" in model


def experiment_configs(root: Path = CONFIGS) -> list[Path]:
    """Every experiment config under ``root``, at any depth."""
    return sorted(path for path in Path(root).rglob("*.yaml") if is_experiment(read_config(path)))


def import_class(class_path: str) -> type:
    """The class a config's ``class_path`` names (``litzoo.models.LeNet5``, ``my_nets.TinyNet``)."""
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def class_path_of(value: object) -> str | None:
    """The class path of a config value: ``{class_path: ..., init_args: ...}`` or the bare path."""
    return value.get("class_path") if isinstance(value, dict) else value if isinstance(value, str) else None


def takes_net_arguments(cls: type) -> bool:
    """Whether ``cls``'s constructor takes both arguments the CLI links from the data."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return all(name in parameters for name in NET_ARGUMENTS)


def discover_nets(package: ModuleType = litzoo.models) -> list[type[nn.Module]]:
    """Every net the CLI can build from the package: the ``nn.Module`` classes defined in any of its
    modules, at any depth, whose constructor takes ``input_shape`` and ``num_outputs``.

    Layers used inside nets (``DenseLayer``, ``SimpleRNNCell``...) take torch's layer-style sizes and
    the tasks take a ``net``, so neither is a net. Sorted by module and name; exported or not.
    """
    nets: dict[str, type[nn.Module]] = {}
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            defined_here = cls.__module__ == module.__name__
            is_module = issubclass(cls, nn.Module) and not inspect.isabstract(cls)
            if defined_here and is_module and takes_net_arguments(cls):
                nets[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [nets[name] for name in sorted(nets)]


def dataset_name(datamodule: type) -> str:
    """``MNISTDataModule`` -> ``mnist``: the name of the datamodule's test-data writer, ``write_<name>``."""
    return datamodule.__name__.removesuffix("DataModule").lower()


def dataset_writer(datamodule: type) -> Callable[[Path], Path] | None:
    """The function of :mod:`litzoo.dataset_files` that writes a tiny copy of ``datamodule``'s files."""
    return getattr(dataset_files, f"write_{dataset_name(datamodule)}", None)


def reads_files(datamodule: type) -> bool:
    """A datamodule that takes ``data_dir`` reads files; one without it generates its data in memory."""
    return "data_dir" in inspect.signature(datamodule).parameters


def init_parameters(cls: type) -> set[str]:
    """Every keyword ``cls(...)`` accepts, following ``**options`` up to the base classes that take them."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            break
    return names - {"self"}


def datamodule_of(config: Path) -> type:
    """The datamodule class an experiment config trains on (``data.class_path``)."""
    class_path = class_path_of(read_config(config).get("data"))
    if class_path is None:
        pytest.fail(f"{config} names no datamodule: give it a data section with a class_path.")
    return import_class(class_path)


def config_data_args(
    config: Path, root: Path, monkeypatch: pytest.MonkeyPatch, batch_size: str | None = None
) -> list[str]:
    """CLI arguments that train ``config`` offline on test data, decided by its datamodule.

    A datamodule without a ``data_dir`` argument generates its data in memory: nothing to add. One
    with ``data_dir`` reads files: ``litzoo.dataset_files.write_<name>`` (see :func:`dataset_name`)
    writes a tiny copy of them under ``root``, the run reads them there without downloading, takes
    ``WRITTEN_VAL_SIZE`` validation images and, if given, batches of ``batch_size``. A file-backed
    datamodule without a writer fails the test with what to add, and where.
    """
    datamodule = datamodule_of(config)
    if not reads_files(datamodule):
        return []
    writer = dataset_writer(datamodule)
    if writer is None:
        pytest.fail(
            f"{config}: its datamodule {datamodule.__name__} reads files (it takes data_dir) and no "
            f"function writes a tiny copy of them for the tests. Add write_{dataset_name(datamodule)}"
            f"(root: Path) -> Path to litzoo/dataset_files.py (like write_mnist: the files in the layout "
            f"{datamodule.__name__} reads from data_dir=root, then return root), or generate the data in "
            "memory (a datamodule without data_dir needs no test data)."
        )
    relax_md5_check(datamodule, monkeypatch)
    options = {"data_dir": str(writer(root)), "download": "false", "val_size": WRITTEN_VAL_SIZE}
    if batch_size is not None:
        options["batch_size"] = batch_size
    accepted = init_parameters(datamodule)
    return [
        arg for key, value in options.items() if key in accepted for arg in (f"--data.init_args.{key}", value)
    ]


def relax_md5_check(datamodule: type, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let torchvision accept written files whose md5 differs from the real ones' (as ``cifar_md5_ok``).

    torchvision's datasets check md5 sums through the ``check_integrity`` their module imports; only
    that comparison is replaced, a missing file still fails it. Datamodules not built on a torchvision
    dataset class are left alone.
    """
    dataset_class = getattr(datamodule, "dataset_class", None)
    module = sys.modules.get(getattr(dataset_class, "__module__", ""))
    if module is not None and hasattr(module, "check_integrity"):
        monkeypatch.setattr(module, "check_integrity", lambda path, md5=None: Path(path).is_file())


def assert_full_disk_paragraph(message: str, file: str) -> None:
    """``message`` (a command's stderr) is the one full-disk paragraph naming ``file`` (a path's start)."""
    assert message.startswith(f"error: The disk is full while writing {file}"), message
    assert "(No space left on device; the file system mounted at " in message, message
    assert "Traceback" not in message and "Exception in thread" not in message, message
    assert len(message.strip().splitlines()) == 2, message  # the paragraph and the LITZOO_TRACEBACK hint
